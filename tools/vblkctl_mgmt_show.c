// SPDX-License-Identifier: GPL-2.0-or-later
/* vblkctl: management replies (docs/mgmt-protocol.md) as text for a human. */
#include <inttypes.h>
#include <string.h>

#include "vblkctl_mgmt.h"

static uint64_t u64_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?";
}

static bool bool_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static void show_status(FILE *out, struct json_object *r)
{
	struct json_object *dev = member(r, "device"), *queues = member(r, "queues");

	fprintf(out, "transport   %s\n", str_of(r, "transport"));
	fprintf(out, "device      %s %s: %" PRIu64 " bytes, %" PRIu64 "-byte blocks, %s\n",
		str_of(dev, "type"), str_of(dev, "image"), u64_of(dev, "capacity_bytes"),
		u64_of(dev, "logical_block_size"),
		bool_of(dev, "read_only") ? "read-only" : "read-write");
	fprintf(out, "features    %s\n", str_of(r, "features"));
	fprintf(out, "front-end   %s (driver status 0x%02" PRIx64 ")\n",
		bool_of(r, "frontend_connected") ? "connected" : "not connected",
		u64_of(r, "driver_status"));
	fprintf(out, "suspended   %s%s\n", bool_of(r, "suspended") ? "yes" : "no",
		bool_of(r, "mgmt_suspended") ? " (by the management socket)" : "");
	for (size_t i = 0; queues && i < json_object_array_length(queues); i++) {
		struct json_object *q = json_object_array_get_idx(queues, i);

		fprintf(out,
			"queue %-5" PRIu64 " size %" PRIu64 ", %s, %s%s, avail index %" PRIu64 "\n",
			u64_of(q, "index"), u64_of(q, "size"),
			bool_of(q, "started") ? "started" : "stopped",
			bool_of(q, "enabled") ? "enabled" : "disabled",
			bool_of(q, "broken") ? ", broken (needs reset)" : "",
			u64_of(q, "avail_idx"));
	}
}

/* The upper bound (us) of the bucket the @pct-th percentile falls in; 0 without data. */
static uint64_t percentile(struct json_object *lat, uint64_t total, unsigned int pct)
{
	uint64_t seen = 0, want = (total * pct + 99) / 100;

	for (size_t b = 0; lat && total && b < json_object_array_length(lat); b++) {
		seen += json_object_get_uint64(json_object_array_get_idx(lat, b));
		if (seen >= want)
			return 2ull << b;
	}
	return 0;
}

static void show_stats(FILE *out, struct json_object *r, struct json_object *prev, double interval)
{
	struct json_object *queues = member(r, "queues");
	struct json_object *pq = prev ? member(prev, "queues") : NULL;

	fprintf(out, "%-5s %10s %6s %10s %10s %14s %14s %7s %8s %8s %8s%s\n", "queue", "requests",
		"inflt", "reads", "writes", "read_bytes", "write_bytes", "errors", "mean_us",
		"p50_us<", "p99_us<", prev ? "      req/s" : "");
	for (size_t i = 0; queues && i < json_object_array_length(queues); i++) {
		struct json_object *q = json_object_array_get_idx(queues, i);
		struct json_object *lat = member(q, "latency_log2_us");
		uint64_t n = u64_of(q, "requests");

		fprintf(out,
			"%-5" PRIu64 " %10" PRIu64 " %6" PRIu64 " %10" PRIu64 " %10" PRIu64
			" %14" PRIu64 " %14" PRIu64 " %7" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %8" PRIu64,
			u64_of(q, "index"), n, u64_of(q, "in_flight"), u64_of(q, "read"),
			u64_of(q, "write"), u64_of(q, "read_bytes"), u64_of(q, "write_bytes"),
			u64_of(q, "errors"), n ? u64_of(q, "latency_us_sum") / n : 0,
			percentile(lat, n, 50), percentile(lat, n, 99));
		if (pq && i < json_object_array_length(pq) && interval > 0)
			fprintf(out, " %10.0f",
				(double)(n - u64_of(json_object_array_get_idx(pq, i), "requests")) /
					interval);
		fputc('\n', out);
	}
}

void ctl_mgmt_show(FILE *out, const char *cmd, struct json_object *r, struct json_object *prev,
		   double interval)
{
	if (!strcmp(cmd, "status")) {
		show_status(out, r);
	} else if (!strcmp(cmd, "stats")) {
		show_stats(out, r, prev, interval);
	} else if (!strcmp(cmd, "resize")) {
		fprintf(out, "resized to %" PRIu64 " bytes; %s%s\n", u64_of(r, "capacity_bytes"),
			bool_of(r, "notified") ? "the driver was notified" :
						 "the driver was not notified: ",
			bool_of(r, "notified") ? "" : str_of(r, "notify_error"));
	} else if (!strcmp(cmd, "suspend")) {
		struct json_object *b = member(r, "bases");

		fprintf(out, "suspended (%s): rings stopped at", str_of(r, "mode"));
		for (size_t i = 0; b && i < json_object_array_length(b); i++)
			fprintf(out, " %" PRIu64,
				json_object_get_uint64(json_object_array_get_idx(b, i)));
		fputc('\n', out);
	} else if (!strcmp(cmd, "resume")) {
		fprintf(out, "resumed\n");
	} else {
		fprintf(out,
			"throttle: %" PRIu64 " IOPS, %" PRIu64 " B/s, burst %" PRIu64
			" ms (0: unlimited); %" PRIu64 " request(s) waited %" PRIu64 " us in all\n",
			u64_of(r, "iops"), u64_of(r, "bps"), u64_of(r, "burst_ms"),
			u64_of(r, "throttled"), u64_of(r, "throttled_us"));
	}
}
