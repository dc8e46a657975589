/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A vblkd's back-end state, saved or loaded in one go over a new connection
 * to a socket that offers DEVICE_STATE (a control socket, or a vhost-user
 * socket no front-end holds): for the state host tests and vdpa_test.
 */
#ifndef VB_VD_STATE_H
#define VB_VD_STATE_H

#include <stddef.h>
#include <stdint.h>

/**
 * vd_state_save() - save the back-end's state into a malloc'd *@buf
 * @timeout_ms:	for every reply; 0 keeps fe_vu's default
 * @us:		out: SET_DEVICE_STATE_FD to CHECK_DEVICE_STATE's reply (may be
 *		NULL; left alone when the connection fails)
 *
 * Return: 0, the back-end's refusal (> 0: SET_DEVICE_STATE_FD's error bits,
 * else CHECK_DEVICE_STATE's code), or -errno for a transport failure.
 */
int vd_state_save(const char *sock, int timeout_ms, uint8_t **buf, size_t *len, uint64_t *us);

/* As vd_state_save(), loading the @len bytes at @buf. */
int vd_state_load(const char *sock, int timeout_ms, const void *buf, size_t len, uint64_t *us);

#endif
