/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-flight request tracking in shared memory (layout: proto/inflight.h).
 * The region outlives the back-end process, so a restarted back-end can
 * resubmit what the previous one had taken from the ring but not completed.
 */
#ifndef VB_INFLIGHT_H
#define VB_INFLIGHT_H

#include <stdint.h>

#include "proto/inflight.h"

/**
 * vb_inflight_recover() - make a region consistent with the used ring
 * @q:		the queue's region (hostile memory: validated here)
 * @num:	ring size
 * @used_idx:	used->idx as the guest sees it now
 * @heads:	out: in-flight heads sorted by submission order (>= num entries)
 * @counter:	out: next counter value to use
 *
 * A fresh (zeroed) region is initialised. Return: number of heads, or
 * -EINVAL when the region belongs to a ring of another size.
 */
int vb_inflight_recover(struct vb_inflight_queue *q, uint16_t num, uint16_t used_idx,
			uint16_t *heads, uint64_t *counter);

#endif
