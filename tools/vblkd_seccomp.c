// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The system calls a running vblkd makes, and nothing else. Set-up (opening
 * the image, creating sockets and the VDUSE device) is over when this is
 * installed; what is left is serving: accepting and reading the sockets,
 * mapping guest memory, io_uring, eventfds, the state pipe, VDUSE ioctls,
 * threads for rings and transfers, and on exit the vdpa netlink DEV_DEL and
 * the removal of the socket files.
 */
#include "vblkd_sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VB_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define VB_SANITIZER_BUILD 1
#endif
#endif

/* Allowed with any arguments. */
/* Grouped by what they serve, several to a line. */
/* clang-format off */
static const char *const allowed[] = {
	/* I/O on the fds vblkd holds: sockets, eventfds, pipes, the image */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "close", "lseek", "fcntl", "fstat", "fstatfs", "newfstatat", "statx",
	"ftruncate", "fallocate", "fsync", "fdatasync", "dup", "dup3", "pipe2", "eventfd2",
	"memfd_create", "ioctl", "accept", "accept4", "recvmsg", "sendmsg", "recvfrom",
	"sendto", "getsockopt", "setsockopt", "getsockname", "getpeername", "bind",
	"connect", /* an NBD server over a UNIX socket, reconnected */ "getrandom",
	"shutdown",
	/* what a notification fd is: readlink of /proc/self/fd/N (core/ring.c) */
	"readlink", "readlinkat",
	/* waiting */
	"poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "timerfd_create", "timerfd_settime", "timerfd_gettime", "futex",
	"nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday", "sched_yield",
	"restart_syscall",
	/* memory: guest regions, the in-flight area, the dirty log, malloc */
	"munmap", "mremap", "madvise", "brk",
	/* io_uring, one per ring worker, created when the ring starts */
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	/* threads, signals (a SIGBUS in guest memory is survived by a handler) */
	"set_robust_list", "rseq", "exit", "exit_group", "gettid",
	"getpid", "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack",
	"sched_getaffinity", "getuid", "geteuid", "getgid", "getegid",
	/* on exit: the socket files */
	"unlink", "unlinkat",
};
/* clang-format on */

static const char *const no_open[] = { "open", "openat", "openat2", "creat" };

/*
 * A call outside the list: say which, on stderr (vb_log is not
 * async-signal-safe), then die of the SIGSYS the kernel meant.
 */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char head[] = "vblkd: seccomp: system call ";
	static const char tail[] = " is not on the allow-list; exiting (see --no-seccomp)\n";
	char msg[sizeof(head) + sizeof(tail) + 12];
	unsigned int nr = (unsigned int)si->si_syscall;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	char digits[12];
	size_t len = sizeof(head) - 1;
	int n = 0;

	memcpy(msg, head, len);
	do {
		digits[n++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr);
	while (n)
		msg[len++] = digits[--n];
	memcpy(msg + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;
	if (write(STDERR_FILENO, msg, len) < 0) {
		/* nothing more to say */
	}
	sigaction(SIGSYS, &dfl, NULL);
	raise(sig); /* pending until this handler returns, then fatal */
}

/* @action for each call in @names; a name this architecture lacks is skipped. */
static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int ret;

		if (nr == __NR_SCMP_ERROR)
			continue;
		ret = seccomp_rule_add(ctx, action, nr, 0);
		if (ret)
			return ret;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx)
{
	/* Allowed with one argument checked. */
	const struct {
		int nr;
		struct scmp_arg_cmp cmp;
	} cond[] = {
		/* sockets: UNIX (accepted peers) and netlink (DEV_DEL); never the network */
		{ SCMP_SYS(socket), SCMP_A0(SCMP_CMP_EQ, AF_UNIX) },
		{ SCMP_SYS(socket), SCMP_A0(SCMP_CMP_EQ, AF_NETLINK) },
		/* threads, never a new process */
		{ SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD) },
		/* memory, never executable: no code is mapped after set-up */
		{ SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) },
		{ SCMP_SYS(mprotect), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) },
		/* signals to this process only: raise() and abort() */
		{ SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()) },
	};
	int ret;

	ret = add_names(ctx, SCMP_ACT_ALLOW, allowed, sizeof(allowed) / sizeof(allowed[0]));
	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(cond) / sizeof(cond[0]); i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, cond[i].nr, 1, cond[i].cmp);
		if (ret)
			return ret;
	}
	/*
	 * Opening a file fails, and does not kill: glibc's malloc reads
	 * /proc/sys/vm/overcommit_memory the first time it shrinks a thread's
	 * heap, and takes a failure as "do not shrink".
	 */
	ret = add_names(ctx, SCMP_ACT_ERRNO(EACCES), no_open, sizeof(no_open) / sizeof(no_open[0]));
	if (ret)
		return ret;
	/* clone3 hides its flags in memory: ENOSYS, and glibc falls back to clone. */
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

int vblkd_seccomp_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int ret;

#ifdef VB_SANITIZER_BUILD
	vb_warn("seccomp: not installed: sanitizer runtimes make calls outside the allow-list");
	return 1;
#endif
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		vb_err("seccomp: cannot create a filter");
		return -ENOMEM;
	}
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	ret = ret ?: add_rules(ctx);
	if (!ret && sigaction(SIGSYS, &sa, NULL))
		ret = -errno;
	ret = ret ?: seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret) {
		vb_err("seccomp: cannot install the allow-list: %s (--no-seccomp runs without)",
		       strerror(-ret));
		return ret;
	}
	vb_info("seccomp: allow-list installed");
	return 0;
}
