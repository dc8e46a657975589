// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-blk driver of the test front-end over vhost-vdpa: bring-up, suspend, resume. */
#include <errno.h>
#include <string.h>

#include <linux/virtio_ids.h>

#include "frontend/fe_blk_int.h"
#include "proto/vduse_abi.h"

/*
 * Everything of a bring-up but the rings: features (@need: exactly these,
 * or -EPROTO), config space, guest memory. The device must be reset.
 */
static int fe_blk_vdpa_prepare(struct fe_blk *blk, const uint64_t *need)
{
	struct fe_vdpa *v = &blk->vdpa;
	uint32_t len = sizeof(blk->config);
	uint64_t acked;
	int ret;

	if (v->device_id != VIRTIO_ID_BLOCK)
		return -ENODEV;
	if (fe_blk_opt_queues(&blk->opts) > FE_BLK_MAX_QUEUES)
		return -EINVAL;
	if (fe_blk_opt_queues(&blk->opts) > v->nvqs)
		return -ERANGE;
	if (v->vring_max && fe_blk_opt_qsize(&blk->opts) > v->vring_max)
		return -ERANGE;
	ret = fe_vdpa_negotiate(v, FE_BLK_FEATURES, &acked);
	if (ret)
		return ret;
	if (need && acked != *need)
		return -EPROTO;
	blk->features = acked;

	/* A device may have a shorter config than our headers know. */
	if (v->config_size && v->config_size < len)
		len = v->config_size;
	memset(&blk->config, 0, sizeof(blk->config));
	ret = fe_vdpa_get_config(v, 0, &blk->config, len);
	if (ret)
		return ret;
	return fe_vdpa_map_mem(v, &blk->mem);
}

/* DRIVER_OK, then make sure the device took it and did not give up. */
static int fe_blk_vdpa_driver_ok(struct fe_blk *blk)
{
	uint8_t status;
	int ret;

	ret = fe_vdpa_add_status(&blk->vdpa, VIRTIO_CONFIG_S_DRIVER_OK);
	if (ret)
		return ret;
	ret = fe_vdpa_get_status(&blk->vdpa, &status);
	if (ret)
		return ret;
	if (status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED))
		return -EIO;
	return 0;
}

/* Hand every ring over from its base, keeping the driver's indices. */
static int fe_blk_vdpa_restart_queues(struct fe_blk *blk)
{
	int ret;

	for (unsigned int i = 0; i < blk->num_queues; i++) {
		ret = fe_vq_restart_vdpa(&blk->vqs[i], &blk->vdpa, blk->bases[i],
					 !blk->opts.no_enable);
		if (ret)
			return ret;
	}
	return fe_blk_vdpa_driver_ok(blk);
}

int fe_blk_open_vdpa(struct fe_blk *blk, const char *dev_path, const struct fe_blk_opts *opts)
{
	unsigned int nq, qsize;
	int ret;

	fe_blk_init(blk, opts, &fe_blk_vdpa_ops);
	if (blk->opts.inflight)
		return -EOPNOTSUPP;
	nq = fe_blk_opt_queues(&blk->opts);
	qsize = fe_blk_opt_qsize(&blk->opts);

	ret = fe_mem_init(&blk->mem, fe_blk_opt_mem(&blk->opts), FE_MEM_GPA_BASE);
	if (ret)
		return ret;
	ret = fe_vdpa_open(&blk->vdpa, dev_path);
	if (ret)
		goto err_fini_mem;
	ret = fe_blk_vdpa_prepare(blk, NULL);
	if (ret)
		goto err_close;
	for (unsigned int i = 0; i < nq; i++) {
		ret = fe_vq_init(&blk->vqs[i], &blk->mem, i, qsize);
		if (ret)
			goto err_close;
		blk->num_queues = i + 1;
		ret = fe_vq_setup_vdpa(&blk->vqs[i], &blk->vdpa, 0, !blk->opts.no_enable);
		if (ret)
			goto err_close;
	}
	ret = fe_blk_vdpa_driver_ok(blk);
	if (ret)
		goto err_close;
	return 0;

err_close:
	fe_vdpa_close(&blk->vdpa);
	fe_blk_fini_queues(blk);
err_fini_mem:
	fe_mem_fini(&blk->mem);
	return ret;
}

int fe_blk_open_vdpa_peer(struct fe_blk *dst, const char *dev_path, struct fe_blk *src,
			  const uint16_t *bases)
{
	uint16_t src_bases[FE_BLK_MAX_QUEUES];
	int ret;

	fe_blk_init(dst, &src->opts, &fe_blk_vdpa_ops);
	dst->opts.inflight = false;
	dst->mem = src->mem;
	dst->shared = true;
	if (src->shared || !src->num_queues)
		return -EINVAL;

	ret = fe_vdpa_open(&dst->vdpa, dev_path);
	if (ret)
		goto err_close;
	ret = fe_blk_vdpa_prepare(dst, &src->features);
	if (ret)
		goto err_close;
	if (src->num_queues > dst->vdpa.nvqs) {
		ret = -ERANGE;
		goto err_close;
	}

	memcpy(src_bases, src->bases, sizeof(src_bases));
	fe_blk_adopt(dst, src);
	if (bases)
		memcpy(dst->bases, bases, dst->num_queues * sizeof(*bases));
	ret = fe_blk_vdpa_restart_queues(dst);
	if (ret) {
		fe_blk_adopt(src, dst);
		memcpy(src->bases, src_bases, sizeof(src_bases));
		goto err_close;
	}
	return 0;

err_close:
	fe_blk_close(dst);
	return ret;
}

static int fe_blk_vdpa_suspend(struct fe_blk *blk)
{
	int ret;

	if (fe_vdpa_backend_has(&blk->vdpa, VHOST_BACKEND_F_SUSPEND) && !blk->vdpa.suspended) {
		ret = fe_vdpa_suspend(&blk->vdpa);
		if (ret)
			return ret;
	}
	for (unsigned int i = 0; i < blk->num_queues; i++) {
		ret = fe_vdpa_get_vring_base(&blk->vdpa, i, &blk->bases[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int fe_blk_vdpa_resume(struct fe_blk *blk)
{
	int ret;

	if (blk->vdpa.suspended && fe_vdpa_backend_has(&blk->vdpa, VHOST_BACKEND_F_RESUME))
		return fe_vdpa_resume(&blk->vdpa);
	ret = fe_vdpa_reset(&blk->vdpa);
	if (ret)
		return ret;
	ret = fe_blk_vdpa_prepare(blk, &blk->features);
	if (ret)
		return ret;
	return fe_blk_vdpa_restart_queues(blk);
}

static void fe_blk_vdpa_detach(struct fe_blk *blk)
{
	fe_vdpa_close(&blk->vdpa);
}

const struct fe_blk_ops fe_blk_vdpa_ops = {
	.suspend = fe_blk_vdpa_suspend,
	.resume = fe_blk_vdpa_resume,
	.detach = fe_blk_vdpa_detach,
};
