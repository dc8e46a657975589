// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Migration downtime, drain against capture (docs/performance.md).
 *
 * For each suspend mode, throttle and queue depth: a source and a destination
 * vblkd on one image, a front-end on the source with D writes in flight
 * (each with its own payload, held by the throttle), then the steps of
 * fe_blk_migrate(): suspend the source, save its state, load it into the
 * destination, adopt the rings, resume there. The downtime is from the start
 * of the suspend until the destination serves (its rings started). Then every
 * write must complete once and its payload be on the image.
 *
 * Capture is the front-end negotiating GET_VRING_BASE_INFLIGHT (protocol
 * feature 20): its GET_VRING_BASE leaves what waits on the throttle in
 * flight, the destination resubmits it. Drain is the same front-end without
 * that feature: GET_VRING_BASE waits for every request. Both use the
 * in-flight region (INFLIGHT_SHMFD), so that is the only difference.
 *
 * Prints one JSON object per run and one per case with the medians. Timings
 * never fail the run; a write lost, failed, completed twice or not on the
 * disk does (exit status 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frontend/fe_blk.h"
#include "frontend/fe_state.h"
#include "selftests/host/vd_proc.h"

#define WRITE_LEN 4096u
#define WRITE_SECTORS (WRITE_LEN / FE_BLK_SECTOR)
#define MAX_DEPTH 128u
#define MAX_LIST 16
#define STR_(x) #x
#define STR(x) STR_(x)
#define QUEUE_SIZE 256		/* three descriptors a write: 64 writes need 192 */
#define IMAGE_SIZE (4ull << 20)
#define POP_WAIT_MS 2000	/* for the source to take the writes off the ring */
#define SETTLE_US 20000		/* after the last completion, for a second one to show */

enum mode { MODE_DRAIN, MODE_CAPTURE };

static const char *const mode_name[] = { "drain", "capture" };

struct run {
	enum mode mode;
	unsigned int iops;
	unsigned int depth;
	unsigned int rep;
	uint64_t suspend_us;
	uint64_t save_us;
	uint64_t transfer_us;
	uint64_t load_us;
	uint64_t resume_us;
	uint64_t downtime_us;
	uint64_t bytes;
	unsigned int pending;		/* writes not completed when the suspend began */
	unsigned int done_on_source;	/* completed by the source, before or in the suspend */
	unsigned int done_on_dest;	/* completed by the destination */
	uint64_t last_done_us;	/* from resume until the last write completed */
};

struct cfg {
	unsigned int reps;
	unsigned int nmodes, niops, ndepths;
	enum mode modes[2];
	unsigned int iops[MAX_LIST];
	unsigned int depths[MAX_LIST];
	const char *output;
};

/* The control sockets of each run's daemons. */
static char tmpdir[64];

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The payload of write @i of run @seed: names both, so a misplaced block shows. */
static void pattern(void *buf, uint32_t seed, unsigned int i)
{
	uint32_t *p = buf;

	for (size_t k = 0; k < WRITE_LEN / 4; k++)
		p[k] = (seed * 0x9e3779b1u + i) * 2654435761u + (uint32_t)k;
}

static uint16_t used_idx(struct fe_blk *blk)
{
	struct fe_vq *vq = fe_blk_vq(blk, 0);

	return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
}

struct daemon;
static void daemon_stop(struct daemon *d);

/* The daemons of the current run, stopped by die() too. */
static struct daemon *live[2];

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("downtime: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	for (unsigned int i = 0; i < 2; i++)
		if (live[i])
			daemon_stop(live[i]);
	if (tmpdir[0])
		rmdir(tmpdir);
	exit(1);
}

struct daemon {
	struct vd_proc vd;
	char ctl[VD_PATH_MAX];
	char iops[16];
};

/* vblkd with one queue, a control socket, the throttle; on @image when given. */
static int daemon_start(struct daemon *d, const char *name, const struct run *r,
			const char *image)
{
	const char *extra[20] = {
		"--num-queues", "1", "--queue-size", STR(QUEUE_SIZE), "--throttle-iops", d->iops,
		"--suspend-mode", mode_name[r->mode], "--control-socket", d->ctl,
		"--image-id", "bench-disk",
	};
	unsigned int n = 12;

	snprintf(d->iops, sizeof(d->iops), "%u", r->iops);
	snprintf(d->ctl, sizeof(d->ctl), "%s/%s.ctl", tmpdir, name);
	if (image) {
		/* A second --image overrides vd_start()'s own: both on one disk. */
		extra[n++] = "--image";
		extra[n++] = image;
	}
	extra[n] = NULL;
	return vd_start(&d->vd, image ? 4096 : IMAGE_SIZE, extra);
}

static void daemon_stop(struct daemon *d)
{
	int status = 0;

	if (d->vd.pid > 0 && (vd_stop(&d->vd, 5000, &status) ||
			      !WIFEXITED(status) || WEXITSTATUS(status))) {
		fprintf(stderr, "downtime: warning: vblkd %s did not exit cleanly (status %#x)\n",
			d->ctl, status);
		vd_dump_log(&d->vd);
	}
	vd_cleanup(&d->vd);
	unlink(d->ctl);
	for (unsigned int i = 0; i < 2; i++)
		if (live[i] == d)
			live[i] = NULL;
}

/* Wait until the source took all @depth writes: each in flight or completed. */
static void wait_taken(struct fe_blk *blk, struct fe_blk_req **req, unsigned int depth,
		       uint16_t base)
{
	struct vb_inflight_queue *inf = fe_blk_inflight_queue(blk, 0);
	uint64_t end = now_us() + POP_WAIT_MS * 1000ull;

	if (!inf)
		die("no in-flight region");
	do {
		unsigned int n = (uint16_t)(used_idx(blk) - base);

		for (unsigned int i = 0; i < depth; i++)
			n += __atomic_load_n(&inf->desc[req[i]->head].inflight, __ATOMIC_ACQUIRE);
		if (n >= depth)
			return;
		usleep(100);
	} while (now_us() < end);
	fprintf(stderr, "downtime: warning: the source did not take all %u writes in %d ms\n",
		depth, POP_WAIT_MS);
}

/*
 * Every write completed once with OK, and its payload is on the image.
 * Return: when the last write was seen complete.
 */
static uint64_t verify(struct fe_blk *dst, struct fe_blk_req **req, const struct run *r,
		       uint16_t base, const char *image, uint32_t seed)
{
	uint8_t want[WRITE_LEN], got[WRITE_LEN];
	int timeout_ms = 30000 + (int)(r->depth * 2000ull / r->iops);
	const char *what = mode_name[r->mode];
	unsigned int used;
	uint64_t done_at;
	int fd, ret;

	for (unsigned int i = 0; i < r->depth; i++) {
		ret = fe_blk_wait(dst, req[i], timeout_ms);
		if (ret)
			die("%s %u IOPS depth %u: write %u never completed: %s", what, r->iops,
			    r->depth, i, strerror(-ret));
		if (req[i]->status != VIRTIO_BLK_S_OK)
			die("%s %u IOPS depth %u: write %u failed, status %u", what, r->iops,
			    r->depth, i, req[i]->status);
	}
	done_at = now_us();
	usleep(SETTLE_US);
	used = (uint16_t)(used_idx(dst) - base);
	if (used != r->depth)
		die("%s %u IOPS depth %u: %u used entries for %u writes", what, r->iops, r->depth,
		    used, r->depth);

	/* The image itself: reading through the throttled daemon would be slow. */
	fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", image, strerror(errno));
	for (unsigned int i = 0; i < r->depth; i++) {
		pattern(want, seed, i);
		if (pread(fd, got, WRITE_LEN, (off_t)i * WRITE_LEN) != WRITE_LEN)
			die("pread %s: %s", image, strerror(errno));
		if (memcmp(want, got, WRITE_LEN))
			die("%s %u IOPS depth %u: write %u is not on the disk", what, r->iops,
			    r->depth, i);
	}
	close(fd);
	return done_at;
}

static void one_run(struct run *r)
{
	struct fe_blk_opts opts = {
		.num_queues = 1,
		.queue_size = QUEUE_SIZE,
		.inflight = true,
		.capture = r->mode == MODE_CAPTURE,
	};
	struct fe_blk_req *req[MAX_DEPTH];
	struct fe_state_res save = { 0 }, load = { 0 };
	struct daemon src = { 0 }, dst = { 0 };
	struct fe_blk sblk, dblk;
	uint32_t seed = (uint32_t)(r->mode * 1000003u + r->iops * 131u + r->depth * 7u + r->rep);
	uint8_t buf[WRITE_LEN], *blob;
	uint64_t t0, t1, t2;
	uint16_t base;
	size_t len;
	int ret;

	ret = daemon_start(&src, "src", r, NULL);
	if (ret)
		die("start the source: %s", strerror(-ret));
	live[0] = &src;
	ret = daemon_start(&dst, "dst", r, src.vd.image);
	if (ret)
		die("start the destination: %s", strerror(-ret));
	live[1] = &dst;
	ret = fe_blk_open(&sblk, src.vd.sock, &opts);
	if (ret) {
		vd_dump_log(&src.vd);
		die("fe_blk_open(source): %s", strerror(-ret));
	}
	if (!(sblk.vu.protocol_features &
	      (1ull << VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT)) != !opts.capture)
		die("GET_VRING_BASE_INFLIGHT %s negotiated", opts.capture ? "not" : "was");
	/* The destination is ready before the switchover, as QEMU's incoming side. */
	ret = fe_blk_open_peer(&dblk, dst.vd.sock, &sblk);
	if (ret) {
		vd_dump_log(&dst.vd);
		die("fe_blk_open_peer(destination): %s", strerror(-ret));
	}

	base = used_idx(&sblk);
	for (unsigned int i = 0; i < r->depth; i++) {
		pattern(buf, seed, i);
		ret = fe_blk_submit_write(&sblk, 0, (uint64_t)i * WRITE_SECTORS, buf, WRITE_LEN,
					  &req[i]);
		if (ret)
			die("submit write %u: %s", i, strerror(-ret));
	}
	wait_taken(&sblk, req, r->depth, base);
	r->pending = r->depth - (uint16_t)(used_idx(&sblk) - base);

	/* fe_blk_migrate(), step by step, to count what the source completed. */
	t0 = now_us();
	ret = fe_blk_suspend(&sblk);
	r->suspend_us = now_us() - t0;
	if (ret)
		die("suspend: %s", strerror(-ret));
	r->done_on_source = (uint16_t)(used_idx(&sblk) - base);
	ret = fe_state_save_buf(&sblk.vu, &blob, &len, &save);
	r->save_us = save.total_us;
	if (ret)
		die("save: %s (set %u, check %llu)", strerror(-ret), save.set_err,
		    (unsigned long long)save.check);
	r->bytes = len;
	ret = fe_state_load_buf(&dblk.vu, blob, len, &load);
	r->load_us = load.total_us;
	r->transfer_us = save.pipe_us + load.pipe_us;
	free(blob);
	if (ret)
		die("load: %s (set %u, check %llu)", strerror(-ret), load.set_err,
		    (unsigned long long)load.check);
	fe_blk_adopt(&dblk, &sblk);
	t1 = now_us();
	ret = fe_blk_resume(&dblk);
	t2 = now_us();
	r->resume_us = t2 - t1;
	r->downtime_us = t2 - t0;
	if (ret)
		die("resume on the destination: %s", strerror(-ret));

	r->last_done_us = verify(&dblk, req, r, base, src.vd.image, seed) - t2;
	r->done_on_dest = r->depth - r->done_on_source;
	for (unsigned int i = 0; i < r->depth; i++)
		fe_blk_req_free(&dblk, req[i]);
	fe_blk_close(&dblk);
	fe_blk_close(&sblk);
	daemon_stop(&dst);
	daemon_stop(&src);
}

static void print_run(FILE *f, const struct run *r)
{
	fprintf(f, "{\"type\": \"run\", \"mode\": \"%s\", \"throttle_iops\": %u, \"depth\": %u, "
		"\"rep\": %u, \"downtime_us\": %llu, \"suspend_us\": %llu, \"save_us\": %llu, "
		"\"transfer_us\": %llu, \"load_us\": %llu, \"resume_us\": %llu, "
		"\"state_bytes\": %llu, \"pending_at_suspend\": %u, \"done_on_source\": %u, "
		"\"done_on_destination\": %u, \"last_write_after_resume_us\": %llu, "
		"\"verified\": true}",
		mode_name[r->mode], r->iops, r->depth, r->rep,
		(unsigned long long)r->downtime_us, (unsigned long long)r->suspend_us,
		(unsigned long long)r->save_us, (unsigned long long)r->transfer_us,
		(unsigned long long)r->load_us, (unsigned long long)r->resume_us,
		(unsigned long long)r->bytes, r->pending, r->done_on_source, r->done_on_dest,
		(unsigned long long)r->last_done_us);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of field @off over @n runs (the mean of the middle two for an even @n). */
static uint64_t median(const struct run *runs, unsigned int n, size_t off)
{
	uint64_t v[64];

	for (unsigned int i = 0; i < n; i++)
		v[i] = *(const uint64_t *)((const char *)&runs[i] + off);
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_median(FILE *f, const struct run *runs, unsigned int n)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (unsigned int i = 0; i < n; i++) {
		lo = runs[i].downtime_us < lo ? runs[i].downtime_us : lo;
		hi = runs[i].downtime_us > hi ? runs[i].downtime_us : hi;
	}
#define MED(field) (unsigned long long)median(runs, n, offsetof(struct run, field))
	fprintf(f, "{\"type\": \"median\", \"mode\": \"%s\", \"throttle_iops\": %u, "
		"\"depth\": %u, \"reps\": %u, \"downtime_us\": %llu, \"downtime_min_us\": %llu, "
		"\"downtime_max_us\": %llu, \"suspend_us\": %llu, \"save_us\": %llu, "
		"\"transfer_us\": %llu, \"load_us\": %llu, \"resume_us\": %llu, "
		"\"state_bytes\": %llu}",
		mode_name[runs[0].mode], runs[0].iops, runs[0].depth, n, MED(downtime_us),
		(unsigned long long)lo, (unsigned long long)hi, MED(suspend_us), MED(save_us),
		MED(transfer_us), MED(load_us), MED(resume_us), MED(bytes));
#undef MED
}

/* "100,1000" into @out; 0 or -1. */
static int parse_list(const char *s, unsigned int *out, unsigned int *n, unsigned int max_val)
{
	char *end;

	*n = 0;
	do {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || !v || v > max_val || *n == MAX_LIST)
			return -1;
		out[(*n)++] = (unsigned int)v;
		s = end + 1;
	} while (*end == ',');
	return *end ? -1 : 0;
}

static int parse_modes(const char *s, struct cfg *cfg)
{
	char copy[64], *tok, *save;

	snprintf(copy, sizeof(copy), "%s", s);
	cfg->nmodes = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cfg->nmodes == 2)
			return -1;
		if (!strcmp(tok, "drain"))
			cfg->modes[cfg->nmodes++] = MODE_DRAIN;
		else if (!strcmp(tok, "capture"))
			cfg->modes[cfg->nmodes++] = MODE_CAPTURE;
		else
			return -1;
	}
	return cfg->nmodes ? 0 : -1;
}

static void usage(FILE *f)
{
	fputs("usage: downtime [--reps N] [--modes drain,capture] [--iops 100,1000,10000]\n"
	      "                [--depths 1,16,64] [--vblkd PATH] [--output FILE]\n"
	      "Prints one JSON object per run and per case (medians); --output also\n"
	      "writes them as one JSON document. The daemon: --vblkd, else $VBLKD, else\n"
	      "../vblkd beside this program (the build dir).\n", f);
}

/* $VBLKD for vd_proc: --vblkd, the environment, or the build dir's vblkd. */
static void find_vblkd(const char *arg)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n;

	if (arg) {
		setenv("VBLKD", arg, 1);
	} else if (!vd_binary()) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			die("readlink /proc/self/exe: %s", strerror(errno));
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(path, sizeof(path), "%s/../vblkd", self);
		setenv("VBLKD", path, 1);
	}
	if (access(vd_binary(), X_OK))
		die("%s: %s", vd_binary(), strerror(errno));
}

static void write_doc(const struct cfg *cfg, const struct run *runs, unsigned int nruns)
{
	unsigned int per = cfg->reps;
	struct utsname u;
	FILE *f;

	f = fopen(cfg->output, "we");
	if (!f)
		die("%s: %s", cfg->output, strerror(errno));
	uname(&u);
	fprintf(f, "{\n\"bench\": \"downtime\",\n\"machine\": {\"cpus\": %ld, \"kernel\": \"%s\", "
		"\"arch\": \"%s\"},\n\"reps\": %u,\n\"write_bytes\": %u,\n\"runs\": [\n",
		sysconf(_SC_NPROCESSORS_ONLN), u.release, u.machine, cfg->reps, WRITE_LEN);
	for (unsigned int i = 0; i < nruns; i++) {
		print_run(f, &runs[i]);
		fputs(i + 1 < nruns ? ",\n" : "\n", f);
	}
	fputs("],\n\"medians\": [\n", f);
	for (unsigned int i = 0; i < nruns; i += per) {
		print_median(f, &runs[i], per);
		fputs(i + per < nruns ? ",\n" : "\n", f);
	}
	fputs("]\n}\n", f);
	if (fclose(f))
		die("%s: %s", cfg->output, strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "modes", required_argument, NULL, 'm' },
		{ "iops", required_argument, NULL, 'i' },
		{ "depths", required_argument, NULL, 'd' },
		{ "vblkd", required_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cfg cfg = {
		.reps = 5,
		.nmodes = 2, .modes = { MODE_DRAIN, MODE_CAPTURE },
		.niops = 3, .iops = { 100, 1000, 10000 },
		.ndepths = 3, .depths = { 1, 16, 64 },
	};
	const char *vblkd = NULL;
	struct run *runs;
	unsigned int nruns = 0, total;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cfg.reps = (unsigned int)strtoul(optarg, NULL, 10);
			if (!cfg.reps || cfg.reps > 64)
				die("--reps: 1-64");
			break;
		case 'm':
			if (parse_modes(optarg, &cfg))
				die("--modes: drain, capture or both");
			break;
		case 'i':
			if (parse_list(optarg, cfg.iops, &cfg.niops, 1000000))
				die("--iops: a list of 1-1000000");
			break;
		case 'd':
			if (parse_list(optarg, cfg.depths, &cfg.ndepths, MAX_DEPTH / 2))
				die("--depths: a list of 1-%u", MAX_DEPTH / 2);
			break;
		case 'v':
			vblkd = optarg;
			break;
		case 'o':
			cfg.output = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	find_vblkd(vblkd);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vblkd-bench-XXXXXX");
	if (!mkdtemp(tmpdir))
		die("mkdtemp: %s", strerror(errno));

	total = cfg.nmodes * cfg.niops * cfg.ndepths * cfg.reps;
	runs = calloc(total, sizeof(*runs));
	if (!runs)
		die("out of memory");
	for (unsigned int t = 0; t < cfg.niops; t++) {
		for (unsigned int d = 0; d < cfg.ndepths; d++) {
			for (unsigned int m = 0; m < cfg.nmodes; m++) {
				struct run *first = &runs[nruns];

				for (unsigned int k = 0; k < cfg.reps; k++) {
					struct run *r = &runs[nruns++];

					*r = (struct run){ .mode = cfg.modes[m], .iops = cfg.iops[t],
							   .depth = cfg.depths[d], .rep = k };
					one_run(r);
					print_run(stdout, r);
					putchar('\n');
					fflush(stdout);
				}
				print_median(stdout, first, cfg.reps);
				putchar('\n');
				fflush(stdout);
			}
		}
	}
	if (cfg.output)
		write_doc(&cfg, runs, nruns);
	rmdir(tmpdir);
	free(runs);
	return 0;
}
