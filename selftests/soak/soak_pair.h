/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two vblkd daemons of a soak run, both serving one image, and the
 * front-end's connection to each: the active one owns guest memory and the
 * rings, the standby one waits as a migration destination
 * (fe_blk_open_peer()). Migrations swap the roles; kills restart a daemon
 * with its own command line.
 */
#ifndef VB_SOAK_PAIR_H
#define VB_SOAK_PAIR_H

#include "frontend/fe_blk.h"
#include "selftests/host/vd_proc.h"
#include "soak.h"

#define SOAK_MAX_ARGS 16

struct soak_pair {
	struct vd_proc vd[2];
	const char *args[2][SOAK_MAX_ARGS];
	char num_queues[12];
	char io_delay[12];
	struct fe_blk blk[2];
	bool open[2]; /* blk[i] is connected to vd[i] */
	unsigned int active;
};

/* Start both daemons and bring the front-end up on vd[0]: 0 or -errno. */
int soak_pair_start(struct soak_pair *p, const struct soak_cfg *cfg);

/* The front-end of the active daemon: submit and reap there. */
static inline struct fe_blk *soak_pair_blk(struct soak_pair *p)
{
	return &p->blk[p->active];
}

/**
 * soak_pair_migrate() - move the device to the standby daemon
 * @p:		the pair
 * @st:		counts the migration, its mode and downtime
 * @inflight:	requests on the rings at the suspend, for the counts
 * @abort:	SIGKILL the destination first: the migration must fail after
 *		the source's save, and the source go on
 *
 * Suspends the source (drain, or capture when its connection negotiated
 * GET_VRING_BASE_INFLIGHT), moves the state, resumes on the destination,
 * then reconnects to the old source as the next destination in the other
 * suspend mode. A failed migration resumes on the source and counts an
 * error; with @abort, the failure is the expected outcome and the killed
 * destination is restarted.
 * Return: 0, or -errno when the front-end has no working back-end left.
 */
int soak_pair_migrate(struct soak_pair *p, struct soak_stats *st, unsigned int inflight,
		      bool abort);

/**
 * soak_pair_kill() - SIGKILL a daemon and restart it with the same arguments
 * @p:		the pair
 * @standby:	the standby daemon instead of the active one
 * @st:		counts the kill
 * @inflight:	requests on the rings at the kill, for the counts
 *
 * The active daemon's front-end reconnects, as QEMU does, with the kept
 * in-flight region: the new daemon resubmits what the killed one held.
 * Return: 0 or -errno (then the run cannot go on).
 */
int soak_pair_kill(struct soak_pair *p, bool standby, struct soak_stats *st, unsigned int inflight);

/* Close the front-ends and SIGTERM both daemons; an unclean exit is an error. */
void soak_pair_stop(struct soak_pair *p, struct soak_stats *st);

#endif
