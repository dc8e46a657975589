/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Back-ends that bring heavy libraries (libnbd, librbd) are shared modules,
 * loaded only when an image names them (as QEMU loads block-rbd.so): a
 * daemon serving a file never maps those libraries. A module exports one
 * symbol, vb_backend_module, and calls back only the core functions that
 * backends/module-exports.list makes vblkd export; anything else it needs
 * comes from its own libraries.
 */
#ifndef VB_BACKEND_MODULE_H
#define VB_BACKEND_MODULE_H

#include <stdint.h>

#include "backends/backend.h"

/*
 * A module reads and writes struct vb_backend, vb_bio and vb_ring (through
 * inline helpers) directly, so their sizes are part of the ABI: a module
 * built from another tree that changed them is refused, not run. Bump the
 * leading number for a change the sizes do not show.
 */
#define VB_BACKEND_MODULE_SIZES                                                              \
	(sizeof(struct vb_backend) + sizeof(struct vb_bio) + sizeof(struct vb_backend_ops) + \
	 sizeof(struct vb_ring))
#define VB_BACKEND_MODULE_ABI ((uint32_t)(1u << 24 | (VB_BACKEND_MODULE_SIZES & 0xffffffu)))

#define VB_BACKEND_MODULE_SYMBOL "vb_backend_module"

struct vb_backend_module {
	uint32_t abi; /* VB_BACKEND_MODULE_ABI when the module was built */
	const char *name; /* "nbd": what vblkd-backend-nbd.so serves */
	/* As vb_backend_open(), for a spec that names this back-end. */
	int (*open)(struct vb_backend **out, const char *spec, const struct vb_backend_opts *o);
};

/* Modules are built with hidden visibility; this is their one export. */
#define VB_BACKEND_MODULE_EXPORT __attribute__((visibility("default")))

/**
 * vb_backend_module_load() - find, load and check a back-end's module
 * @name:	the back-end, e.g. "nbd" for vblkd-backend-nbd.so
 * @out:	its descriptor; the module stays loaded until exit
 *
 * Looks in $VBLKD_MODULE_DIR, then in the build tree when this program runs
 * from it, then in the install directory; the first that holds the file is
 * used. Loaded once per process; call from one thread (start-up).
 * Return: 0; -ENOENT when no directory holds it, -ELIBACC when it does not
 * load, -ELIBBAD when it is not this build's ABI. One line logged.
 */
int vb_backend_module_load(const char *name, const struct vb_backend_module **out);

#endif
