/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-ring request counters and a latency histogram, kept by the ring's
 * worker (the only writer) with relaxed atomics so that a management
 * thread can read them at any time without a lock. Cheap on purpose: two
 * clock reads and four relaxed adds per request.
 */
#ifndef VB_RING_STATS_H
#define VB_RING_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* Bucket i holds latencies in [2^i, 2^(i+1)) us; bucket 0 also takes < 1 us. */
#define VB_LAT_BUCKETS 24

struct vb_ring_stats {
	_Atomic uint64_t started; /* requests handed to the device */
	_Atomic uint64_t completed; /* requests published as used */
	_Atomic uint64_t carried; /* left unfinished by a capture, owed by the next run */
	_Atomic uint64_t lat_us_sum;
	_Atomic uint64_t lat[VB_LAT_BUCKETS];
};

/* A plain copy of the counters, for a reader. */
struct vb_ring_stats_snap {
	uint64_t started;
	uint64_t completed;
	uint64_t carried;
	uint64_t lat_us_sum;
	uint64_t lat[VB_LAT_BUCKETS];
};

static inline uint64_t vb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The histogram bucket of a latency: floor(log2(us)), capped. */
static inline unsigned int vb_lat_bucket(uint64_t us)
{
	unsigned int b = us ? 63u - (unsigned int)__builtin_clzll(us) : 0;

	return b < VB_LAT_BUCKETS ? b : VB_LAT_BUCKETS - 1;
}

/* Single writer: a relaxed load and store is an add nobody else races. */
static inline void vb_stat_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline void vb_ring_stats_done(struct vb_ring_stats *s, uint64_t start_ns)
{
	uint64_t us = (vb_now_ns() - start_ns) / 1000;

	vb_stat_add(&s->completed, 1);
	vb_stat_add(&s->lat_us_sum, us);
	vb_stat_add(&s->lat[vb_lat_bucket(us)], 1);
}

static inline void vb_ring_stats_read(const struct vb_ring_stats *s, struct vb_ring_stats_snap *out)
{
	out->started = atomic_load_explicit(&s->started, memory_order_relaxed);
	out->completed = atomic_load_explicit(&s->completed, memory_order_relaxed);
	out->carried = atomic_load_explicit(&s->carried, memory_order_relaxed);
	out->lat_us_sum = atomic_load_explicit(&s->lat_us_sum, memory_order_relaxed);
	for (unsigned int i = 0; i < VB_LAT_BUCKETS; i++)
		out->lat[i] = atomic_load_explicit(&s->lat[i], memory_order_relaxed);
}

#endif
