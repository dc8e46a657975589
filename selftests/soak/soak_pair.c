// SPDX-License-Identifier: GPL-2.0-or-later
/* The two vblkd daemons of a soak run, migrations between them, and kills. */
#include "soak_pair.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "frontend/fe_state.h"

#define SOAK_QUEUE_SIZE "128"
#define SOAK_MEM_SIZE (32ull << 20)
#define SOAK_STOP_MS 5000
#define SOAK_LOG_SHOWN 10 /* daemon error lines printed; all are counted */

static void soak_pair_args(struct soak_pair *p, unsigned int i)
{
	const char **a = p->args[i];
	unsigned int n = 0;

	a[n++] = "--num-queues";
	a[n++] = p->num_queues;
	a[n++] = "--queue-size";
	a[n++] = SOAK_QUEUE_SIZE;
	a[n++] = "--io-delay-ms";
	a[n++] = p->io_delay;
	a[n++] = "--image-id";
	a[n++] = "soak-disk";
	if (i == 1) {
		/* A second --image overrides vd_start()'s own: both on vd[0]'s disk. */
		a[n++] = "--image";
		a[n++] = p->vd[0].image;
	}
	a[n] = NULL;
}

/* Connect to the standby daemon as the next destination, suspending in @capture mode. */
static int soak_pair_open_standby(struct soak_pair *p, bool capture)
{
	unsigned int s = 1 - p->active;
	struct fe_blk *cur = &p->blk[p->active];
	struct fe_blk_opts keep = cur->opts;
	int ret;

	/* fe_blk_open_peer() negotiates as @cur did: the suspend mode is the peer's own. */
	cur->opts.capture = capture;
	ret = fe_blk_open_peer(&p->blk[s], p->vd[s].sock, cur);
	cur->opts = keep;
	p->open[s] = !ret;
	return ret;
}

int soak_pair_start(struct soak_pair *p, const struct soak_cfg *cfg)
{
	struct fe_blk_opts opts = {
		.num_queues = cfg->num_queues,
		.queue_size = 128,
		.mem_size = SOAK_MEM_SIZE,
		.inflight = true,
	};
	int ret;

	memset(p, 0, sizeof(*p));
	p->vd[0].pid = p->vd[1].pid = -1;
	snprintf(p->num_queues, sizeof(p->num_queues), "%u", cfg->num_queues);
	snprintf(p->io_delay, sizeof(p->io_delay), "%u", cfg->io_delay_ms);
	soak_pair_args(p, 0);
	ret = vd_start(&p->vd[0], cfg->image_bytes, p->args[0]);
	if (ret)
		return ret;
	soak_pair_args(p, 1);
	ret = vd_start(&p->vd[1], 4096, p->args[1]);
	if (ret)
		return ret;
	ret = fe_blk_open(&p->blk[0], p->vd[0].sock, &opts);
	if (ret)
		return ret;
	p->open[0] = true;
	return soak_pair_open_standby(p, true);
}

/* The migration failed before the destination took the rings: carry on at the source. */
static int soak_pair_recover(struct soak_pair *p, struct soak_stats *st)
{
	unsigned int s = 1 - p->active;
	bool capture = p->blk[s].opts.capture;
	int ret;

	ret = fe_blk_resume(&p->blk[p->active]);
	if (ret) {
		soak_error(st, "resume on the source after a failed migration: %s", strerror(-ret));
		return ret;
	}
	fe_blk_close(&p->blk[s]);
	p->open[s] = false;
	ret = soak_pair_open_standby(p, capture);
	if (ret)
		soak_error(st, "reconnect to the destination: %s", strerror(-ret));
	return ret;
}

/*
 * Requests the suspended source left marked in its in-flight region: those
 * a capture suspend carried in the state. A drain suspend leaves none.
 */
static unsigned int soak_pair_left_in_flight(struct fe_blk *blk)
{
	unsigned int n = 0;

	for (unsigned int q = 0; q < blk->inflight.num_queues; q++) {
		struct vb_inflight_queue *inf = fe_blk_inflight_queue(blk, q);

		for (unsigned int i = 0; inf && i < blk->inflight.queue_size; i++)
			n += __atomic_load_n(&inf->desc[i].inflight, __ATOMIC_ACQUIRE) == 1;
	}
	return n;
}

/*
 * The destination dies (SIGKILL) just before the switch-over: the source has
 * been suspended and saved, the load fails, and the source must carry on
 * with every request it held, captured ones included, as QEMU resumes it
 * after a failed migration. The destination is restarted for the next try.
 */
static int soak_pair_migrate_aborted(struct soak_pair *p, struct soak_stats *st)
{
	unsigned int a = p->active, s = 1 - a;
	bool capture = p->blk[s].opts.capture;
	struct fe_migrate_times t;
	int status, ret;

	ret = vd_kill(&p->vd[s], &status);
	if (ret) {
		soak_error(st, "kill the destination vblkd %u: %s", s, strerror(-ret));
		return ret;
	}
	ret = fe_blk_migrate(&p->blk[a], &p->blk[s], &t);
	if (!ret || p->blk[a].shared) {
		soak_error(st, "a migration to a killed vblkd went as far as the switch-over (%s)",
			   strerror(-ret));
		return -EPROTO;
	}
	st->migrations_aborted++;
	/* Captured requests stay the source's: it must run them on resume. */
	st->carried_back_after_abort += soak_pair_left_in_flight(&p->blk[a]);
	ret = fe_blk_resume(&p->blk[a]);
	if (ret) {
		soak_error(st, "resume the source vblkd %u after an aborted migration: %s", a,
			   strerror(-ret));
		vd_dump_log(&p->vd[a]);
		return ret;
	}
	fe_blk_close(&p->blk[s]);
	p->open[s] = false;
	ret = vd_restart(&p->vd[s], p->args[s]);
	if (!ret)
		ret = soak_pair_open_standby(p, capture);
	if (ret)
		soak_error(st, "restart the destination vblkd %u: %s", s, strerror(-ret));
	return 0; /* without a standby the next migration reports it */
}

int soak_pair_migrate(struct soak_pair *p, struct soak_stats *st, unsigned int inflight, bool abort)
{
	unsigned int a = p->active, s = 1 - a;
	struct fe_blk *src = &p->blk[a], *dst = &p->blk[s];
	bool capture = src->opts.capture;
	struct fe_migrate_times t;
	unsigned int carried;
	int ret;

	if (!p->open[s]) {
		soak_error(st, "no destination to migrate to");
		return -ENOTCONN;
	}
	if (abort)
		return soak_pair_migrate_aborted(p, st);
	ret = fe_blk_migrate(src, dst, &t);
	if (ret) {
		soak_error(
			st,
			"migration %u -> %u (%s): %s (save: set %u check %llu; load: set %u check %llu)",
			a, s, capture ? "capture" : "drain", strerror(-ret), t.save.set_err,
			(unsigned long long)t.save.check, t.load.set_err,
			(unsigned long long)t.load.check);
		vd_dump_log(&p->vd[a]);
		vd_dump_log(&p->vd[s]);
		if (!src->shared)
			return soak_pair_recover(p, st);
		return ret; /* the destination took the rings and failed to start them */
	}
	st->migrations++;
	if (capture)
		st->migrations_capture++;
	else
		st->migrations_drain++;
	st->inflight_at_migration += inflight;
	st->downtime_us_sum += t.total_us;
	if (t.total_us > st->downtime_us_max)
		st->downtime_us_max = t.total_us;
	if (t.bytes > st->state_bytes_max)
		st->state_bytes_max = t.bytes;
	carried = soak_pair_left_in_flight(src);
	st->carried_by_capture += carried;
	if (carried && !capture)
		soak_error(st, "a drain suspend of vblkd %u left %u request(s) in flight", a,
			   carried);

	/* The old source borrows now: drop it, it becomes the next destination. */
	fe_blk_close(src);
	p->open[a] = false;
	p->active = s;
	ret = soak_pair_open_standby(p, !capture);
	if (ret)
		soak_error(st, "reconnect to the old source %u: %s", a, strerror(-ret));
	return 0; /* without a standby the next migration reports it */
}

static int soak_pair_kill_one(struct soak_pair *p, unsigned int i, struct soak_stats *st)
{
	int status, ret;

	ret = vd_kill(&p->vd[i], &status);
	if (ret) {
		soak_error(st, "kill vblkd %u: %s", i, strerror(-ret));
		return ret;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		/* It had died before the kill: a crash of its own. */
		soak_error(st, "vblkd %u had exited before the kill (status %#x)", i, status);
		vd_dump_log(&p->vd[i]);
	}
	ret = vd_restart(&p->vd[i], p->args[i]);
	if (ret)
		soak_error(st, "restart vblkd %u: %s", i, strerror(-ret));
	return ret;
}

int soak_pair_kill(struct soak_pair *p, bool standby, struct soak_stats *st, unsigned int inflight)
{
	unsigned int i = standby ? 1 - p->active : p->active;
	bool capture = p->blk[i].opts.capture;
	int ret;

	if (standby && p->open[i]) {
		fe_blk_close(&p->blk[i]);
		p->open[i] = false;
	}
	ret = soak_pair_kill_one(p, i, st);
	if (ret)
		return ret;
	if (standby) {
		st->kills_standby++;
		ret = soak_pair_open_standby(p, capture);
		if (ret)
			soak_error(st, "connect to the restarted standby %u: %s", i,
				   strerror(-ret));
		return 0;
	}
	st->kills_active++;
	st->inflight_at_kill += inflight;
	ret = fe_blk_reconnect(&p->blk[i], p->vd[i].sock);
	if (ret) {
		soak_error(st, "reconnect to the restarted vblkd %u: %s", i, strerror(-ret));
		vd_dump_log(&p->vd[i]);
		return ret;
	}
	st->reconnects++;
	return 0;
}

/* Count the error and warning lines of a daemon's log (all its restarts), print a few. */
static void soak_pair_scan_log(const struct vd_proc *vd, unsigned int i, struct soak_stats *st)
{
	FILE *f = fopen(vd->log, "re");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, " warn: ")) {
			st->daemon_warnings++;
		} else if (strstr(line, " error: ")) {
			if (st->daemon_errors++ < SOAK_LOG_SHOWN)
				fprintf(stderr, "soak: vblkd %u logged: %s", i, line);
		}
	}
	fclose(f);
}

void soak_pair_stop(struct soak_pair *p, struct soak_stats *st)
{
	int status;

	/* The standby borrows the active's memory: close it first. */
	for (unsigned int k = 0; k < 2; k++) {
		unsigned int i = k ? p->active : 1 - p->active;

		if (p->open[i])
			fe_blk_close(&p->blk[i]);
		p->open[i] = false;
	}
	for (unsigned int i = 0; i < 2; i++) {
		if (p->vd[i].pid > 0 && (vd_stop(&p->vd[i], SOAK_STOP_MS, &status) ||
					 !WIFEXITED(status) || WEXITSTATUS(status))) {
			soak_error(st, "vblkd %u did not exit cleanly on SIGTERM (status %#x)", i,
				   status);
			vd_dump_log(&p->vd[i]);
		}
	}
	for (unsigned int i = 0; i < 2; i++)
		soak_pair_scan_log(&p->vd[i], i, st);
	vd_cleanup(&p->vd[1]);
	vd_cleanup(&p->vd[0]);
}
