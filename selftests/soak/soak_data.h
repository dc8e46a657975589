/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Self-describing block payloads and the front-end's model of the disk.
 *
 * Every 4 KiB block a write puts on the disk starts with a header (magic,
 * block number, generation, CRC32C of the rest) and carries a body derived
 * from the block number and the generation, so each write's data is unique:
 * stale data (an older generation), misplaced data (another block's) and
 * torn data (bad CRC) are told apart when a comparison fails.
 */
#ifndef VB_SOAK_DATA_H
#define VB_SOAK_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOAK_GEN_INITIAL 0ull /* the image as created: every byte 0xa5 */
#define SOAK_GEN_ZERO 1ull /* after WRITE_ZEROES: every byte 0 */
#define SOAK_GEN_FIRST 2ull /* the first write's generation */
#define SOAK_GEN_NONE UINT64_MAX

/*
 * The model. gen[] is the content of the last write (or write-zeroes) that
 * completed with VIRTIO_BLK_S_OK; alt[] a second content the block may
 * hold instead (SOAK_GEN_NONE when none): after a discard (the old data or
 * zeroes) or a write that completed with an error (the old data or the new).
 * A block is busy while one of our requests covers it, so no two requests
 * ever overlap and the model stays exact.
 */
struct soak_model {
	uint64_t nblocks;
	uint64_t *gen;
	uint64_t *alt;
	uint8_t *busy;
	uint64_t next_gen;
};

int soak_model_init(struct soak_model *m, uint64_t nblocks);
void soak_model_fini(struct soak_model *m);

/* Are blocks [@lba, @lba + @n) all free of requests? */
bool soak_model_free(const struct soak_model *m, uint64_t lba, unsigned int n);
void soak_model_set_busy(struct soak_model *m, uint64_t lba, unsigned int n, bool busy);

/* The content of block @lba at generation @gen, SOAK_BLOCK bytes. */
void soak_block_fill(void *buf, uint64_t lba, uint64_t gen);

/**
 * soak_model_check() - compare a block read from the disk with the model
 * @m:		the model; an ambiguous block that matches one of its two
 *		allowed contents is narrowed to it
 * @lba:	the block
 * @buf:	SOAK_BLOCK bytes read
 * @why:	out: on a mismatch, what the block holds instead
 * @len:	size of @why
 *
 * Return: true when the block holds an allowed content.
 */
bool soak_model_check(struct soak_model *m, uint64_t lba, const void *buf, char *why, size_t len);

#endif
