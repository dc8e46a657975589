/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fail the n-th call: a test arms a process-wide counter, and the n-th
 * fallible setup step that asks fails as if its call had, taking the same
 * unwind path (the iommufd selftests' "fail nth" sweep). Disarmed by
 * default, so production never fails here.
 */
#ifndef VB_FAILPOINT_H
#define VB_FAILPOINT_H

#include <stdbool.h>

/**
 * vb_failpoint() - whether the step at @site fails now
 * @site:	names the step in the log line of a failure, e.g. "ring: eventfd"
 *
 * Counts the call while armed. When it fires it sets errno to ENOMEM, so a
 * step standing in for a call that reports through errno reads as one.
 * Return: true exactly on the n-th call since vb_failpoint_arm(n).
 */
bool vb_failpoint(const char *site);

/**
 * vb_failpoint_arm() - fail the @n-th call from now on
 * @n:		1 for the next call; 0 disarms
 *
 * Also restarts the count vb_failpoint_hits() reports.
 */
void vb_failpoint_arm(unsigned int n);

/**
 * vb_failpoint_hits() - calls since the last vb_failpoint_arm()
 *
 * A sweep that armed n and sees fewer than n hits ran out of steps.
 * Return: the count; 0 while disarmed.
 */
unsigned int vb_failpoint_hits(void);

#endif
