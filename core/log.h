/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Leveled logging to stderr; a rate-limited variant for guest-triggered events. */
#ifndef VB_LOG_H
#define VB_LOG_H

#include <stdatomic.h>
#include <time.h>

enum vb_log_level { VB_LOG_ERR, VB_LOG_WARN, VB_LOG_INFO, VB_LOG_DEBUG };

extern int vb_log_level;

/**
 * vb_log() - one line to stderr, prefixed with time, device and level
 * @level:	dropped when above vb_log_level
 * @fmt:	printf format
 */
void vb_log(enum vb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * vb_log_level_parse() - a level by name (error, warn, info, debug)
 * @name:	the name, any case
 *
 * Return: the level, or -1 for an unknown name.
 */
int vb_log_level_parse(const char *name);

/**
 * vb_log_set_device() - name the device every later line is about
 * @name:	the device's name (truncated to 63 bytes), or NULL for none
 *
 * Call before any thread starts.
 */
void vb_log_set_device(const char *name);

/**
 * vb_log_context() - name what this thread is handling, in its later lines
 * @context:	e.g. "front-end SET_VRING_NUM"; NULL when done
 *
 * Also restarts the count vb_log_context_errors() reports, so that a
 * dispatcher logs a failure only when the handler did not already say why:
 * one line per failure, naming the message and the device.
 */
void vb_log_context(const char *context);

/**
 * vb_log_context_errors() - errors this thread logged since vb_log_context()
 *
 * Return: the count, also of lines below the log level.
 */
unsigned int vb_log_context_errors(void);

#define vb_err(...) vb_log(VB_LOG_ERR, __VA_ARGS__)
#define vb_warn(...) vb_log(VB_LOG_WARN, __VA_ARGS__)
#define vb_info(...) vb_log(VB_LOG_INFO, __VA_ARGS__)
#define vb_dbg(...)                                   \
	do {                                          \
		if (vb_log_level >= VB_LOG_DEBUG)     \
			vb_log(VB_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

/*
 * Data-plane errors a guest can provoke at will: at most one line per second
 * per call site, so a hostile guest cannot flood the log.
 */
#define vb_err_rl(...)                                                  \
	do {                                                            \
		static _Atomic time_t vb_rl_last_;                      \
		time_t vb_rl_now_ = time(NULL);                         \
		if (atomic_exchange(&vb_rl_last_, vb_rl_now_) != vb_rl_now_) \
			vb_log(VB_LOG_ERR, __VA_ARGS__);                \
	} while (0)

#endif
