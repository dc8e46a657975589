// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * I/O benchmark client on libblkio 1.5 (virtio-blk-vhost-user), an
 * independent implementation of the front-end: one thread per queue keeps
 * --qd requests in flight, blocking in blkioq_do_io(), and the run prints
 * one JSON line (bench/iobench.h). Without --queue-size libblkio asks for
 * its own default ring size (256). Built and run inside the trixie chroot
 * (libblkio is not in bookworm): bench/bench.sh compiles it there with
 * `gcc iops_blkio.c iobench.c -lblkio -lpthread`.
 */
#include <blkio.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iobench.h"

#define MAX_QUEUES 16
#define MAX_QD 256

struct worker {
	pthread_t thread;
	struct blkioq *q;
	struct iob_queue iq;
	const struct iob_opts *o;
	uint64_t capacity;
	char *buf; /* qd * bs bytes of the mapped region */
	uint64_t t_measure, t_end;
	int err;
};

static int check(int ret, const char *what)
{
	if (ret < 0)
		fprintf(stderr, "iops_blkio: %s: %s (%s)\n", what, strerror(-ret),
			blkio_get_error_msg());
	return ret;
}

static void submit(struct worker *w, unsigned int slot, uint64_t *start)
{
	bool is_read;
	uint64_t off = iob_next(&w->iq, w->o, w->capacity, &is_read);
	void *buf = w->buf + (size_t)slot * w->o->bs;

	start[slot] = iob_now_ns();
	if (is_read)
		blkioq_read(w->q, off, buf, w->o->bs, (void *)(uintptr_t)slot, 0);
	else
		blkioq_write(w->q, off, buf, w->o->bs, (void *)(uintptr_t)slot, 0);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct blkio_completion done[MAX_QD];
	uint64_t start[MAX_QD];
	int inflight = (int)w->o->qd;

	for (unsigned int i = 0; i < w->o->qd; i++)
		submit(w, i, start);
	while (inflight) {
		int n = blkioq_do_io(w->q, done, 1, inflight, NULL);
		uint64_t now = iob_now_ns();

		if (n < 0) {
			w->err = check(n, "blkioq_do_io");
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			unsigned int slot = (unsigned int)(uintptr_t)done[i].user_data;

			iob_done(&w->iq, w->o, now - start[slot], done[i].ret == 0,
				 now >= w->t_measure && now < w->t_end);
			/* After the end, collect what is in flight: the device stays quiet. */
			if (now < w->t_end)
				submit(w, slot, start);
			else
				inflight--;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker w[MAX_QUEUES];
	struct blkio_mem_region region;
	struct iob_queue iq[MAX_QUEUES];
	struct iob_opts o;
	struct blkio *b;
	uint64_t capacity, t0, cpu_b, cpu_c;
	int rc = 1;

	iob_parse(argc, argv, "iops_blkio", &o);
	if (o.no_event_idx) {
		fprintf(stderr, "iops_blkio: --no-event-idx is iops_fe's\n");
		return 2;
	}
	if (o.qd > MAX_QD || o.queues > MAX_QUEUES) {
		fprintf(stderr, "iops_blkio: at most --qd %d, --queues %d\n", MAX_QD, MAX_QUEUES);
		return 2;
	}
	if (check(blkio_create("virtio-blk-vhost-user", &b), "blkio_create"))
		return 1;
	if (check(blkio_set_str(b, "path", o.socket), "path") ||
	    check(blkio_connect(b), "blkio_connect") ||
	    check(blkio_set_int(b, "num-queues", (int)o.queues), "num-queues") ||
	    (o.queue_size &&
	     check(blkio_set_int(b, "queue-size", (int)o.queue_size), "queue-size")) ||
	    check(blkio_start(b), "blkio_start") ||
	    check(blkio_get_uint64(b, "capacity", &capacity), "capacity") ||
	    check(blkio_alloc_mem_region(b, &region, (size_t)o.queues * o.qd * o.bs),
		  "blkio_alloc_mem_region") ||
	    check(blkio_map_mem_region(b, &region), "blkio_map_mem_region"))
		goto out;
	memset(region.addr, 0xa5, region.len);
	t0 = iob_now_ns();
	for (unsigned int i = 0; i < o.queues; i++) {
		w[i] = (struct worker){
			.q = blkio_get_queue(b, (int)i),
			.o = &o,
			.capacity = capacity,
			.buf = (char *)region.addr + (size_t)i * o.qd * o.bs,
			.t_measure = t0 + o.warmup_ms * 1000000ull,
		};
		w[i].t_end = w[i].t_measure + o.runtime_ms * 1000000ull;
		iob_queue_init(&w[i].iq, i, &o);
	}
	/* CPU times over the measured window: the workers run, this thread waits. */
	for (unsigned int i = 0; i < o.queues; i++)
		if (pthread_create(&w[i].thread, NULL, run, &w[i])) {
			fprintf(stderr, "iops_blkio: pthread_create failed\n");
			goto out;
		}
	iob_cpu_window(o.pid, w[0].t_measure, w[0].t_end, &cpu_b, &cpu_c);
	rc = 0;
	for (unsigned int i = 0; i < o.queues; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].err)
			rc = 1;
		iq[i] = w[i].iq;
	}
	if (!rc) {
		iob_idle(&o);
		iob_report("libblkio", &o, iq, o.runtime_ms * 1000000ull, cpu_b, cpu_c);
	}
out:
	blkio_destroy(&b);
	return rc;
}
