// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int vb_log_level = VB_LOG_INFO;
/* vblkd serves one device: every line names it. Set once, before any thread. */
static char device_name[64];
/* What this thread is handling (a message), and the errors logged while it does. */
static __thread const char *log_context;
static __thread unsigned int log_context_errors;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int vb_log_level_parse(const char *name)
{
	for (int i = 0; i <= VB_LOG_DEBUG; i++)
		if (!strcasecmp(name, level_names[i]))
			return i;
	return -1;
}

void vb_log_set_device(const char *name)
{
	snprintf(device_name, sizeof(device_name), "%s", name ? name : "");
}

void vb_log_context(const char *context)
{
	log_context = context;
	log_context_errors = 0;
}

unsigned int vb_log_context_errors(void)
{
	return log_context_errors;
}

void vb_log(enum vb_log_level level, const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	va_list ap;
	int n;

	if (level == VB_LOG_ERR)
		log_context_errors++;
	if ((int)level > vb_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "%ld.%03ld vblkd%s%s%s %s: ", (long)ts.tv_sec,
		     ts.tv_nsec / 1000000, device_name[0] ? "[" : "", device_name,
		     device_name[0] ? "]" : "", level_names[level]);
	if (log_context)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", log_context);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write per line, so lines from worker threads never interleave. */
	fwrite(line, 1, (size_t)n, stderr);
}
