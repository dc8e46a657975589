// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * I/O benchmark client on frontend/'s driver: one thread keeps --qd
 * requests in flight on each of --queues rings of a vhost-user-blk
 * back-end (vblkd or qemu-storage-daemon), sleeping on the call eventfds,
 * and prints one JSON line (bench/iobench.h). make bench runs it beside
 * the libblkio client, bench/iops_blkio.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/iobench.h"
#include "frontend/fe_blk.h"

#define MAX_QD 256

struct slot {
	struct fe_blk_req *req;
	uint64_t start_ns;
};

static struct slot slots[FE_BLK_MAX_QUEUES][MAX_QD];
static char wbuf[1 << 20] __attribute__((aligned(4096)));

static int submit(struct fe_blk *blk, unsigned int q, struct iob_queue *iq,
		  const struct iob_opts *o, uint64_t capacity, struct slot *s)
{
	bool is_read;
	uint64_t off = iob_next(iq, o, capacity, &is_read);
	int ret;

	s->start_ns = iob_now_ns();
	if (is_read)
		ret = fe_blk_submit_read(blk, q, off / FE_BLK_SECTOR, o->bs, &s->req);
	else
		ret = fe_blk_submit_write(blk, q, off / FE_BLK_SECTOR, wbuf, o->bs, &s->req);
	if (ret && !s->req) {
		fprintf(stderr, "iops_fe: queue %u: submit: %s\n", q, strerror(-ret));
		return ret;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct iob_queue iq[FE_BLK_MAX_QUEUES];
	struct pollfd pfd[FE_BLK_MAX_QUEUES];
	struct iob_opts o;
	struct fe_blk blk;
	uint64_t capacity, t_start, t_measure, t_end, cpu_b = 0, cpu_c = 0;
	uint64_t cpu_end_b = 0, cpu_end_c = 0;
	bool measuring = false, ending = false;
	unsigned int inflight;
	int ret;

	iob_parse(argc, argv, "iops_fe", &o);
	if (o.qd > MAX_QD || o.queues > FE_BLK_MAX_QUEUES || o.bs > sizeof(wbuf)) {
		fprintf(stderr, "iops_fe: at most --qd %d, --queues %d, --bs %zu\n", MAX_QD,
			FE_BLK_MAX_QUEUES, sizeof(wbuf));
		return 2;
	}
	memset(wbuf, 0xa5, sizeof(wbuf));
	struct fe_blk_opts bo = {
		.num_queues = o.queues,
		/* Three descriptors a request: header, data, status. */
		.queue_size = o.queue_size ? o.queue_size : 256,
		.mem_size = (uint64_t)o.queues * o.qd * (o.bs + 8192) + (32u << 20),
		.drop_features = o.no_event_idx ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0,
	};
	while (bo.queue_size < 3 * o.qd && !o.queue_size)
		bo.queue_size *= 2;
	ret = fe_blk_open(&blk, o.socket, &bo);
	if (ret) {
		fprintf(stderr, "iops_fe: %s: %s\n", o.socket, strerror(-ret));
		return 1;
	}
	capacity = blk.config.capacity * FE_BLK_SECTOR;
	for (unsigned int q = 0; q < o.queues; q++) {
		iob_queue_init(&iq[q], q, &o);
		pfd[q] = (struct pollfd){ .fd = fe_blk_vq(&blk, q)->call_fd, .events = POLLIN };
		for (unsigned int i = 0; i < o.qd; i++)
			if (submit(&blk, q, &iq[q], &o, capacity, &slots[q][i]))
				goto out;
	}
	inflight = o.queues * o.qd;
	t_start = iob_now_ns();
	t_measure = t_start + o.warmup_ms * 1000000ull;
	t_end = t_measure + o.runtime_ms * 1000000ull;
	for (;;) {
		uint64_t now = iob_now_ns();

		if (!measuring && !ending && now >= t_measure) {
			measuring = true;
			t_measure = now;
			cpu_b = iob_cpu_us(o.pid);
			cpu_c = iob_cpu_us(0);
		}
		if (now >= t_end && !ending) {
			/* Collect what is in flight, so the device is quiet when we go. */
			ending = true;
			measuring = false;
			t_end = now;
			cpu_end_b = iob_cpu_us(o.pid);
			cpu_end_c = iob_cpu_us(0);
		}
		if (ending && !inflight)
			break;
		ret = poll(pfd, o.queues, 1000);
		if (ret < 0 && errno != EINTR) {
			perror("iops_fe: poll");
			goto out;
		}
		for (unsigned int q = 0; q < o.queues; q++) {
			uint64_t cnt;

			if (!(pfd[q].revents & POLLIN))
				continue;
			if (read(pfd[q].fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				goto out;
			ret = fe_blk_reap(&blk, q, 0);
			if (ret < 0 && ret != -ETIMEDOUT) {
				fprintf(stderr, "iops_fe: reap: %s\n", strerror(-ret));
				goto out;
			}
			now = iob_now_ns();
			for (unsigned int i = 0; i < o.qd; i++) {
				struct slot *s = &slots[q][i];

				if (!s->req || !s->req->done)
					continue;
				iob_done(&iq[q], &o, now - s->start_ns,
					 s->req->status == VIRTIO_BLK_S_OK, measuring);
				fe_blk_req_free(&blk, s->req);
				s->req = NULL;
				if (ending)
					inflight--;
				else if (submit(&blk, q, &iq[q], &o, capacity, s))
					goto out;
			}
		}
	}
	iob_idle(&o);
	iob_report(o.no_event_idx ? "frontend-no-event-idx" : "frontend", &o, iq, t_end - t_measure,
		   cpu_end_b - cpu_b, cpu_end_c - cpu_c);
	fe_blk_close(&blk);
	return 0;
out:
	fe_blk_close(&blk);
	return 1;
}
