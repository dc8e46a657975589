// SPDX-License-Identifier: GPL-2.0-or-later
/* The soak run's random I/O, its completions and the final read-back. */
#include "soak_io.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define SOAK_REPORT_MAX 20 /* mismatch lines printed; all are counted */
#define SOAK_PICK_TRIES 4 /* random ranges tried before a round gives up */

int soak_io_init(struct soak_io *io, const struct soak_cfg *cfg, struct soak_stats *st)
{
	memset(io, 0, sizeof(*io));
	io->st = st;
	io->depth = cfg->depth;
	io->num_queues = cfg->num_queues;
	io->rng = cfg->seed | 1; /* xorshift never leaves 0 */
	return soak_model_init(&io->model, cfg->image_bytes / SOAK_BLOCK) ? -ENOMEM : 0;
}

void soak_io_fini(struct soak_io *io)
{
	soak_model_fini(&io->model);
}

static void soak_io_mismatch(struct soak_io *io, const char *when, uint64_t lba, const char *why)
{
	const struct soak_model *m = &io->model;

	if (io->reported++ >= SOAK_REPORT_MAX)
		return;
	fprintf(stderr, "soak: MISMATCH (%s) block %" PRIu64 ": want gen %" PRIu64, when, lba,
		m->gen[lba]);
	if (m->alt[lba] != SOAK_GEN_NONE)
		fprintf(stderr, " or %" PRIu64, m->alt[lba]);
	fprintf(stderr, ", holds %s\n", why);
}

/* A random range of free blocks, small ones more often: 0, or -EBUSY. */
static int soak_io_pick(struct soak_io *io, uint64_t *lba, unsigned int *n)
{
	struct soak_model *m = &io->model;

	for (unsigned int t = 0; t < SOAK_PICK_TRIES; t++) {
		unsigned int max =
			1 + (unsigned int)(soak_rand(&io->rng) % SOAK_MAX_BLOCKS_PER_REQ);

		*n = 1 + (unsigned int)(soak_rand(&io->rng) % max);
		*lba = soak_rand(&io->rng) % (m->nblocks - *n + 1);
		if (soak_model_free(m, *lba, *n))
			return 0;
	}
	return -EBUSY;
}

static int soak_io_submit(struct soak_io *io, struct fe_blk *blk, struct soak_slot *s)
{
	static uint8_t buf[SOAK_MAX_BLOCKS_PER_REQ * SOAK_BLOCK];
	unsigned int q = (unsigned int)(soak_rand(&io->rng) % io->num_queues);
	unsigned int pick = (unsigned int)(soak_rand(&io->rng) % 100);
	uint64_t sector;
	int ret;

	if (pick >= 95) {
		s->type = VIRTIO_BLK_T_FLUSH;
		s->lba = 0;
		s->n = 0;
		return fe_blk_submit_flush(blk, q, &s->req);
	}
	if (soak_io_pick(io, &s->lba, &s->n))
		return -EBUSY;
	sector = s->lba * SOAK_BLOCK_SECTORS;
	if (pick < 45) {
		s->type = VIRTIO_BLK_T_OUT;
		s->gen = io->model.next_gen++;
		for (unsigned int i = 0; i < s->n; i++)
			soak_block_fill(buf + i * SOAK_BLOCK, s->lba + i, s->gen);
		ret = fe_blk_submit_write(blk, q, sector, buf, s->n * SOAK_BLOCK, &s->req);
	} else if (pick < 82) {
		s->type = VIRTIO_BLK_T_IN;
		ret = fe_blk_submit_read(blk, q, sector, s->n * SOAK_BLOCK, &s->req);
	} else if (pick < 90) {
		s->type = VIRTIO_BLK_T_WRITE_ZEROES;
		ret = fe_blk_submit_write_zeroes(blk, q, sector, s->n * SOAK_BLOCK_SECTORS,
						 pick & 1, &s->req);
	} else {
		s->type = VIRTIO_BLK_T_DISCARD;
		ret = fe_blk_submit_discard(blk, q, sector, s->n * SOAK_BLOCK_SECTORS, &s->req);
	}
	if (!ret || s->req)
		soak_model_set_busy(&io->model, s->lba, s->n, true);
	return ret;
}

int soak_io_fill(struct soak_io *io, struct fe_blk *blk)
{
	for (unsigned int i = 0; i < io->depth && io->outstanding < io->depth; i++) {
		struct soak_slot *s = &io->slot[i];
		int ret;

		if (s->req)
			continue;
		s->submit_us = soak_now_us();
		ret = soak_io_submit(io, blk, s);
		if (s->req)
			io->outstanding++;
		/* A full ring, fragmented guest memory or busy blocks: try next round. */
		if (ret == -ENOSPC || ret == -ENOMEM || ret == -EBUSY)
			return 0;
		if (ret) {
			soak_error(io->st, "submit: %s", strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void soak_io_read_done(struct soak_io *io, struct soak_slot *s)
{
	const uint8_t *data = s->req->data;
	char why[160];

	io->st->reads++;
	io->st->bytes_read += s->n * SOAK_BLOCK;
	for (unsigned int i = 0; i < s->n; i++) {
		io->st->blocks_checked_online++;
		if (!soak_model_check(&io->model, s->lba + i, data + i * SOAK_BLOCK, why,
				      sizeof(why))) {
			io->st->mismatches_online++;
			soak_io_mismatch(io, "read while running", s->lba + i, why);
		}
	}
}

/* A write-like request completed: @gen is now there, or may be when it failed. */
static void soak_io_set(struct soak_io *io, struct soak_slot *s, uint64_t gen, bool ok)
{
	struct soak_model *m = &io->model;

	for (unsigned int i = 0; i < s->n; i++) {
		uint64_t b = s->lba + i;

		if (ok) {
			m->gen[b] = gen;
			m->alt[b] = SOAK_GEN_NONE;
		} else {
			m->alt[b] = gen;
		}
	}
}

static void soak_io_complete(struct soak_io *io, struct fe_blk *blk, struct soak_slot *s)
{
	struct soak_stats *st = io->st;
	bool ok = s->req->status == VIRTIO_BLK_S_OK;
	uint64_t lat = soak_now_us() - s->submit_us;

	if (lat > st->latency_us_max)
		st->latency_us_max = lat;
	if (!ok) {
		st->io_errors++;
		soak_error(st, "request type %u blocks %" PRIu64 "+%u: status %u", s->type, s->lba,
			   s->n, s->req->status);
	}
	switch (s->type) {
	case VIRTIO_BLK_T_IN:
		if (ok)
			soak_io_read_done(io, s);
		break;
	case VIRTIO_BLK_T_OUT:
		st->writes++;
		st->bytes_written += s->n * SOAK_BLOCK;
		soak_io_set(io, s, s->gen, ok);
		break;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		st->zeroes++;
		soak_io_set(io, s, SOAK_GEN_ZERO, ok);
		break;
	case VIRTIO_BLK_T_DISCARD:
		st->discards++;
		/* The old data or zeroes: discard promises neither. */
		for (unsigned int i = 0; i < s->n; i++)
			if (io->model.gen[s->lba + i] != SOAK_GEN_ZERO)
				io->model.alt[s->lba + i] = SOAK_GEN_ZERO;
		break;
	default:
		st->flushes++;
		break;
	}
	soak_model_set_busy(&io->model, s->lba, s->n, false);
	fe_blk_req_free(blk, s->req);
	s->req = NULL;
	io->outstanding--;
}

/* Collect what the rings hold; count used entries that were no request of ours. */
static int soak_io_collect(struct soak_io *io, struct fe_blk *blk)
{
	unsigned int done[FE_BLK_MAX_QUEUES] = { 0 }, total = 0;

	for (unsigned int q = 0; q < io->num_queues; q++) {
		int ret = fe_blk_reap(blk, q, 0);

		if (ret < 0 && ret != -ETIMEDOUT) {
			soak_error(io->st, "reap queue %u: %s", q, strerror(-ret));
			return ret;
		}
	}
	for (unsigned int i = 0; i < io->depth; i++) {
		struct soak_slot *s = &io->slot[i];

		if (!s->req || !s->req->done)
			continue;
		done[s->req->queue]++;
		total++;
		soak_io_complete(io, blk, s);
	}
	for (unsigned int q = 0; q < io->num_queues; q++) {
		uint16_t seen = fe_blk_vq(blk, q)->last_used;
		uint16_t used = (uint16_t)(seen - io->last_used[q]);

		if (used > done[q]) {
			io->st->dup_completions += used - done[q];
			soak_error(io->st, "queue %u: %u used entries for %u requests", q, used,
				   done[q]);
		}
		io->last_used[q] = seen;
	}
	return (int)total;
}

int soak_io_reap(struct soak_io *io, struct fe_blk *blk, int timeout_ms)
{
	struct pollfd pfd[FE_BLK_MAX_QUEUES];
	int ret;

	ret = soak_io_collect(io, blk);
	if (ret)
		return ret < 0 ? ret : 0;
	for (unsigned int q = 0; q < io->num_queues; q++)
		pfd[q] = (struct pollfd){ .fd = fe_blk_vq(blk, q)->call_fd, .events = POLLIN };
	if (poll(pfd, io->num_queues, timeout_ms) > 0) {
		/* Consume the notifications; the used rings say what completed. */
		for (unsigned int q = 0; q < io->num_queues; q++)
			if (pfd[q].revents & POLLIN)
				fe_vq_wait_call(fe_blk_vq(blk, q), 0);
	}
	ret = soak_io_collect(io, blk);
	return ret < 0 ? ret : 0;
}

uint64_t soak_io_oldest_us(const struct soak_io *io)
{
	uint64_t now = soak_now_us(), oldest = 0;

	for (unsigned int i = 0; i < io->depth; i++)
		if (io->slot[i].req && now - io->slot[i].submit_us > oldest)
			oldest = now - io->slot[i].submit_us;
	return oldest;
}

int soak_io_drain(struct soak_io *io, struct fe_blk *blk, int timeout_ms)
{
	uint64_t end = soak_now_us() + (uint64_t)timeout_ms * 1000;
	int ret;

	while (io->outstanding) {
		if (soak_now_us() > end)
			return -ETIMEDOUT;
		ret = soak_io_reap(io, blk, 100);
		if (ret)
			return ret;
	}
	return 0;
}

int soak_io_verify_all(struct soak_io *io, struct fe_blk *blk)
{
	static uint8_t buf[SOAK_MAX_BLOCKS_PER_REQ * SOAK_BLOCK];
	struct soak_model *m = &io->model;
	char why[160];

	for (uint64_t lba = 0; lba < m->nblocks; lba += SOAK_MAX_BLOCKS_PER_REQ) {
		unsigned int n = m->nblocks - lba < SOAK_MAX_BLOCKS_PER_REQ ?
					 (unsigned int)(m->nblocks - lba) :
					 SOAK_MAX_BLOCKS_PER_REQ;
		int ret = fe_blk_read(blk, 0, lba * SOAK_BLOCK_SECTORS, buf, n * SOAK_BLOCK);

		if (ret) {
			soak_error(io->st, "read back blocks %" PRIu64 "+%u: %s %d", lba, n,
				   ret < 0 ? strerror(-ret) : "status", ret);
			return ret < 0 ? ret : -EIO;
		}
		for (unsigned int i = 0; i < n; i++) {
			io->st->blocks_verified++;
			if (m->alt[lba + i] != SOAK_GEN_NONE)
				io->st->ambiguous_blocks++;
			if (!soak_model_check(m, lba + i, buf + i * SOAK_BLOCK, why, sizeof(why))) {
				io->st->mismatches_final++;
				soak_io_mismatch(io, "final read-back", lba + i, why);
			}
		}
	}
	return 0;
}
