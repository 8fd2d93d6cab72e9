/* shim.h: state shared by the files of libinject.so.
 *
 * hooks.c   the interposed functions, symbol resolution, constructor, fork,
 *           thread creation (lineage) and exit hooks
 * sites.c   naming a call site and the lock-free site table
 * log.c     per-thread event rings, the INJECT_LOG writer, fatal signals
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

/* --- sites.c ---
 * A site entry's state: EMPTY (key 0) -> RESOLVING (key claimed by CAS, its
 * claimer is naming it) -> READY.  A fork can leave an entry RESOLVING with no
 * thread to finish it; the child marks those ORPHAN and the next visitor
 * claims them (ORPHAN -> RESOLVING by CAS).  After a dlclose that unloaded
 * an object (inj_dlgen moved), a READY entry is named again on its next
 * visit: the same name, it is current again; another (new code at a reused
 * address), it is marked dead, keeps its counts, and the key gets a new
 * entry further along the probe sequence.  A visitor waits for a RESOLVING
 * entry at most about a millisecond (sites.c), then passes through. */
enum { SITE_RESOLVING = 0, SITE_READY = 1, SITE_ORPHAN = 2 };
#define NSITES_LOG2 10
#define NSITES (1 << NSITES_LOG2)
#define SITE_NAME 128

struct site {
	uintptr_t key;              /* return address (atomic; 0 = empty) */
	int state;                  /* atomic; see above */
	int owner;                  /* atomic: tid of the thread naming it */
	int stalled;                /* atomic: a visitor gave up waiting for it */
	unsigned char match, skip;  /* INJECT_SITES / INJECT_SKIP decisions */
	unsigned char dead;         /* atomic: its object was unloaded, the key now
				     * names other code (a later entry) */
	uint32_t gen;               /* atomic: inj_dlgen when named or last checked */
	uint64_t hash;              /* inject_hash_str(name) */
	uint64_t visits, delays, delay_ns;   /* atomic counters, for S lines */
	char name[SITE_NAME];       /* "fn+0xoff" */
};
/* Entry NSITES is the overflow site, used when the table is full. */
extern struct site inj_sites[NSITES + 1] HIDDEN;

void inj_sites_init(void) HIDDEN;
/* The site for a call whose return address is ra (after INJECT_SKIP), or
 * NULL: another thread is naming it and did not finish in time, so this
 * visit passes through (counted in inj_unnamed). */
struct site *inj_site(uintptr_t ra) HIDDEN;
void inj_sites_after_fork(void) HIDDEN;
extern uint32_t inj_dlgen HIDDEN;    /* atomic: objects unloaded so far */
extern uint64_t inj_unnamed HIDDEN;  /* atomic: visits passed through unnamed */

/* --- hooks.c --- */
#define LINEAGE_MAX 64
struct tslot;
struct tstate {
	int guard;                  /* inside the shim: hooks pass straight through */
	int resolving;              /* inside dlsym: lazy stubs take the safe path */
	int exiting;                /* the slot key's destructor ran (log.c) */
	char lineage[LINEAGE_MAX];  /* "0", "0.1", "0.1.2"; "" until known */
	uint64_t lhash;             /* lineage hash (policy.h) */
	uint32_t children, forks;
	struct tslot *slot;         /* this thread's event ring (log.c), or NULL */
	uint32_t visits[NSITES + 1];/* visit counter per site index */
};
extern __thread struct tstate inj_t TLS_IE HIDDEN;
extern struct inject_config inj_cfg HIDDEN;
extern uint64_t inj_seed HIDDEN;     /* cfg.seed, re-derived in a forked child */
extern int inj_stop HIDDEN;          /* atomic: exiting, hooks only pass through */
extern uint64_t inj_t0 HIDDEN;       /* process start, CLOCK_MONOTONIC ns */
extern pid_t inj_pid HIDDEN;         /* our pid, set at start and in a forked child */
int inj_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old) HIDDEN;
void inj_write_err(const char *msg) HIDDEN;

/* --- log.c --- */
void inj_log_init(void) HIDDEN;
void inj_log_event(struct tstate *t, int point, int site, uint32_t visit, uint64_t delay) HIDDEN;
/* Write the log once; reason "exit", "_exit" or "signal N". */
void inj_log_flush(const char *reason) HIDDEN;
void inj_log_after_fork(void) HIDDEN;
/* A thread we created starts (trampoline): register its slot cleanup. */
void inj_log_thread_start(void) HIDDEN;
void inj_signals_install(void) HIDDEN;
int inj_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old) HIDDEN;
int inj_signal_watched(int sig) HIDDEN;

/* Small async-signal-safe formatting into a buffer. */
char *inj_fmt_u64(char *p, uint64_t v) HIDDEN;
char *inj_fmt_hex(char *p, uint64_t v) HIDDEN;
char *inj_fmt_str(char *p, const char *s, char *end) HIDDEN;

#endif
