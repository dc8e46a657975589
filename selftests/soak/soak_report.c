// SPDX-License-Identifier: GPL-2.0-or-later
/* The soak run's figures: a table for people, a JSON document for scripts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "soak.h"

/* One row per figure, in the table's and the JSON's order. */
#define SOAK_FIGURES(X)                                                \
	X("elapsed_ms", elapsed_ms)                                    \
	X("reads", reads)                                              \
	X("writes", writes)                                            \
	X("write_zeroes", zeroes)                                      \
	X("discards", discards)                                        \
	X("flushes", flushes)                                          \
	X("bytes_read", bytes_read)                                    \
	X("bytes_written", bytes_written)                              \
	X("blocks_checked_while_running", blocks_checked_online)       \
	X("mismatches_while_running", mismatches_online)               \
	X("blocks_verified_at_end", blocks_verified)                   \
	X("mismatches_at_end", mismatches_final)                       \
	X("ambiguous_blocks_at_end", ambiguous_blocks)                 \
	X("migrations", migrations)                                    \
	X("migrations_drain", migrations_drain)                        \
	X("migrations_capture", migrations_capture)                    \
	X("migrations_aborted", migrations_aborted)                    \
	X("captured_then_resumed_by_source", carried_back_after_abort) \
	X("requests_in_flight_at_migrations", inflight_at_migration)   \
	X("requests_carried_by_capture", carried_by_capture)           \
	X("downtime_us_max", downtime_us_max)                          \
	X("state_bytes_max", state_bytes_max)                          \
	X("kills_active", kills_active)                                \
	X("kills_standby", kills_standby)                              \
	X("reconnects", reconnects)                                    \
	X("requests_in_flight_at_kills", inflight_at_kill)             \
	X("io_errors", io_errors)                                      \
	X("duplicate_completions", dup_completions)                    \
	X("errors", errors)                                            \
	X("daemon_error_lines", daemon_errors)                         \
	X("daemon_warning_lines", daemon_warnings)                     \
	X("latency_us_max", latency_us_max)

static uint64_t soak_ios(const struct soak_stats *st)
{
	return st->reads + st->writes + st->zeroes + st->discards + st->flushes;
}

static uint64_t soak_mismatches(const struct soak_stats *st)
{
	return st->mismatches_online + st->mismatches_final;
}

void soak_report_table(FILE *f, const struct soak_cfg *cfg, const struct soak_stats *st)
{
	fprintf(f, "soak: %u s, depth %u, %u queue(s), %" PRIu64 " MiB image, seed %" PRIu64 "\n",
		cfg->duration_s, cfg->depth, cfg->num_queues, cfg->image_bytes >> 20, cfg->seed);
	fprintf(f, "  %-36s %20" PRIu64 "\n", "ios", soak_ios(st));
#define SOAK_ROW(name, field) fprintf(f, "  %-36s %20" PRIu64 "\n", name, st->field);
	SOAK_FIGURES(SOAK_ROW)
#undef SOAK_ROW
	fprintf(f, "  %-36s %20" PRIu64 "\n", "downtime_us_mean",
		st->migrations ? st->downtime_us_sum / st->migrations : 0);
	fprintf(f, "  %-36s %20" PRIu64 "\n", "mismatches", soak_mismatches(st));
}

int soak_report_json(const char *path, const struct soak_cfg *cfg, const struct soak_stats *st)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f,
		"{\n  \"duration_s\": %u,\n  \"depth\": %u,\n  \"num_queues\": %u,\n"
		"  \"image_bytes\": %" PRIu64 ",\n  \"io_delay_ms\": %u,\n"
		"  \"migrate_ms\": %u,\n  \"kill_ms\": %u,\n  \"abort_every\": %u,\n"
		"  \"seed\": %" PRIu64 ",\n",
		cfg->duration_s, cfg->depth, cfg->num_queues, cfg->image_bytes, cfg->io_delay_ms,
		cfg->migrate_ms, cfg->kill_ms, cfg->abort_every, cfg->seed);
	fprintf(f, "  \"ios\": %" PRIu64 ",\n", soak_ios(st));
#define SOAK_KEY(name, field) fprintf(f, "  \"%s\": %" PRIu64 ",\n", name, st->field);
	SOAK_FIGURES(SOAK_KEY)
#undef SOAK_KEY
	fprintf(f, "  \"downtime_us_mean\": %" PRIu64 ",\n",
		st->migrations ? st->downtime_us_sum / st->migrations : 0);
	fprintf(f, "  \"mismatches\": %" PRIu64 ",\n  \"passed\": %s\n}\n", soak_mismatches(st),
		!soak_mismatches(st) && !st->errors ? "true" : "false");
	if (fclose(f))
		return -errno;
	return 0;
}
