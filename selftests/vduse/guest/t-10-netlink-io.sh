# shellcheck shell=dash
# Issue 4, vduse suite item (a): vblkd adds its VDUSE device to the vdpa bus
# over netlink; `vdpa dev show` agrees (type block, max_vqs = --num-queues,
# max_vq_size 1024 by default);
# virtio_vdpa gives a /dev/vdX on which 32 MiB are written, read back and
# compared (O_DIRECT, then through the page cache), and which the image file
# holds too; SIGTERM removes the device from the bus (DEV_DEL) and destroys
# it (/dev/vduse/NAME goes), and vblkd exits 0.
# vdtest-timeout: 300

NAME=vblk0
IMG=/tmp/img0
LOG=/tmp/vblkd-$NAME.log
IMG_MIB=64
IO_MIB=32
NQ=2
# vblkd's line once DEV_NEW succeeded, and its lines worth a note (what the
# kernel offered).
ADDED_RE='on the vdpa bus'
FACTS_RE='API version|driver ready'
# shellcheck disable=SC2034 # read by fail (lib.sh)
VDTEST_LOGS=$LOG

truncate -s "${IMG_MIB}M" "$IMG" || fail "cannot create $IMG"
dmark=$(dmesg_mark)
t0=$(uptime_s)
vblkd_start "$LOG" --vduse "$NAME" --image "$IMG" --num-queues "$NQ" --log-level debug
vduse_wait_disk "$NAME" "$VBLKD_PID" 60
dev=$VD_DEV
t1=$(uptime_s)
note "$NAME: /dev/$dev after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
[ -c "/dev/vduse/$NAME" ] || fail "no /dev/vduse/$NAME"
# DEV_NEW returns after the probe that made the disk: its line may come a little later.
wait_until 10 grep -q "$ADDED_RE" "$LOG" || fail "vblkd did not log '$ADDED_RE'"
grep -E "$FACTS_RE" "$LOG" | while IFS= read -r l; do note "${l#* }"; done
drv=$(basename "$(readlink "/sys/bus/vdpa/devices/$NAME/driver")")
[ "$drv" = virtio_vdpa ] || fail "$NAME is bound to '$drv', not virtio_vdpa"

sectors=$(cat "/sys/block/$dev/size")
queues=$(find "/sys/block/$dev/mq" -mindepth 1 -maxdepth 1 | wc -l)
note "/dev/$dev: $sectors sectors, $queues hw queues"
[ "$sectors" = $((IMG_MIB * 2048)) ] || fail "/dev/$dev has $sectors sectors, want $((IMG_MIB * 2048))"
[ "$queues" = "$NQ" ] || fail "/dev/$dev has $queues hw queues, want $NQ"

show=$(vdpa dev show "$NAME" 2>&1) || fail "vdpa dev show $NAME: $show"
note "vdpa dev show: $show"
case "$show" in *"type block "*) ;; *) fail "vdpa dev show: not type block" ;; esac
case "$show" in *"mgmtdev vduse "*) ;; *) fail "vdpa dev show: mgmtdev is not vduse" ;; esac
case "$show " in *"max_vqs $NQ "*) ;; *) fail "vdpa dev show: max_vqs is not $NQ" ;; esac
# vblkd's default --queue-size, the largest ring QEMU and libblkio ask for.
case "$show " in *"max_vq_size 1024 "*) ;; *) fail "vdpa dev show: max_vq_size is not 1024" ;; esac
json=$(vdpa -j dev show "$NAME" 2>&1) || fail "vdpa -j dev show $NAME: $json"
note "vdpa -j dev show: $json"
case "$json" in *'"type":"block"'*) ;; *) fail "vdpa -j dev show: type is not block" ;; esac
case "$json" in *"\"max_vqs\":$NQ,"* | *"\"max_vqs\":$NQ}"*) ;; *) fail "vdpa -j dev show: max_vqs is not $NQ" ;; esac

# Random data: a misplaced or stale sector cannot compare equal by chance.
dd if=/dev/urandom of=/tmp/pat0 bs=1M count="$IO_MIB" 2> /dev/null || fail "no pattern"
bytes=$((IO_MIB * 1048576))

t0=$(uptime_s)
dd if=/tmp/pat0 of="/dev/$dev" bs=1M count="$IO_MIB" oflag=direct conv=notrunc,fsync 2> /tmp/dd.err ||
	fail "O_DIRECT write to /dev/$dev: $(cat /tmp/dd.err)"
t1=$(uptime_s)
dd if="/dev/$dev" of=/tmp/rb0 bs=1M count="$IO_MIB" iflag=direct 2> /tmp/dd.err ||
	fail "O_DIRECT read from /dev/$dev: $(cat /tmp/dd.err)"
t2=$(uptime_s)
cmp /tmp/pat0 /tmp/rb0 > /dev/null || fail "O_DIRECT read-back differs from what was written"
note "O_DIRECT $IO_MIB MiB: write $(mbps "$bytes" "$t0" "$t1") MB/s, read $(mbps "$bytes" "$t1" "$t2") MB/s"
rm -f /tmp/rb0

# The same data again, shifted by 1 MiB, through the page cache; dropping
# the caches makes the read go to the device.
t0=$(uptime_s)
dd if=/tmp/pat0 of="/dev/$dev" bs=1M seek=1 count="$IO_MIB" conv=notrunc,fsync 2> /tmp/dd.err ||
	fail "buffered write to /dev/$dev: $(cat /tmp/dd.err)"
t1=$(uptime_s)
sync
echo 3 > /proc/sys/vm/drop_caches
t2=$(uptime_s)
dd if="/dev/$dev" of=/tmp/rb0 bs=1M skip=1 count="$IO_MIB" 2> /tmp/dd.err ||
	fail "buffered read from /dev/$dev: $(cat /tmp/dd.err)"
t3=$(uptime_s)
cmp /tmp/pat0 /tmp/rb0 > /dev/null || fail "buffered read-back differs from what was written"
note "buffered $IO_MIB MiB: write+fsync $(mbps "$bytes" "$t0" "$t1") MB/s, read $(mbps "$bytes" "$t2" "$t3") MB/s"
rm -f /tmp/rb0

# What vblkd wrote to the image: sector 0 from the O_DIRECT pass, the rest
# from the shifted buffered pass.
dd if=/tmp/pat0 of=/tmp/pat0.head bs=1M count=1 2> /dev/null || fail "no pattern head"
dd if="$IMG" bs=1M count=1 2> /dev/null | cmp - /tmp/pat0.head > /dev/null ||
	fail "image: the first MiB differs from the O_DIRECT pass"
dd if="$IMG" bs=1M skip=1 count="$IO_MIB" 2> /dev/null | cmp - /tmp/pat0 > /dev/null ||
	fail "image: MiB 1..$((IO_MIB + 1)) differ from the buffered pass"
note "image file holds the data"

errs=$(dmesg_since "$dmark" | grep -iE "($dev|vduse|vdpa).*(error|fail|timeout)|I/O error" || true)
[ -z "$errs" ] || fail "kernel log: $errs"

stamp sigterm
vblkd_stop "$VBLKD_PID" 60
rc=$?
[ "$rc" = 0 ] || fail "vblkd exited with status $rc after SIGTERM (124: did not exit)"
wait_until 10 sh -c "[ ! -e /sys/bus/vdpa/devices/$NAME ]" ||
	fail "$NAME is still on the vdpa bus after vblkd exited (no DEV_DEL)"
wait_until 10 sh -c "[ ! -e /dev/vduse/$NAME ] && [ ! -e /sys/class/vduse/$NAME ]" ||
	fail "/dev/vduse/$NAME still exists after vblkd exited (no DESTROY_DEV)"
[ ! -e "/sys/block/$dev" ] || fail "/sys/block/$dev still exists"
note "SIGTERM: exit 0, device removed from the bus and destroyed"
log_notes "$LOG" 8
