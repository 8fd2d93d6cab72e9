/* shim.h: what every file of libinject.so builds on: symbol visibility, the
 * atomics, and system calls that are not cancellation points.
 *
 * The files, in the order a call flows through them:
 *
 * hooks.c    the interposed functions (the hook path: guard, real call,
 *            maybe a delay), thread lineage through pthread_create, fork,
 *            the exit, signal and dlclose hooks, constructor and destructor
 * real.c     the real functions behind the hooks (lazy, safe while resolving)
 * sites.c    naming the calling site (a lock-free table) and counting visits
 *            (then injector/policy.c decides, and holds the thread back)
 * ring.c     per-thread rings of the delays made, for the log
 * signals.c  our handler in front of every fatal signal
 * ending.c   the process ends: one thread writes the log, the others wait
 * logfile.c  the INJECT_LOG writer
 * state.c    the state the files share: configuration, ending flag, TLS
 * fmt.c      async-signal-safe formatting and the stderr line
 *
 * Calls go one way: hooks.c uses every other file; signals.c uses ending.c
 * and real.c; ending.c uses logfile.c, which reads ring.c and sites.c; all
 * use state.c and fmt.c, which use nothing of the shim's but this header.
 *
 * Rules for everything reachable from a hook: no malloc, no stdio, no pthread
 * lock of our own (atomics only), errno preserved, safe in a signal handler. */
#ifndef INJECT_SHIM_H
#define INJECT_SHIM_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define HIDDEN __attribute__((visibility("hidden")))
#define EXPORT __attribute__((visibility("default")))
#define TLS_IE __attribute__((tls_model("initial-exec")))

#define LOAD(p)      __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p)  __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ADD(p, v)    __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define CAS(p, e, d) __atomic_compare_exchange_n((p), (e), (d), 0, __ATOMIC_ACQ_REL, \
						 __ATOMIC_ACQUIRE)

/* System calls made from inside a hook or at exit go through syscall(2):
 * glibc's open, close and write are cancellation points, and a hook must not
 * be one (pthread_mutex_unlock is not: a thread with a cancellation pending
 * would be cancelled inside it, holding the program's locks). */
static inline int inj_open(const char *path, int flags, int mode)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}
static inline int inj_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}
static inline ssize_t inj_write(int fd, const void *buf, size_t n)
{
	return (ssize_t)syscall(SYS_write, fd, buf, n);
}

#endif
