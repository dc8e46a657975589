// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vblkctl over a daemon's --mgmt-socket: one JSON request line out, one
 * reply line in, within --timeout-ms. --json prints the daemon's reply as
 * it came; without it, vblkctl_mgmt_show.c formats it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frontend/fe_vu.h"
#include "vblkctl.h"
#include "vblkctl_mgmt.h"

#define CTL_REPLY_MAX (1 << 20)

const char ctl_mgmt_usage[] =
	"\n"
	"Management socket commands (a daemon's --mgmt-socket, JSON lines):\n"
	"       vblkctl [OPTIONS] status --socket MGMT\n"
	"       vblkctl [OPTIONS] stats --socket MGMT [--watch [SEC]] [--count N]\n"
	"       vblkctl [OPTIONS] resize --socket MGMT --size N[K|M|G|T]\n"
	"       vblkctl [OPTIONS] suspend --mgmt-socket MGMT [--mode MODE]\n"
	"       vblkctl [OPTIONS] resume --mgmt-socket MGMT\n"
	"       vblkctl [OPTIONS] throttle --mgmt-socket MGMT [--iops N] [--bps N] [--burst-ms N]\n"
	"  status            transport, device, features, queues and ring states,\n"
	"                    front-end connected, suspended\n"
	"  stats             per-queue counters (requests, bytes, errors, in flight)\n"
	"                    and a log2 latency histogram; --watch refreshes every SEC\n"
	"                    seconds (default 1), --count stops after N refreshes\n"
	"  resize            serve N bytes from now on (a multiple of the block size)\n"
	"                    and raise a config-change interrupt; a regular image file\n"
	"                    grows to fit, a smaller size leaves the file as it is\n"
	"  suspend, resume,  as above, through the management socket, for either\n"
	"  throttle          transport (suspend stops every ring)\n"
	"  -s, --socket MGMT / --mgmt-socket MGMT   the daemon's --mgmt-socket\n"
	"  --json            print the daemon's reply: one JSON object per line\n"
	"Exit status of these commands: 0 success, 1 the daemon refused (the reason\n"
	"goes to standard error), 2 bad command line, 3 no answer from MGMT.\n";

struct mgmt_opts {
	const char *cmd;
	const char *socket;
	bool json;
	int timeout_ms;
	double watch; /* seconds; 0: once */
	unsigned long count;
	unsigned long long size;
	bool size_given;
	const char *mode;
	long long iops, bps, burst_ms; /* -1: not given */
};

bool ctl_mgmt_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ||
		    !strcmp(argv[i], "-V") || !strcmp(argv[i], "--version"))
			return false; /* vblkctl's own help, which lists these commands */
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--mgmt-socket", 13))
			return true;
		if (!strcmp(argv[i], "status") || !strcmp(argv[i], "stats") ||
		    !strcmp(argv[i], "resize"))
			return true;
	}
	return false;
}

/* N with an optional binary suffix: K, M, G, T. */
static int parse_size(const char *s, unsigned long long *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	if (*end) {
		u = strchr(units, *end);
		if (!u || !*u || end[1])
			return -EINVAL;
		for (long i = 0; i <= u - units; i++) {
			if (v > ULLONG_MAX / 1024)
				return -EINVAL;
			v *= 1024;
		}
	}
	*out = v;
	return 0;
}

static int parse_num(const char *s, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end || *out < 0 || *out > max ? -EINVAL : 0;
}

static int mgmt_parse(struct mgmt_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "mgmt-socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'm' },
		{ "iops", required_argument, NULL, 'I' },
		{ "bps", required_argument, NULL, 'B' },
		{ "burst-ms", required_argument, NULL, 'U' },
		{ 0 },
	};
	long long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = FE_VU_TIMEOUT_MS;
	o->iops = o->bps = o->burst_ms = -1;
	while ((c = getopt_long(argc, argv, "s:m:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			if (parse_num(optarg, INT_MAX, &v) || !v)
				return ctl_usage_error("--timeout-ms expects 1 to 2147483647",
						       optarg);
			o->timeout_ms = (int)v;
			break;
		case 'w':
			o->watch = 1;
			/* "--watch SEC" as well as "--watch=SEC" */
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (optarg && (parse_num(optarg, 3600, &v) || !v))
				return ctl_usage_error("--watch expects 1 to 3600 seconds", optarg);
			if (optarg)
				o->watch = (double)v;
			break;
		case 'n':
			if (parse_num(optarg, INT_MAX, &v) || !v)
				return ctl_usage_error("--count expects a positive number", optarg);
			o->count = (unsigned long)v;
			break;
		case 'S':
			if (parse_size(optarg, &o->size) || !o->size)
				return ctl_usage_error("--size expects N, NK, NM, NG or NT",
						       optarg);
			o->size_given = true;
			break;
		case 'm':
			if (strcmp(optarg, "drain") && strcmp(optarg, "capture"))
				return ctl_usage_error("--mode expects drain or capture", optarg);
			o->mode = optarg;
			break;
		case 'I':
		case 'B':
		case 'U':
			if (parse_num(optarg, c == 'U' ? 60000 : LLONG_MAX, &v))
				return ctl_usage_error(c == 'U' ?
							       "--burst-ms expects 0 to 60000" :
							       "--iops and --bps expect a number",
						       optarg);
			*(c == 'I' ? &o->iops : c == 'B' ? &o->bps : &o->burst_ms) = v;
			break;
		default:
			fprintf(stderr, "Try 'vblkctl --help'.\n");
			return -EINVAL;
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error(argc == optind ? "no command given" : "one command, please",
				       argc == optind ? NULL : argv[optind + 1]);
	o->cmd = argv[optind];
	if (strcmp(o->cmd, "status") && strcmp(o->cmd, "stats") && strcmp(o->cmd, "resize") &&
	    strcmp(o->cmd, "suspend") && strcmp(o->cmd, "resume") && strcmp(o->cmd, "throttle"))
		return ctl_usage_error("not a management command", o->cmd);
	if (!o->socket)
		return ctl_usage_error("--socket (the daemon's --mgmt-socket) is required", NULL);
	if (o->count && !o->watch)
		o->watch = 1;
	if (o->watch && strcmp(o->cmd, "stats"))
		return ctl_usage_error("--watch and --count belong to stats", NULL);
	if (o->size_given != !strcmp(o->cmd, "resize"))
		return ctl_usage_error(
			o->size_given ? "--size belongs to resize" : "resize needs --size", NULL);
	if (o->mode && strcmp(o->cmd, "suspend"))
		return ctl_usage_error("--mode belongs to suspend", NULL);
	if ((o->iops >= 0 || o->bps >= 0 || o->burst_ms >= 0) && strcmp(o->cmd, "throttle"))
		return ctl_usage_error("--iops, --bps and --burst-ms belong to throttle", NULL);
	return 0;
}

static struct json_object *mgmt_request(const struct mgmt_opts *o)
{
	struct json_object *req = json_object_new_object();
	bool thr = o->iops >= 0 || o->bps >= 0 || o->burst_ms >= 0;

	if (!req)
		return NULL;
	json_object_object_add(req, "cmd", json_object_new_string(o->cmd));
	if (o->size_given)
		json_object_object_add(req, "size", json_object_new_uint64(o->size));
	if (o->mode)
		json_object_object_add(req, "mode", json_object_new_string(o->mode));
	/* As the control socket's throttle: one limit not given is 0. */
	if (thr) {
		json_object_object_add(req, "iops",
				       json_object_new_int64(o->iops > 0 ? o->iops : 0));
		json_object_object_add(req, "bps", json_object_new_int64(o->bps > 0 ? o->bps : 0));
		json_object_object_add(req, "burst_ms",
				       json_object_new_int64(o->burst_ms > 0 ? o->burst_ms : 0));
	}
	return req;
}

static int mgmt_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* Send @line and read one reply line into *@reply (malloc'd, NUL-terminated). */
static int mgmt_exchange(int fd, const char *line, int timeout_ms, char **reply)
{
	size_t len = strlen(line), off = 0, cap = 4096;
	char *buf;
	ssize_t n;

	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (off = 0;;) {
		int ret = fe_wait_fd(fd, POLLIN, timeout_ms);

		if (ret) {
			free(buf);
			return ret;
		}
		if (off + 1 == cap) {
			char *p = cap < CTL_REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (!p) {
				free(buf);
				return -EMSGSIZE;
			}
			buf = p;
			cap *= 2;
		}
		n = recv(fd, buf + off, cap - 1 - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n ? -errno : -ECONNRESET;
		}
		off += (size_t)n;
		buf[off] = '\0';
		if (memchr(buf, '\n', off)) {
			*reply = buf;
			return 0;
		}
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request and its answer; the reply object in *@out. Return: an exit status. */
static int mgmt_once(int fd, const struct mgmt_opts *o, const char *line, struct json_object **out)
{
	struct json_object *reply, *ok, *err;
	char *text = NULL;
	int ret = mgmt_exchange(fd, line, o->timeout_ms, &text);

	*out = NULL;
	if (ret) {
		fprintf(stderr, "vblkctl: %s: %s: %s\n", o->cmd, o->socket,
			ret == -ETIMEDOUT ? "no answer in time" : strerror(-ret));
		return CTL_EXIT_NOANSWER;
	}
	reply = json_tokener_parse(text);
	if (!reply || !json_object_object_get_ex(reply, "ok", &ok)) {
		fprintf(stderr, "vblkctl: %s: %s: not a management reply\n", o->cmd, o->socket);
		json_object_put(reply);
		free(text);
		return CTL_EXIT_NOANSWER;
	}
	if (o->json)
		fputs(text, stdout);
	free(text);
	*out = reply;
	if (json_object_get_boolean(ok))
		return CTL_EXIT_OK;
	json_object_object_get_ex(reply, "error", &err);
	fprintf(stderr, "vblkctl: %s: %s: %s\n", o->cmd, o->socket,
		err ? json_object_get_string(err) : "refused");
	return CTL_EXIT_FAIL;
}

int ctl_mgmt_main(int argc, char **argv)
{
	struct json_object *req, *reply = NULL, *prev = NULL;
	double t_prev = 0, t;
	struct mgmt_opts o;
	const char *line;
	char *msg = NULL;
	int fd, ret;

	if (mgmt_parse(&o, argc, argv))
		return CTL_EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	req = mgmt_request(&o);
	if (!req || asprintf(&msg, "%s\n",
			     json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN)) < 0) {
		json_object_put(req);
		return CTL_EXIT_FAIL;
	}
	json_object_put(req);
	line = msg;
	/* A connection per refresh: a --watch slower than the daemon's idle timeout works. */
	for (unsigned long n = 1;; n++) {
		fd = mgmt_connect(o.socket);
		if (fd < 0) {
			fprintf(stderr, "vblkctl: %s: %s: %s\n", o.cmd, o.socket, strerror(-fd));
			ret = CTL_EXIT_NOANSWER;
			break;
		}
		ret = mgmt_once(fd, &o, line, &reply);
		close(fd);
		t = now_s();
		if (ret == CTL_EXIT_OK && !o.json) {
			if (o.watch && isatty(STDOUT_FILENO))
				fputs("\033[H\033[J", stdout); /* a fresh screen each time */
			ctl_mgmt_show(stdout, o.cmd, reply, prev, t - t_prev);
		}
		fflush(stdout);
		json_object_put(prev);
		prev = reply;
		t_prev = t;
		if (ret || !o.watch || (o.count && n >= o.count))
			break;
		usleep((useconds_t)(o.watch * 1e6));
	}
	json_object_put(prev);
	free(msg);
	return ret;
}
