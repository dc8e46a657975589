// SPDX-License-Identifier: GPL-2.0-or-later
/* Fail the n-th call: see core/failpoint.h. */
#include "core/failpoint.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static atomic_uint armed; /* n, or 0 */
static atomic_uint hits;

bool vb_failpoint(const char *site)
{
	unsigned int n = atomic_load_explicit(&armed, memory_order_relaxed);

	if (!n || atomic_fetch_add(&hits, 1) + 1 != n)
		return false;
	vb_warn("failpoint: %s fails (call %u)", site, n);
	errno = ENOMEM;
	return true;
}

void vb_failpoint_arm(unsigned int n)
{
	atomic_store(&armed, 0);
	atomic_store(&hits, 0);
	atomic_store(&armed, n);
}

unsigned int vb_failpoint_hits(void)
{
	return atomic_load(&hits);
}

/* Faults on the I/O path (VBLKD_FAULTS). */

bool vb_faults_armed;

static const char *const site_names[VB_FAULT_NSITES] = {
	[VB_FAULT_URING_SUBMIT] = "uring_submit",
	[VB_FAULT_READ] = "read",
	[VB_FAULT_WRITE] = "write",
	[VB_FAULT_MMAP] = "mmap",
	[VB_FAULT_STATE_PIPE] = "state_pipe",
	[VB_FAULT_CALL] = "call",
	[VB_FAULT_ERR] = "err",
};

struct fault {
	unsigned int nth; /* 0: never */
	bool from_on; /* "n+": every call from the n-th */
	atomic_uint calls;
};

static struct fault faults[VB_FAULT_NSITES];

bool vb_fault_hit(enum vb_fault_site site)
{
	struct fault *f = &faults[site];
	unsigned int call;

	if (!f->nth)
		return false;
	call = atomic_fetch_add(&f->calls, 1) + 1;
	if (call != f->nth && !(f->from_on && call > f->nth))
		return false;
	vb_warn("fault injected: %s (call %u)", site_names[site], call);
	return true;
}

static int parse_one(const char *item, size_t len)
{
	char name[32], *end;
	const char *eq = memchr(item, '=', len);
	unsigned long n;

	if (!eq || (size_t)(eq - item) >= sizeof(name))
		return -EINVAL;
	memcpy(name, item, (size_t)(eq - item));
	name[eq - item] = '\0';
	errno = 0;
	n = strtoul(eq + 1, &end, 10);
	if (errno || !n || n > UINT32_MAX || end == eq + 1)
		return -EINVAL;
	if (end != item + len && !(*end == '+' && end + 1 == item + len))
		return -EINVAL;
	for (unsigned int i = 0; i < VB_FAULT_NSITES; i++) {
		if (strcmp(name, site_names[i]))
			continue;
		faults[i].nth = (unsigned int)n;
		faults[i].from_on = *end == '+';
		atomic_store(&faults[i].calls, 0);
		return 0;
	}
	return -EINVAL;
}

int vb_faults_parse(const char *spec)
{
	const char *p = spec;

	vb_faults_armed = false;
	memset(faults, 0, sizeof(faults));
	if (!spec || !*spec)
		return 0;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (parse_one(p, len)) {
			vb_err("fault injection: cannot parse \"%.*s\" in \"%s\" (sites: uring_submit, "
			       "read, write, mmap, state_pipe, call, err; counts: n or n+)",
			       (int)len, p, spec);
			memset(faults, 0, sizeof(faults));
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	vb_warn("fault injection armed: %s", spec);
	vb_faults_armed = true;
	return 0;
}

int vb_faults_from_env(void)
{
	const char *spec = getenv("VBLKD_FAULTS");

	if (!VB_FAULT_INJECTION && spec && *spec) {
		vb_err("VBLKD_FAULTS is set, but this build has no fault injection");
		return -ENOTSUP;
	}
	return vb_faults_parse(spec);
}
