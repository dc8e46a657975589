// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vblkctl: save, load and migrate vblkd device state over vhost-user
 * sockets; suspend and resume a VDUSE device through its control socket;
 * read and change a daemon's throttle.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "frontend/fe_ctl.h"
#include "frontend/fe_state.h"
#include "frontend/fe_vu.h"
#include "vblkctl.h"
#include "vblkctl_mgmt.h"
#include "vblkctl_progress.h"

static const char usage[] =
	"Usage: vblkctl [OPTIONS] state save --socket SOCKET [-o FILE|-] [--raw]\n"
	"       vblkctl [OPTIONS] state load --socket SOCKET [-i FILE|-] [--raw]\n"
	"       vblkctl [OPTIONS] migrate --from SOCKET1 --to SOCKET2\n"
	"       vblkctl [OPTIONS] suspend --socket SOCKET [--queues N] [--mode MODE]\n"
	"       vblkctl [OPTIONS] resume --socket SOCKET [--queues N]\n"
	"       vblkctl [OPTIONS] throttle --socket SOCKET [--iops N] [--bps N] [--burst-ms N]\n"
	"\n"
	"Move the device state of vblkd daemons (VHOST_USER_SET_DEVICE_STATE_FD and\n"
	"VHOST_USER_CHECK_DEVICE_STATE). SOCKET is a daemon's --control-socket, or its\n"
	"--vhost-user socket while no front-end holds it (vblkctl then is the\n"
	"front-end for the time of the command). A daemon accepts a transfer only while\n"
	"its device is suspended: no ring started, or every started ring stopped by\n"
	"GET_VRING_BASE; only the suspend command suspends anything.\n"
	"\n"
	"Commands:\n"
	"  state save        write the state of SOCKET's device to FILE (default -:\n"
	"                    standard output, which must not be a terminal); a FILE\n"
	"                    is replaced only when the save succeeded\n"
	"  state load        load the state read from FILE (default -: standard input)\n"
	"                    into SOCKET's device; the daemon checks it and refuses\n"
	"                    state of another disk (capacity or --image-id)\n"
	"  migrate           save from SOCKET1 and load into SOCKET2, through memory\n"
	"  suspend           stop rings 0 to N-1 of a VDUSE device through its\n"
	"                    --control-socket (GET_VRING_BASE) and print the index\n"
	"                    each stopped at; --mode says how requests in flight\n"
	"                    are handled\n"
	"  resume            restart rings stopped by suspend (SET_VRING_ENABLE 1)\n"
	"  throttle          print the throttle of SOCKET's daemon (--control-socket)\n"
	"                    and what it cost so far; with --iops, --bps or\n"
	"                    --burst-ms, set all three first (one not given is 0)\n"
	"\n"
	"Options:\n"
	"  -s, --socket SOCKET    the daemon of state save/load\n"
	"  -o, --output FILE      where state save writes (- for standard output)\n"
	"  -i, --input FILE       what state load reads (- for standard input)\n"
	"      --from SOCKET1     migrate: the source daemon\n"
	"      --to SOCKET2       migrate: the destination daemon\n"
	"  -q, --queues N         suspend/resume: rings 0 to N-1, 1-16 (default 1)\n"
	"  -m, --mode MODE        suspend: drain (complete every request first) or\n"
	"                         capture (cancel what has not reached the disk; a\n"
	"                         state save then carries it); default: the daemon's\n"
	"                         --suspend-mode\n"
	"      --iops N           throttle: requests per second (0: unlimited)\n"
	"      --bps N            throttle: bytes per second (0: unlimited)\n"
	"      --burst-ms N       throttle: burst, 0-60000 ms\n"
	"      --framed           the file holds the state as QEMU's migration stream\n"
	"                         frames it (the default): be32 length-prefixed chunks\n"
	"                         of at most 1 MiB, ended by a zero-length chunk\n"
	"      --raw              the file holds the bare state (docs/state-format.md)\n"
	"      --json             print the report as one JSON object on standard output\n"
	"                         (standard error when the state goes there): ok,\n"
	"                         command, state_bytes, save_us, load_us, transfer_us\n"
	"                         (time in the pipes), total_us, and on failure stage,\n"
	"                         error, errno, check/check_str or set_error/set_error_str;\n"
	"                         suspend adds bases (one index per ring) and mode;\n"
	"                         throttle adds iops, bps, burst_ms, throttled and\n"
	"                         throttled_us\n"
	"      --timeout-ms N     wait at most N ms for each reply and each stalled pipe\n"
	"                         (default 5000)\n"
	"  -h, --help             show this help and exit\n"
	"  -V, --version          show the version and exit\n"
	"\n"
	"Exit status: 0 success, 1 failure (the reason, with the daemon's state error\n"
	"when it gave one, goes to standard error), 2 bad command line.\n";

enum ctl_cmd { CTL_NONE, CTL_SAVE, CTL_LOAD, CTL_MIGRATE, CTL_SUSPEND, CTL_RESUME, CTL_THROTTLE };

struct ctl_opts {
	enum ctl_cmd cmd;
	const char *socket, *from, *to;
	const char *output, *input;
	bool framed;
	bool framing_given;
	bool json;
	int timeout_ms;
	unsigned int queues;
	bool queues_given;
	const char *mode;
	struct vu_throttle throttle;
	bool throttle_given;
};

static uint64_t ctl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int ctl_usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "vblkctl: %s%s%s\nTry 'vblkctl --help'.\n", msg, arg ? ": " : "",
		arg ? arg : "");
	return -EINVAL;
}

static int ctl_parse_cmd(struct ctl_opts *o, int n, char **words)
{
	if (n == 2 && !strcmp(words[0], "state") && !strcmp(words[1], "save"))
		o->cmd = CTL_SAVE;
	else if (n == 2 && !strcmp(words[0], "state") && !strcmp(words[1], "load"))
		o->cmd = CTL_LOAD;
	else if (n == 1 && !strcmp(words[0], "migrate"))
		o->cmd = CTL_MIGRATE;
	else if (n == 1 && !strcmp(words[0], "suspend"))
		o->cmd = CTL_SUSPEND;
	else if (n == 1 && !strcmp(words[0], "resume"))
		o->cmd = CTL_RESUME;
	else if (n == 1 && !strcmp(words[0], "throttle"))
		o->cmd = CTL_THROTTLE;
	else if (!n)
		return ctl_usage_error("no command given", NULL);
	else
		return ctl_usage_error("unknown command", words[0]);
	return 0;
}

/* Options each command takes; anything else is a usage error. */
static int ctl_check_opts(const struct ctl_opts *o)
{
	bool rings = o->cmd == CTL_SUSPEND || o->cmd == CTL_RESUME;
	bool sock = o->cmd == CTL_SAVE || o->cmd == CTL_LOAD || rings || o->cmd == CTL_THROTTLE;

	if (sock != !!o->socket)
		return ctl_usage_error(sock ? "--socket is required" :
				       "--socket belongs to state save/load, suspend, resume "
				       "and throttle",
				       NULL);
	if (o->queues_given && !rings)
		return ctl_usage_error("--queues belongs to suspend and resume", NULL);
	if (o->mode && o->cmd != CTL_SUSPEND)
		return ctl_usage_error("--mode belongs to suspend", NULL);
	if (o->throttle_given && o->cmd != CTL_THROTTLE)
		return ctl_usage_error("--iops, --bps and --burst-ms belong to throttle", NULL);
	if ((o->cmd == CTL_MIGRATE) != (o->from && o->to))
		return ctl_usage_error(o->cmd == CTL_MIGRATE ? "migrate needs --from and --to" :
				       "--from/--to belong to migrate", NULL);
	if (o->output && o->cmd != CTL_SAVE)
		return ctl_usage_error("--output belongs to state save", NULL);
	if (o->input && o->cmd != CTL_LOAD)
		return ctl_usage_error("--input belongs to state load", NULL);
	if (o->framing_given && (o->cmd == CTL_MIGRATE || rings))
		return ctl_usage_error("--framed and --raw belong to state save/load", NULL);
	if (o->cmd == CTL_SAVE && !strcmp(o->output, "-") && isatty(STDOUT_FILENO))
		return ctl_usage_error("refusing to write binary state to a terminal; use -o FILE",
				       NULL);
	return 0;
}

/* Return: 0, 1 after --help/--version, or -EINVAL (already explained). */
static int ctl_parse(struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "input", required_argument, NULL, 'i' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "framed", no_argument, NULL, 'f' },
		{ "raw", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "queues", required_argument, NULL, 'q' },
		{ "mode", required_argument, NULL, 'm' },
		{ "iops", required_argument, NULL, 'I' },
		{ "bps", required_argument, NULL, 'B' },
		{ "burst-ms", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	unsigned long v;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = FE_VU_TIMEOUT_MS;
	o->framed = true; /* files carry what QEMU's migration stream would */
	o->queues = 1;
	while ((c = getopt_long(argc, argv, "s:o:i:q:m:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'i':
			o->input = optarg;
			break;
		case 'F':
			o->from = optarg;
			break;
		case 'T':
			o->to = optarg;
			break;
		case 'f':
		case 'r':
			o->framed = c == 'f';
			o->framing_given = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || !v ||
			    v > INT_MAX)
				return ctl_usage_error("--timeout-ms expects 1 to 2147483647",
						       optarg);
			o->timeout_ms = (int)v;
			break;
		case 'q':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !v || v > CTL_MAX_QUEUES)
				return ctl_usage_error("--queues expects 1 to 16", optarg);
			o->queues = (unsigned int)v;
			o->queues_given = true;
			break;
		case 'm':
			if (strcmp(optarg, "drain") && strcmp(optarg, "capture"))
				return ctl_usage_error("--mode expects drain or capture", optarg);
			o->mode = optarg;
			break;
		case 'I':
		case 'B':
		case 'U':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    (c == 'U' && v > 60000))
				return ctl_usage_error(c == 'U' ? "--burst-ms expects 0 to 60000" :
						   "--iops and --bps expect a number (0: unlimited)",
						   optarg);
			if (c == 'I')
				o->throttle.iops = v;
			else if (c == 'B')
				o->throttle.bps = v;
			else
				o->throttle.burst_ms = v;
			o->throttle_given = true;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(ctl_mgmt_usage, stdout);
			return 1;
		case 'V':
			printf("vblkctl %s\n", VBLKD_VERSION);
			return 1;
		default:
			fprintf(stderr, "Try 'vblkctl --help'.\n");
			return -EINVAL;
		}
	}
	if (ctl_parse_cmd(o, argc - optind, argv + optind))
		return -EINVAL;
	if (!o->output)
		o->output = o->cmd == CTL_SAVE ? "-" : NULL;
	if (!o->input)
		o->input = o->cmd == CTL_LOAD ? "-" : NULL;
	return ctl_check_opts(o);
}

static int ctl_connect(struct fe_vu *vu, const char *path, const struct ctl_opts *o)
{
	int ret;

	ret = fe_vu_connect(vu, path, 0);
	if (ret)
		return ret;
	vu->timeout_ms = o->timeout_ms;
	return fe_state_negotiate(vu);
}

static int ctl_fail(struct ctl_result *r, int err, const char *stage, const char *where)
{
	r->err = err;
	r->stage = stage;
	r->where = where;
	return err;
}

/* The file end of save/load, remembering whether it was the one that failed. */
struct ctl_file {
	int fd;
	bool framed;
	struct fe_frame_reader reader;
	int err;		/* this side's own failure */
};

static int ctl_file_sink(void *opaque, const void *buf, size_t len)
{
	struct ctl_file *f = opaque;
	const uint8_t *p = buf;
	ssize_t n;

	if (f->framed) {
		f->err = fe_frame_write(f->fd, buf, len);
		return f->err;
	}
	while (len) {
		n = write(f->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			f->err = -errno;
			return f->err;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t ctl_file_source(void *opaque, void *buf, size_t len)
{
	struct ctl_file *f = opaque;
	ssize_t n;

	if (f->framed) {
		n = fe_frame_read(&f->reader, buf, len);
	} else {
		do {
			n = read(f->fd, buf, len);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			n = -errno;
	}
	if (n < 0)
		f->err = (int)n;
	return n;
}

/* Save into FILE through a temporary in its directory, renamed on success. */
static int ctl_save(const struct ctl_opts *o, struct ctl_result *r)
{
	struct ctl_file f = { .fd = STDOUT_FILENO, .framed = o->framed };
	bool to_file = strcmp(o->output, "-");
	struct ctl_progress p;
	char *tmp = NULL;
	struct fe_vu vu;
	int ret;

	r->command = "state save";
	r->from = o->socket;
	ret = ctl_connect(&vu, o->socket, o);
	if (ret) {
		ctl_fail(r, ret, "connect", o->socket);
		goto out_disconnect;
	}
	if (to_file) {
		if (asprintf(&tmp, "%s.XXXXXX", o->output) < 0) {
			tmp = NULL;
			ctl_fail(r, -ENOMEM, "output", o->output);
			goto out_disconnect;
		}
		f.fd = mkostemp(tmp, O_CLOEXEC);
		if (f.fd < 0) {
			ctl_fail(r, -errno, "output", o->output);
			goto out_free;
		}
	}
	ctl_progress_init(&p, "saving", ctl_file_sink, NULL, &f);
	ret = fe_state_save(&vu, ctl_progress_sink, &p, &r->save);
	ctl_progress_end(&p);
	r->saved = true;
	r->bytes = r->save.bytes;
	if (!ret && o->framed)
		ret = f.err = fe_frame_write_end(f.fd);
	if (!ret && to_file && fsync(f.fd))
		ret = f.err = -errno;
	if (to_file) {
		if (close(f.fd) && !ret)
			ret = f.err = -errno;
		if (!ret && rename(tmp, o->output))
			ret = f.err = -errno;
		if (ret)
			unlink(tmp);
	}
	if (ret)
		ctl_fail(r, ret, "save", f.err ? o->output : o->socket);
out_free:
	free(tmp);
out_disconnect:
	fe_vu_disconnect(&vu);
	return r->err;
}

static int ctl_load(const struct ctl_opts *o, struct ctl_result *r)
{
	struct ctl_file f = { .fd = STDIN_FILENO, .framed = o->framed };
	bool from_file = strcmp(o->input, "-");
	struct ctl_progress p;
	struct fe_vu vu;
	int ret;

	r->command = "state load";
	r->to = o->socket;
	if (from_file) {
		f.fd = open(o->input, O_RDONLY | O_CLOEXEC);
		if (f.fd < 0)
			return ctl_fail(r, -errno, "input", o->input);
	}
	fe_frame_reader_init(&f.reader, f.fd);
	ret = ctl_connect(&vu, o->socket, o);
	if (ret) {
		ctl_fail(r, ret, "connect", o->socket);
		goto out_close;
	}
	ctl_progress_init(&p, "loading", NULL, ctl_file_source, &f);
	ret = fe_state_load(&vu, ctl_progress_source, &p, &r->load);
	ctl_progress_end(&p);
	r->loaded = true;
	r->bytes = r->load.bytes;
	if (ret)
		ctl_fail(r, ret, "load", f.err ? o->input : o->socket);
out_close:
	fe_vu_disconnect(&vu);
	if (from_file)
		close(f.fd);
	return r->err;
}

static int ctl_migrate(const struct ctl_opts *o, struct ctl_result *r)
{
	struct fe_state_membuf m = { 0 };
	struct fe_state_cursor c;
	struct ctl_progress p;
	struct fe_vu src, dst;
	int ret;

	r->command = "migrate";
	r->from = o->from;
	r->to = o->to;
	/* Both ends first: a destination that cannot take the state is found early. */
	ret = ctl_connect(&src, o->from, o);
	if (ret) {
		ctl_fail(r, ret, "connect", o->from);
		goto out_src;
	}
	ret = ctl_connect(&dst, o->to, o);
	if (ret) {
		ctl_fail(r, ret, "connect", o->to);
		goto out_dst;
	}
	ctl_progress_init(&p, "saving", fe_state_membuf_sink, NULL, &m);
	ret = fe_state_save(&src, ctl_progress_sink, &p, &r->save);
	ctl_progress_end(&p);
	r->saved = true;
	r->bytes = m.len;
	if (ret) {
		ctl_fail(r, ret, "save", o->from);
		goto out_free;
	}
	c = (struct fe_state_cursor){ .p = m.buf, .left = m.len };
	ctl_progress_init(&p, "loading", NULL, fe_state_cursor_source, &c);
	ret = fe_state_load(&dst, ctl_progress_source, &p, &r->load);
	ctl_progress_end(&p);
	r->loaded = true;
	if (ret)
		ctl_fail(r, ret, "load", o->to);
out_free:
	free(m.buf);
out_dst:
	fe_vu_disconnect(&dst);
out_src:
	fe_vu_disconnect(&src);
	return r->err;
}

/* The compat endpoint: GET_VRING_BASE stops a ring, SET_VRING_ENABLE 1 restarts it. */
static int ctl_rings(const struct ctl_opts *o, struct ctl_result *r)
{
	bool stop = o->cmd == CTL_SUSPEND;
	struct fe_vu vu;
	int ret;

	r->command = stop ? "suspend" : "resume";
	r->to = o->socket;
	ret = fe_vu_connect(&vu, o->socket, 0);
	if (ret)
		return ctl_fail(r, ret, "connect", o->socket);
	vu.timeout_ms = o->timeout_ms;
	ret = fe_ctl_negotiate(&vu);
	r->mode = stop ? o->mode : NULL;
	if (!ret && stop && o->mode)
		ret = fe_ctl_set_suspend_mode(&vu, !strcmp(o->mode, "capture") ? VU_SUSPEND_CAPTURE :
										 VU_SUSPEND_DRAIN);
	if (!ret && stop) {
		ret = fe_ctl_stop_rings(&vu, o->queues, r->bases);
		r->nbases = ret ? 0 : o->queues;
	} else if (!ret) {
		ret = fe_ctl_start_rings(&vu, o->queues);
	}
	if (ret == -ECONNRESET)
		fprintf(stderr, "vblkctl: %s: the daemon refused; only the control socket of a "
				"vblkd --vduse stops and restarts rings\n", r->command);
	if (ret)
		ctl_fail(r, ret, r->command, o->socket);
	fe_vu_disconnect(&vu);
	return r->err;
}

/* vblkd's own VBLKD_THROTTLE on the control socket. */
static int ctl_throttle(const struct ctl_opts *o, struct ctl_result *r)
{
	struct vu_throttle set = o->throttle;
	struct fe_vu vu;
	int ret;

	r->command = "throttle";
	r->to = o->socket;
	ret = fe_vu_connect(&vu, o->socket, 0);
	if (ret)
		return ctl_fail(r, ret, "connect", o->socket);
	vu.timeout_ms = o->timeout_ms;
	set.flags = VU_THROTTLE_SET;
	ret = fe_ctl_throttle(&vu, o->throttle_given ? &set : NULL, &r->throttle);
	if (ret == -ECONNRESET)
		fprintf(stderr, "vblkctl: throttle: the daemon refused; its --control-socket "
				"serves throttle\n");
	if (ret)
		ctl_fail(r, ret, "throttle", o->socket);
	else
		r->throttled = true;
	fe_vu_disconnect(&vu);
	return r->err;
}

int main(int argc, char **argv)
{
	struct ctl_result r = { 0 };
	struct ctl_opts o;
	uint64_t t0;
	FILE *out;
	int ret;

	if (ctl_mgmt_wanted(argc, argv))
		return ctl_mgmt_main(argc, argv);
	ret = ctl_parse(&o, argc, argv);
	if (ret)
		return ret > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	/* A daemon that dies mid-transfer must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	t0 = ctl_now_us();
	switch (o.cmd) {
	case CTL_SAVE:
		ctl_save(&o, &r);
		break;
	case CTL_LOAD:
		ctl_load(&o, &r);
		break;
	case CTL_SUSPEND:
	case CTL_RESUME:
		ctl_rings(&o, &r);
		break;
	case CTL_THROTTLE:
		ctl_throttle(&o, &r);
		break;
	default:
		ctl_migrate(&o, &r);
		break;
	}
	r.total_us = ctl_now_us() - t0;
	out = o.cmd == CTL_SAVE && !strcmp(o.output, "-") ? stderr : stdout;
	ctl_report(out, o.json, &r);
	return r.err ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
