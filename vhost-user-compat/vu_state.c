// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SET_DEVICE_STATE_FD / CHECK_DEVICE_STATE (vhost-user.rst "Migrating
 * back-end state"). The bytes move on a thread of their own so the message
 * loop keeps answering; the device is touched only by the message loop: the
 * state is serialised when the save starts and applied when CHECK succeeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/blk/blk_state.h"
#include "core/log.h"
#include "vhost-user-compat/vu_server.h"

#define CHECK_WAIT_MS 2000 /* CHECK comes after the front-end finished its side */

static int move_bytes(struct vu_transfer *x)
{
	uint8_t buf[65536];
	size_t sent = 0;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = x->fd, .events = x->direction ? POLLIN : POLLOUT },
			{ .fd = x->abort_fd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return STATE_E_IO;
		}
		if (pfd[1].revents)
			return STATE_E_ABORTED;
		if (!x->direction) {
			n = write(x->fd, x->w.buf + sent, x->w.len - sent);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n < 0)
				return STATE_E_IO; /* EPIPE: the reader went away */
			sent += (size_t)n;
			if (sent == x->w.len)
				return STATE_OK;
			continue;
		}
		n = read(x->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return STATE_E_IO;
		if (n == 0) {
			int err = state_reader_finish(&x->r);

			return err ? err : blk_state_load_check(x->load);
		}
		if (state_reader_feed(&x->r, buf, (size_t)n))
			return x->r.err; /* no point reading the rest */
	}
}

static void *transfer_main(void *arg)
{
	struct vu_transfer *x = arg;

	x->result = move_bytes(x);
	/* Closing our end is the end-of-file a loading front-end waits for. */
	close(x->fd);
	x->fd = -1;
	atomic_store(&x->finished, true);
	return NULL;
}

static void transfer_free(struct vu_transfer *x)
{
	if (x->fd >= 0)
		close(x->fd);
	if (x->abort_fd >= 0)
		close(x->abort_fd);
	state_writer_fini(&x->w);
	state_reader_fini(&x->r);
	blk_state_load_free(x->load);
	memset(x, 0, sizeof(*x));
	x->fd = x->abort_fd = -1;
}

static int transfer_join(struct vu_dev *d, bool wait)
{
	struct vu_transfer *x = &d->xfer;
	struct timespec until;
	int result;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CHECK_WAIT_MS / 1000;
	if (!wait || pthread_timedjoin_np(x->thread, NULL, &until)) {
		eventfd_write(x->abort_fd, 1);
		pthread_join(x->thread, NULL);
		result = wait ? STATE_E_INCOMPLETE : STATE_E_ABORTED;
	} else {
		result = x->result;
	}
	return result;
}

void vu_state_abort(struct vu_dev *d, const struct vu_conn *owner)
{
	struct vu_transfer *x = &d->xfer;

	if (!x->active || (owner && x->owner != owner))
		return;
	transfer_join(d, false);
	vb_warn("device-state %s aborted", x->direction ? "load" : "save");
	transfer_free(x);
	d->last_result = STATE_E_ABORTED;
}

int vu_state_start_take_fd(struct vu_dev *d, uint32_t direction, uint32_t phase, int fd)
{
	struct vu_transfer *x = &d->xfer;
	int err;

	vu_state_abort(d, NULL); /* a new transfer replaces the old one */
	x->fd = fd;
	x->abort_fd = -1;
	x->direction = direction;
	x->owner = d->cur;
	if (phase != 0 || direction > 1) {
		vb_err("SET_DEVICE_STATE_FD: direction %u phase %u is not supported", direction,
		       phase);
		err = STATE_E_PHASE;
		goto err_free;
	}
	if (!blk_dev_suspended(d->blk)) {
		vb_err("SET_DEVICE_STATE_FD: refused while a ring runs; stop every ring first");
		err = STATE_E_BUSY;
		goto err_free;
	}
	x->abort_fd = eventfd(0, EFD_CLOEXEC);
	if (x->abort_fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		err = STATE_E_IO;
		goto err_free;
	}
	if (direction == 0) {
		state_writer_init(&x->w);
		if (blk_state_save(d->blk, &x->w)) {
			err = STATE_E_IO;
			goto err_free;
		}
	} else {
		x->load = blk_state_load_new(d->blk);
		if (!x->load ||
		    state_reader_init(&x->r, BLK_STATE_DEVICE_TYPE, blk_state_on_section, x->load)) {
			err = STATE_E_IO;
			goto err_free;
		}
	}
	if (pthread_create(&x->thread, NULL, transfer_main, x)) {
		err = STATE_E_IO;
		goto err_free;
	}
	x->active = true;
	if (direction)
		vb_info("device-state load started");
	else
		vb_info("device-state save started: %zu bytes", x->w.len);
	return STATE_OK;

err_free:
	transfer_free(x);
	d->last_result = err;
	return err;
}

int vu_state_check(struct vu_dev *d)
{
	struct vu_transfer *x = &d->xfer;
	int result;

	if (!x->active)
		return d->last_result;
	result = transfer_join(d, true);
	if (result == STATE_OK && x->direction == 1) {
		uint64_t foreign = blk_state_load_features(x->load) & ~vu_offered_features(d);

		if (foreign) {
			vb_err("state: features 0x%llx were never offered by this device",
			       (unsigned long long)foreign);
			result = STATE_E_CONTENT;
		} else if (!blk_dev_suspended(d->blk)) {
			result = STATE_E_BUSY; /* a ring started meanwhile: nothing applied */
		} else {
			blk_state_apply(d->blk, x->load);
			d->features = d->blk->features;
		}
	}
	if (result)
		vb_err("device-state %s failed: %s", x->direction ? "load" : "save",
		       state_err_str(result));
	else
		vb_info("device-state %s complete", x->direction ? "load" : "save");
	transfer_free(x);
	d->last_result = result;
	return result;
}
