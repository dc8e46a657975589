/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Back-end state transfer, front-end side (vhost-user.rst "Migrating
 * back-end state"): SET_DEVICE_STATE_FD hands the back-end one end of a
 * pipe, the front-end moves the bytes through the other end (save: reads to
 * EOF; load: writes everything and closes), then CHECK_DEVICE_STATE asks
 * whether the back-end produced or took the whole state. The state itself is
 * opaque here.
 *
 * Also the framing QEMU's vhost_save_backend_state() puts around those bytes
 * in a migration stream: be32 length-prefixed chunks of at most 1 MiB, ended
 * by a zero-length chunk.
 *
 * Every int function returns 0 or -errno (fe_frame_read() returns a count).
 * -EREMOTEIO means the transport worked and the back-end refused: struct
 * fe_state_res says why.
 */
#ifndef VB_FE_STATE_H
#define VB_FE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fe_vu;
struct fe_blk;

#define FE_STATE_SAVE 0		/* the back-end writes its state into the fd */
#define FE_STATE_LOAD 1		/* the back-end reads its state from the fd */
#define FE_STATE_PHASE_STOPPED 0

/* SET_DEVICE_STATE_FD reply. */
#define FE_STATE_REPLY_ERR_MASK 0xffull
#define FE_STATE_REPLY_NOFD (1ull << 8)

#define FE_STATE_CHUNK_MAX (1u << 20)	/* QEMU's transfer buffer */

struct fe_state_res {
	uint32_t set_err;	/* error code in SET_DEVICE_STATE_FD's reply; 0: accepted */
	bool checked;		/* CHECK_DEVICE_STATE was answered */
	uint64_t check;		/* its answer: 0, or an enum state_err (state/state.h) */
	uint64_t bytes;		/* state bytes that went through the pipe */
	uint64_t pipe_us;	/* time moving them */
	uint64_t total_us;	/* the whole call: negotiation to CHECK_DEVICE_STATE's reply */
};

/**
 * fe_state_negotiate() - make sure DEVICE_STATE is acked on @vu
 * @vu:		the connection
 *
 * On a connection that negotiated nothing yet (a control socket, or a
 * vhost-user socket no front-end holds): GET_FEATURES,
 * GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES(DEVICE_STATE). A connection
 * that negotiated without it gives -EOPNOTSUPP, as does a back-end that
 * does not offer it.
 * Return: 0 (at once when DEVICE_STATE is already acked), -EOPNOTSUPP, or
 * another -errno.
 */
int fe_state_negotiate(struct fe_vu *vu);

/**
 * fe_state_set_fd() - SET_DEVICE_STATE_FD, the raw step
 * @vu:		the connection
 * @direction:	FE_STATE_SAVE or FE_STATE_LOAD
 * @phase:	migration phase (FE_STATE_PHASE_STOPPED)
 * @fd:		the back-end's end of the pipe (not consumed)
 * @backend_fd:	out: an fd the back-end returned instead (bit 8 clear), or -1
 * @err:	out: the reply's error code (0: accepted)
 *
 * Return: 0 when the back-end replied, whatever *@err says; -EPROTO for a
 * reply that is not a u64, or that is accepted with bit 8 clear but carries
 * no fd; or another -errno.
 */
int fe_state_set_fd(struct fe_vu *vu, uint32_t direction, uint32_t phase, int fd,
		    int *backend_fd, uint32_t *err);

/**
 * fe_state_check() - CHECK_DEVICE_STATE, the raw step
 * @vu:		the connection
 * @code:	out: 0 or an enum state_err
 *
 * Return: 0 when the back-end answered, -EPROTO for a reply that is not a
 * u64, or another -errno.
 */
int fe_state_check(struct fe_vu *vu, uint64_t *code);

/*
 * Consumer of saved bytes: 0, or -errno to stop the save. Producer of bytes
 * to load: a count (> 0), 0 at the end of the state, or -errno to stop.
 */
typedef int (*fe_state_sink_fn)(void *opaque, const void *buf, size_t len);
typedef ssize_t (*fe_state_source_fn)(void *opaque, void *buf, size_t len);

/**
 * fe_state_save() - take the back-end's state, feeding it to @sink
 * @vu:		the connection
 * @sink:	called with each piece of the state, in order
 * @opaque:	passed to @sink
 * @res:	out: what happened (may be NULL)
 *
 * Negotiates if needed, makes a pipe, SET_DEVICE_STATE_FD(save) with its
 * write end, reads the read end (or the fd the back-end returned) to EOF,
 * then CHECK_DEVICE_STATE. CHECK is sent whenever SET_DEVICE_STATE_FD was
 * accepted, even after a local failure, so the back-end ends its transfer.
 * A read that stalls longer than vu->timeout_ms fails with -ETIMEDOUT.
 * Return: 0; -EREMOTEIO when the back-end refused (set_err) or CHECK is
 * non-zero; the sink's error; or another -errno.
 */
int fe_state_save(struct fe_vu *vu, fe_state_sink_fn sink, void *opaque,
		  struct fe_state_res *res);

/**
 * fe_state_load() - give the back-end a state, taken from @source
 * @vu:		the connection
 * @source:	called for the state's bytes until it returns 0 (or an error)
 * @opaque:	passed to @source
 * @res:	out: what happened (may be NULL)
 *
 * As fe_state_save(), for a load: writes what @source gives, closes, CHECK.
 * SIGPIPE is blocked meanwhile, so a back-end that closes its end early
 * shows as -EPIPE, or as -EREMOTEIO when CHECK then says why.
 * Return: 0; -EREMOTEIO when the back-end refused (set_err) or CHECK is
 * non-zero; the source's error; -EPIPE; or another -errno.
 */
int fe_state_load(struct fe_vu *vu, fe_state_source_fn source, void *opaque,
		  struct fe_state_res *res);

/* A growing buffer a save fills (fe_state_membuf_sink(); the caller frees buf). */
struct fe_state_membuf {
	uint8_t *buf;
	size_t len;
	size_t cap;
};

/* A fe_state_sink_fn appending to a struct fe_state_membuf, up to 256 MiB (-EFBIG). */
int fe_state_membuf_sink(void *opaque, const void *buf, size_t len);

/* What is left of a buffer a load reads (fe_state_cursor_source()). */
struct fe_state_cursor {
	const uint8_t *p;
	size_t left;
};

/* A fe_state_source_fn reading a struct fe_state_cursor to its end. */
ssize_t fe_state_cursor_source(void *opaque, void *buf, size_t len);

/**
 * fe_state_save_buf() - save into a malloc'd buffer
 * @vu:		the connection
 * @buf:	out: the state, the caller frees it; NULL on failure, and may be
 *		NULL for an empty state
 * @len:	out: its size; 0 on failure
 * @res:	out: what happened (may be NULL)
 *
 * Return: as fe_state_save(); -EFBIG for a state over 256 MiB, -ENOMEM.
 */
int fe_state_save_buf(struct fe_vu *vu, uint8_t **buf, size_t *len, struct fe_state_res *res);

/**
 * fe_state_load_buf() - load @len bytes from @buf
 * @vu:		the connection
 * @buf:	the state; stays the caller's
 * @len:	its size
 * @res:	out: what happened (may be NULL)
 *
 * Return: as fe_state_load().
 */
int fe_state_load_buf(struct fe_vu *vu, const void *buf, size_t len, struct fe_state_res *res);

/**
 * fe_state_save_fd() - save into @fd
 * @vu:		the connection
 * @fd:		a blocking fd to write to; not closed
 * @framed:	write QEMU's migration-stream chunks instead of the bare state
 *		bytes, then the zero-length chunk once the save succeeded
 * @res:	out: what happened (may be NULL)
 *
 * Return: as fe_state_save(), with the writes' -errno as the sink's error.
 */
int fe_state_save_fd(struct fe_vu *vu, int fd, bool framed, struct fe_state_res *res);

/**
 * fe_state_load_fd() - load from @fd
 * @vu:		the connection
 * @fd:		a blocking fd to read from; not closed
 * @framed:	read QEMU's migration-stream chunks instead of the bare state
 *		bytes to EOF
 * @res:	out: what happened (may be NULL)
 *
 * A framed load reads up to and including the zero-length chunk and no
 * further.
 * Return: as fe_state_load(), with fe_frame_read()'s errors as the source's
 * when @framed.
 */
int fe_state_load_fd(struct fe_vu *vu, int fd, bool framed, struct fe_state_res *res);

/**
 * fe_frame_write() - QEMU framing: write @len bytes as chunks of <= 1 MiB
 * @fd:		a blocking fd; not closed
 * @buf:	the payload
 * @len:	its size; 0 writes nothing (a zero-length chunk would end the stream)
 *
 * Return: 0 or -errno.
 */
int fe_frame_write(int fd, const void *buf, size_t len);

/**
 * fe_frame_write_end() - the zero-length chunk that ends a stream
 * @fd:		a blocking fd; not closed
 *
 * Return: 0 or -errno.
 */
int fe_frame_write_end(int fd);

/* QEMU framing: reader, one stream at a time. */
struct fe_frame_reader {
	int fd;			/* not owned */
	uint32_t left;		/* bytes of the current chunk not read yet */
	bool ended;		/* the zero-length chunk was read */
};

/**
 * fe_frame_reader_init() - start reading a stream at a chunk header
 * @r:		the reader
 * @fd:		the stream; the reader does not own or close it
 */
void fe_frame_reader_init(struct fe_frame_reader *r, int fd);

/**
 * fe_frame_read() - next payload bytes of the stream
 * @r:		the reader
 * @buf:	out: payload bytes, never more than one chunk's
 * @len:	room in @buf
 *
 * Return: a count (> 0), 0 once the zero-length chunk was read (or for a
 * @len of 0), -EMSGSIZE for a chunk larger than FE_STATE_CHUNK_MAX,
 * -EBADMSG when the stream ends inside a chunk or before its zero-length
 * chunk, or -errno.
 */
ssize_t fe_frame_read(struct fe_frame_reader *r, void *buf, size_t len);

/* Times of one fe_blk_migrate(), in microseconds. */
struct fe_migrate_times {
	uint64_t suspend_us;	/* GET_VRING_BASE on every source ring */
	uint64_t save_us;	/* the whole save on the source (fe_state_res.total_us) */
	uint64_t transfer_us;	/* moving bytes through both pipes (part of save and load) */
	uint64_t load_us;	/* the whole load on the destination */
	uint64_t resume_us;	/* the rings set up and started on the destination */
	uint64_t total_us;	/* suspend to resume: the downtime */
	uint64_t bytes;		/* state size */
	struct fe_state_res save;
	struct fe_state_res load;
};

/**
 * fe_blk_migrate() - move a running device from @src to @dst
 * @src:	the running source
 * @dst:	opened with fe_blk_open_peer() on @src
 * @t:		filled as far as the migration went (may be NULL)
 *
 * vhost-user only: the state moves over @src's and @dst's connections. Over
 * vhost-vdpa it moves through vblkd's control sockets (fe_ctl.h), and the
 * client re-attaches with fe_blk_open_vdpa_peer().
 *
 * fe_blk_suspend(@src), save its state, load it into @dst, fe_blk_adopt(),
 * fe_blk_resume(@dst). On failure before the load succeeded, @src still owns
 * the rings, suspended: fe_blk_resume(@src) carries on there.
 * Return: 0 or -errno (-EREMOTEIO: a back-end refused, see @t->save/@t->load).
 */
int fe_blk_migrate(struct fe_blk *src, struct fe_blk *dst, struct fe_migrate_times *t);

#endif
