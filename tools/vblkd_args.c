// SPDX-License-Identifier: GPL-2.0-or-later
/* Command line of the daemon. Every rejection says which option and why. */
#include "vblkd_args.h"
#include "vblkd_listen_fds.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "proto/vduse_abi.h"

static const char usage[] =
	"Usage: vblkd --vhost-user SOCKET --image FILE [OPTIONS]\n"
	"       vblkd --vhost-user-fd N --image FILE [OPTIONS]\n"
	"       vblkd --vduse NAME --image FILE [OPTIONS]\n"
	"\n"
	"Serve FILE (a regular file or a block device) as a virtio-blk device to\n"
	"a vhost-user front-end such as QEMU's vhost-user-blk-pci, on the UNIX\n"
	"socket SOCKET (mode 0600 by default; one front-end at a time), or as\n"
	"the kernel's VDUSE device NAME on the vdpa bus (virtio_vdpa makes it a\n"
	"/dev/vdX, vhost_vdpa a /dev/vhost-vdpa-N for a VMM).\n"
	"\n"
	"Options:\n"
	"  --vhost-user SOCKET        listen on SOCKET\n"
	"  --vhost-user-fd N          serve the front-end on fd N, an already\n"
	"                             listening UNIX stream socket, left in place\n"
	"                             at exit; under systemd socket activation\n"
	"                             (LISTEN_FDS), the socket named \"vhost-user\"\n"
	"  --vduse NAME               create /dev/vduse/NAME (or re-attach to it when\n"
	"                             a previous vblkd left it) and add it to the\n"
	"                             vdpa bus; SIGTERM removes it\n"
	"  --no-vdpa-add              with --vduse: leave adding the device to the\n"
	"                             operator (vdpa dev add mgmtdev vduse name NAME)\n"
	"  --state-dir DIR            with --vduse: keep the in-flight file in\n"
	"                             DIR/NAME.inflight, so a vblkd restarted after a\n"
	"                             crash resubmits the requests in flight\n"
	"  --image FILE               disk image (required); not locked, so a\n"
	"                             migration destination can open it too. Also:\n"
	"                               null:SIZE  reads zeroes, drops writes\n"
	"                                          (SIZE with K, M, G or T)\n"
	"                               nbd://HOST[:PORT]/EXPORT\n"
	"                               nbd+unix:///EXPORT?socket=PATH\n"
	"                               rbd:POOL/IMAGE[@SNAP][:conf=PATH][:id=USER]\n"
	"                             (docs/storage.md)\n"
	"  --image-id ID              identity of the disk, up to 256 bytes; a\n"
	"                             device state saved for another identity is\n"
	"                             refused (default: empty for a file; the URI\n"
	"                             without its query for NBD; rbd:POOL/IMAGE)\n"
	"  --rbd-break-lock           with rbd: at open, blocklist and break an\n"
	"                             exclusive lock a dead client left (no ~30 s\n"
	"                             stall after kill -9); only when no other\n"
	"                             live vblkd writes the image\n"
	"  --control-socket PATH      also listen on PATH (as SOCKET) for device-state\n"
	"                             transfers (SET_DEVICE_STATE_FD,\n"
	"                             CHECK_DEVICE_STATE) while a front-end holds\n"
	"                             SOCKET; vblkctl talks to it. With --vduse it\n"
	"                             also stops a ring (GET_VRING_BASE) and\n"
	"                             restarts it (SET_VRING_ENABLE 1)\n"
	"  --control-socket-fd N      the control socket is fd N, an already\n"
	"                             listening UNIX stream socket; under socket\n"
	"                             activation, the one named \"control\"\n"
	"  --mgmt-socket PATH         also listen on PATH (as SOCKET) for management\n"
	"                             requests in JSON lines: status, stats,\n"
	"                             suspend, resume, throttle, resize (vblkctl)\n"
	"  --num-queues N             virtqueues, 1-%d (default 1)\n"
	"  --queue-size N             largest ring size accepted, a power of two,\n"
	"                             1-1024 (default 1024: every size QEMU and\n"
	"                             libblkio ask for); lower it to cap the memory\n"
	"                             a front-end can make a ring take\n"
	"  --read-only                refuse writes (VIRTIO_BLK_F_RO)\n"
	"  --serial S                 serial returned by GET_ID, up to 20 bytes\n"
	"                             (default \"vblkd\")\n"
	"  --logical-block-size N     512-65536, a power of two (default 512)\n"
	"  --direct                   open FILE with O_DIRECT (bypass the host cache)\n"
	"  --io-delay-ms N            hold every request N ms before its I/O starts\n"
	"                             (0-60000, default 0): emulates a slow disk\n"
	"                             for tests of restart and migration\n"
	"  --throttle-iops N          at most N requests per second over all queues\n"
	"                             (default 0: unlimited)\n"
	"  --throttle-bps N           at most N bytes per second over all queues\n"
	"                             (default 0: unlimited)\n"
	"  --throttle-burst-ms N      how far ahead of the rates a burst may run,\n"
	"                             0-60000 ms (default 0); vblkctl throttle\n"
	"                             changes all three while vblkd runs\n"
	"  --suspend-mode MODE        how a suspend stops rings with requests in\n"
	"                             flight: drain (wait for each, the default) or\n"
	"                             capture (cancel what has not reached the disk,\n"
	"                             carry it in the state for the destination).\n"
	"                             Applies to VDUSE_SUSPEND and to the control\n"
	"                             socket's GET_VRING_BASE; vblkctl suspend --mode\n"
	"                             and vhost-user's GET_VRING_BASE_INFLIGHT\n"
	"                             (protocol feature 20) choose per suspend\n"
	"  --poll-us auto|N           adaptive polling: after a round of work a ring's\n"
	"                             worker busy-polls the ring and its I/O before it\n"
	"                             sleeps on the kick, for as long as recent waits\n"
	"                             took, at most N microseconds (0-1000000; 0: never\n"
	"                             poll; default auto, a cap of 64). An idle ring\n"
	"                             stops polling after its first long wait\n"
	"  --message-timeout SEC      drop a peer, on either socket, that sent part\n"
	"                             of a message and nothing more, or left its\n"
	"                             replies unread, for SEC seconds (1-3600,\n"
	"                             default 5)\n"
	"  --control-idle-timeout SEC drop a control client that sent nothing for\n"
	"                             SEC seconds, unless a transfer it started is\n"
	"                             in progress (0-86400, default 60; 0: never).\n"
	"                             Up to 32 control clients are served at once\n"
	"  --log-level LEVEL          error, warn, info or debug (default info)\n"
	"  --allow-uid UID[,UID...]   serve only peers of these uids on every socket\n"
	"                             (SO_PEERCRED); others are closed and logged\n"
	"  --socket-mode MODE         octal mode of the sockets vblkd creates\n"
	"                             (default 0600)\n"
	"  --socket-group GROUP       group (name or gid) of those sockets; give\n"
	"                             it access with --socket-mode 0660\n"
	"  --no-seccomp               do not install the system-call allow-list\n"
	"                             that confines vblkd once it is set up (a call\n"
	"                             outside it kills vblkd with SIGSYS); all\n"
	"                             capabilities but CAP_NET_ADMIN (VDUSE) are\n"
	"                             dropped either way. See docs/security.md\n"
	"  -h, --help                 show this help and exit\n"
	"  -V, --version              show the version and exit\n"
	"\n"
	"SIGTERM or SIGINT stops the rings, flushes the image, removes SOCKET (or\n"
	"the VDUSE device) and exits 0.\n";

/* Long options without a short letter: past every char. */
enum {
	OPT_CONTROL_IDLE_TIMEOUT = 256,
	OPT_ALLOW_UID,
	OPT_SOCKET_MODE,
	OPT_SOCKET_GROUP,
	OPT_NO_SECCOMP,
	OPT_MGMT_SOCKET,
};

static int parse_uint(const char *opt, const char *s, unsigned long min, unsigned long max,
		      bool pow2, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max ||
	    (pow2 && (v & (v - 1)))) {
		fprintf(stderr, "vblkd: --%s %s: expected %s%lu-%lu\n", opt, s,
			pow2 ? "a power of two in " : "", min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int vblkd_args_parse(struct vblkd_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vhost-user", required_argument, NULL, 's' },
		{ "vduse", required_argument, NULL, 'U' },
		{ "no-vdpa-add", no_argument, NULL, 'N' },
		{ "state-dir", required_argument, NULL, 'T' },
		{ "image", required_argument, NULL, 'i' },
		{ "image-id", required_argument, NULL, 'I' },
		{ "control-socket", required_argument, NULL, 'c' },
		{ "vhost-user-fd", required_argument, NULL, 'F' },
		{ "control-socket-fd", required_argument, NULL, 'C' },
		{ "mgmt-socket", required_argument, NULL, OPT_MGMT_SOCKET },
		{ "num-queues", required_argument, NULL, 'q' },
		{ "queue-size", required_argument, NULL, 'z' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "serial", required_argument, NULL, 'S' },
		{ "logical-block-size", required_argument, NULL, 'b' },
		{ "direct", no_argument, NULL, 'd' },
		{ "rbd-break-lock", no_argument, NULL, 'L' },
		{ "io-delay-ms", required_argument, NULL, 'D' },
		{ "throttle-iops", required_argument, NULL, 'O' },
		{ "throttle-bps", required_argument, NULL, 'B' },
		{ "throttle-burst-ms", required_argument, NULL, 'u' },
		{ "suspend-mode", required_argument, NULL, 'm' },
		{ "poll-us", required_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "message-timeout", required_argument, NULL, 'M' },
		{ "control-idle-timeout", required_argument, NULL, OPT_CONTROL_IDLE_TIMEOUT },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
		{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
		{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
		{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	unsigned long v;
	int c;

	memset(a, 0, sizeof(*a));
	a->blk.num_queues = 1;
	a->blk.queue_size = VB_VQ_MAX_SIZE;
	a->blk.logical_block_size = 512;
	strcpy(a->blk.serial, "vblkd");
	a->log_level = VB_LOG_INFO;
	a->vhost_user_fd = -1;
	a->control_socket_fd = -1;
	a->message_timeout_s = 5;
	a->poll_us = VB_POLL_AUTO_US;
	a->control_idle_timeout_s = 60;
	a->sock = vb_sock_policy;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->vhost_user = optarg;
			break;
		case 'U':
			if (!*optarg || strlen(optarg) >= VDUSE_NAME_MAX || strchr(optarg, '/')) {
				fprintf(stderr, "vblkd: --vduse %s: a name of 1-%d bytes without '/'\n",
					optarg, VDUSE_NAME_MAX - 1);
				return -EINVAL;
			}
			a->vduse = optarg;
			break;
		case 'N':
			a->no_vdpa_add = true;
			break;
		case 'T':
			a->state_dir = optarg;
			break;
		case 'i':
			a->blk.image = optarg;
			break;
		case 'I':
			if (strlen(optarg) > BLK_IMAGE_ID_MAX) {
				fprintf(stderr, "vblkd: --image-id: at most %d bytes\n",
					BLK_IMAGE_ID_MAX);
				return -EINVAL;
			}
			a->blk.image_id = optarg;
			break;
		case 'c':
			a->control_socket = optarg;
			break;
		case 'F':
			if (parse_uint("vhost-user-fd", optarg, 0, INT_MAX, false, &v))
				return -EINVAL;
			a->vhost_user_fd = (int)v;
			break;
		case 'C':
			if (parse_uint("control-socket-fd", optarg, 0, INT_MAX, false, &v))
				return -EINVAL;
			a->control_socket_fd = (int)v;
			break;
		case OPT_MGMT_SOCKET:
			a->mgmt_socket = optarg;
			break;
		case 'q':
			if (parse_uint("num-queues", optarg, 1, VB_MAX_QUEUES, false, &v))
				return -EINVAL;
			a->blk.num_queues = (unsigned int)v;
			break;
		case 'z':
			if (parse_uint("queue-size", optarg, 1, VB_VQ_MAX_SIZE, true, &v))
				return -EINVAL;
			a->blk.queue_size = (unsigned int)v;
			break;
		case 'r':
			a->blk.read_only = true;
			break;
		case 'S':
			if (strlen(optarg) > BLK_SERIAL_LEN) {
				fprintf(stderr, "vblkd: --serial: at most %d bytes\n",
					BLK_SERIAL_LEN);
				return -EINVAL;
			}
			strcpy(a->blk.serial, optarg);
			break;
		case 'b':
			if (parse_uint("logical-block-size", optarg, 512, 65536, true, &v))
				return -EINVAL;
			a->blk.logical_block_size = (uint32_t)v;
			break;
		case 'd':
			a->blk.direct = true;
			break;
		case 'L':
			a->blk.rbd_break_lock = true;
			break;
		case 'D':
			if (parse_uint("io-delay-ms", optarg, 0, 60000, false, &v))
				return -EINVAL;
			a->blk.io_delay_ms = (unsigned int)v;
			break;
		case 'O':
			if (parse_uint("throttle-iops", optarg, 0, 100000000, false, &v))
				return -EINVAL;
			a->blk.throttle.iops = v;
			break;
		case 'B':
			if (parse_uint("throttle-bps", optarg, 0, 1ul << 40, false, &v))
				return -EINVAL;
			a->blk.throttle.bps = v;
			break;
		case 'u':
			if (parse_uint("throttle-burst-ms", optarg, 0, 60000, false, &v))
				return -EINVAL;
			a->blk.throttle.burst_ms = v;
			break;
		case 'm':
			if (!strcmp(optarg, "drain")) {
				a->suspend_mode = VB_SUSPEND_DRAIN;
			} else if (!strcmp(optarg, "capture")) {
				a->suspend_mode = VB_SUSPEND_CAPTURE;
			} else {
				fprintf(stderr, "vblkd: --suspend-mode %s: use drain or capture\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'P':
			if (!strcmp(optarg, "auto")) {
				a->poll_us = VB_POLL_AUTO_US;
				break;
			}
			if (parse_uint("poll-us", optarg, 0, 1000000, false, &v)) {
				fprintf(stderr, "vblkd: --poll-us takes auto or a number of us\n");
				return -EINVAL;
			}
			a->poll_us = (unsigned int)v;
			break;
		case 'l':
			a->log_level = vb_log_level_parse(optarg);
			if (a->log_level < 0) {
				fprintf(stderr, "vblkd: --log-level %s: use error, warn, info or debug\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'M':
			if (parse_uint("message-timeout", optarg, 1, 3600, false, &v))
				return -EINVAL;
			a->message_timeout_s = (unsigned int)v;
			break;
		case OPT_CONTROL_IDLE_TIMEOUT:
			if (parse_uint("control-idle-timeout", optarg, 0, 86400, false, &v))
				return -EINVAL;
			a->control_idle_timeout_s = (unsigned int)v;
			break;
		case OPT_ALLOW_UID:
			if (vb_sock_policy_parse_uids(&a->sock, optarg)) {
				fprintf(stderr,
					"vblkd: --allow-uid %s: up to %d decimal uids, "
					"separated by commas\n",
					optarg, VB_ALLOW_UIDS_MAX);
				return -EINVAL;
			}
			break;
		case OPT_SOCKET_MODE:
			if (vb_sock_policy_parse_mode(&a->sock, optarg)) {
				fprintf(stderr, "vblkd: --socket-mode %s: an octal mode, 0-0777\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_SOCKET_GROUP:
			if (vb_sock_policy_parse_group(&a->sock, optarg)) {
				fprintf(stderr, "vblkd: --socket-group %s: no such group\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_NO_SECCOMP:
			a->no_seccomp = true;
			break;
		case 'h':
			printf(usage, VB_MAX_QUEUES);
			return 1;
		case 'V':
			printf("vblkd %s\n", VBLKD_VERSION);
			return 1;
		default:
			fprintf(stderr, "Try 'vblkd --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vblkd: unexpected argument '%s'\nTry 'vblkd --help'.\n",
			argv[optind]);
		return -EINVAL;
	}
	if ((a->vhost_user && a->vhost_user_fd >= 0) ||
	    (a->control_socket && a->control_socket_fd >= 0)) {
		fprintf(stderr, "vblkd: a socket is either a path or an fd, not both\n");
		return -EINVAL;
	}
	if (vblkd_listen_fds_take(a))
		return -EINVAL;
	if (!(a->vhost_user || a->vhost_user_fd >= 0) == !a->vduse || !a->blk.image) {
		fprintf(stderr,
			"vblkd: --image and one of --vhost-user, --vhost-user-fd or --vduse "
			"are required\n"
			"Try 'vblkd --help'.\n");
		return -EINVAL;
	}
	if (!a->vduse && (a->no_vdpa_add || a->state_dir)) {
		fprintf(stderr, "vblkd: --no-vdpa-add and --state-dir go with --vduse\n");
		return -EINVAL;
	}
	return 0;
}
