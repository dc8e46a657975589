// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The in-guest client of the VDUSE benchmark (bench/vduse-bench.sh): keeps
 * --qd O_DIRECT requests in flight on a block device through one io_uring
 * per queue thread, and prints one JSON line (bench/iobench.h). The same
 * program measures vblkd --vduse and qemu-storage-daemon's vduse-blk
 * export, both under virtio_vdpa in one guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <unistd.h>

#include "iobench.h"

#define MAX_QUEUES 16
#define MAX_QD 256

struct worker {
	pthread_t thread;
	int fd;
	const struct iob_opts *o;
	uint64_t capacity;
	struct iob_queue iq;
	char *buf;
	uint64_t t_measure, t_end;
	int err;
};

static int submit(struct worker *w, struct io_uring *ring, unsigned int slot, uint64_t *start)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	bool is_read;
	uint64_t off = iob_next(&w->iq, w->o, w->capacity, &is_read);
	void *buf = w->buf + (size_t)slot * w->o->bs;

	if (!sqe)
		return -EBUSY;
	if (is_read)
		io_uring_prep_read(sqe, w->fd, buf, w->o->bs, off);
	else
		io_uring_prep_write(sqe, w->fd, buf, w->o->bs, off);
	io_uring_sqe_set_data64(sqe, slot);
	start[slot] = iob_now_ns();
	return 0;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	uint64_t start[MAX_QD];
	unsigned int inflight = w->o->qd;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(w->o->qd, &ring, 0);
	if (ret) {
		w->err = ret;
		return NULL;
	}
	for (unsigned int i = 0; i < w->o->qd; i++)
		submit(w, &ring, i, start);
	while (inflight) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		uint64_t now;

		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR) {
			w->err = ret;
			break;
		}
		now = iob_now_ns();
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			unsigned int slot = (unsigned int)cqe->user_data;

			seen++;
			iob_done(&w->iq, w->o, now - start[slot], cqe->res == (int)w->o->bs,
				 now >= w->t_measure && now < w->t_end);
			if (now < w->t_end)
				submit(w, &ring, slot, start);
			else
				inflight--;
		}
		io_uring_cq_advance(&ring, seen);
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker w[MAX_QUEUES];
	struct iob_queue iq[MAX_QUEUES];
	struct iob_opts o;
	uint64_t capacity, t0, cpu_b, cpu_c;
	char *buf;
	int fd, rc = 0;

	iob_parse(argc, argv, "vdbench", &o);
	if (o.qd > MAX_QD || o.queues > MAX_QUEUES) {
		fprintf(stderr, "vdbench: at most --qd %d, --queues %d\n", MAX_QD, MAX_QUEUES);
		return 2;
	}
	fd = open(o.socket, O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &capacity)) {
		fprintf(stderr, "vdbench: %s: %s\n", o.socket, strerror(errno));
		return 1;
	}
	if (posix_memalign((void **)&buf, 4096, (size_t)o.queues * o.qd * o.bs)) {
		fprintf(stderr, "vdbench: out of memory\n");
		return 1;
	}
	memset(buf, 0xa5, (size_t)o.queues * o.qd * o.bs);
	t0 = iob_now_ns();
	for (unsigned int i = 0; i < o.queues; i++) {
		w[i] = (struct worker){ .fd = fd,
					.o = &o,
					.capacity = capacity,
					.buf = buf + (size_t)i * o.qd * o.bs,
					.t_measure = t0 + o.warmup_ms * 1000000ull };
		w[i].t_end = w[i].t_measure + o.runtime_ms * 1000000ull;
		iob_queue_init(&w[i].iq, i, &o);
		if (pthread_create(&w[i].thread, NULL, run, &w[i])) {
			fprintf(stderr, "vdbench: pthread_create failed\n");
			return 1;
		}
	}
	iob_cpu_window(o.pid, w[0].t_measure, w[0].t_end, &cpu_b, &cpu_c);
	for (unsigned int i = 0; i < o.queues; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].err) {
			fprintf(stderr, "vdbench: queue %u: %s\n", i, strerror(-w[i].err));
			rc = 1;
		}
		iq[i] = w[i].iq;
	}
	if (!rc)
		iob_report("vdbench", &o, iq, o.runtime_ms * 1000000ull, cpu_b, cpu_c);
	close(fd);
	return rc;
}
