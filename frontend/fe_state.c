// SPDX-License-Identifier: GPL-2.0-or-later
/* Back-end state save/load through a pipe, QEMU's stream framing, migration. */
#include "frontend/fe_state.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontend/fe_blk.h"
#include "frontend/fe_vu.h"

#define FE_STATE_IO_BUF (64u << 10)
#define FE_STATE_BUF_MAX (256ull << 20)	/* bound on what a save may hand back */

static uint64_t fe_state_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int fe_state_negotiate(struct fe_vu *vu)
{
	const uint64_t want = 1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE;

	if (vu->protocol_features & want)
		return 0;
	if (vu->features)
		return -EOPNOTSUPP;	/* negotiated already, without it */
	return fe_vu_negotiate_protocol(vu, want, want);
}

int fe_state_set_fd(struct fe_vu *vu, uint32_t direction, uint32_t phase, int fd,
		    int *backend_fd, uint32_t *err)
{
	struct vu_device_state st = {
		.transfer_direction = direction,
		.migration_phase = phase,
	};
	struct vu_msg reply;
	uint64_t val;
	int ret;

	*backend_fd = -1;
	*err = 0;
	ret = fe_vu_call(vu, VHOST_USER_SET_DEVICE_STATE_FD, &st, sizeof(st), &fd, 1, &reply);
	if (ret)
		return ret;
	if (reply.hdr.size != sizeof(uint64_t)) {
		vu_msg_close_fds(&reply);
		return -EPROTO;
	}
	val = reply.payload.u64;
	*err = (uint32_t)(val & FE_STATE_REPLY_ERR_MASK);
	if (!*err && !(val & FE_STATE_REPLY_NOFD)) {
		if (reply.nfds != 1) {
			vu_msg_close_fds(&reply);
			return -EPROTO;
		}
		*backend_fd = reply.fds[0];
		reply.nfds = 0;
	}
	vu_msg_close_fds(&reply);
	return 0;
}

int fe_state_check(struct fe_vu *vu, uint64_t *code)
{
	return fe_vu_get_u64(vu, VHOST_USER_CHECK_DEVICE_STATE, code);
}

/* Read the non-blocking @fd to EOF into @sink; stalls longer than @timeout_ms fail. */
static int fe_state_drain(int fd, int timeout_ms, fe_state_sink_fn sink, void *opaque,
			  struct fe_state_res *res)
{
	uint8_t *buf;
	ssize_t n;
	int ret = 0;

	buf = malloc(FE_STATE_IO_BUF);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = read(fd, buf, FE_STATE_IO_BUF);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				ret = -errno;
				break;
			}
			ret = fe_wait_fd(fd, POLLIN, timeout_ms);
			if (ret)
				break;
			continue;
		}
		ret = sink(opaque, buf, (size_t)n);
		if (ret)
			break;
		res->bytes += (uint64_t)n;
	}
	free(buf);
	return ret;
}

/* Write all of @buf to the non-blocking @fd; a reader gone gives -EPIPE. */
static int fe_state_write_pipe(int fd, const uint8_t *buf, size_t len, int timeout_ms)
{
	ssize_t n;
	int ret;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			ret = fe_wait_fd(fd, POLLOUT, timeout_ms);
			if (ret)
				return ret;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Feed @fd from @source until it ends. SIGPIPE is held back meanwhile, so a
 * back-end that closes its end early shows as -EPIPE, not as a dead caller.
 */
static int fe_state_fill(int fd, int timeout_ms, fe_state_source_fn source, void *opaque,
			 struct fe_state_res *res)
{
	struct timespec zero = { 0 };
	sigset_t pipe_set, old, pending;
	bool was_pending;
	uint8_t *buf;
	ssize_t n;
	int ret = 0;

	buf = malloc(FE_STATE_IO_BUF);
	if (!buf)
		return -ENOMEM;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);

	for (;;) {
		n = source(opaque, buf, FE_STATE_IO_BUF);
		if (n <= 0) {
			ret = (int)n;
			break;
		}
		ret = fe_state_write_pipe(fd, buf, (size_t)n, timeout_ms);
		if (ret)
			break;
		res->bytes += (uint64_t)n;
	}

	if (ret == -EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(buf);
	return ret;
}

/*
 * SET_DEVICE_STATE_FD(@direction) with one end of a new pipe; on success
 * *@local is the end (or the back-end's own fd) this side moves bytes on,
 * non-blocking.
 */
static int fe_state_open(struct fe_vu *vu, uint32_t direction, int *local,
			 struct fe_state_res *res)
{
	int pfd[2], backend_fd, mine, theirs, ret;

	*local = -1;
	ret = fe_state_negotiate(vu);
	if (ret)
		return ret;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	/* save: the back-end writes pfd[1]; load: it reads pfd[0]. */
	mine = direction == FE_STATE_SAVE ? pfd[0] : pfd[1];
	theirs = direction == FE_STATE_SAVE ? pfd[1] : pfd[0];

	ret = fe_state_set_fd(vu, direction, FE_STATE_PHASE_STOPPED, theirs, &backend_fd,
			      &res->set_err);
	close(theirs);
	if (!ret && res->set_err)
		ret = -EREMOTEIO;
	if (ret) {
		close(mine);
		return ret;
	}
	if (backend_fd >= 0) {
		close(mine);
		mine = backend_fd;
	}
	if (fcntl(mine, F_SETFL, fcntl(mine, F_GETFL) | O_NONBLOCK)) {
		ret = -errno;
		close(mine);
		/* The back-end holds a transfer open: end it. */
		if (!fe_state_check(vu, &res->check))
			res->checked = true;
		return ret;
	}
	*local = mine;
	return 0;
}

/*
 * CHECK_DEVICE_STATE after a transfer whose local side ended with @ret.
 * A local failure is the cause, unless the back-end went first (-EPIPE).
 */
static int fe_state_finish(struct fe_vu *vu, int ret, struct fe_state_res *res)
{
	int cret;

	cret = fe_state_check(vu, &res->check);
	if (!cret)
		res->checked = true;
	if (ret && ret != -EPIPE)
		return ret;
	if (cret)
		return cret;
	if (res->check)
		return -EREMOTEIO;
	return ret;
}

/*
 * One whole transfer: open the pipe in @direction, move the bytes (save:
 * drain into @sink; load: fill from @source), then CHECK_DEVICE_STATE.
 */
static int fe_state_transfer(struct fe_vu *vu, uint32_t direction, fe_state_sink_fn sink,
			     fe_state_source_fn source, void *opaque, struct fe_state_res *res)
{
	struct fe_state_res local;
	uint64_t t0 = fe_state_now_us(), t1;
	int fd, ret;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	ret = fe_state_open(vu, direction, &fd, res);
	if (ret)
		goto out;
	t1 = fe_state_now_us();
	if (direction == FE_STATE_SAVE)
		ret = fe_state_drain(fd, vu->timeout_ms, sink, opaque, res);
	else
		ret = fe_state_fill(fd, vu->timeout_ms, source, opaque, res);
	close(fd);
	res->pipe_us = fe_state_now_us() - t1;
	ret = fe_state_finish(vu, ret, res);
out:
	res->total_us = fe_state_now_us() - t0;
	return ret;
}

int fe_state_save(struct fe_vu *vu, fe_state_sink_fn sink, void *opaque,
		  struct fe_state_res *res)
{
	return fe_state_transfer(vu, FE_STATE_SAVE, sink, NULL, opaque, res);
}

int fe_state_load(struct fe_vu *vu, fe_state_source_fn source, void *opaque,
		  struct fe_state_res *res)
{
	return fe_state_transfer(vu, FE_STATE_LOAD, NULL, source, opaque, res);
}

/* Buffers. */

int fe_state_membuf_sink(void *opaque, const void *buf, size_t len)
{
	struct fe_state_membuf *m = opaque;
	size_t cap;
	uint8_t *p;

	if (len > FE_STATE_BUF_MAX - m->len)
		return -EFBIG;
	if (m->len + len > m->cap) {
		cap = m->cap ? m->cap : FE_STATE_IO_BUF;
		while (cap < m->len + len)
			cap *= 2;
		p = realloc(m->buf, cap);
		if (!p)
			return -ENOMEM;
		m->buf = p;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

int fe_state_save_buf(struct fe_vu *vu, uint8_t **buf, size_t *len, struct fe_state_res *res)
{
	struct fe_state_membuf m = { 0 };
	int ret;

	ret = fe_state_save(vu, fe_state_membuf_sink, &m, res);
	if (ret) {
		free(m.buf);
		*buf = NULL;
		*len = 0;
		return ret;
	}
	*buf = m.buf;
	*len = m.len;
	return 0;
}

ssize_t fe_state_cursor_source(void *opaque, void *buf, size_t len)
{
	struct fe_state_cursor *c = opaque;
	size_t n = len < c->left ? len : c->left;

	memcpy(buf, c->p, n);
	c->p += n;
	c->left -= n;
	return (ssize_t)n;
}

int fe_state_load_buf(struct fe_vu *vu, const void *buf, size_t len, struct fe_state_res *res)
{
	struct fe_state_cursor c = { .p = buf, .left = len };

	return fe_state_load(vu, fe_state_cursor_source, &c, res);
}

/* Files and QEMU framing. */

static int fe_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read up to @len bytes, stopping early only at EOF. Return: count or -errno. */
static ssize_t fe_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int fe_frame_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t be;
	size_t n;
	int ret;

	while (len) {
		n = len < FE_STATE_CHUNK_MAX ? len : FE_STATE_CHUNK_MAX;
		be = htobe32((uint32_t)n);
		ret = fe_write_full(fd, &be, sizeof(be));
		if (ret)
			return ret;
		ret = fe_write_full(fd, p, n);
		if (ret)
			return ret;
		p += n;
		len -= n;
	}
	return 0;
}

int fe_frame_write_end(int fd)
{
	uint32_t zero = 0;

	return fe_write_full(fd, &zero, sizeof(zero));
}

void fe_frame_reader_init(struct fe_frame_reader *r, int fd)
{
	r->fd = fd;
	r->left = 0;
	r->ended = false;
}

ssize_t fe_frame_read(struct fe_frame_reader *r, void *buf, size_t len)
{
	uint32_t be, size;
	ssize_t n;

	if (r->ended || !len)
		return 0;
	if (!r->left) {
		n = fe_read_full(r->fd, &be, sizeof(be));
		if (n < 0)
			return n;
		if (n < (ssize_t)sizeof(be))
			return -EBADMSG;
		size = be32toh(be);
		if (!size) {
			r->ended = true;
			return 0;
		}
		if (size > FE_STATE_CHUNK_MAX)
			return -EMSGSIZE;
		r->left = size;
	}
	if (len > r->left)
		len = r->left;
	do {
		n = read(r->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EBADMSG;
	r->left -= (uint32_t)n;
	return n;
}

static int fe_state_raw_sink(void *opaque, const void *buf, size_t len)
{
	return fe_write_full(*(int *)opaque, buf, len);
}

static int fe_state_framed_sink(void *opaque, const void *buf, size_t len)
{
	return fe_frame_write(*(int *)opaque, buf, len);
}

static ssize_t fe_state_raw_source(void *opaque, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(*(int *)opaque, buf, len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static ssize_t fe_state_framed_source(void *opaque, void *buf, size_t len)
{
	return fe_frame_read(opaque, buf, len);
}

int fe_state_save_fd(struct fe_vu *vu, int fd, bool framed, struct fe_state_res *res)
{
	int ret;

	if (!framed)
		return fe_state_save(vu, fe_state_raw_sink, &fd, res);
	ret = fe_state_save(vu, fe_state_framed_sink, &fd, res);
	if (ret)
		return ret;
	return fe_frame_write_end(fd);
}

int fe_state_load_fd(struct fe_vu *vu, int fd, bool framed, struct fe_state_res *res)
{
	struct fe_frame_reader r;

	if (!framed)
		return fe_state_load(vu, fe_state_raw_source, &fd, res);
	fe_frame_reader_init(&r, fd);
	return fe_state_load(vu, fe_state_framed_source, &r, res);
}

/* Migration between two back-ends of one test front-end. */

int fe_blk_migrate(struct fe_blk *src, struct fe_blk *dst, struct fe_migrate_times *t)
{
	struct fe_migrate_times local;
	uint64_t t0 = fe_state_now_us(), t1;
	uint8_t *buf;
	size_t len;
	int ret;

	if (!t)
		t = &local;
	memset(t, 0, sizeof(*t));

	ret = fe_blk_suspend(src);
	t->suspend_us = fe_state_now_us() - t0;
	if (ret)
		return ret;

	ret = fe_state_save_buf(&src->vu, &buf, &len, &t->save);
	t->save_us = t->save.total_us;
	if (ret)
		return ret;
	t->bytes = len;

	ret = fe_state_load_buf(&dst->vu, buf, len, &t->load);
	t->load_us = t->load.total_us;
	t->transfer_us = t->save.pipe_us + t->load.pipe_us;
	free(buf);
	if (ret)
		return ret;

	fe_blk_adopt(dst, src);
	t1 = fe_state_now_us();
	ret = fe_blk_resume(dst);
	t->resume_us = fe_state_now_us() - t1;
	t->total_us = fe_state_now_us() - t0;
	return ret;
}
