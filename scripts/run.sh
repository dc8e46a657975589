#!/usr/bin/env bash
# `make run`: serve a sparse 1 GiB image on a socket and show how to attach QEMU.
set -euo pipefail
vblkd=$1 image=$2 sock=$3

if [ ! -e "$image" ]; then
	truncate -s 1G "$image"
	echo "created sparse 1 GiB image $image"
fi
abs_sock=$(realpath -m "$sock")
cat <<TXT
vblkd serves $image on $abs_sock. Attach a guest with:

  qemu-system-x86_64 -accel kvm -m 1G \\
    -object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem \\
    -chardev socket,id=vblk0,path=$abs_sock,reconnect-ms=1000 \\
    -device vhost-user-blk-pci,chardev=vblk0,num-queues=1 \\
    ...your usual disk, kernel and display options...

(use -accel tcg where KVM is unavailable). Ctrl-C stops vblkd.
TXT
exec "$vblkd" --vhost-user "$sock" --image "$image"
