# Shared by the initramfs builders (selftests/vm, selftests/vduse); sourced.

# unpack_module SRC DST: a kernel module, decompressed as the guest's insmod needs it.
unpack_module() {
	case "$1" in
	*.xz) xz -dc "$1" > "$2" ;;
	*.zst) zstd -dcq "$1" > "$2" ;;
	*.gz) gzip -dc "$1" > "$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# pack_initramfs ROOT TMP OUT CACHE CACHED: archive ROOT into OUT, and keep
# a copy as CACHED when the CACHE folder is writable.
pack_initramfs() {
	local root=$1 tmp=$2 out=$3 cache=$4 cached=$5
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9n > "$tmp/out.cpio.gz"
	cp "$tmp/out.cpio.gz" "$out"
	if [ -d "$cache" ] && [ -w "$cache" ]; then
		cp "$tmp/out.cpio.gz" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached" || rm -f "$cached.tmp.$$"
	fi
}
