/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the two I/O benchmark clients share (bench/iops_fe.c drives a
 * back-end with frontend/'s driver, bench/iops_blkio.c with libblkio, built
 * inside the trixie chroot): the command line, the offsets a workload
 * visits, latency samples, CPU time and the one JSON line each run prints.
 * Plain C with no project headers, so the chroot's compiler builds it too.
 */
#ifndef VB_IOBENCH_H
#define VB_IOBENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct iob_opts {
	const char *socket; /* the back-end's vhost-user socket */
	bool random; /* rand* workloads, otherwise sequential */
	unsigned int read_pct; /* 100 read, 0 write, else the mix */
	const char *rw; /* as given, for the report */
	unsigned int bs; /* bytes per request */
	unsigned int qd; /* requests in flight per queue */
	unsigned int queues;
	unsigned int queue_size; /* ring size the client asks for; 0: its default */
	unsigned int runtime_ms;
	unsigned int warmup_ms; /* run before measuring */
	pid_t pid; /* the back-end, for its CPU time; 0: not measured */
	uint64_t span; /* bytes of the disk the workload covers; 0: all */
	bool no_event_idx; /* do not negotiate VIRTIO_RING_F_EVENT_IDX (iops_fe) */
	unsigned int idle_ms; /* after the run, stay connected this long doing nothing */
};

/* One queue's walk over the disk and its latencies, owned by one thread. */
struct iob_queue {
	uint64_t rng;
	uint64_t next_seq; /* sequential: the next offset */
	uint64_t ios, bytes, errors;
	uint32_t *lat_ns; /* samples while measuring, capped */
	size_t nlat, cap;
};

/* Parses argv; prints the usage and exits 2 on a bad option. */
void iob_parse(int argc, char **argv, const char *prog, struct iob_opts *o);

/*
 * --idle-ms: after the run, with every request completed and the client
 * still connected, sleep that long and keep the back-end's CPU time over
 * it, for iob_report()'s backend_idle_cpu_pct (what polling costs idle).
 */
void iob_idle(const struct iob_opts *o);

/* Seeds @q for queue @index over @span bytes; exits on allocation failure. */
void iob_queue_init(struct iob_queue *q, unsigned int index, const struct iob_opts *o);

/* The next request of @q: its offset (bs-aligned, within span) and direction. */
uint64_t iob_next(struct iob_queue *q, const struct iob_opts *o, uint64_t span, bool *is_read);

/* Records a completion; counts it only while @measuring. */
void iob_done(struct iob_queue *q, const struct iob_opts *o, uint64_t lat_ns, bool ok,
	      bool measuring);

uint64_t iob_now_ns(void);

/* Sleeps until CLOCK_MONOTONIC reads @ns (as iob_now_ns() gives it). */
void iob_sleep_until(uint64_t ns);

/*
 * For a client whose workers run on other threads: sleeps until @from_ns,
 * then until @to_ns, and gives the CPU time @pid (the back-end) and this
 * process spent in between, in microseconds.
 */
void iob_cpu_window(pid_t pid, uint64_t from_ns, uint64_t to_ns, uint64_t *backend_us,
		    uint64_t *client_us);

/* utime + stime of @pid (0: this process) in microseconds, or 0 when unknown. */
uint64_t iob_cpu_us(pid_t pid);

/*
 * Prints the run as one JSON line on stdout: IOPS, MiB/s, p50 and p99
 * latency, and CPU microseconds per I/O of the back-end and the client,
 * from the counts in @qs and the CPU times measured over @elapsed_ns.
 */
void iob_report(const char *client, const struct iob_opts *o, struct iob_queue *qs,
		uint64_t elapsed_ns, uint64_t backend_cpu_us, uint64_t client_cpu_us);

#endif
