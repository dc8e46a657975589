/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The soak run's I/O: keeps cfg->depth random requests in flight (writes,
 * reads, write-zeroes, discards, flushes of 1-16 blocks, never two on one
 * block at once), checks every read against the model, updates the model at
 * each completion, and reads the whole disk back at the end.
 */
#ifndef VB_SOAK_IO_H
#define VB_SOAK_IO_H

#include "frontend/fe_blk.h"
#include "soak.h"
#include "soak_data.h"

struct soak_slot {
	struct fe_blk_req *req; /* NULL: free */
	uint32_t type;
	uint64_t lba;
	unsigned int n; /* blocks */
	uint64_t gen; /* what a write puts there */
	uint64_t submit_us;
};

struct soak_io {
	struct soak_model model;
	struct soak_stats *st;
	unsigned int depth;
	unsigned int num_queues;
	unsigned int outstanding;
	uint64_t rng;
	struct soak_slot slot[SOAK_MAX_DEPTH];
	uint16_t last_used[FE_BLK_MAX_QUEUES]; /* used entries counted so far */
	unsigned int reported; /* mismatch lines printed */
};

int soak_io_init(struct soak_io *io, const struct soak_cfg *cfg, struct soak_stats *st);
void soak_io_fini(struct soak_io *io);

/* Submit requests until io->depth are in flight (or the rings are full): 0 or -errno. */
int soak_io_fill(struct soak_io *io, struct fe_blk *blk);

/* Collect completions, waiting up to @timeout_ms for the first: 0 or -errno. */
int soak_io_reap(struct soak_io *io, struct fe_blk *blk, int timeout_ms);

/* Age of the oldest request in flight, 0 when none. */
uint64_t soak_io_oldest_us(const struct soak_io *io);

/* Reap until nothing is in flight: 0, or -ETIMEDOUT after @timeout_ms. */
int soak_io_drain(struct soak_io *io, struct fe_blk *blk, int timeout_ms);

/* Read every block back and compare it with the model: 0 or -errno (I/O failed). */
int soak_io_verify_all(struct soak_io *io, struct fe_blk *blk);

#endif
