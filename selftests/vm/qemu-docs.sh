#!/bin/bash
# The "sh qemu" blocks of README.md and docs/*.md, run as shown
# (scripts/doc-blocks.awk extracts them, scripts/check-docs.py checks that
# every block is run somewhere). The working directory holds what the docs
# assume: build/vblkd and build/vblkctl, the guest kernel as vmlinuz, the test
# initramfs as initrd.img (vbtest=write16 in the docs' command lines makes the
# guest write, read back and compare 16 MiB, then power off). A block tagged
# "fresh" first stops what earlier blocks left running. Checks: the blocks
# exit 0, and each guest they booted printed PASS on its serial log.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$BACKEND" = vblkd ] || skip_all "the docs show vblkd"
VBLKCTL=${VBLKCTL:-$(dirname "$VBLKD")/vblkctl}
SRC=${VBLKD_SRC:-$VM_DIR/../..}
vm_setup docs
tap_plan 2
mkdir "$T/run" "$T/run/build"
ln -s "$VBLKD" "$T/run/build/vblkd"
ln -s "$VBLKCTL" "$T/run/build/vblkctl"
ln -s "$VMLINUZ" "$T/run/vmlinuz"
ln -s "$T/initramfs.cpio.gz" "$T/run/initrd.img"
awk -v kind=qemu -f "$SRC/scripts/doc-blocks.awk" "$SRC/README.md" "$SRC"/docs/*.md \
	> "$T/docs-qemu.sh"
log "$(grep -c '^# .*:[0-9]*$' "$T/docs-qemu.sh") block(s)"
# Each fresh block starts from a clean directory state: no serial log of the
# last guest, no daemon of the last block.
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
rc=0
(cd "$T/run" && PATH="$T/run/build:$PATH" timeout 600 bash -c "$(cat "$T/prologue.sh" "$T/docs-qemu.sh")") \
	> "$T/docs.log" 2>&1 || rc=$?
sed 's/^/# /' "$T/docs.log" | tail -n 40
tap_check "the docs' qemu command lines run as shown (rc $rc)" [ $rc = 0 ]
n=$(ls "$T"/run/serial.*.done 2>/dev/null | wc -l)
pass=$(cat "$T"/run/serial.*.done 2>/dev/null | grep -ac '^VBTEST-RESULT: PASS' || true)
tap_check "every guest the docs booted passed ($pass of $n)" test "$n" -gt 0 -a "$pass" = "$n"
tap_exit
