#!/usr/bin/env bash
# Sets up (once) and builds the clang tree of the libFuzzer targets:
#   fuzz-build.sh DIR [meson setup flags]
# Only the targets of the fuzz suite are built, so the tree stays apart
# from the gcc builds and needs nothing but clang and libFuzzer
# (install-deps.sh test). Run the suite with meson test --no-rebuild.
set -euo pipefail
dir=$1
shift
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$@" "$dir" >/dev/null
fi
mapfile -t targets < <(ninja -C "$dir" -t targets all |
	awk -F: '$1 ~ /^selftests\/fuzz\/[a-z_]+_fuzz$/ { print $1 }')
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz-build: clang in $dir has no -fsanitize=fuzzer (libclang-rt-14-dev?)" >&2
	exit 1
fi
log=$dir/fuzz-build.log
ninja -C "$dir" "${targets[@]}" >"$log" 2>&1 ||
	{ grep -E 'error|FAILED' "$log" | head -n 20 >&2; echo "fuzz-build: failed, see $log" >&2; exit 1; }
