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
 * Every function returns 0 or -errno.
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

/*
 * fe_vdpa_open() - open @path, SET_OWNER, negotiate backend features and read
 * what the device offers
 *
 * Acks IOTLB_MSG_V2 (required), and IOTLB_BATCH, SUSPEND and RESUME when
 * offered. On failure the device is closed again.
 */
int fe_vdpa_open(struct fe_vdpa *v, const char *path);
/* Close the device; the kernel resets it (status 0). */
void fe_vdpa_close(struct fe_vdpa *v);

/* Is VHOST_BACKEND_F_@bit acked? (vduse/vduse_abi.h has the bits newer than 6.1.) */
static inline bool fe_vdpa_backend_has(const struct fe_vdpa *v, unsigned int bit)
{
	return v->backend_acked & (1ull << bit);
}

/* Status. fe_vdpa_add_status() ORs @bits in and reads back that they stuck (-EIO). */
int fe_vdpa_get_status(struct fe_vdpa *v, uint8_t *status);
int fe_vdpa_set_status(struct fe_vdpa *v, uint8_t status);
int fe_vdpa_add_status(struct fe_vdpa *v, uint8_t bits);
/* Status 0: the device drops rings, features and (without IOTLB_PERSIST) mappings. */
int fe_vdpa_reset(struct fe_vdpa *v);

/**
 * fe_vdpa_negotiate() - ACKNOWLEDGE, DRIVER, SET_FEATURES, FEATURES_OK
 * @want:	device features the caller understands; VERSION_1 and
 *		ACCESS_PLATFORM are added, and missing either is -EPROTO
 * @acked:	out: what SET_FEATURES carried (may be NULL)
 *
 * The device must be freshly reset. -EPROTO too when the device refuses
 * FEATURES_OK.
 */
int fe_vdpa_negotiate(struct fe_vdpa *v, uint64_t want, uint64_t *acked);

/* Config space at @offset; -E2BIG past what the device has. */
int fe_vdpa_get_config(struct fe_vdpa *v, uint32_t offset, void *buf, uint32_t len);

/*
 * IOTLB: map @size bytes at @iova to our @uaddr with @perm (VHOST_ACCESS_*),
 * or drop any mapping in the range.
 */
int fe_vdpa_map(struct fe_vdpa *v, uint64_t iova, uint64_t size, uint64_t uaddr, uint8_t perm);
int fe_vdpa_unmap(struct fe_vdpa *v, uint64_t iova, uint64_t size);

/*
 * Map all of @mem read-write at its gpa, in one batch when IOTLB_BATCH is
 * acked. A second call (after a reset) first drops the previous mapping:
 * vhost-vdpa keeps its IOTLB across a reset and refuses an overlapping
 * update with -EEXIST, while the device may have lost its copy.
 */
int fe_vdpa_map_mem(struct fe_vdpa *v, const struct fe_mem *mem);

/* Rings. Addresses are IOVAs. */
int fe_vdpa_set_vring_num(struct fe_vdpa *v, unsigned int index, unsigned int num);
int fe_vdpa_set_vring_addr(struct fe_vdpa *v, unsigned int index, uint64_t desc,
			   uint64_t avail, uint64_t used);
int fe_vdpa_set_vring_base(struct fe_vdpa *v, unsigned int index, uint16_t base);
/* The device's next avail index; stable only while suspended. */
int fe_vdpa_get_vring_base(struct fe_vdpa *v, unsigned int index, uint16_t *base);
int fe_vdpa_set_vring_kick(struct fe_vdpa *v, unsigned int index, int fd);
int fe_vdpa_set_vring_call(struct fe_vdpa *v, unsigned int index, int fd);
int fe_vdpa_set_vring_enable(struct fe_vdpa *v, unsigned int index, bool enable);

/*
 * VHOST_VDPA_SUSPEND / RESUME: -EOPNOTSUPP unless the backend feature is
 * acked. The kernel answers 0 to a suspend before DRIVER_OK without doing
 * anything, so that is -EINVAL here.
 */
int fe_vdpa_suspend(struct fe_vdpa *v);
int fe_vdpa_resume(struct fe_vdpa *v);

#endif
