// SPDX-License-Identifier: GPL-2.0-or-later
/* vblkctl: a transfer's progress on a terminal (vblkctl_progress.h). */
#include "vblkctl_progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CTL_PROGRESS_EVERY_MS 200

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ctl_progress_init(struct ctl_progress *p, const char *what, fe_state_sink_fn sink,
		       fe_state_source_fn source, void *opaque)
{
	const char *after = getenv("VBLKCTL_PROGRESS_AFTER_MS");

	*p = (struct ctl_progress){
		.what = what, .sink = sink, .source = source, .opaque = opaque, .after_ms = 1000
	};
	p->tty = isatty(STDERR_FILENO);
	if (after)
		p->after_ms = strtoull(after, NULL, 10);
	p->t0_ms = now_ms();
}

static void show(struct ctl_progress *p, uint64_t now)
{
	double s = (double)(now - p->t0_ms) / 1000.0;

	fprintf(stderr, "\rvblkctl: %s: %" PRIu64 " bytes in %.1f s, %.1f MiB/s\033[K", p->what,
		p->bytes, s, s > 0 ? (double)p->bytes / (1 << 20) / s : 0.0);
	p->shown = true;
	p->last_ms = now;
}

static void count(struct ctl_progress *p, size_t n)
{
	uint64_t now;

	p->bytes += n;
	if (!p->tty)
		return;
	now = now_ms();
	if (now - p->t0_ms >= p->after_ms && now - p->last_ms >= CTL_PROGRESS_EVERY_MS)
		show(p, now);
}

int ctl_progress_sink(void *opaque, const void *buf, size_t len)
{
	struct ctl_progress *p = opaque;
	int ret = p->sink(p->opaque, buf, len);

	if (!ret)
		count(p, len);
	return ret;
}

ssize_t ctl_progress_source(void *opaque, void *buf, size_t len)
{
	struct ctl_progress *p = opaque;
	ssize_t n = p->source(p->opaque, buf, len);

	if (n > 0)
		count(p, (size_t)n);
	return n;
}

void ctl_progress_end(struct ctl_progress *p)
{
	if (!p->shown)
		return;
	show(p, now_ms());
	fputc('\n', stderr);
}
