// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A program built against the installed libvblk-frontend only (pkg-config
 * vblk-frontend): attach to a vblkd, write a block, read it back.
 * Usage: fe_read_example SOCKET. Exit 0 when the block reads back intact.
 */
#include <stdio.h>
#include <string.h>

#include "frontend/fe_blk.h"

int main(int argc, char **argv)
{
	struct fe_blk_opts opts = { .num_queues = 1, .queue_size = 256 };
	unsigned char want[4096], got[4096];
	struct fe_blk blk;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: fe_read_example SOCKET\n");
		return 2;
	}
	ret = fe_blk_open(&blk, argv[1], &opts);
	if (ret) {
		fprintf(stderr, "fe_blk_open %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (unsigned char)(i * 7 + 3);
	ret = fe_blk_write(&blk, 0, 16, want, sizeof(want));
	if (!ret)
		ret = fe_blk_read(&blk, 0, 16, got, sizeof(got));
	fe_blk_close(&blk);
	if (ret) {
		fprintf(stderr, "I/O failed: status %d\n", ret);
		return 1;
	}
	if (memcmp(want, got, sizeof(want))) {
		fprintf(stderr, "the block read back differs from the one written\n");
		return 1;
	}
	printf("wrote and read back %zu bytes through %s\n", sizeof(got), argv[1]);
	return 0;
}
