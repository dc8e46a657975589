# shellcheck shell=dash
# vdtest=probe (sourced by /init in a subshell; helpers: fail, note, stamp).
# Checks the VDUSE control device and the vdpa management device; prints the
# facts between "VDTEST-OUT-BEGIN name" / "VDTEST-OUT-END name" markers.
out() { # NAME CMD...: run CMD, framed by markers; returns CMD's status
	local name=$1 rc=0
	shift
	echo "VDTEST-OUT-BEGIN $name"
	"$@" 2>&1 || rc=$?
	echo "VDTEST-OUT-END $name rc=$rc"
	return $rc
}

out uname uname -r
[ -c /dev/vduse/control ] || fail "no /dev/vduse/control"
note "/dev/vduse/control present"
out vduse-params sh -c 'for f in /sys/module/vduse/parameters/*; do [ -e "$f" ] && echo "$(basename "$f")=$(cat "$f" 2>/dev/null)"; done; true'
if command -v vduse_probe >/dev/null; then
	out vduse_probe vduse_probe || fail "vduse_probe failed"
else
	note "no vduse_probe in the image"
fi
out vdpa-mgmtdev vdpa mgmtdev show || fail "vdpa mgmtdev show failed"
vdpa mgmtdev show 2>/dev/null | grep -q vduse || fail "vdpa mgmtdev show does not list vduse"
out vdpa-mgmtdev-json vdpa -j mgmtdev show || true
stamp probe-done
