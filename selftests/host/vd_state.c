// SPDX-License-Identifier: GPL-2.0-or-later
/* One-shot state save and load over a new connection, for the tests. */
#include "vd_state.h"

#include <errno.h>

#include "frontend/fe_state.h"
#include "frontend/fe_vu.h"

/* A save into *@out when @out is given, else a load of @in. */
static int vd_state_transfer(const char *sock, int timeout_ms, uint8_t **out, size_t *out_len,
			     const void *in, size_t in_len, uint64_t *us)
{
	struct fe_state_res res;
	struct fe_vu vu;
	int ret;

	ret = fe_vu_connect(&vu, sock, 5000);
	if (ret)
		return ret;
	if (timeout_ms)
		vu.timeout_ms = timeout_ms;
	if (out)
		ret = fe_state_save_buf(&vu, out, out_len, &res);
	else
		ret = fe_state_load_buf(&vu, in, in_len, &res);
	fe_vu_disconnect(&vu);
	if (us)
		*us = res.total_us;
	if (ret == -EREMOTEIO)
		return res.set_err ? (int)res.set_err : (int)res.check;
	return ret;
}

int vd_state_save(const char *sock, int timeout_ms, uint8_t **buf, size_t *len, uint64_t *us)
{
	return vd_state_transfer(sock, timeout_ms, buf, len, NULL, 0, us);
}

int vd_state_load(const char *sock, int timeout_ms, const void *buf, size_t len, uint64_t *us)
{
	return vd_state_transfer(sock, timeout_ms, NULL, NULL, buf, len, us);
}
