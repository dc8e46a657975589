// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/inflight.h"

#include <errno.h>
#include <stdlib.h>

int vb_inflight_recover(struct vb_inflight_queue *q, uint16_t num, uint16_t used_idx,
			uint16_t *heads, uint64_t *counter)
{
	uint64_t max_counter = 0;
	int n = 0;

	if (!q->version) {
		q->version = VB_INFLIGHT_VERSION;
		q->desc_num = num;
		q->used_idx = used_idx;
		*counter = 1;
		return 0;
	}
	if (q->desc_num != num || q->version != VB_INFLIGHT_VERSION)
		return -EINVAL;

	/*
	 * The previous back-end died between publishing a used entry and
	 * clearing its in-flight flag: that request completed.
	 */
	if (q->used_idx != used_idx) {
		if (q->last_batch_head < num)
			q->desc[q->last_batch_head].inflight = 0;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		q->used_idx = used_idx;
	}

	for (uint16_t i = 0; i < num; i++) {
		uint64_t c;
		int j;

		if (q->desc[i].inflight != 1) {
			q->desc[i].inflight = 0;
			continue;
		}
		c = q->desc[i].counter;
		if (c > max_counter)
			max_counter = c;
		/* Insertion sort by counter: rings are small, this runs once. */
		for (j = n; j > 0 && q->desc[heads[j - 1]].counter > c; j--)
			heads[j] = heads[j - 1];
		heads[j] = i;
		n++;
	}
	*counter = max_counter + 1;
	return n;
}
