/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The soak run (docs/soak.md): one front-end doing random I/O with
 * self-describing payloads against two vblkd daemons on one image, migrated
 * back and forth and killed with SIGKILL while it runs, then every block
 * read back and compared with the front-end's model. Shared declarations.
 */
#ifndef VB_SOAK_H
#define VB_SOAK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SOAK_BLOCK 4096u /* the unit of the model and of every request */
#define SOAK_BLOCK_SECTORS (SOAK_BLOCK / 512u)
#define SOAK_MAX_BLOCKS_PER_REQ 16u /* 64 KiB */
#define SOAK_MAX_DEPTH 96u

struct soak_cfg {
	unsigned int duration_s;
	unsigned int depth; /* requests kept in flight */
	unsigned int num_queues;
	uint64_t image_bytes;
	unsigned int migrate_ms; /* between migrations */
	unsigned int kill_ms; /* between kills */
	unsigned int abort_every; /* every Nth migration aborted (0: none) */
	unsigned int io_delay_ms; /* vblkd --io-delay-ms: keeps requests in flight */
	uint64_t seed;
	const char *json; /* NULL: no JSON file */
	bool inject_stale; /* self-check: one stale block must be found */
};

struct soak_stats {
	uint64_t reads, writes, zeroes, discards, flushes;
	uint64_t bytes_read, bytes_written;
	uint64_t blocks_checked_online; /* read blocks compared while running */
	uint64_t mismatches_online;
	uint64_t blocks_verified; /* in the final read-back */
	uint64_t mismatches_final;
	uint64_t ambiguous_blocks; /* two contents allowed at the end */
	uint64_t migrations, migrations_drain, migrations_capture;
	uint64_t migrations_aborted; /* destination killed first, source resumed */
	uint64_t carried_back_after_abort; /* captured, then resumed by the source */
	uint64_t inflight_at_migration; /* requests on the rings at suspend, summed */
	uint64_t carried_by_capture; /* left in flight by capture suspends, summed */
	uint64_t downtime_us_sum, downtime_us_max;
	uint64_t state_bytes_max;
	uint64_t kills_active, kills_standby, reconnects;
	uint64_t inflight_at_kill; /* requests on the rings at SIGKILL, summed */
	uint64_t io_errors; /* completions with a status other than OK */
	uint64_t dup_completions; /* used entries for no request of ours */
	uint64_t errors; /* anything else that went wrong */
	uint64_t daemon_errors; /* error lines in the vblkd logs */
	uint64_t daemon_warnings; /* warning lines in the vblkd logs */
	uint64_t latency_us_max;
	uint64_t elapsed_ms;
};

/* xorshift64*: reproducible with --seed. */
static inline uint64_t soak_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

uint64_t soak_now_us(void);

/* An error of the run: counted, and printed to stderr. */
void soak_error(struct soak_stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void soak_report_table(FILE *f, const struct soak_cfg *cfg, const struct soak_stats *st);
int soak_report_json(const char *path, const struct soak_cfg *cfg, const struct soak_stats *st);

#endif
