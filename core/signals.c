// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/signals.h"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>

int vb_stop_signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}
