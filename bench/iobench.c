// SPDX-License-Identifier: GPL-2.0-or-later
/* The I/O benchmark clients' command line, workload, samples and report. */
#include "iobench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LAT_CAP (4u << 20) /* samples per queue: 16 MiB */

static const char usage[] =
	"Usage: %s --socket PATH [OPTIONS]\n"
	"Drive a virtio-blk back-end and print one JSON line of figures.\n"
	"  --socket PATH      the back-end's vhost-user socket (iops_fe, iops_blkio)\n"
	"  --device PATH      the block device (vdbench); one of the two is required\n"
	"  --rw RW            randread, randwrite, randrw, read or write (default randread)\n"
	"  --read-pct N       share of reads in randrw, 0-100 (default 70)\n"
	"  --bs N             bytes per request, a multiple of 512 (default 4096)\n"
	"  --qd N             requests in flight per queue, 1-256 (default 1)\n"
	"  --queues N         queues, 1-16 (default 1)\n"
	"  --queue-size N     ring size to ask for (default: the client's own)\n"
	"  --runtime-ms N     measured time (default 2000)\n"
	"  --warmup-ms N      unmeasured time before it (default 200)\n"
	"  --pid PID          the back-end's pid, for its CPU time per I/O\n"
	"  --span BYTES       cover only the first BYTES of the disk\n"
	"  --idle-ms N        after the run, stay connected N ms doing nothing and\n"
	"                     report the back-end's CPU use then (--pid)\n"
	"  --no-event-idx     iops_fe only: leave VIRTIO_RING_F_EVENT_IDX out, so\n"
	"                     every request kicks and every completion calls\n";

static unsigned long num(const char *prog, const char *opt, const char *s, unsigned long min,
			 unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, "%s: %s: '%s' is not in %lu-%lu\n", prog, opt, s, min, max);
		exit(2);
	}
	return v;
}

void iob_parse(int argc, char **argv, const char *prog, struct iob_opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 's' },
		{ "rw", required_argument, NULL, 'r' },
		{ "read-pct", required_argument, NULL, 'm' },
		{ "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' },
		{ "queues", required_argument, NULL, 'n' },
		{ "queue-size", required_argument, NULL, 'z' },
		{ "runtime-ms", required_argument, NULL, 't' },
		{ "warmup-ms", required_argument, NULL, 'w' },
		{ "pid", required_argument, NULL, 'p' },
		{ "span", required_argument, NULL, 'S' },
		{ "no-event-idx", no_argument, NULL, 'E' },
		{ "idle-ms", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned int mix = 70;
	int c;

	*o = (struct iob_opts){ .rw = "randread",
				.bs = 4096,
				.qd = 1,
				.queues = 1,
				.runtime_ms = 2000,
				.warmup_ms = 200 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'r':
			o->rw = optarg;
			break;
		case 'm':
			mix = num(prog, "--read-pct", optarg, 0, 100);
			break;
		case 'b':
			o->bs = num(prog, "--bs", optarg, 512, 1 << 20);
			break;
		case 'q':
			o->qd = num(prog, "--qd", optarg, 1, 256);
			break;
		case 'n':
			o->queues = num(prog, "--queues", optarg, 1, 16);
			break;
		case 'z':
			o->queue_size = num(prog, "--queue-size", optarg, 1, 32768);
			break;
		case 't':
			o->runtime_ms = num(prog, "--runtime-ms", optarg, 1, 3600000);
			break;
		case 'w':
			o->warmup_ms = num(prog, "--warmup-ms", optarg, 0, 3600000);
			break;
		case 'p':
			o->pid = (pid_t)num(prog, "--pid", optarg, 1, 1u << 22);
			break;
		case 'S':
			o->span = num(prog, "--span", optarg, 1, ~0ul);
			break;
		case 'E':
			o->no_event_idx = true;
			break;
		case 'I':
			o->idle_ms = num(prog, "--idle-ms", optarg, 1, 3600000);
			break;
		case 'h':
			printf(usage, prog);
			exit(0);
		default:
			fprintf(stderr, usage, prog);
			exit(2);
		}
	}
	if (!o->socket || optind != argc || o->bs % 512) {
		fprintf(stderr, usage, prog);
		exit(2);
	}
	o->random = !strncmp(o->rw, "rand", 4);
	if (!strcmp(o->rw, "randread") || !strcmp(o->rw, "read"))
		o->read_pct = 100;
	else if (!strcmp(o->rw, "randwrite") || !strcmp(o->rw, "write"))
		o->read_pct = 0;
	else if (!strcmp(o->rw, "randrw"))
		o->read_pct = mix;
	else {
		fprintf(stderr, "%s: --rw: unknown workload '%s'\n", prog, o->rw);
		exit(2);
	}
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

void iob_queue_init(struct iob_queue *q, unsigned int index, const struct iob_opts *o)
{
	*q = (struct iob_queue){ .rng = 0x9e3779b97f4a7c15ull * (index + 1), .cap = LAT_CAP };
	(void)o;
	q->lat_ns = malloc(q->cap * sizeof(*q->lat_ns));
	if (!q->lat_ns) {
		perror("latency samples");
		exit(1);
	}
}

uint64_t iob_next(struct iob_queue *q, const struct iob_opts *o, uint64_t span, bool *is_read)
{
	uint64_t blocks, off;

	if (o->span && o->span < span)
		span = o->span;
	blocks = span / o->bs;
	if (!blocks)
		blocks = 1;
	if (o->random) {
		off = (xorshift(&q->rng) % blocks) * o->bs;
	} else {
		off = q->next_seq;
		q->next_seq = (q->next_seq + o->bs) % (blocks * o->bs);
	}
	*is_read = o->read_pct == 100 || (o->read_pct && xorshift(&q->rng) % 100 < o->read_pct);
	return off;
}

void iob_done(struct iob_queue *q, const struct iob_opts *o, uint64_t lat_ns, bool ok,
	      bool measuring)
{
	if (!measuring)
		return;
	if (!ok) {
		q->errors++;
		return;
	}
	q->ios++;
	q->bytes += o->bs;
	if (q->nlat < q->cap)
		q->lat_ns[q->nlat++] = lat_ns > UINT32_MAX ? UINT32_MAX : (uint32_t)lat_ns;
}

uint64_t iob_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void iob_sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void iob_cpu_window(pid_t pid, uint64_t from_ns, uint64_t to_ns, uint64_t *backend_us,
		    uint64_t *client_us)
{
	iob_sleep_until(from_ns);
	*backend_us = iob_cpu_us(pid);
	*client_us = iob_cpu_us(0);
	iob_sleep_until(to_ns);
	*backend_us = iob_cpu_us(pid) - *backend_us;
	*client_us = iob_cpu_us(0) - *client_us;
}

uint64_t iob_cpu_us(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields follow the last ')'. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (ut + st) * 1000000ull / (unsigned long long)sysconf(_SC_CLK_TCK);
}

static double idle_cpu_pct = -1;

void iob_idle(const struct iob_opts *o)
{
	uint64_t from = iob_now_ns(), cpu;

	if (!o->idle_ms || !o->pid)
		return;
	/* From a tick boundary of the back-end's clock: read once at start. */
	cpu = iob_cpu_us(o->pid);
	iob_sleep_until(from + o->idle_ms * 1000000ull);
	idle_cpu_pct = (double)(iob_cpu_us(o->pid) - cpu) / 10.0 / o->idle_ms;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void iob_report(const char *client, const struct iob_opts *o, struct iob_queue *qs,
		uint64_t elapsed_ns, uint64_t backend_cpu_us, uint64_t client_cpu_us)
{
	uint64_t ios = 0, bytes = 0, errors = 0;
	size_t n = 0, k = 0;
	uint32_t *all;
	double p50 = 0, p99 = 0, secs = elapsed_ns / 1e9;

	for (unsigned int i = 0; i < o->queues; i++) {
		ios += qs[i].ios;
		bytes += qs[i].bytes;
		errors += qs[i].errors;
		n += qs[i].nlat;
	}
	all = malloc((n ? n : 1) * sizeof(*all));
	if (all) {
		for (unsigned int i = 0; i < o->queues; i++) {
			memcpy(all + k, qs[i].lat_ns, qs[i].nlat * sizeof(*all));
			k += qs[i].nlat;
		}
		qsort(all, n, sizeof(*all), cmp_u32);
		if (n) {
			p50 = all[n / 2] / 1e3;
			p99 = all[(n * 99) / 100] / 1e3;
		}
		free(all);
	}
	printf("{\"client\": \"%s\", \"rw\": \"%s\", \"read_pct\": %u, \"bs\": %u, \"qd\": %u, "
	       "\"queues\": %u, \"seconds\": %.3f, \"ios\": %llu, \"errors\": %llu, "
	       "\"iops\": %.0f, \"mib_s\": %.1f, \"p50_us\": %.2f, \"p99_us\": %.2f, "
	       "\"backend_cpu_us_per_io\": %.3f, \"client_cpu_us_per_io\": %.3f",
	       client, o->rw, o->read_pct, o->bs, o->qd, o->queues, secs, (unsigned long long)ios,
	       (unsigned long long)errors, secs > 0 ? ios / secs : 0.0,
	       secs > 0 ? bytes / secs / 1048576.0 : 0.0, p50, p99,
	       ios && o->pid ? (double)backend_cpu_us / ios : 0.0,
	       ios ? (double)client_cpu_us / ios : 0.0);
	if (idle_cpu_pct >= 0)
		printf(", \"backend_idle_cpu_pct\": %.1f", idle_cpu_pct);
	printf("}\n");
	fflush(stdout);
}
