// SPDX-License-Identifier: GPL-2.0-or-later
/* A device-state transfer on its own thread: see state/session.h. */
#include "state/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/failpoint.h"
#include "core/log.h"

void state_session_init(struct state_session *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = s->abort_fd = s->interrupt_fd = -1;
	s->last_result = STATE_E_INCOMPLETE;
}

static enum state_err move_bytes(struct state_session *s)
{
	uint8_t buf[65536];
	size_t sent = 0;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = s->fd, .events = s->direction ? POLLIN : POLLOUT },
			{ .fd = s->abort_fd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return STATE_E_IO;
		}
		if (pfd[1].revents)
			return STATE_E_ABORTED;
		if (!s->direction) {
			n = vb_fault(VB_FAULT_STATE_PIPE) ?
				    (errno = EPIPE, -1) :
				    write(s->fd, s->w.buf + sent, s->w.len - sent);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n < 0)
				return STATE_E_IO; /* EPIPE: the reader went away */
			sent += (size_t)n;
			if (sent == s->w.len)
				return STATE_OK;
			continue;
		}
		n = read(s->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return STATE_E_IO;
		if (n == 0) {
			int err = state_reader_finish(&s->r);

			return err ? err : s->load_check(s->load);
		}
		if (state_reader_feed(&s->r, buf, (size_t)n))
			return s->r.err; /* no point reading the rest */
	}
}

static void *transfer_main(void *arg)
{
	struct state_session *s = arg;

	s->result = move_bytes(s);
	/* Closing our end is the end-of-file a loading peer waits for. */
	close(s->fd);
	s->fd = -1;
	return NULL;
}

static void transfer_free(struct state_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->abort_fd >= 0)
		close(s->abort_fd);
	state_writer_fini(&s->w);
	state_reader_fini(&s->r);
	if (s->load && s->load_free)
		s->load_free(s->load);
	s->load = NULL;
	s->load_free = NULL;
	s->load_check = NULL;
	s->fd = s->abort_fd = -1;
	s->active = false;
	s->owner = 0;
}

void state_session_refuse(struct state_session *s, uint64_t owner, enum state_err err)
{
	transfer_free(s);
	s->last_result = err;
	s->last_owner = owner;
}

/* Common start: pipe non-blocking, abort eventfd, thread. */
static enum state_err start(struct state_session *s, int fd, uint64_t owner, uint32_t direction)
{
	int flags, err;

	s->fd = fd;
	s->direction = direction;
	s->owner = owner;
	s->abort_fd = vb_failpoint("session: eventfd") ? -1 : eventfd(0, EFD_CLOEXEC);
	if (s->abort_fd < 0) {
		vb_err("state transfer: eventfd: %s", strerror(errno));
		return STATE_E_IO;
	}
	flags = vb_failpoint("session: fcntl") ? -1 : fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK)) {
		vb_err("state transfer: the pipe fd is not usable: %s", strerror(errno));
		return STATE_E_IO;
	}
	err = vb_failpoint("session: thread") ? EAGAIN :
						pthread_create(&s->thread, NULL, transfer_main, s);
	if (err) {
		vb_err("state transfer: cannot start its thread: %s", strerror(err));
		return STATE_E_IO;
	}
	s->active = true;
	return STATE_OK;
}

enum state_err state_session_save_take_fd(struct state_session *s, int fd, uint64_t owner)
{
	enum state_err err;

	state_session_abort(s, 0); /* a new transfer replaces the old one */
	err = start(s, fd, owner, 0);
	if (err)
		state_session_refuse(s, owner, err);
	return err;
}

enum state_err state_session_load_take_fd(struct state_session *s, int fd, uint64_t owner,
			       uint32_t device_type, state_section_fn on_section,
			       int (*load_check)(const void *load), void (*load_free)(void *load),
			       void *load)
{
	enum state_err err;

	state_session_abort(s, 0);
	s->load = load;
	s->load_free = load_free;
	s->load_check = load_check;
	if (vb_failpoint("session: reader") ||
	    state_reader_init(&s->r, device_type, on_section, load)) {
		err = STATE_E_IO;
		close(fd);
		goto err;
	}
	err = start(s, fd, owner, 1);
	if (!err)
		return STATE_OK;
err:
	state_session_refuse(s, owner, err);
	return err;
}

/* Whether the owner of the session wants CHECK to stop waiting (the daemon stops). */
static bool interrupted(const struct state_session *s)
{
	struct pollfd p = { .fd = s->interrupt_fd, .events = POLLIN };

	return s->interrupt_fd >= 0 && poll(&p, 1, 0) > 0;
}

/* Join the thread; @wait: give it the CHECK bound to finish first. */
static enum state_err join(struct state_session *s, bool wait)
{
	/* In slices, so that a stop signal is not kept waiting for the whole bound. */
	for (int waited = 0; wait && waited < STATE_SESSION_CHECK_WAIT_MS && !interrupted(s);
	     waited += 50) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 50 * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		if (!pthread_timedjoin_np(s->thread, NULL, &until))
			return s->result;
	}
	if (eventfd_write(s->abort_fd, 1))
		vb_err("state transfer: cannot signal the abort: %s", strerror(errno));
	pthread_join(s->thread, NULL);
	return wait ? STATE_E_INCOMPLETE : STATE_E_ABORTED;
}

enum state_err state_session_wait(struct state_session *s, uint64_t owner)
{
	enum state_err result;

	if (!s->active || s->owner != owner) {
		if (s->last_owner == owner || !s->last_owner)
			return s->last_result;
		vb_err("CHECK_DEVICE_STATE from a connection that started no transfer");
		return STATE_E_INCOMPLETE;
	}
	result = join(s, true);
	s->active = false;
	if (result != STATE_OK || s->direction == 0)
		state_session_end(s, result);
	return result;
}

void state_session_end(struct state_session *s, enum state_err result)
{
	uint64_t owner = s->owner;

	if (s->active)
		join(s, false);
	if (result)
		vb_err("device-state %s failed: %s", s->direction ? "load" : "save",
		       state_err_str(result));
	else
		vb_info("device-state %s complete", s->direction ? "load" : "save");
	transfer_free(s);
	s->last_result = result;
	s->last_owner = owner;
}

void state_session_abort(struct state_session *s, uint64_t owner)
{
	if (!s->active || (owner && s->owner != owner))
		return;
	join(s, false);
	s->active = false;
	state_session_end(s, STATE_E_ABORTED);
}
