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

/* --- sites.c ---
 * The site table: open addressing on the return address, never deleting, so
 * a lookup is lock-free.  A new key is claimed by CAS on the key word; its
 * name is a pure function of the address (the loaded objects' symbol
 * tables), so whichever visitor finds an entry not yet named names it itself
 * (into a record of its own) and publishes the record with one CAS: nobody
 * ever waits for another thread, and a namer that never finishes (a signal
 * handler longjmped out of it, cancellation, a fork) leaves nothing half
 * done.  After a dlclose that unloaded an object (inj_dlgen moved) an entry
 * is named again on its next visit: the same name, it is current again;
 * another (new code at a reused address), it is marked dead, keeps its
 * counts, and the key gets a new entry further along the probe sequence.
 * The tables live in one anonymous mapping made by the constructor (pages
 * are touched only as sites arrive). */
#define SITE_SLOTS_LOG2 17
#define SITE_SLOTS (1u << SITE_SLOTS_LOG2)    /* table slots */
#define SITES_MAX 65536u                      /* sites named; later ones count as full */
#define SITE_NAME 128

struct site_rec {                   /* immutable once published */
	char name[SITE_NAME];       /* "fn+0xoff" */
	uint64_t hash;              /* inject_hash_str(name) */
	unsigned char match, skip;  /* INJECT_SITES / INJECT_SKIP decisions */
};

struct __attribute__((aligned(64))) site {     /* one cache line */
	uintptr_t key;              /* return address (atomic; 0 = empty) */
	struct site_rec *rec;       /* atomic, release/acquire; NULL until named */
	uint32_t gen;               /* atomic: inj_dlgen the name is known good at */
	unsigned char dead;         /* atomic: its object was unloaded, the key now
				     * names other code (a later entry) */
	uint64_t visits, delays, delay_ns;   /* atomic counters, for S lines */
};
extern struct site *inj_sites HIDDEN;   /* SITE_SLOTS entries */

/* Map the tables; 0, or -1 (the mapping failed). */
int inj_sites_init(void) HIDDEN;
/* The site for a call whose return address is ra (after INJECT_SKIP), named,
 * and its record in *rec; NULL when the table is full (the visit is counted
 * in inj_full). */
struct site *inj_site(uintptr_t ra, const struct site_rec **rec) HIDDEN;
/* This thread's visit number for site index idx (1 for the first), or 0 when
 * no counter could be kept (counted in inj_full). */
uint32_t inj_visit(int idx) HIDDEN;
/* Entries claimed so far, in claim order: inj_used_site(i) for i < n is a
 * site index, or -1 while its claimer has not yet recorded it. */
uint32_t inj_used_count(void) HIDDEN;
int inj_used_site(uint32_t i) HIDDEN;
/* A site's name for the log: its record's, or named now (into buf) when no
 * record was published (its namer was interrupted). */
const struct site_rec *inj_site_rec(int idx, struct site_rec *buf) HIDDEN;
void inj_sites_after_fork(void) HIDDEN;
extern uint32_t inj_dlgen HIDDEN;    /* atomic: objects unloaded so far */
extern uint64_t inj_full HIDDEN;     /* atomic: visits not decided: a table was full */

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
