// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * soak: random I/O with self-describing payloads against two vblkd daemons
 * on one image, migrated from one to the other every few seconds (drain and
 * capture in turn) and killed with SIGKILL now and then, for a bounded
 * time; then every block is read back and compared with the front-end's
 * model (docs/soak.md). Exit status 0 only when no block mismatched and
 * nothing went wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"
#include "soak_io.h"
#include "soak_pair.h"

#define SOAK_STUCK_US (30ull * 1000000) /* a request this old is lost */
#define SOAK_DRAIN_MS 30000
#define SOAK_KILL_STANDBY_EVERY 4 /* every 4th kill hits the standby */

uint64_t soak_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void soak_error(struct soak_stats *st, const char *fmt, ...)
{
	va_list ap;

	st->errors++;
	va_start(ap, fmt);
	fputs("soak: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* @base_ms with +-25% jitter, so events drift against each other. */
static uint64_t soak_next(uint64_t *rng, unsigned int base_ms)
{
	uint64_t us = (uint64_t)base_ms * 1000;

	return soak_now_us() + us * 3 / 4 + soak_rand(rng) % (us / 2 + 1);
}

/*
 * Is the next migration one to abort? About every cfg->abort_every-th, but
 * in the other suspend mode (the source's) than the last aborted one, so
 * both modes are aborted whatever the gap: an even one would always catch
 * the same mode, for the mode alternates with every migration that goes
 * through.
 */
static bool soak_abort_next(const struct soak_cfg *cfg, struct soak_pair *p, unsigned int *since,
			    int *last_mode)
{
	int mode = soak_pair_blk(p)->opts.capture;

	if (!cfg->abort_every || ++*since < cfg->abort_every || mode == *last_mode)
		return false;
	*last_mode = mode;
	*since = 0;
	return true;
}

/* The timed part: I/O, migrations and kills until the duration is over. */
static int soak_run(struct soak_pair *p, struct soak_io *io, const struct soak_cfg *cfg,
		    struct soak_stats *st)
{
	uint64_t end = soak_now_us() + (uint64_t)cfg->duration_s * 1000000;
	uint64_t rng = (cfg->seed ^ 0x5eed) | 1; /* xorshift never leaves 0 */
	uint64_t next_mig = soak_next(&rng, cfg->migrate_ms);
	uint64_t next_kill = soak_next(&rng, cfg->kill_ms);
	unsigned int since_abort = 0;
	int last_abort = -1;
	int ret;

	while (soak_now_us() < end) {
		ret = soak_io_fill(io, soak_pair_blk(p));
		if (!ret)
			ret = soak_io_reap(io, soak_pair_blk(p), 10);
		if (ret)
			return ret;
		if (soak_io_oldest_us(io) > SOAK_STUCK_US) {
			soak_error(st, "a request has been in flight for %llu s",
				   (unsigned long long)(SOAK_STUCK_US / 1000000));
			return -ETIMEDOUT;
		}
		if (cfg->migrate_ms && soak_now_us() >= next_mig) {
			bool abort = soak_abort_next(cfg, p, &since_abort, &last_abort);

			ret = soak_pair_migrate(p, st, io->outstanding, abort);
			if (ret)
				return ret;
			next_mig = soak_next(&rng, cfg->migrate_ms);
		}
		if (cfg->kill_ms && soak_now_us() >= next_kill) {
			uint64_t kills = st->kills_active + st->kills_standby;

			ret = soak_pair_kill(
				p, kills % SOAK_KILL_STANDBY_EVERY == SOAK_KILL_STANDBY_EVERY - 1,
				st, io->outstanding);
			if (ret)
				return ret;
			next_kill = soak_next(&rng, cfg->kill_ms);
		}
	}
	return 0;
}

/*
 * --inject-stale: behind vblkd's back, put the image's initial fill back
 * into one written block, as a lost write would leave it. The read-back
 * must find exactly that block.
 */
static int soak_inject_stale(struct soak_io *io, const char *image, struct soak_stats *st)
{
	static uint8_t buf[SOAK_BLOCK];
	struct soak_model *m = &io->model;
	uint64_t b = 0;
	int fd;

	while (b < m->nblocks && (m->gen[b] < SOAK_GEN_FIRST || m->alt[b] != SOAK_GEN_NONE))
		b++;
	if (b == m->nblocks) {
		soak_error(st, "--inject-stale: no written block");
		return -ENOENT;
	}
	soak_block_fill(buf, b, SOAK_GEN_INITIAL);
	fd = open(image, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, buf, SOAK_BLOCK, (off_t)(b * SOAK_BLOCK)) != SOAK_BLOCK) {
		soak_error(st, "--inject-stale: write %s: %s", image, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	printf("soak: injected a stale block at %" PRIu64 "\n", b);
	return 0;
}

static void soak_usage(FILE *f)
{
	fputs("usage: soak [--duration S] [--depth N] [--queues N] [--image-mib N]\n"
	      "            [--migrate-ms MS] [--kill-ms MS] [--abort-every N] [--io-delay-ms MS]\n"
	      "            [--seed N] [--json FILE] [--vblkd PATH] [--inject-stale]\n"
	      "Random I/O against two vblkd daemons with migrations and SIGKILLs,\n"
	      "then a read-back of every block (docs/soak.md). Defaults: 60 s, depth\n"
	      "32, 2 queues, 64 MiB, a migration every 3000 ms, a kill every 7000 ms,\n"
	      "every 5th migration aborted (its destination killed first), --io-delay-ms 1,\n"
	      "a seed from the clock. The daemon: --vblkd or $VBLKD. 0 for --migrate-ms,\n"
	      "--kill-ms or --abort-every turns that event off. --inject-stale\n"
	      "checks the checker: one block is made stale behind vblkd's back, and the\n"
	      "run passes only when the read-back finds that one mismatch.\n",
	      f);
}

static unsigned int soak_uint(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || v > max) {
		fprintf(stderr, "soak: %s: 0-%lu\n", opt, max);
		exit(2);
	}
	return (unsigned int)v;
}

static void soak_parse(int argc, char **argv, struct soak_cfg *cfg)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "depth", required_argument, NULL, 'D' },
		{ "queues", required_argument, NULL, 'q' },
		{ "image-mib", required_argument, NULL, 'i' },
		{ "migrate-ms", required_argument, NULL, 'm' },
		{ "kill-ms", required_argument, NULL, 'k' },
		{ "io-delay-ms", required_argument, NULL, 'y' },
		{ "abort-every", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' },
		{ "vblkd", required_argument, NULL, 'v' },
		{ "inject-stale", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cfg->duration_s = soak_uint("--duration", optarg, 7 * 86400);
			break;
		case 'D':
			cfg->depth = soak_uint("--depth", optarg, SOAK_MAX_DEPTH);
			break;
		case 'q':
			cfg->num_queues = soak_uint("--queues", optarg, FE_BLK_MAX_QUEUES);
			break;
		case 'i':
			cfg->image_bytes = (uint64_t)soak_uint("--image-mib", optarg, 4096) << 20;
			break;
		case 'm':
			cfg->migrate_ms = soak_uint("--migrate-ms", optarg, 3600000);
			break;
		case 'k':
			cfg->kill_ms = soak_uint("--kill-ms", optarg, 3600000);
			break;
		case 'a':
			cfg->abort_every = soak_uint("--abort-every", optarg, 1000000);
			break;
		case 'y':
			cfg->io_delay_ms = soak_uint("--io-delay-ms", optarg, 1000);
			break;
		case 's':
			cfg->seed = strtoull(optarg, NULL, 0);
			break;
		case 'j':
			cfg->json = optarg;
			break;
		case 'v':
			setenv("VBLKD", optarg, 1);
			break;
		case 'I':
			cfg->inject_stale = true;
			break;
		case 'h':
			soak_usage(stdout);
			exit(0);
		default:
			soak_usage(stderr);
			exit(2);
		}
	}
	if (!cfg->depth || !cfg->num_queues || !cfg->image_bytes ||
	    cfg->depth > 40 * cfg->num_queues) {
		fprintf(stderr, "soak: --depth 1-%u (40 per queue), --queues and --image-mib > 0\n",
			SOAK_MAX_DEPTH);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct soak_cfg cfg = {
		.duration_s = 60,
		.depth = 32,
		.num_queues = 2,
		.image_bytes = 64ull << 20,
		.migrate_ms = 3000,
		.kill_ms = 7000,
		.abort_every = 5,
		.io_delay_ms = 1,
	};
	struct soak_stats st = { 0 };
	struct soak_pair pair;
	struct soak_io io;
	uint64_t t0;
	bool ok;
	int ret;

	cfg.seed = soak_now_us() | 1;
	soak_parse(argc, argv, &cfg);
	if (!vd_binary()) {
		fputs("soak: no daemon: --vblkd PATH or $VBLKD\n", stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("soak: seed %" PRIu64 ", %u s\n", cfg.seed, cfg.duration_s);
	if (soak_io_init(&io, &cfg, &st)) {
		fputs("soak: out of memory\n", stderr);
		return 1;
	}
	t0 = soak_now_us();
	ret = soak_pair_start(&pair, &cfg);
	if (ret) {
		soak_error(&st, "start the daemons and the front-end: %s", strerror(-ret));
		vd_dump_log(&pair.vd[0]);
		vd_dump_log(&pair.vd[1]);
	} else {
		ret = soak_run(&pair, &io, &cfg, &st);
		/* Whatever happened, what the disk holds is checked as far as it can be. */
		if (soak_io_drain(&io, soak_pair_blk(&pair), SOAK_DRAIN_MS))
			soak_error(&st, "%u request(s) never completed", io.outstanding);
		else if (pair.open[pair.active] &&
			 (!cfg.inject_stale || !soak_inject_stale(&io, pair.vd[0].image, &st)))
			soak_io_verify_all(&io, soak_pair_blk(&pair));
	}
	st.elapsed_ms = (soak_now_us() - t0) / 1000;
	soak_pair_stop(&pair, &st);
	soak_io_fini(&io);

	soak_report_table(stdout, &cfg, &st);
	if (cfg.json && soak_report_json(cfg.json, &cfg, &st))
		soak_error(&st, "write %s", cfg.json);
	if (cfg.inject_stale) {
		/* The checker works when it finds the one stale block, and nothing else. */
		ok = st.mismatches_final == 1 && !st.mismatches_online && !st.errors;
		printf("soak: the injected stale block was %s\n", ok ? "found" : "NOT found alone");
	} else {
		ok = !st.mismatches_online && !st.mismatches_final && !st.errors;
	}
	if (!ok) {
		printf("soak: FAILED\n");
		return 1;
	}
	printf("soak: passed\n");
	return 0;
}
