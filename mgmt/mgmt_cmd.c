// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The management socket's commands: one JSON request object in, one reply
 * object out (docs/mgmt-protocol.md). json-c parses and prints: every
 * request line is hostile, so a parse failure, a wrong type or an unknown
 * command is an error reply, never more.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_config.h>

#include "core/device.h"
#include "core/log.h"
#include "core/ring_stats.h"
#include "devices/blk/blk_dev.h"
#include "mgmt/mgmt_int.h"

/* Nesting a request may have: it is a flat object. */
#define MGMT_JSON_DEPTH 4

static const char *const counter_names[BLK_CNT_MAX] = {
	[BLK_CNT_READ] = "read",
	[BLK_CNT_WRITE] = "write",
	[BLK_CNT_FLUSH] = "flush",
	[BLK_CNT_DISCARD] = "discard",
	[BLK_CNT_WRITE_ZEROES] = "write_zeroes",
	[BLK_CNT_GET_ID] = "get_id",
	[BLK_CNT_UNSUPP] = "unsupported",
	[BLK_CNT_READ_BYTES] = "read_bytes",
	[BLK_CNT_WRITE_BYTES] = "write_bytes",
	[BLK_CNT_ERRORS] = "errors",
};

struct json_object *mgmt_error(int err, const char *why)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(why));
	json_object_object_add(o, "errno", json_object_new_int(-err));
	return o;
}

static struct json_object *ok_reply(void)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

/*
 * An optional non-negative integer member. Return: 0 (found or not, @given
 * says), or -EINVAL for a member of another type or a negative one.
 */
static int get_u64(struct json_object *req, const char *key, uint64_t *v, bool *given)
{
	struct json_object *o;

	*given = json_object_object_get_ex(req, key, &o);
	if (!*given)
		return 0;
	if (!json_object_is_type(o, json_type_int))
		return -EINVAL;
	errno = 0;
	if (json_object_get_int64(o) < 0)
		return -EINVAL;
	*v = json_object_get_uint64(o);
	return errno ? -EINVAL : 0;
}

/* Whether a driver is there: the transport knows, or a driver set DRIVER_OK. Device locked. */
static bool mgmt_connected(struct mgmt_server_state *st)
{
	if (st->ops.connected)
		return st->ops.connected(st->ops.opaque);
	return vb_dev_status(blk_dev_vdev(st->blk)) & VIRTIO_CONFIG_S_DRIVER_OK;
}

static struct json_object *cmd_status(struct mgmt_server_state *st, struct json_object *req)
{
	struct vb_device *d = blk_dev_vdev(st->blk);
	struct json_object *o = ok_reply(), *dev = json_object_new_object();
	struct json_object *queues = json_object_new_array();
	char features[32];

	if (!o || !dev || !queues) {
		json_object_put(o);
		json_object_put(dev);
		json_object_put(queues);
		return NULL;
	}
	json_object_object_add(o, "transport",
			       json_object_new_string(st->ops.transport ? st->ops.transport : "?"));
	vb_dev_lock(d);
	json_object_object_add(dev, "type", json_object_new_string("virtio-blk"));
	json_object_object_add(dev, "image", json_object_new_string(st->blk->opts.image));
	add_u64(dev, "capacity_bytes", st->blk->limits.capacity * 512);
	add_u64(dev, "logical_block_size", (uint64_t)st->blk->limits.lbs_sectors * 512);
	add_bool(dev, "read_only", st->blk->limits.read_only);
	add_u64(dev, "num_queues", d->num_queues);
	add_u64(dev, "max_queue_size", d->queue_size);
	snprintf(features, sizeof(features), "0x%016llx", (unsigned long long)d->features);
	json_object_object_add(o, "features", json_object_new_string(features));
	add_u64(o, "driver_status", vb_dev_status(d));
	for (unsigned int i = 0; i < d->num_queues; i++) {
		struct vb_ring *r = &d->rings[i];
		struct json_object *q = json_object_new_object();

		if (!q)
			continue;
		add_u64(q, "index", i);
		add_u64(q, "size", r->num);
		add_bool(q, "started", vb_ring_is_started(r));
		add_bool(q, "enabled", atomic_load(&r->enabled));
		add_bool(q, "broken", atomic_load(&r->broken));
		add_u64(q, "avail_idx", vb_ring_avail_idx(r));
		json_object_array_add(queues, q);
	}
	add_bool(o, "suspended", vb_dev_suspended(d));
	add_bool(o, "frontend_connected", mgmt_connected(st));
	vb_dev_unlock(d);
	json_object_object_add(o, "device", dev);
	json_object_object_add(o, "queues", queues);
	add_bool(o, "mgmt_suspended", st->suspended);
	return o;
}

static struct json_object *queue_stats(struct mgmt_server_state *st, unsigned int q)
{
	struct vb_ring *r = &blk_dev_vdev(st->blk)->rings[q];
	struct json_object *o = json_object_new_object(), *lat = json_object_new_array();
	struct vb_ring_stats_snap s;

	if (!o || !lat) {
		json_object_put(o);
		json_object_put(lat);
		return NULL;
	}
	vb_ring_stats_read(&r->stats, &s);
	add_u64(o, "index", q);
	add_u64(o, "requests", s.completed);
	add_u64(o, "in_flight", s.started - s.completed - s.carried);
	add_u64(o, "carried", s.carried);
	for (int c = 0; c < BLK_CNT_MAX; c++)
		add_u64(o, counter_names[c],
			atomic_load_explicit(&st->blk->counters[q][c], memory_order_relaxed));
	add_u64(o, "latency_us_sum", s.lat_us_sum);
	for (unsigned int b = 0; b < VB_LAT_BUCKETS; b++)
		json_object_array_add(lat, json_object_new_uint64(s.lat[b]));
	json_object_object_add(o, "latency_log2_us", lat);
	return o;
}

static struct json_object *cmd_stats(struct mgmt_server_state *st, struct json_object *req)
{
	struct json_object *o = ok_reply(), *queues = json_object_new_array();
	struct json_object *total = json_object_new_object();
	uint64_t sum[BLK_CNT_MAX];

	if (!o || !queues || !total) {
		json_object_put(o);
		json_object_put(queues);
		json_object_put(total);
		return NULL;
	}
	for (unsigned int q = 0; q < blk_dev_vdev(st->blk)->num_queues; q++)
		json_object_array_add(queues, queue_stats(st, q));
	/* Totals include what a loaded state carried from the source. */
	blk_dev_counters(st->blk, sum);
	for (int c = 0; c < BLK_CNT_MAX; c++)
		add_u64(total, counter_names[c], sum[c]);
	json_object_object_add(o, "queues", queues);
	json_object_object_add(o, "total", total);
	return o;
}

/* "mode": "drain" or "capture"; absent: the daemon's --suspend-mode. */
static int parse_mode(struct mgmt_server_state *st, struct json_object *req,
		      enum vb_suspend_mode *mode)
{
	struct json_object *m;
	const char *s;

	*mode = blk_dev_vdev(st->blk)->suspend_mode;
	if (!json_object_object_get_ex(req, "mode", &m))
		return 0;
	if (!json_object_is_type(m, json_type_string))
		return -EINVAL;
	s = json_object_get_string(m);
	if (!strcmp(s, "drain"))
		*mode = VB_SUSPEND_DRAIN;
	else if (!strcmp(s, "capture"))
		*mode = VB_SUSPEND_CAPTURE;
	else
		return -EINVAL;
	return 0;
}

static struct json_object *cmd_suspend(struct mgmt_server_state *st, struct json_object *req)
{
	struct vb_device *d = blk_dev_vdev(st->blk);
	struct json_object *o, *bases;
	enum vb_suspend_mode mode;
	uint16_t base[VB_MAX_QUEUES];
	int ret = 0;

	if (parse_mode(st, req, &mode))
		return mgmt_error(-EINVAL, "mode: \"drain\" or \"capture\"");
	if (st->suspended)
		return mgmt_error(-EALREADY, "already suspended by the management socket");
	if (st->ops.ring_stop) {
		/* Every ring is held, started or not: none may start until resume. */
		for (unsigned int i = 0; i < d->num_queues && !ret; i++)
			ret = st->ops.ring_stop(st->ops.opaque, i, mode, &base[i]);
		st->suspended_mask = (1u << d->num_queues) - 1;
	} else {
		vb_dev_lock(d);
		st->suspended_mask = vb_dev_suspend(d, mode);
		for (unsigned int i = 0; i < d->num_queues; i++)
			base[i] = vb_ring_avail_idx(&d->rings[i]);
		vb_dev_unlock(d);
	}
	st->suspended = true;
	if (ret)
		return mgmt_error(ret, "stopping a ring failed; resume restarts the others");
	vb_info("suspended by the management socket (%s)",
		mode == VB_SUSPEND_CAPTURE ? "capture" : "drain");
	o = ok_reply();
	bases = json_object_new_array();
	if (!o || !bases) {
		json_object_put(o);
		json_object_put(bases);
		return NULL;
	}
	for (unsigned int i = 0; i < d->num_queues; i++)
		json_object_array_add(bases, json_object_new_int(base[i]));
	json_object_object_add(o, "bases", bases);
	json_object_object_add(
		o, "mode",
		json_object_new_string(mode == VB_SUSPEND_CAPTURE ? "capture" : "drain"));
	return o;
}

static struct json_object *cmd_resume(struct mgmt_server_state *st, struct json_object *req)
{
	struct vb_device *d = blk_dev_vdev(st->blk);
	int ret = 0;

	if (!st->suspended)
		return mgmt_error(-EALREADY, "not suspended by the management socket");
	if (st->ops.ring_start) {
		for (unsigned int i = 0; i < d->num_queues; i++) {
			int r = st->ops.ring_start(st->ops.opaque, i);

			ret = ret ?: r;
		}
	} else {
		vb_dev_lock(d);
		ret = vb_dev_resume(d, st->suspended_mask);
		vb_dev_unlock(d);
	}
	st->suspended = false;
	st->suspended_mask = 0;
	if (ret)
		return mgmt_error(ret, "restarting a ring failed");
	vb_info("resumed by the management socket");
	return ok_reply();
}

static struct json_object *cmd_throttle(struct mgmt_server_state *st, struct json_object *req)
{
	struct vb_device *d = blk_dev_vdev(st->blk);
	struct vb_throttle_limits l = { 0 };
	bool gi, gb, gm;
	struct json_object *o;
	int ret;

	if (get_u64(req, "iops", &l.iops, &gi) || get_u64(req, "bps", &l.bps, &gb) ||
	    get_u64(req, "burst_ms", &l.burst_ms, &gm))
		return mgmt_error(-EINVAL, "iops, bps and burst_ms are non-negative integers");
	if (gi || gb || gm) {
		ret = vb_dev_set_throttle(d, &l);
		if (ret)
			return mgmt_error(ret, ret == -EINVAL ? "burst_ms is at most 60000" :
								"this device has no throttle");
		vb_info("throttle now %llu IOPS, %llu B/s, burst %llu ms (management socket)",
			(unsigned long long)l.iops, (unsigned long long)l.bps,
			(unsigned long long)l.burst_ms);
	}
	vb_dev_get_throttle(d, &l);
	o = ok_reply();
	if (!o)
		return NULL;
	add_u64(o, "iops", l.iops);
	add_u64(o, "bps", l.bps);
	add_u64(o, "burst_ms", l.burst_ms);
	add_u64(o, "throttled", l.throttled);
	add_u64(o, "throttled_us", l.throttled_us);
	return o;
}

static struct json_object *cmd_resize(struct mgmt_server_state *st, struct json_object *req)
{
	struct vb_device *d = blk_dev_vdev(st->blk);
	struct json_object *o;
	uint64_t size = 0;
	bool given;
	int ret, nret = -EOPNOTSUPP;

	if (get_u64(req, "size", &size, &given) || !given)
		return mgmt_error(-EINVAL, "resize needs \"size\": the new size in bytes");
	vb_dev_lock(d);
	ret = blk_dev_resize(st->blk, size);
	vb_dev_unlock(d);
	if (ret == -EINVAL)
		return mgmt_error(ret,
				  "size must be a non-zero multiple of the logical block size");
	if (ret)
		return mgmt_error(ret, ret == -ENOSPC ? "larger than the block device" :
				       ret == -EROFS  ? "the image is read-only" :
							strerror(-ret));
	if (st->ops.config_changed)
		nret = st->ops.config_changed(st->ops.opaque);
	o = ok_reply();
	if (!o)
		return NULL;
	add_u64(o, "capacity_bytes", size);
	add_bool(o, "notified", !nret);
	if (nret)
		json_object_object_add(o, "notify_error",
				       json_object_new_string(nret == -ENOTCONN ?
								      "no driver to notify" :
								      strerror(-nret)));
	return o;
}

static const struct {
	const char *name;
	struct json_object *(*run)(struct mgmt_server_state *st, struct json_object *req);
} commands[] = {
	{ "status", cmd_status }, { "stats", cmd_stats },	{ "suspend", cmd_suspend },
	{ "resume", cmd_resume }, { "throttle", cmd_throttle }, { "resize", cmd_resize },
};

struct json_object *mgmt_cmd_run(struct mgmt_server_state *st, const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(MGMT_JSON_DEPTH);
	struct json_object *req, *cmd, *reply, *id = NULL;
	const char *name;

	if (!tok)
		return NULL;
	req = json_tokener_parse_ex(tok, line, (int)len);
	if (!req || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len) {
		reply = mgmt_error(-EINVAL, "not one JSON object");
		goto out;
	}
	if (!json_object_is_type(req, json_type_object)) {
		reply = mgmt_error(-EINVAL, "a request is a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		reply = mgmt_error(-EINVAL, "a request names its \"cmd\"");
		goto out;
	}
	name = json_object_get_string(cmd);
	reply = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name)) {
			reply = commands[i].run(st, req);
			if (!reply)
				reply = mgmt_error(-ENOMEM, "out of memory");
			break;
		}
	if (!reply)
		reply = mgmt_error(-EOPNOTSUPP, "unknown command");
	if (!reply)
		goto out;
	/* A client may tag its requests: the reply carries the tag back. */
	if (json_object_object_get_ex(req, "id", &id))
		json_object_object_add(reply, "id", json_object_get(id));
out:
	json_object_put(req);
	json_tokener_free(tok);
	return reply;
}
