// SPDX-License-Identifier: GPL-2.0-or-later
/* Finding and loading a back-end's shared module (backends/backend_module.h). */
#include "backends/backend_module.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/module_dirs.h"
#include "core/log.h"

/*
 * A program of the build tree (build/vblkd, not yet installed) takes the
 * build tree's modules; an installed one never does, even when the tree it
 * was built in is still there.
 */
static bool in_build_tree(void)
{
	char exe[PATH_MAX], root[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len;

	if (n <= 0 || !realpath(VB_BUILD_ROOT, root))
		return false;
	exe[n] = '\0';
	len = strlen(root);
	return !strncmp(exe, root, len) && exe[len] == '/';
}

/* dlerror() names the file too; the line names it once. */
static const char *why(const char *path)
{
	const char *e = dlerror();
	size_t n = strlen(path);

	if (!e)
		return "unknown error";
	return !strncmp(e, path, n) && !strncmp(e + n, ": ", 2) ? e + n + 2 : e;
}

int vb_backend_module_load(const char *name, const struct vb_backend_module **out)
{
	const char *env = secure_getenv("VBLKD_MODULE_DIR");
	const char *dirs[3];
	unsigned int n = 0, i;
	char path[PATH_MAX];
	const struct vb_backend_module *m;
	void *h;

	if (env && *env)
		dirs[n++] = env;
	if (in_build_tree())
		dirs[n++] = VB_BUILD_MODULE_DIR;
	dirs[n++] = VB_MODULE_DIR;
	/* The first directory that holds it; the last one when none does, for dlerror(). */
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/vblkd-backend-%s.so", dirs[i], name) >=
		    sizeof(path))
			continue;
		if (i == n - 1 || !access(path, F_OK))
			break;
	}
	if (i == n) {
		vb_err("%s back-end: module directory name too long", name);
		return -ENAMETOOLONG;
	}
	/* Bound now: a missing symbol fails here, not at the first I/O. */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		bool missing = access(path, F_OK) != 0;
		char tried[2 * PATH_MAX + 16] = "";

		/* Not found: say where else it was looked for. */
		for (unsigned int j = 0; missing && j + 1 < n; j++)
			snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s%s",
				 j ? ", " : " (nor in ", dirs[j], j + 2 == n ? ")" : "");
		vb_err("%s back-end: cannot load module %s: %s%s", name, path, why(path), tried);
		return missing ? -ENOENT : -ELIBACC;
	}
	m = dlsym(h, VB_BACKEND_MODULE_SYMBOL);
	if (!m || m->abi != VB_BACKEND_MODULE_ABI || !m->name || strcmp(m->name, name) ||
	    !m->open) {
		vb_err("%s back-end: module %s is not one of this vblkd's (%s)", name, path,
		       !m			       ? "no " VB_BACKEND_MODULE_SYMBOL :
		       m->abi != VB_BACKEND_MODULE_ABI ? "another ABI" :
							 "another back-end");
		dlclose(h);
		return -ELIBBAD;
	}
	*out = m;
	return 0;
}
