/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VB_VU_HANDLERS_H
#define VB_VU_HANDLERS_H

#include "vhost-user-compat/vu_server.h"

/* X(message, handler, most fds it may carry) for every message vblkd serves. */
#define VU_HANDLER_LIST(X)                                        \
	X(GET_FEATURES, vu_get_features, 0)                       \
	X(SET_FEATURES, vu_set_features, 0)                       \
	X(SET_OWNER, vu_set_owner, 0)                             \
	X(RESET_OWNER, vu_reset_owner, 0)                         \
	X(SET_MEM_TABLE, vu_set_mem_table, VU_MAX_MEM_REGIONS)    \
	X(SET_LOG_BASE, vu_set_log_base, 1)                       \
	X(SET_LOG_FD, vu_set_log_fd, 1)                           \
	X(SET_VRING_NUM, vu_set_vring_num, 0)                     \
	X(SET_VRING_ADDR, vu_set_vring_addr, 0)                   \
	X(SET_VRING_BASE, vu_set_vring_base, 0)                   \
	X(GET_VRING_BASE, vu_get_vring_base, 0)                   \
	X(SET_VRING_KICK, vu_set_vring_kick, 1)                   \
	X(SET_VRING_CALL, vu_set_vring_call, 1)                   \
	X(SET_VRING_ERR, vu_set_vring_err, 1)                     \
	X(GET_PROTOCOL_FEATURES, vu_get_protocol_features, 0)     \
	X(SET_PROTOCOL_FEATURES, vu_set_protocol_features, 0)     \
	X(GET_QUEUE_NUM, vu_get_queue_num, 0)                     \
	X(SET_VRING_ENABLE, vu_set_vring_enable, 0)               \
	X(GET_CONFIG, vu_get_config, 0)                           \
	X(SET_CONFIG, vu_set_config, 0)                           \
	X(GET_INFLIGHT_FD, vu_get_inflight_fd, 0)                 \
	X(SET_INFLIGHT_FD, vu_set_inflight_fd, 1)                 \
	X(RESET_DEVICE, vu_reset_device, 0)                       \
	X(GET_MAX_MEM_SLOTS, vu_get_max_mem_slots, 0)             \
	X(ADD_MEM_REG, vu_add_mem_reg, 1)                         \
	X(REM_MEM_REG, vu_rem_mem_reg, 1)                         \
	X(SET_STATUS, vu_set_status, 0)                           \
	X(GET_STATUS, vu_get_status, 0)                           \
	X(SET_DEVICE_STATE_FD, vu_set_device_state_fd, 1)         \
	X(CHECK_DEVICE_STATE, vu_check_device_state, 0)

/* What the control socket serves: the device-state subset. */
#define VU_CONTROL_LIST(X)                \
	X(GET_FEATURES)                   \
	X(GET_PROTOCOL_FEATURES)          \
	X(SET_PROTOCOL_FEATURES)          \
	X(SET_DEVICE_STATE_FD)            \
	X(CHECK_DEVICE_STATE)

#define VU_DECLARE(name, fn, nfds) int fn(struct vu_dev *d, struct vu_msg *m);
VU_HANDLER_LIST(VU_DECLARE)
#undef VU_DECLARE

#endif
