// SPDX-License-Identifier: GPL-2.0-or-later
/* Fail the n-th call: see core/failpoint.h. */
#include "core/failpoint.h"

#include <errno.h>
#include <stdatomic.h>

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
