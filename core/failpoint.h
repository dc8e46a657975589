/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fail the n-th call: a test arms a process-wide counter, and the n-th
 * fallible setup step that asks fails as if its call had, taking the same
 * unwind path (the iommufd selftests' "fail nth" sweep). Disarmed by
 * default, so production never fails here.
 */
#ifndef VB_FAILPOINT_H
#define VB_FAILPOINT_H

#include <errno.h>
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

/*
 * Faults on the I/O path, armed from the environment at start
 * (VBLKD_FAULTS="site=n[+],..."; docs/faults.md gives each one's outcome).
 * "site=n" fails the n-th call at that site, "site=n+" every call from the
 * n-th on. Disarmed, a site costs one test of a global that never changes.
 */
enum vb_fault_site {
	VB_FAULT_URING_SUBMIT, /* "uring_submit": io_uring_submit_and_wait with guest I/O */
	VB_FAULT_READ, /* "read": a completed read comes back short */
	VB_FAULT_WRITE, /* "write": a completed write fails with ENOSPC */
	VB_FAULT_MMAP, /* "mmap": mapping a front-end's file fails with ENOMEM */
	VB_FAULT_STATE_PIPE, /* "state_pipe": a write of a state save fails with EPIPE */
	VB_FAULT_CALL, /* "call": signalling a ring's call eventfd fails with EIO */
	VB_FAULT_ERR, /* "err": signalling a ring's err eventfd fails */
	VB_FAULT_NSITES
};

#ifndef VB_FAULT_INJECTION
#define VB_FAULT_INJECTION 1
#endif

extern bool vb_faults_armed;

/**
 * vb_fault_hit() - count a call at @site; whether it fails (armed only)
 * @site:	the site
 */
bool vb_fault_hit(enum vb_fault_site site);

/**
 * vb_fault() - whether the call at @site fails now
 * @site:	the site
 *
 * Logs a warning naming the site when it fires; the caller then takes the
 * path of the real failure it stands for.
 */
static inline bool vb_fault(enum vb_fault_site site)
{
	return VB_FAULT_INJECTION && __builtin_expect(vb_faults_armed, 0) && vb_fault_hit(site);
}

/**
 * vb_fault_io_res() - the result a completed read or write reports
 * @write:	a write (else a read)
 * @res:	what the kernel reported: bytes, or -errno
 *
 * Return: @res, or with the "read" fault half of it (a short read), with
 * the "write" fault -ENOSPC.
 */
static inline int vb_fault_io_res(bool write, int res)
{
	if (!vb_fault(write ? VB_FAULT_WRITE : VB_FAULT_READ))
		return res;
	return write ? -ENOSPC : (res > 0 ? res / 2 : res);
}

/**
 * vb_faults_parse() - arm the faults a specification names
 * @spec:	"site=n[+],..."; NULL or "" disarms
 *
 * Return: 0, or -EINVAL for an unknown site or a bad count (logged); then
 * nothing is armed.
 */
int vb_faults_parse(const char *spec);

/**
 * vb_faults_from_env() - vb_faults_parse() of $VBLKD_FAULTS
 *
 * Return: as vb_faults_parse(); -ENOTSUP when the build has no fault
 * injection and the variable is set.
 */
int vb_faults_from_env(void);

#endif
