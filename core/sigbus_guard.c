// SPDX-License-Identifier: GPL-2.0-or-later
/* Surviving memory that shrinks after hand-over: see core/sigbus_guard.h. */
#include "core/sigbus_guard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "core/log.h"

/*
 * A slot is a seqlock: gen is odd while the owner rewrites base and len,
 * so the handler, which may interrupt that very write on another thread,
 * reads a consistent pair or skips the slot. Writers serialise on lock.
 */
struct slot {
	atomic_uint gen;
	atomic_uintptr_t base;
	atomic_size_t len; /* 0: free */
	atomic_bool dead;
};

static struct slot slots[VB_SIGBUS_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint deaths;
static __thread volatile sig_atomic_t faulted;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct sigaction previous;
static int install_err;

/*
 * Private zero pages over the whole mapping, from the handler: a raw
 * system call, so no sanitizer interceptor or libc lock runs here.
 */
static bool replace(uintptr_t base, size_t len)
{
	long ret = syscall(SYS_mmap, base, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);

	return ret == (long)base;
}

static struct slot *slot_of(uintptr_t a)
{
	for (unsigned int i = 0; i < VB_SIGBUS_SLOTS; i++) {
		struct slot *s = &slots[i];
		unsigned int g = atomic_load_explicit(&s->gen, memory_order_acquire);
		uintptr_t base;
		size_t len;

		if (g & 1)
			continue;
		base = atomic_load_explicit(&s->base, memory_order_relaxed);
		len = atomic_load_explicit(&s->len, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->gen, memory_order_relaxed) != g)
			continue;
		if (len && a - base < len)
			return s;
	}
	return NULL;
}

/* Async-signal-safe: lock-free atomics, two system calls, no libc state. */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct slot *s = si->si_code > 0 ? slot_of((uintptr_t)si->si_addr) : NULL;

	if (s && replace(atomic_load_explicit(&s->base, memory_order_relaxed),
			 atomic_load_explicit(&s->len, memory_order_relaxed))) {
		atomic_store(&s->dead, true);
		atomic_fetch_add(&deaths, 1);
		faulted = 1;
		errno = saved;
		return; /* the access is retried, on the zero pages */
	}
	/* Not ours: the action before us takes it, on the retried access or now. */
	sigaction(SIGBUS, &previous, NULL);
	if (si->si_code <= 0)
		raise(sig);
	errno = saved;
	(void)uc;
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &previous))
		install_err = -errno;
}

int vb_sigbus_register(void *base, size_t len)
{
	int ret = -ENOSPC;

	pthread_once(&once, install);
	if (install_err) {
		vb_err("cannot install the SIGBUS handler: %s", strerror(-install_err));
		return install_err;
	}
	pthread_mutex_lock(&lock);
	for (int i = 0; i < VB_SIGBUS_SLOTS; i++) {
		struct slot *s = &slots[i];

		if (atomic_load(&s->len))
			continue;
		atomic_fetch_add(&s->gen, 1);
		atomic_store(&s->base, (uintptr_t)base);
		atomic_store(&s->dead, false);
		atomic_store(&s->len, len);
		atomic_fetch_add(&s->gen, 1);
		ret = i;
		break;
	}
	pthread_mutex_unlock(&lock);
	if (ret < 0)
		vb_err("no room to guard another shared mapping (%d guarded)", VB_SIGBUS_SLOTS);
	return ret;
}

void vb_sigbus_unregister(int slot)
{
	struct slot *s;

	if (slot < 0 || slot >= VB_SIGBUS_SLOTS)
		return;
	s = &slots[slot];
	pthread_mutex_lock(&lock);
	atomic_fetch_add(&s->gen, 1);
	atomic_store(&s->len, 0);
	atomic_store(&s->base, 0);
	atomic_fetch_add(&s->gen, 1);
	pthread_mutex_unlock(&lock);
}

bool vb_sigbus_dead(int slot)
{
	if (slot < 0 || slot >= VB_SIGBUS_SLOTS)
		return false;
	return atomic_load_explicit(&slots[slot].dead, memory_order_relaxed);
}

bool vb_sigbus_addr_dead(const void *p)
{
	struct slot *s = p ? slot_of((uintptr_t)p) : NULL;

	return s && atomic_load(&s->dead);
}

unsigned int vb_sigbus_deaths(void)
{
	return atomic_load_explicit(&deaths, memory_order_relaxed);
}

bool vb_sigbus_faulted(void)
{
	return faulted;
}

bool vb_sigbus_take_fault(void)
{
	bool was = faulted;

	faulted = 0;
	return was;
}
