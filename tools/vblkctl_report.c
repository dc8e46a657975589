// SPDX-License-Identifier: GPL-2.0-or-later
/* vblkctl: the report of a command, human-readable or JSON. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "state/state.h"
#include "vblkctl.h"

/* The transfer the failure happened in, or NULL. */
static const struct fe_state_res *ctl_failed_res(const struct ctl_result *r)
{
	if (!r->stage)
		return NULL;
	if (!strcmp(r->stage, "save"))
		return &r->save;
	if (!strcmp(r->stage, "load"))
		return &r->load;
	return NULL;
}

static void ctl_explain(const struct ctl_result *r, char *buf, size_t len)
{
	const struct fe_state_res *res = ctl_failed_res(r);
	const char *where = r->where ? r->where : "?";
	size_t n;

	if (r->err == -EREMOTEIO && res && res->set_err) {
		snprintf(buf, len, "%s refused SET_DEVICE_STATE_FD: error %" PRIu32 " (%s)", where,
			 res->set_err, state_err_str((int)res->set_err));
		return;
	}
	if (r->err == -EREMOTEIO && res && res->check) {
		snprintf(buf, len, "%s failed: CHECK_DEVICE_STATE reports %" PRIu64 " (%s)", where,
			 res->check, state_err_str((int)res->check));
		return;
	}
	switch (-r->err) {
	case ETIMEDOUT:
		snprintf(buf, len, "%s: no answer in time; if a front-end holds this vhost-user "
			 "socket, use the daemon's --control-socket", where);
		break;
	case ECONNRESET:
		snprintf(buf, len, "%s closed the connection", where);
		break;
	case EOPNOTSUPP:
		snprintf(buf, len, "%s does not offer VHOST_USER_PROTOCOL_F_DEVICE_STATE", where);
		break;
	case EMSGSIZE:
		snprintf(buf, len, "%s: framed chunk larger than 1 MiB", where);
		break;
	case EBADMSG:
		snprintf(buf, len, "%s: framed stream ends before its zero-length chunk", where);
		break;
	default:
		snprintf(buf, len, "%s: %s", where, strerror(-r->err));
		break;
	}
	/* A local failure that the back-end saw too. */
	n = strlen(buf);
	if (res && res->checked && res->check && n < len)
		snprintf(buf + n, len - n, " (back-end: %s)", state_err_str((int)res->check));
}

static void ctl_json_str(FILE *out, const char *key, const char *val)
{
	fprintf(out, ",\"%s\":\"", key);
	for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void ctl_json_u64(FILE *out, const char *key, uint64_t val)
{
	fprintf(out, ",\"%s\":%" PRIu64, key, val);
}

static void ctl_report_json(FILE *out, const struct ctl_result *r, const char *why)
{
	const struct fe_state_res *res = ctl_failed_res(r);

	fprintf(out, "{\"ok\":%s", r->err ? "false" : "true");
	ctl_json_str(out, "command", r->command);
	if (r->from)
		ctl_json_str(out, "from", r->from);
	if (r->to)
		ctl_json_str(out, "to", r->to);
	if (r->nbases) {
		fprintf(out, ",\"bases\":[");
		for (unsigned int i = 0; i < r->nbases; i++)
			fprintf(out, "%s%u", i ? "," : "", r->bases[i]);
		fputc(']', out);
	}
	if (r->mode)
		ctl_json_str(out, "mode", r->mode);
	if (r->throttled) {
		ctl_json_u64(out, "iops", r->throttle.iops);
		ctl_json_u64(out, "bps", r->throttle.bps);
		ctl_json_u64(out, "burst_ms", r->throttle.burst_ms);
		ctl_json_u64(out, "throttled", r->throttle.throttled);
		ctl_json_u64(out, "throttled_us", r->throttle.throttled_us);
	}
	if (r->saved || r->loaded)
		ctl_json_u64(out, "state_bytes", r->bytes);
	if (r->saved)
		ctl_json_u64(out, "save_us", r->save.total_us);
	if (r->saved || r->loaded)
		ctl_json_u64(out, "transfer_us", r->save.pipe_us + r->load.pipe_us);
	if (r->loaded)
		ctl_json_u64(out, "load_us", r->load.total_us);
	ctl_json_u64(out, "total_us", r->total_us);
	if (r->err) {
		ctl_json_str(out, "stage", r->stage ? r->stage : "?");
		ctl_json_str(out, "error", why);
		ctl_json_u64(out, "errno", (uint64_t)-r->err);
		if (res && res->set_err) {
			ctl_json_u64(out, "set_error", res->set_err);
			ctl_json_str(out, "set_error_str", state_err_str((int)res->set_err));
		}
		if (res && res->checked && res->check) {
			ctl_json_u64(out, "check", res->check);
			ctl_json_str(out, "check_str", state_err_str((int)res->check));
		}
	}
	fprintf(out, "}\n");
}

static void ctl_report_human(FILE *out, const struct ctl_result *r)
{
	if (!strcmp(r->command, "suspend")) {
		fprintf(out, "suspended %s: %u ring(s) stopped at", r->to, r->nbases);
		for (unsigned int i = 0; i < r->nbases; i++)
			fprintf(out, " %u", r->bases[i]);
		fprintf(out, " in %" PRIu64 " us (%s)\n", r->total_us,
			r->mode ? r->mode : "the daemon's --suspend-mode");
	} else if (!strcmp(r->command, "throttle")) {
		fprintf(out, "throttle of %s: %" PRIu64 " IOPS, %" PRIu64 " B/s, burst %" PRIu64
			" ms (0: unlimited); %" PRIu64 " request(s) waited %" PRIu64 " us in all\n",
			r->to, r->throttle.iops, r->throttle.bps, r->throttle.burst_ms,
			r->throttle.throttled, r->throttle.throttled_us);
	} else if (!strcmp(r->command, "resume")) {
		fprintf(out, "resumed %s in %" PRIu64 " us\n", r->to, r->total_us);
	} else if (!strcmp(r->command, "state save")) {
		fprintf(out, "saved %" PRIu64 " bytes of device state from %s in %" PRIu64
			" us (pipe %" PRIu64 " us)\n", r->bytes, r->from, r->save.total_us,
			r->save.pipe_us);
	} else if (!strcmp(r->command, "state load")) {
		fprintf(out, "loaded %" PRIu64 " bytes of device state into %s in %" PRIu64
			" us (pipe %" PRIu64 " us)\n", r->bytes, r->to, r->load.total_us,
			r->load.pipe_us);
	} else {
		fprintf(out, "migrated %" PRIu64 " bytes of device state from %s to %s in %" PRIu64
			" us: save %" PRIu64 " us, load %" PRIu64 " us, through the pipes %" PRIu64
			" us\n", r->bytes, r->from, r->to, r->total_us, r->save.total_us,
			r->load.total_us, r->save.pipe_us + r->load.pipe_us);
	}
}

void ctl_report(FILE *out, bool json, const struct ctl_result *r)
{
	char why[512] = "";

	if (r->err) {
		ctl_explain(r, why, sizeof(why));
		fprintf(stderr, "vblkctl: %s: %s\n", r->command, why);
	}
	if (json)
		ctl_report_json(out, r, why);
	else if (!r->err)
		ctl_report_human(out, r);
	fflush(out);
}
