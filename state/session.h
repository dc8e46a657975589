/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One device-state transfer (vhost-user.rst "Migrating back-end state"):
 * its direction, phase, pipe, abort, result, and the connection that owns
 * it. The bytes move on a thread of their own so that the caller's message
 * loop keeps answering. The session knows nothing of devices or transports:
 * a save sends a blob the caller serialised; a load decodes into whatever
 * the caller's section callback stages, and the caller applies it once
 * state_session_wait() reports success.
 */
#ifndef VB_STATE_SESSION_H
#define VB_STATE_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "state/state.h"

/* How long CHECK waits for bytes still moving: it comes after the peer finished its side. */
#define STATE_SESSION_CHECK_WAIT_MS 2000

struct state_session {
	bool active; /* thread started and not joined yet */
	pthread_t thread;
	int fd;
	int abort_fd;
	int interrupt_fd; /* not owned; readable: CHECK stops waiting (a stop signal), or -1 */
	uint32_t direction; /* 0 save, 1 load */
	uint64_t owner; /* the connection that started it */
	struct state_writer w; /* save: the serialised device */
	struct state_reader r; /* load */
	/* load: after a verified trailer, whether every mandatory section came */
	int (*load_check)(const void *load);
	void *load; /* the caller's staging area, freed by load_free */
	void (*load_free)(void *load);
	enum state_err result; /* written by the thread before it ends */
	enum state_err last_result; /* what CHECK reports when no transfer runs */
	uint64_t last_owner;
};

/**
 * state_session_init() - no transfer, CHECK reports STATE_E_INCOMPLETE
 * @s:		the session
 */
void state_session_init(struct state_session *s);

/**
 * state_session_save_take_fd() - send the blob in s->w through @fd
 * @s:		the session; s->w holds a finished blob (state_write_trailer())
 * @fd:		the pipe's write end; always consumed
 * @owner:	the connection that asked
 *
 * A transfer still in progress is aborted first: a new one replaces it.
 * Return: STATE_OK, or STATE_E_IO when the transfer cannot start (then
 * recorded as the result CHECK reports).
 */
enum state_err state_session_save_take_fd(struct state_session *s, int fd, uint64_t owner);

/**
 * state_session_load_take_fd() - receive a blob from @fd into the caller's staging
 * @s:		the session
 * @fd:		the pipe's read end; always consumed
 * @owner:	the connection that asked
 * @device_type: the device type the blob must carry
 * @on_section:	decodes each section into @load
 * @load_check:	after the trailer: whether @load is complete
 * @load_free:	frees @load when the session ends
 * @load:	the staging area; owned by the session from here on, freed
 *		with @load_free also when this fails
 *
 * A transfer still in progress is aborted first: a new one replaces it.
 * Return: STATE_OK, or STATE_E_IO when the transfer cannot start (then
 * recorded as the result CHECK reports).
 */
enum state_err state_session_load_take_fd(struct state_session *s, int fd, uint64_t owner,
			       uint32_t device_type, state_section_fn on_section,
			       int (*load_check)(const void *load),
			       void (*load_free)(void *load), void *load);

/**
 * state_session_refuse() - record a transfer refused before it started
 * @s:		the session
 * @owner:	the connection that asked
 * @err:	the enum state_err CHECK will report
 */
void state_session_refuse(struct state_session *s, uint64_t owner, enum state_err err);

/**
 * state_session_wait() - CHECK: wait for @owner's transfer to end
 * @s:		the session
 * @owner:	the connection that asks
 *
 * Waits at most STATE_SESSION_CHECK_WAIT_MS, or until s->interrupt_fd is
 * readable; a transfer still moving then is aborted. Call it with no lock held. The session stays open on success
 * of a load, so that the caller can apply s->load, then state_session_end().
 * Return: the enum state_err of the transfer (STATE_E_INCOMPLETE when it
 * was aborted for taking too long); with no transfer running, the result
 * last recorded for @owner; STATE_E_INCOMPLETE to a connection that started
 * no transfer.
 */
enum state_err state_session_wait(struct state_session *s, uint64_t owner);

/**
 * state_session_end() - record the final result, free the transfer
 * @s:		the session
 * @result:	what later CHECKs report
 *
 * A transfer still moving is aborted and its thread joined first.
 */
void state_session_end(struct state_session *s, enum state_err result);

/**
 * state_session_abort() - stop a transfer in progress
 * @s:		the session
 * @owner:	abort only the transfer this connection started; 0: any
 */
void state_session_abort(struct state_session *s, uint64_t owner);

#endif
