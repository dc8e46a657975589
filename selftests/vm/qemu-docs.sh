#!/bin/bash
# The "sh qemu" blocks of README.md and docs/*.md, run as shown
# (scripts/doc-blocks.awk extracts them, scripts/check-docs.py checks that
# every block is run somewhere), once with the host's QEMU 10 and once with
# the trixie chroot's QEMU 11.1 (selftests/vm/chroot-qemu.sh behind a
# qemu-system-x86_64 on PATH; skipped when the chroot has none). The working
# directory holds what the docs assume: build/vblkd and build/vblkctl, the
# guest kernel as vmlinuz, the test initramfs as initrd.img (vbtest=write16 in
# the docs' command lines makes the guest write, read back and compare
# 16 MiB, then power off). A block tagged "fresh" first stops what earlier
# blocks left running. Checks: the blocks exit 0, and each guest they booted
# printed PASS on its serial log.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$BACKEND" = vblkd ] || skip_all "the docs show vblkd"
VBLKCTL=${VBLKCTL:-$(dirname "$VBLKD")/vblkctl}
SRC=${VBLKD_SRC:-$VM_DIR/../..}
CHROOT=${VBLKD_CHROOT:-$CACHE/trixie-chroot}
vm_setup docs
tap_plan 4
awk -v kind=qemu -f "$SRC/scripts/doc-blocks.awk" "$SRC/README.md" "$SRC"/docs/*.md \
	> "$T/docs-qemu.sh"
log "$(grep -c '^# .*:[0-9]*$' "$T/docs-qemu.sh") block(s)"
# Each fresh block starts clean: no daemon of the last block, and the last
# guest's serial log checked and put aside.
cat > "$T/prologue.sh" <<'EOS'
set -ex
doc_fresh() {
	for p in $(jobs -p); do kill "$p"; wait "$p" || true; done
	if [ -e serial.log ]; then
		grep -aq '^VBTEST-RESULT: PASS' serial.log || { echo "guest: $(grep -a VBTEST-RESULT serial.log)"; exit 1; }
		mv serial.log "serial.$(date +%s%N).done"
	fi
}
trap doc_fresh EXIT
EOS

# run_docs NAME [PATH_PREFIX]: the blocks in $T/NAME, with PATH_PREFIX first on PATH.
run_docs() {
	local dir=$T/$1 rc=0 n pass
	mkdir -p "$dir/build"
	ln -s "$VBLKD" "$dir/build/vblkd"
	ln -s "$VBLKCTL" "$dir/build/vblkctl"
	# Copies, not links: the chroot's QEMU sees only /tmp (the docs' sockets, $T).
	cp "$VMLINUZ" "$dir/vmlinuz"
	cp "$T/initramfs.cpio.gz" "$dir/initrd.img"
	(cd "$dir" && PATH="${2:+$2:}$dir/build:$PATH" timeout 600 \
		bash -c "$(cat "$T/prologue.sh" "$T/docs-qemu.sh")") > "$T/$1.log" 2>&1 || rc=$?
	sed 's/^/# /' "$T/$1.log" | tail -n 25
	tap_check "$1: the docs' qemu command lines run as shown (rc $rc)" [ $rc = 0 ]
	n=$(ls "$dir"/serial.*.done 2>/dev/null | wc -l)
	pass=$(cat "$dir"/serial.*.done 2>/dev/null | grep -ac '^VBTEST-RESULT: PASS' || true)
	tap_check "$1: every guest the docs booted passed ($pass of $n)" test "$n" -gt 0 -a "$pass" = "$n"
}

run_docs qemu10
if [ -x "$CHROOT/usr/bin/qemu-system-x86_64" ]; then
	mkdir "$T/qemu11-bin"
	# The chroot resets the working directory: go back to it inside.
	cat > "$T/qemu11-bin/qemu-system-x86_64" <<EOS
#!/bin/bash
VBLKD_CHROOT_BIND=/tmp QEMU_BIN=bash exec "$VM_DIR/chroot-qemu.sh" \\
	-c 'cd "\$0" && exec qemu-system-x86_64 "\$@"' "\$PWD" "\$@"
EOS
	chmod +x "$T/qemu11-bin/qemu-system-x86_64"
	log "QEMU 11: $(QEMU_BIN=qemu-system-x86_64 "$VM_DIR/chroot-qemu.sh" --version | head -n 1)"
	run_docs qemu11 "$T/qemu11-bin"
else
	tap_skip "qemu11: no QEMU 11 in $CHROOT (scripts/fetch-trixie-qemu.sh)"
	tap_skip "qemu11: no QEMU 11 in $CHROOT"
fi
tap_exit
