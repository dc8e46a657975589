// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Least privilege (issue 10, item 3; docs/security.md): --allow-uid closes
 * peers of other uids on every socket, --socket-mode and --socket-group
 * are what the socket files get, capabilities are gone once vblkd serves,
 * and a system call outside the seccomp allow-list kills vblkd with
 * SIGSYS (opening a file fails with EACCES) unless --no-seccomp.
 */
#include "kselftest_harness.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "host_test.h"

#define NOBODY 65534

HOST_SOLO_FIXTURE();

/* A second dir for the control socket, open to others so nobody can reach it. */
static int ctl_dir_make(char *dir, size_t dir_len, char *path, size_t path_len)
{
	snprintf(dir, dir_len, "/tmp/vblkd-priv-XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0711))
		return -errno;
	snprintf(path, path_len, "%s/ctl.sock", dir);
	return 0;
}

/* The management socket, next to the control socket in @dir. */
static void mgmt_path(char *path, size_t len, const char *dir)
{
	snprintf(path, len, "%s/mgmt.sock", dir);
}

static void ctl_dir_remove(const char *dir, const char *path)
{
	char mgmt[VD_PATH_MAX];

	mgmt_path(mgmt, sizeof(mgmt), dir);
	unlink(mgmt);
	unlink(path);
	rmdir(dir);
}

static int connect_retry(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (int i = 0; i < 500; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		usleep(10 * 1000);
	}
	return -ETIMEDOUT;
}

/*
 * As uid/gid NOBODY: connect to @path and wait up to @ms for the daemon to
 * close the connection. Return: 0 closed, 1 still open, 2 no connection.
 */
static int peer_as_nobody(const char *path, int ms)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct pollfd pfd = { .events = POLLIN };
		char byte;

		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		pfd.fd = connect_retry(path);
		if (pfd.fd < 0)
			_exit(2);
		if (poll(&pfd, 1, ms) != 1)
			_exit(1);
		_exit(read(pfd.fd, &byte, 1) == 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Wait up to @ms for vblkd to exit by itself, and reap it: its wait status, or -1. */
static int wait_exit(struct vd_proc *vd, int ms)
{
	int status;

	for (int waited = 0; waited < ms; waited += 10) {
		if (waitpid(vd->pid, &status, WNOHANG) == vd->pid) {
			vd->pid = -1;
			return status;
		}
		usleep(10 * 1000);
	}
	return -1;
}

/* The "Name:" line of /proc/PID/status, as a number (hex for the Cap* lines). */
static long long proc_status_field(pid_t pid, const char *name)
{
	char path[64], line[256];
	long long v = -1;
	size_t len = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			v = strtoll(line + len + 1, NULL, strncmp(name, "Cap", 3) ? 10 : 16);
	fclose(f);
	return v;
}

static bool sanitizer_build(const struct vd_proc *vd)
{
	return vd_log_contains(vd, "seccomp: not installed");
}

TEST_F (solo, allow_uid_closes_a_peer_of_another_uid_on_every_socket) {
	const char *extra[] = { "--allow-uid",
				"0",
				"--socket-mode",
				"0666",
				"--control-socket",
				NULL,
				"--mgmt-socket",
				NULL,
				NULL };
	char dir[64], ctl[VD_PATH_MAX], mgmt[VD_PATH_MAX], line[96];
	uint8_t buf[4096];

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	if (geteuid())
		SKIP(return, "needs root to connect as another uid");
	ASSERT_EQ(0, ctl_dir_make(dir, sizeof(dir), ctl, sizeof(ctl)));
	extra[5] = ctl;
	mgmt_path(mgmt, sizeof(mgmt), dir);
	extra[7] = mgmt;
	ASSERT_EQ(0, vd_start(&self->vd, HOST_IMAGE_SIZE, extra));
	ASSERT_EQ(0, chmod(self->vd.dir, 0711));

	EXPECT_EQ(0, peer_as_nobody(mgmt, 3000)) TH_LOG("management client of nobody not closed");
	snprintf(line, sizeof(line), "management client refused: uid %d (pid", NOBODY);
	EXPECT_TRUE(vd_log_contains(&self->vd, line));
	EXPECT_EQ(0, peer_as_nobody(self->vd.sock, 3000))
	TH_LOG("front-end of uid nobody not closed");
	EXPECT_EQ(0, peer_as_nobody(ctl, 3000)) TH_LOG("control client of uid nobody not closed");
	snprintf(line, sizeof(line), "front-end refused: uid %d (pid", NOBODY);
	EXPECT_TRUE(vd_log_contains(&self->vd, line));
	snprintf(line, sizeof(line), "control client refused: uid %d (pid", NOBODY);
	EXPECT_TRUE(vd_log_contains(&self->vd, line));

	/* A listed uid is served as before. */
	ASSERT_EQ(0, fe_blk_open(&self->blk, self->vd.sock, NULL));
	self->blk_open = true;
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 0, buf, sizeof(buf)));
	ctl_dir_remove(dir, ctl);
}

TEST_F (solo, allow_uid_serves_every_uid_it_lists) {
	const char *extra[] = { "--allow-uid", "0,65534", "--socket-mode", "0666", NULL };
	char line[96];
	int peer;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	if (geteuid())
		SKIP(return, "needs root to connect as another uid");
	ASSERT_EQ(0, vd_start(&self->vd, HOST_IMAGE_SIZE, extra));
	ASSERT_EQ(0, chmod(self->vd.dir, 0711));
	/* It is served, so it is not closed within the 0.5 s the peer waits. */
	peer = peer_as_nobody(self->vd.sock, 500);
	EXPECT_EQ(1, peer);
	snprintf(line, sizeof(line), "uid %d)", NOBODY);
	EXPECT_TRUE(vd_log_contains(&self->vd, line));
	EXPECT_FALSE(vd_log_contains(&self->vd, "refused"));
}

TEST_F (solo, socket_mode_and_group_are_those_asked_for) {
	const char *extra[] = { "--socket-mode",
				"0660",
				"--socket-group",
				"65534",
				"--control-socket",
				NULL,
				"--mgmt-socket",
				NULL,
				NULL };
	char dir[64], ctl[VD_PATH_MAX], mgmt[VD_PATH_MAX];
	struct stat st;

	if (geteuid())
		SKIP(return, "needs root to give the sockets another group");
	ASSERT_EQ(0, ctl_dir_make(dir, sizeof(dir), ctl, sizeof(ctl)));
	extra[5] = ctl;
	mgmt_path(mgmt, sizeof(mgmt), dir);
	extra[7] = mgmt;
	HOST_UP(&self->vd, &self->blk, extra, NULL);
	self->blk_open = true;
	ASSERT_EQ(0, stat(self->vd.sock, &st));
	EXPECT_EQ(0660, st.st_mode & 07777);
	EXPECT_EQ(NOBODY, st.st_gid);
	ASSERT_EQ(0, stat(ctl, &st));
	EXPECT_EQ(0660, st.st_mode & 07777);
	EXPECT_EQ(NOBODY, st.st_gid);
	ASSERT_EQ(0, stat(mgmt, &st));
	EXPECT_EQ(0660, st.st_mode & 07777);
	EXPECT_EQ(NOBODY, st.st_gid);
	ctl_dir_remove(dir, ctl);
}

TEST_F (solo, sockets_are_0600_by_default) {
	struct stat st;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	ASSERT_EQ(0, stat(self->vd.sock, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(getegid(), st.st_gid);
}

TEST_F (solo, capabilities_are_dropped_once_serving) {
	uint8_t buf[4096];

	if (geteuid())
		SKIP(return, "a non-root vblkd has no capabilities to drop");
	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	/* A front-end is served: set-up is over. */
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 0, buf, sizeof(buf)));
	EXPECT_EQ(0, proc_status_field(self->vd.pid, "CapEff"));
	EXPECT_EQ(0, proc_status_field(self->vd.pid, "CapPrm"));
	EXPECT_EQ(0, proc_status_field(self->vd.pid, "CapBnd"));
	EXPECT_EQ(0, proc_status_field(self->vd.pid, "CapAmb"));
	EXPECT_TRUE(vd_log_contains(&self->vd, "capabilities: none kept"));
}

TEST_F (solo, seccomp_is_on_by_default) {
	uint8_t buf[4096];

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	if (sanitizer_build(&self->vd))
		SKIP(return, "sanitizer build: vblkd runs without seccomp");
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 0, buf, sizeof(buf)));
	EXPECT_EQ(2, proc_status_field(self->vd.pid, "Seccomp")); /* filter mode */
	EXPECT_EQ(1, proc_status_field(self->vd.pid, "NoNewPrivs"));
}

TEST_F (solo, a_system_call_outside_the_allow_list_kills_vblkd_with_sigsys) {
	struct rlimit no_core = { 0, 0 };
	char line[96];
	int status;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	/* vblkd inherits it: no core file from the SIGSYS this test expects. */
	ASSERT_EQ(0, setrlimit(RLIMIT_CORE, &no_core));
	ASSERT_EQ(0, setenv("VBLKD_TEST_FORBIDDEN_SYSCALL", "1", 1));
	ASSERT_EQ(0, vd_start(&self->vd, HOST_IMAGE_SIZE, NULL));
	status = wait_exit(&self->vd, 5000);
	if (sanitizer_build(&self->vd))
		SKIP(return, "sanitizer build: vblkd runs without seccomp");
	ASSERT_NE(-1, status) TH_LOG("vblkd still runs");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
	TH_LOG("wait status 0x%x", status);
	snprintf(line, sizeof(line), "seccomp: system call %d is not on the allow-list",
		 SYS_socket);
	EXPECT_TRUE(vd_log_contains(&self->vd, line));
	EXPECT_FALSE(vd_log_contains(&self->vd, "test: socket(AF_INET) returned"));
	/* Opening a file fails, without a kill. */
	EXPECT_TRUE(vd_log_contains(&self->vd, "test: open: Permission denied"));
}

TEST_F (solo, no_seccomp_lets_that_system_call_through_and_vblkd_serves_on) {
	const char *extra[] = { "--no-seccomp", NULL };
	uint8_t buf[4096];

	ASSERT_EQ(0, setenv("VBLKD_TEST_FORBIDDEN_SYSCALL", "1", 1));
	HOST_UP(&self->vd, &self->blk, extra, NULL);
	self->blk_open = true;
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 0, buf, sizeof(buf)));
	EXPECT_TRUE(vd_log_contains(&self->vd, "seccomp: off (--no-seccomp)"));
	EXPECT_FALSE(vd_log_contains(&self->vd, "test: socket(AF_INET) returned -1"));
	EXPECT_TRUE(vd_log_contains(&self->vd, "test: socket(AF_INET) returned"));
	EXPECT_TRUE(vd_log_contains(&self->vd, "test: open: opened"));
	EXPECT_EQ(0, proc_status_field(self->vd.pid, "Seccomp"));
}

TEST_F (solo, bad_least_privilege_arguments_are_refused) {
	static const char *const bad[][3] = {
		{ "--socket-mode", "0999", NULL },     { "--socket-mode", "01777", NULL },
		{ "--socket-mode", "rw", NULL },       { "--socket-group", "no-such-group", NULL },
		{ "--allow-uid", "", NULL },	       { "--allow-uid", "0,", NULL },
		{ "--allow-uid", "4294967295", NULL }, { "--allow-uid", "-1", NULL },
	};

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int status;

		ASSERT_EQ(0, vd_start(&self->vd, 4096, bad[i]));
		status = wait_exit(&self->vd, 5000);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2)
		TH_LOG("%s '%s': wait status 0x%x", bad[i][0], bad[i][1], status);
		vd_cleanup(&self->vd);
	}
}

TEST_HARNESS_MAIN
