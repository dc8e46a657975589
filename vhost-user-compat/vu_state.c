// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SET_DEVICE_STATE_FD / CHECK_DEVICE_STATE for any device, on either
 * socket: the device is serialised when a save starts and a load is applied
 * when CHECK succeeds, each with the device's lock held; the bytes move in
 * the state session (state/session.h), with no lock held.
 */
#include <errno.h>
#include <unistd.h>

#include "core/device.h"
#include "core/log.h"
#include "vhost-user-compat/vu_int.h"

/* Serialise the suspended device into the session's writer. */
static enum state_err save_device(struct vu_server *s)
{
	struct vb_device *dev = s->dev;
	enum state_err err = STATE_OK;

	vb_dev_lock(dev);
	if (!vb_dev_suspended(dev)) {
		vb_err("SET_DEVICE_STATE_FD: refused while a ring runs; stop every ring first");
		err = STATE_E_BUSY;
	} else {
		state_writer_init(&s->xfer.w);
		if (dev->ops->save(dev, &s->xfer.w))
			err = STATE_E_IO;
	}
	vb_dev_unlock(dev);
	return err;
}

enum state_err vu_state_start_take_fd(struct vu_server *s, const struct vu_conn *c, uint32_t direction,
			   uint32_t phase, int fd)
{
	struct vb_device *dev = s->dev;
	void *load;
	enum state_err err;

	state_session_abort(&s->xfer, 0); /* a new transfer replaces the old one */
	if (!dev->ops->save) {
		vb_err("SET_DEVICE_STATE_FD: this device has no state to transfer");
		err = STATE_E_DEVICE;
		goto err_close;
	}
	if (phase != 0 || direction > 1) {
		vb_err("SET_DEVICE_STATE_FD: direction %u phase %u is not supported", direction,
		       phase);
		err = STATE_E_PHASE;
		goto err_close;
	}
	if (direction == 0) {
		err = save_device(s);
		if (err)
			goto err_close;
		err = state_session_save_take_fd(&s->xfer, fd, c->id);
		if (!err)
			vb_info("device-state save started: %zu bytes", s->xfer.w.len);
		return err;
	}
	if (!vb_dev_suspended(dev)) {
		vb_err("SET_DEVICE_STATE_FD: refused while a ring runs; stop every ring first");
		err = STATE_E_BUSY;
		goto err_close;
	}
	load = dev->ops->load_new(dev);
	if (!load) {
		err = STATE_E_IO;
		goto err_close;
	}
	err = state_session_load_take_fd(&s->xfer, fd, c->id, dev->ops->type,
					 dev->ops->load_section, dev->ops->load_check,
					 dev->ops->load_free, load);
	if (!err)
		vb_info("device-state load started");
	return err;

err_close:
	close(fd);
	state_session_refuse(&s->xfer, c->id, err);
	return err;
}

/* Apply a verified load to the device, if it is still suspended. */
static enum state_err apply_load(struct vu_server *s)
{
	struct vb_device *dev = s->dev;
	uint64_t foreign = dev->ops->load_features(s->xfer.load) & ~vu_offered_features(s);
	enum state_err err = STATE_OK;

	if (foreign) {
		vb_err("state: features 0x%llx were never offered by this device",
		       (unsigned long long)foreign);
		return STATE_E_CONTENT;
	}
	vb_dev_lock(dev);
	if (!vb_dev_suspended(dev)) {
		err = STATE_E_BUSY; /* a ring started meanwhile: nothing applied */
	} else {
		dev->ops->apply(dev, s->xfer.load);
		s->features = dev->features;
	}
	vb_dev_unlock(dev);
	return err;
}

enum state_err vu_state_check(struct vu_server *s, const struct vu_conn *c)
{
	enum state_err result = state_session_wait(&s->xfer, c->id);

	if (result != STATE_OK || !s->xfer.load)
		return result; /* a save, or a failure: the session recorded it */
	result = apply_load(s);
	state_session_end(&s->xfer, result);
	return result;
}
