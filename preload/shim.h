/* shim.h: state shared by the files of libinject.so.
 *
 * hooks.c   the interposed functions, constructor, fork, thread creation
 *           (lineage) and exit hooks
 * real.c    the real functions behind the hooks (lazy, safe while resolving)
 * sites.c   naming a call site and the lock-free site table
 * log.c     per-thread event rings, the INJECT_LOG writer, fatal signals
 * state.c   the shared state: configuration, ending flag, per-thread state
 * fmt.c     async-signal-safe formatting and the stderr line (uses nothing)
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

#include "../injector/policy.h"
#include "../injector/spec.h"

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

/* --- log.c --- */
struct tstate;
void inj_log_init(void) HIDDEN;
void inj_log_event(struct tstate *t, int point, int site, uint32_t visit, uint64_t delay) HIDDEN;
/* The process is ending (END_BY_SIGNAL: by signal sig).  Write the log if no
 * thread has; else wait for the thread that does and for its ending to take
 * the process (log.c says how long).  Returns when the caller is to go on and
 * end the process its own way; the log then names the caller's reason. */
enum { END_BY_EXIT, END_BY__EXIT, END_BY_SIGNAL };
void inj_log_end(int kind, int sig) HIDDEN;
/* A thread enters exit (the exit hook; main's return from main through a
 * thread-local destructor): when another thread is already ending the
 * process, or is in exit before it, wait for that (log.c); else return at
 * once (the destructor writes the log). */
void inj_log_exit_called(void) HIDDEN;
void inj_log_after_fork(void) HIDDEN;
/* A thread we created starts (trampoline): register its slot cleanup. */
void inj_log_thread_start(void) HIDDEN;
void inj_signals_install(void) HIDDEN;
int inj_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old) HIDDEN;
int inj_signal_watched(int sig) HIDDEN;

#endif
