# Deterministic test pattern: COUNT 512-byte sectors starting at sector
# START, for seed SEED.  Each sector is 8 records of 64 bytes naming the
# seed, the sector and the record, so misplaced or stale data is detected.
# Run with busybox awk on both host and guest so the bytes are identical:
#   busybox awk -v seed=S -v start=N -v count=N -f pattern.awk
BEGIN {
	f = "%-63s\n%-63s\n%-63s\n%-63s\n%-63s\n%-63s\n%-63s\n%-63s\n"
	for (s = start; s < start + count; s++) {
		h = sprintf("vbt seed=%010d sector=%010d part=", seed, s)
		printf f, h 0, h 1, h 2, h 3, h 4, h 5, h 6, h 7
	}
}
