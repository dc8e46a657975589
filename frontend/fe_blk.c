// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-blk driver of the test front-end: bring-up and teardown, the vhost-user transport. */
#include "frontend/fe_blk.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frontend/fe_blk_int.h"

#define FE_BLK_PROTOCOL_FEATURES                                                   \
	(1ull << VHOST_USER_PROTOCOL_F_MQ | 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK | \
	 1ull << VHOST_USER_PROTOCOL_F_CONFIG |                                     \
	 1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD |                             \
	 1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE |                               \
	 1ull << VHOST_USER_PROTOCOL_F_STATUS |                                     \
	 1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE)

static const struct fe_blk_ops fe_blk_vu_ops;

void fe_blk_init(struct fe_blk *blk, const struct fe_blk_opts *opts,
		 const struct fe_blk_ops *ops)
{
	memset(blk, 0, sizeof(*blk));
	blk->vu.sock = -1;
	blk->vdpa.fd = -1;
	blk->inflight_fd = -1;
	blk->ops = ops;
	if (opts)
		blk->opts = *opts;
}

/* A struct fe_blk zeroed by hand, never opened, counts as vhost-user. */
static const struct fe_blk_ops *fe_blk_ops_of(const struct fe_blk *blk)
{
	return blk->ops ? blk->ops : &fe_blk_vu_ops;
}

void fe_blk_fini_queues(struct fe_blk *blk)
{
	for (unsigned int i = 0; i < blk->num_queues; i++)
		fe_vq_fini(&blk->vqs[i]);
	blk->num_queues = 0;
}

static void fe_blk_fini_inflight(struct fe_blk *blk)
{
	if (blk->inflight_va)
		munmap(blk->inflight_va, blk->inflight.mmap_size);
	blk->inflight_va = NULL;
	if (blk->inflight_fd >= 0)
		close(blk->inflight_fd);
	blk->inflight_fd = -1;
}

/* QEMU's order: GET_INFLIGHT_FD, map it, hand it back with SET_INFLIGHT_FD. */
static int fe_blk_init_inflight(struct fe_blk *blk, unsigned int nq, unsigned int qsize)
{
	void *va;
	int ret;

	blk->inflight = (struct vu_inflight){ .num_queues = nq, .queue_size = qsize };
	ret = fe_vu_get_inflight_fd(&blk->vu, &blk->inflight, &blk->inflight_fd);
	if (ret)
		return ret;
	if (!blk->inflight.mmap_size)
		return -EPROTO;
	va = mmap(NULL, blk->inflight.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		  blk->inflight_fd, (off_t)blk->inflight.mmap_offset);
	if (va == MAP_FAILED)
		return -errno;
	blk->inflight_va = va;
	return fe_vu_set_inflight_fd(&blk->vu, &blk->inflight, blk->inflight_fd);
}

/* Give every queue to the back-end: fresh rings, or the kept ones on @resume. */
static int fe_blk_start_queues(struct fe_blk *blk, unsigned int nq, unsigned int qsize,
			       bool resume)
{
	bool enable = !blk->opts.no_enable;
	int ret;

	if (resume) {
		for (unsigned int i = 0; i < blk->num_queues; i++) {
			ret = fe_vq_resume(&blk->vqs[i], &blk->vu, enable);
			if (ret)
				return ret;
		}
		return 0;
	}
	for (unsigned int i = 0; i < nq; i++) {
		ret = fe_vq_init(&blk->vqs[i], &blk->mem, i, qsize);
		if (ret)
			return ret;
		blk->num_queues = i + 1;
		ret = fe_vq_setup(&blk->vqs[i], &blk->vu, 0, enable);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Negotiate, read the config, hand over the in-flight region and guest
 * memory: everything of a bring-up but the rings. With @resume, the
 * in-flight region is the kept one and the features must not change.
 */
static int fe_blk_prepare(struct fe_blk *blk, bool resume)
{
	const struct fe_blk_opts *opts = &blk->opts;
	unsigned int nq = fe_blk_opt_queues(opts);
	unsigned int qsize = fe_blk_opt_qsize(opts);
	uint64_t proto, qnum, acked;
	int ret;

	if (nq > FE_BLK_MAX_QUEUES)
		return -EINVAL;
	ret = fe_vu_negotiate(&blk->vu, FE_BLK_FEATURES & ~opts->drop_features,
			      FE_BLK_PROTOCOL_FEATURES |
				      (opts->capture ? 1ull << VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT :
						       0),
			      &acked);
	if (ret)
		return ret;
	if (resume && acked != blk->features)
		return -EPROTO;
	blk->features = acked;
	proto = blk->vu.protocol_features;

	if (proto & (1ull << VHOST_USER_PROTOCOL_F_MQ)) {
		ret = fe_vu_get_queue_num(&blk->vu, &qnum);
		if (ret)
			return ret;
		if (qnum < nq)
			return -ERANGE;
	}
	if (proto & (1ull << VHOST_USER_PROTOCOL_F_CONFIG)) {
		ret = fe_vu_get_config(&blk->vu, 0, &blk->config, sizeof(blk->config));
		if (ret)
			return ret;
	}
	if (opts->inflight) {
		if (!(proto & (1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)))
			return -EOPNOTSUPP;
		if (resume)
			ret = fe_vu_set_inflight_fd(&blk->vu, &blk->inflight, blk->inflight_fd);
		else
			ret = fe_blk_init_inflight(blk, nq, qsize);
		if (ret)
			return ret;
	}
	return fe_vu_set_mem_table(&blk->vu, &blk->mem);
}

static int fe_blk_driver_ok(struct fe_blk *blk)
{
	if (!(blk->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_STATUS)))
		return 0;
	return fe_vu_set_status(&blk->vu, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					  VIRTIO_CONFIG_S_FEATURES_OK |
					  VIRTIO_CONFIG_S_DRIVER_OK);
}

/*
 * Bring the device up on a connected blk->vu. With @resume, guest memory,
 * rings and the in-flight region are kept from the previous back-end, as
 * QEMU does after a reconnect; the features must not change.
 */
static int fe_blk_start(struct fe_blk *blk, bool resume)
{
	const struct fe_blk_opts *opts = &blk->opts;
	unsigned int nq = fe_blk_opt_queues(opts);
	unsigned int qsize = fe_blk_opt_qsize(opts);
	int ret;

	ret = fe_blk_prepare(blk, resume);
	if (ret)
		return ret;
	ret = fe_blk_start_queues(blk, nq, qsize, resume);
	if (ret)
		return ret;
	return fe_blk_driver_ok(blk);
}

static int fe_blk_connect(struct fe_blk *blk, const char *path)
{
	return fe_vu_connect(&blk->vu, path,
			     blk->opts.connect_wait_ms ? blk->opts.connect_wait_ms : 5000);
}

int fe_blk_open(struct fe_blk *blk, const char *path, const struct fe_blk_opts *opts)
{
	int ret;

	fe_blk_init(blk, opts, &fe_blk_vu_ops);
	ret = fe_mem_init(&blk->mem, fe_blk_opt_mem(&blk->opts), FE_MEM_GPA_BASE);
	if (ret)
		return ret;
	ret = fe_blk_connect(blk, path);
	if (ret)
		goto err_fini_mem;
	ret = fe_blk_start(blk, false);
	if (ret)
		goto err_disconnect;
	return 0;

err_disconnect:
	fe_vu_disconnect(&blk->vu);
	fe_blk_fini_inflight(blk);
	fe_blk_fini_queues(blk);
err_fini_mem:
	fe_mem_fini(&blk->mem);
	return ret;
}

int fe_blk_reconnect(struct fe_blk *blk, const char *path)
{
	int ret;

	fe_vu_disconnect(&blk->vu);
	ret = fe_blk_connect(blk, path);
	if (ret)
		return ret;
	ret = fe_blk_start(blk, true);
	if (ret)
		fe_vu_disconnect(&blk->vu);
	return ret;
}

struct vb_inflight_queue *fe_blk_inflight_queue(struct fe_blk *blk, unsigned int q)
{
	uint64_t per_queue;

	if (!blk->inflight_va || q >= blk->inflight.num_queues)
		return NULL;
	per_queue = blk->inflight.mmap_size / blk->inflight.num_queues;
	return (struct vb_inflight_queue *)((uint8_t *)blk->inflight_va + q * per_queue);
}

void fe_blk_close(struct fe_blk *blk)
{
	fe_blk_ops_of(blk)->detach(blk);
	fe_blk_fini_inflight(blk);
	if (blk->shared) {
		/* Guest memory and rings belong to the peer. */
		blk->num_queues = 0;
		memset(&blk->mem, 0, sizeof(blk->mem));
		blk->mem.fd = -1;
		return;
	}
	fe_blk_fini_queues(blk);
	fe_mem_fini(&blk->mem);
}

int fe_blk_open_peer(struct fe_blk *dst, const char *path, const struct fe_blk *src)
{
	int ret;

	fe_blk_init(dst, &src->opts, &fe_blk_vu_ops);
	dst->mem = src->mem;
	dst->shared = true;

	ret = fe_blk_connect(dst, path);
	if (ret)
		goto err_close;
	ret = fe_blk_prepare(dst, false);
	if (ret)
		goto err_close;
	if (dst->features != src->features) {
		ret = -EPROTO;
		goto err_close;
	}
	return 0;

err_close:
	fe_blk_close(dst);
	return ret;
}

static int fe_blk_vu_suspend(struct fe_blk *blk)
{
	unsigned int base;
	int ret;

	for (unsigned int i = 0; i < blk->num_queues; i++) {
		ret = fe_vu_get_vring_base(&blk->vu, i, &base);
		if (ret)
			return ret;
		blk->bases[i] = (uint16_t)base;
	}
	return 0;
}

static int fe_blk_vu_resume(struct fe_blk *blk)
{
	int ret;

	for (unsigned int i = 0; i < blk->num_queues; i++) {
		ret = fe_vq_restart(&blk->vqs[i], &blk->vu, blk->bases[i],
				    !blk->opts.no_enable);
		if (ret)
			return ret;
	}
	return fe_blk_driver_ok(blk);
}

static void fe_blk_vu_detach(struct fe_blk *blk)
{
	fe_vu_disconnect(&blk->vu);
}

static const struct fe_blk_ops fe_blk_vu_ops = {
	.suspend = fe_blk_vu_suspend,
	.resume = fe_blk_vu_resume,
	.detach = fe_blk_vu_detach,
};

int fe_blk_suspend(struct fe_blk *blk)
{
	return fe_blk_ops_of(blk)->suspend(blk);
}

int fe_blk_resume(struct fe_blk *blk)
{
	return fe_blk_ops_of(blk)->resume(blk);
}

void fe_blk_adopt(struct fe_blk *dst, struct fe_blk *src)
{
	dst->num_queues = src->num_queues;
	for (unsigned int i = 0; i < src->num_queues; i++) {
		dst->vqs[i] = src->vqs[i];
		dst->vqs[i].mem = &dst->mem;
		dst->bases[i] = src->bases[i];
	}
	dst->shared = false;
	src->shared = true;
}

struct fe_vq *fe_blk_vq(struct fe_blk *blk, unsigned int q)
{
	return q < blk->num_queues ? &blk->vqs[q] : NULL;
}
