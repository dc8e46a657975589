// SPDX-License-Identifier: GPL-2.0-or-later
/* Token buckets with debt: see blk_throttle.h. */
#include "devices/blk/blk_throttle.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define NSEC 1000000000ull
#define BURST_MAX_MS 60000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

void blk_throttle_init(struct blk_throttle *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

void blk_throttle_fini(struct blk_throttle *t)
{
	pthread_mutex_destroy(&t->lock);
}

int blk_throttle_set(struct blk_throttle *t, const struct vb_throttle_limits *l)
{
	if (l->burst_ms > BURST_MAX_MS)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	/* Read without the lock on the data path, to see "unlimited". */
	__atomic_store_n(&t->iops, l->iops, __ATOMIC_RELAXED);
	__atomic_store_n(&t->bps, l->bps, __ATOMIC_RELAXED);
	t->burst_ns = l->burst_ms * 1000000ull;
	/* A new limit starts with a full burst and no debt. */
	t->iops_credit = (int64_t)t->burst_ns;
	t->bps_credit = (int64_t)t->burst_ns;
	t->last_ns = now_ns();
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void blk_throttle_get(struct blk_throttle *t, struct vb_throttle_limits *l)
{
	pthread_mutex_lock(&t->lock);
	l->iops = t->iops;
	l->bps = t->bps;
	l->burst_ms = t->burst_ns / 1000000ull;
	pthread_mutex_unlock(&t->lock);
	l->throttled = atomic_load_explicit(&t->throttled, memory_order_relaxed);
	l->throttled_us = atomic_load_explicit(&t->throttled_ns, memory_order_relaxed) / 1000;
}

/* Refill @credit by @elapsed (up to the burst), take @cost. Return: the debt, or 0. */
static uint64_t spend(int64_t *credit, uint64_t elapsed, uint64_t burst, uint64_t cost)
{
	const int64_t floor = -(int64_t)(3600 * NSEC); /* an hour of debt at most */
	int64_t c = *credit;

	c = elapsed >= (uint64_t)((int64_t)burst - c) ? (int64_t)burst : c + (int64_t)elapsed;
	c = cost >= (uint64_t)(c - floor) ? floor : c - (int64_t)cost;
	*credit = c;
	return c < 0 ? (uint64_t)-c : 0;
}

uint64_t blk_throttle_take(struct blk_throttle *t, uint64_t bytes)
{
	uint64_t now, elapsed, wait = 0, w;

	/* Unlimited: no lock on the data path. */
	if (!__atomic_load_n(&t->iops, __ATOMIC_RELAXED) &&
	    !__atomic_load_n(&t->bps, __ATOMIC_RELAXED))
		return 0;
	now = now_ns();
	pthread_mutex_lock(&t->lock);
	elapsed = now > t->last_ns ? now - t->last_ns : 0;
	t->last_ns = now > t->last_ns ? now : t->last_ns;
	if (t->iops) {
		w = spend(&t->iops_credit, elapsed, t->burst_ns, NSEC / t->iops);
		wait = w > wait ? w : wait;
	}
	if (t->bps && bytes) {
		unsigned __int128 cost = (unsigned __int128)bytes * NSEC / t->bps;

		w = spend(&t->bps_credit, elapsed, t->burst_ns,
			  cost > UINT64_MAX ? UINT64_MAX : (uint64_t)cost);
		wait = w > wait ? w : wait;
	}
	pthread_mutex_unlock(&t->lock);
	if (wait) {
		atomic_fetch_add_explicit(&t->throttled, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&t->throttled_ns, wait, memory_order_relaxed);
	}
	return wait;
}
