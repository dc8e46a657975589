/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the fuzz targets share: taking fields off the input, a scratch disk. */
#ifndef VB_FUZZ_UTIL_H
#define VB_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/blk/blk_dev.h"

/* Copy @len bytes off the input into @out, zero-filling past its end; returns bytes taken. */
static inline size_t fuzz_take(const uint8_t **data, size_t *size, void *out, size_t len)
{
	size_t n = len < *size ? len : *size;

	memcpy(out, *data, n);
	memset((uint8_t *)out + n, 0, len - n);
	*data += n;
	*size -= n;
	return n;
}

/* A block device on a 1 MiB scratch image, already unlinked; aborts on failure. */
static inline struct blk_dev *fuzz_blk_dev(unsigned int num_queues, unsigned int queue_size)
{
	char image[] = "/tmp/vblkd-fuzz-XXXXXX";
	struct blk_opts o = { .num_queues = num_queues,
			      .queue_size = queue_size,
			      .logical_block_size = 512,
			      .image = image };
	struct blk_dev *blk;
	int fd = mkstemp(image);

	if (fd < 0 || ftruncate(fd, 1 << 20))
		abort();
	close(fd);
	if (blk_dev_open(&blk, &o))
		abort();
	unlink(image);
	return blk;
}

#endif
