/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-vdpa client: the VMM side of /dev/vhost-vdpa-N. One open device,
 * typed helpers for the ioctls a block front-end needs, and IOTLB updates
 * written as struct vhost_msg_v2.
 *
 * IOVAs are guest-physical addresses (fe_mem_gpa()), so ring addresses and
 * descriptor addresses are the same numbers as under vhost-user's memory
 * table, minus the userspace_addr translation. The guest memory must be a
 * shared file mapping (fe_mem's memfd): vhost-vdpa skips anonymous or
 * private ranges of an IOTLB update without an error.
 *
 * Every int function returns 0 or -errno; on a closed device (fd -1) that
 * is -EBADF.
 */
#ifndef VB_FE_VDPA_H
#define VB_FE_VDPA_H

#include <stdbool.h>
#include <stdint.h>

struct fe_mem;

struct fe_vdpa {
	int fd;				/* -1 when closed */
	uint32_t device_id;		/* virtio device id (2: block) */
	uint64_t features;		/* offered by VHOST_GET_FEATURES */
	uint64_t acked;			/* set with VHOST_SET_FEATURES */
	uint64_t backend_offered;	/* VHOST_GET_BACKEND_FEATURES */
	uint64_t backend_acked;		/* VHOST_SET_BACKEND_FEATURES */
	uint32_t nvqs;			/* VHOST_VDPA_GET_VQS_COUNT */
	uint16_t vring_max;		/* VHOST_VDPA_GET_VRING_NUM */
	uint32_t config_size;		/* VHOST_VDPA_GET_CONFIG_SIZE, 0 when unknown */
	uint64_t iova_first;		/* VHOST_VDPA_GET_IOVA_RANGE */
	uint64_t iova_last;
	uint64_t map_iova;		/* what fe_vdpa_map_mem() mapped last */
	uint64_t map_size;		/* 0: nothing */
	bool suspended;			/* by VHOST_VDPA_SUSPEND, until a resume or reset */
};

/**
 * fe_vdpa_open() - open @path, SET_OWNER, negotiate backend features and read
 * what the device offers
 * @v:		filled in from scratch (zeroed first)
 * @path:	the device node, /dev/vhost-vdpa-N
 *
 * Acks IOTLB_MSG_V2 (required), and IOTLB_BATCH, SUSPEND and RESUME when
 * offered. Then reads the device id, features, queue count and maximum ring
 * size; a failing VHOST_VDPA_GET_CONFIG_SIZE or VHOST_VDPA_GET_IOVA_RANGE is
 * taken as no limit (config_size 0, IOVAs 0 to UINT64_MAX). On failure the
 * device is closed again and v->fd is -1.
 * Return: 0, -EPROTO when IOTLB_MSG_V2 is not offered, or the -errno of
 * open() or of an ioctl.
 */
int fe_vdpa_open(struct fe_vdpa *v, const char *path);

/**
 * fe_vdpa_close() - close the device; the kernel resets it (status 0)
 * @v:		the device; already closed is fine
 *
 * Leaves v->fd -1 and forgets the guest memory mapping and the suspended flag.
 */
void fe_vdpa_close(struct fe_vdpa *v);

/**
 * fe_vdpa_backend_has() - whether backend feature @bit was acked
 * @v:		the device
 * @bit:	a VHOST_BACKEND_F_* bit number (proto/vduse_abi.h has the bits
 *		newer than the 6.1 uapi headers)
 *
 * Return: true when @bit is in v->backend_acked.
 */
static inline bool fe_vdpa_backend_has(const struct fe_vdpa *v, unsigned int bit)
{
	return v->backend_acked & (1ull << bit);
}

/**
 * fe_vdpa_get_status() - read the device status (VHOST_VDPA_GET_STATUS)
 * @v:		the device
 * @status:	out: the status byte
 *
 * Return: 0 or -errno.
 */
int fe_vdpa_get_status(struct fe_vdpa *v, uint8_t *status);

/**
 * fe_vdpa_set_status() - write the whole device status (VHOST_VDPA_SET_STATUS)
 * @v:		the device
 * @status:	the new status byte; 0 resets the device
 *
 * Return: 0 or -errno.
 */
int fe_vdpa_set_status(struct fe_vdpa *v, uint8_t status);

/**
 * fe_vdpa_add_status() - OR @bits into the device status
 * @v:		the device
 * @bits:	VIRTIO_CONFIG_S_* bits to add
 *
 * Reads the status, writes it back with @bits, and reads it again to see
 * that they stuck.
 * Return: 0, -EIO when the device did not keep all of @bits, or -errno.
 */
int fe_vdpa_add_status(struct fe_vdpa *v, uint8_t bits);

/**
 * fe_vdpa_reset() - write status 0
 * @v:		the device
 *
 * The device drops rings, features and (without IOTLB_PERSIST, which
 * fe_vdpa_open() does not ack) mappings. Clears v->suspended on success;
 * v->map_size is kept, so the next fe_vdpa_map_mem() drops the old mapping.
 * Return: 0 or -errno.
 */
int fe_vdpa_reset(struct fe_vdpa *v);

/**
 * fe_vdpa_negotiate() - ACKNOWLEDGE, DRIVER, SET_FEATURES, FEATURES_OK
 * @v:		the device
 * @want:	device features the caller understands; VERSION_1 and
 *		ACCESS_PLATFORM are added, and missing either is -EPROTO
 * @acked:	out: what SET_FEATURES carried (may be NULL)
 *
 * The device must be freshly reset. -EPROTO too when the device refuses
 * FEATURES_OK.
 * Return: 0, -EPROTO, -EIO when ACKNOWLEDGE or DRIVER did not stick, or
 * another -errno.
 */
int fe_vdpa_negotiate(struct fe_vdpa *v, uint64_t want, uint64_t *acked);

/**
 * fe_vdpa_get_config() - read device config space (VHOST_VDPA_GET_CONFIG)
 * @v:		the device
 * @offset:	byte offset into the config space
 * @buf:	out: @len bytes, written only on success
 * @len:	1 to 4096 bytes
 *
 * Return: 0, -EINVAL for a @len of 0 or over 4096, -E2BIG past what the
 * device has (checked only when v->config_size is known), -ENOMEM, or the
 * ioctl's -errno.
 */
int fe_vdpa_get_config(struct fe_vdpa *v, uint32_t offset, void *buf, uint32_t len);

/**
 * fe_vdpa_map() - IOTLB: map @size bytes at @iova to our @uaddr
 * @v:		the device
 * @iova:	first IOVA
 * @size:	bytes, not 0
 * @uaddr:	our virtual address of the first byte
 * @perm:	VHOST_ACCESS_*
 *
 * Writes one VHOST_IOTLB_UPDATE message. Does not touch v->map_iova or
 * v->map_size; only fe_vdpa_map_mem() tracks what it mapped.
 * Return: 0, -EINVAL for a @size of 0 or a range that wraps, -ERANGE outside
 * the device's IOVA range, -EIO for a short write, or the write's -errno.
 */
int fe_vdpa_map(struct fe_vdpa *v, uint64_t iova, uint64_t size, uint64_t uaddr, uint8_t perm);

/**
 * fe_vdpa_unmap() - IOTLB: drop any mapping in @size bytes at @iova
 * @v:		the device
 * @iova:	first IOVA
 * @size:	bytes, not 0
 *
 * Writes one VHOST_IOTLB_INVALIDATE message; the device's IOVA range is not
 * checked.
 * Return: 0, -EINVAL for a @size of 0 or a range that wraps, -EIO for a
 * short write, or the write's -errno.
 */
int fe_vdpa_unmap(struct fe_vdpa *v, uint64_t iova, uint64_t size);

/**
 * fe_vdpa_map_mem() - map all of @mem read-write at its gpa
 * @v:		the device
 * @mem:	the guest memory
 *
 * In one batch when IOTLB_BATCH is acked. A second call (after a reset)
 * first drops the previous mapping: vhost-vdpa keeps its IOTLB across a
 * reset and refuses an overlapping update with -EEXIST, while the device may
 * have lost its copy. A started batch is ended even after a failure.
 * Return: 0, -EINVAL or -ERANGE for a range fe_vdpa_map() refuses (nothing
 * is sent then), or the first -errno of the IOTLB messages.
 */
int fe_vdpa_map_mem(struct fe_vdpa *v, const struct fe_mem *mem);

/**
 * fe_vdpa_set_vring_num() - set a ring's size (VHOST_SET_VRING_NUM)
 * @v:		the device
 * @index:	queue index
 * @num:	ring size
 *
 * Return: 0, -ERANGE above v->vring_max (when known), or -errno.
 */
int fe_vdpa_set_vring_num(struct fe_vdpa *v, unsigned int index, unsigned int num);

/**
 * fe_vdpa_set_vring_addr() - set a ring's addresses (VHOST_SET_VRING_ADDR)
 * @v:		the device
 * @index:	queue index
 * @desc:	IOVA of the descriptor table
 * @avail:	IOVA of the avail ring
 * @used:	IOVA of the used ring
 *
 * Return: 0 or -errno.
 */
int fe_vdpa_set_vring_addr(struct fe_vdpa *v, unsigned int index, uint64_t desc,
			   uint64_t avail, uint64_t used);

/**
 * fe_vdpa_set_vring_base() - set a ring's next avail index (VHOST_SET_VRING_BASE)
 * @v:		the device
 * @index:	queue index
 * @base:	the avail index the device starts at
 *
 * Return: 0 or -errno.
 */
int fe_vdpa_set_vring_base(struct fe_vdpa *v, unsigned int index, uint16_t base);

/**
 * fe_vdpa_get_vring_base() - the device's next avail index (VHOST_GET_VRING_BASE)
 * @v:		the device
 * @index:	queue index
 * @base:	out: the index
 *
 * Stable only while suspended.
 * Return: 0, -EPROTO when the kernel answers for another index or with a
 * value over 16 bits, or -errno.
 */
int fe_vdpa_get_vring_base(struct fe_vdpa *v, unsigned int index, uint16_t *base);

/**
 * fe_vdpa_set_vring_kick() - set a ring's kick eventfd (VHOST_SET_VRING_KICK)
 * @v:		the device
 * @index:	queue index
 * @fd:		the eventfd; not consumed, the caller still closes it
 *
 * Return: 0 or -errno.
 */
int fe_vdpa_set_vring_kick(struct fe_vdpa *v, unsigned int index, int fd);

/**
 * fe_vdpa_set_vring_call() - set a ring's call eventfd (VHOST_SET_VRING_CALL)
 * @v:		the device
 * @index:	queue index
 * @fd:		the eventfd; not consumed, the caller still closes it
 *
 * Return: 0 or -errno.
 */
int fe_vdpa_set_vring_call(struct fe_vdpa *v, unsigned int index, int fd);

/**
 * fe_vdpa_set_vring_enable() - enable or disable a ring (VHOST_VDPA_SET_VRING_ENABLE)
 * @v:		the device
 * @index:	queue index
 * @enable:	true to enable
 *
 * Return: 0 or -errno.
 */
int fe_vdpa_set_vring_enable(struct fe_vdpa *v, unsigned int index, bool enable);

/**
 * fe_vdpa_suspend() - stop the device (VHOST_VDPA_SUSPEND)
 * @v:		the device
 *
 * Sets v->suspended on success. The kernel answers 0 to a suspend before
 * DRIVER_OK without doing anything, so the status is read first and that is
 * -EINVAL here.
 * Return: 0, -EOPNOTSUPP unless backend feature SUSPEND is acked, -EINVAL
 * without DRIVER_OK, or -errno.
 */
int fe_vdpa_suspend(struct fe_vdpa *v);

/**
 * fe_vdpa_resume() - restart a suspended device (VHOST_VDPA_RESUME)
 * @v:		the device
 *
 * Clears v->suspended on success.
 * Return: 0, -EOPNOTSUPP unless backend feature RESUME is acked, or -errno.
 */
int fe_vdpa_resume(struct fe_vdpa *v);

#endif
