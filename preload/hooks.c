/* hooks.c: the interposed functions of libinject.so.
 *
 * Each hook checks, first, the per-thread recursion guard (initial-exec TLS,
 * which never allocates) and whether its point is enabled; with no INJECT_*
 * variable set no point is enabled and every hook is one branch in front of
 * the real function.  Release points (unlocks, sem_post, condition signals)
 * call the real function first and then maybe delay, so that other threads
 * run into the window while this one is held back; mutex_lock delays before
 * acquiring.
 *
 * Real functions: real.c resolves them, and gives a safe path while this
 * thread is inside dlsym; an exit hook that finds none makes a raw
 * exit_group.
 *
 * Thread lineage: pthread_create passes the child its lineage through a
 * trampoline whose argument is a slot of a static array (no malloc): the
 * parent claims a slot by CAS, the child copies it out and frees it.
 *
 * Fork: pthread_atfork's child handler re-derives the seed from the parent's
 * seed, the forking thread's lineage and its fork count, makes the surviving
 * thread lineage "0" with fresh visit counters, and empties the log. */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "../injector/policy.h"
#include "ending.h"
#include "fmt.h"
#include "logfile.h"
#include "real.h"
#include "ring.h"
#include "shim.h"
#include "signals.h"
#include "sites.h"
#include "state.h"

static uint64_t inj_seed;       /* atomic: cfg.seed, re-derived in a forked child */
static unsigned inj_points;     /* enabled points; 0 = pure pass-through */
static int inj_on;              /* some INJECT_* set and valid */
static uint64_t inj_ndelays;    /* atomic: delays so far, for INJECT_MAX */

extern int __cxa_thread_atexit_impl(void (*)(void *), void *, void *);
extern void *__dso_handle;

static __attribute__((noreturn)) void real_exit_now(void (*fn)(int), int status)
{
	if (fn)
		fn(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

/* ---------------------------------------------------------------- the hook path */

static void set_unknown_lineage(struct tstate *t)
{
	/* A thread we did not see created (before our constructor, or by clone). */
	t->lineage[0] = '?';
	t->lineage[1] = 0;
	t->lhash = inject_mix64((uint64_t)syscall(SYS_gettid));
}

/* Count the visit, decide, record the delay in the ring, wait.  Guard is
 * set. */
static void decide_and_wait(struct tstate *t, int point, struct site *s,
			    const struct site_rec *r)
{
	int idx = (int)(s - inj_sites);
	ADD(&s->visits, 1);
	if (!r->match || !(inj_cfg.prob > 0))
		return;
	uint32_t visit = inj_visit(idx);
	if (!visit)
		return;
	if (!t->lineage[0])
		set_unknown_lineage(t);
	uint64_t d = inject_decide(&inj_cfg, LOAD(&inj_seed), t->lhash, r->hash, visit);
	if (!d || LOAD(&inj_stop))
		return;
	if (inj_cfg.max != UINT64_MAX && ADD(&inj_ndelays, 1) >= inj_cfg.max)
		return;
	ADD(&s->delays, 1);
	ADD(&s->delay_ns, d);
	inj_ring_event(t, point, idx, visit, d);
	/* A signal handler that runs during the wait may unlock too: let it count. */
	t->guard = 0;
	inject_wait(inj_cfg.action, d);
	t->guard = 1;
}

/* A hook at an enabled point, after (or, for mutex_lock, before) the real
 * call: find the calling site (return address ra), then decide_and_wait;
 * errno is kept. */
static __attribute__((noinline)) void maybe_delay(struct tstate *t, int pt, uintptr_t ra)
{
	if (LOAD(&inj_stop))
		return;
	int saved = errno;
	t->guard = 1;
	const struct site_rec *r;
	struct site *s = inj_site(ra, &r);
	if (s)
		decide_and_wait(t, pt, s, r);
	t->guard = 0;
	errno = saved;
}

#define ENABLED(t, pt) (!(t)->guard && (LOAD(&inj_points) & (1u << (pt))))

#define DEFINE_HOOK(pt, fn, T, ver, safe)                                                \
	EXPORT int fn(T *a)                                                                \
	{                                                                                  \
		struct tstate *t = &inj_t;                                                 \
		if (__builtin_expect(!ENABLED(t, pt), 1))                                  \
			return real_##fn(a);                                               \
		int r = real_##fn(a);                                                      \
		maybe_delay(t, pt, (uintptr_t)__builtin_return_address(0));                \
		return r;                                                                  \
	}
RELEASE_HOOKS(DEFINE_HOOK)

/* The one acquire point: delay before taking the lock. */
EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	struct tstate *t = &inj_t;
	if (__builtin_expect(ENABLED(t, PT_MUTEX_LOCK), 0))
		maybe_delay(t, PT_MUTEX_LOCK, (uintptr_t)__builtin_return_address(0));
	return real_pthread_mutex_lock(m);
}

/* ---------------------------------------------------------------- threads */

struct tramp {
	int busy;                   /* atomic: claimed by a parent, not yet read */
	void *(*fn)(void *);
	void *arg;
	uint64_t lhash;
	int site;                   /* thread_start site index, or -1 */
	char lineage[LINEAGE_MAX];
};
static struct tramp tramps[128];

static void *trampoline(void *p)
{
	struct tramp *tr = p;
	struct tstate *t = &inj_t;
	void *(*fn)(void *) = tr->fn;
	void *arg = tr->arg;
	int site = tr->site;
	memcpy(t->lineage, tr->lineage, LINEAGE_MAX);
	t->lhash = tr->lhash;
	STORE_REL(&tr->busy, 0);
	inj_ring_thread_start();
	if (site >= 0 && ENABLED(t, PT_THREAD_START) && !LOAD(&inj_stop)) {
		int saved = errno;
		t->guard = 1;
		decide_and_wait(t, PT_THREAD_START, &inj_sites[site],
				LOAD_ACQ(&inj_sites[site].rec));
		t->guard = 0;
		errno = saved;
	}
	return fn(arg);
}

static void child_lineage(const struct tstate *t, uint32_t n, char *out)
{
	const char *parent = t->lineage[0] ? t->lineage : "?";
	char digits[16], *e = inj_fmt_u64(digits, n);
	*e = 0;
	size_t pl = strlen(parent), nl = (size_t)(e - digits);
	if (pl + 1 + nl >= LINEAGE_MAX) {
		/* Too deep to print: keep the tail; the hash still tells them apart. */
		memcpy(out, "~", 2);
		return;
	}
	memcpy(out, parent, pl);
	out[pl] = '.';
	memcpy(out + pl + 1, digits, nl + 1);
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg)
{
	struct tstate *t = &inj_t;
	if (!real_pthread_create)
		inj_resolve_all();
	if (!LOAD(&inj_on) || t->guard)
		return real_pthread_create(th, attr, fn, arg);
	t->guard = 1;
	struct tramp *tr = NULL;
	for (int tries = 0; !tr && tries < 1000; tries++) {
		for (size_t i = 0; i < sizeof tramps / sizeof tramps[0]; i++) {
			int z = 0;
			if (!LOAD(&tramps[i].busy) && CAS(&tramps[i].busy, &z, 1)) {
				tr = &tramps[i];
				break;
			}
		}
		if (!tr)
			sched_yield();
	}
	if (!tr) {
		t->guard = 0;
		return real_pthread_create(th, attr, fn, arg);
	}
	if (!t->lineage[0])
		set_unknown_lineage(t);
	uint32_t n = ++t->children;
	tr->fn = fn;
	tr->arg = arg;
	tr->lhash = inject_lineage_child(t->lhash, n);
	child_lineage(t, n, tr->lineage);
	tr->site = -1;
	if (LOAD(&inj_points) & (1u << PT_THREAD_START)) {
		int saved = errno;
		const struct site_rec *r;
		struct site *s = inj_site((uintptr_t)__builtin_return_address(0), &r);
		errno = saved;
		if (s)
			tr->site = (int)(s - inj_sites);
	}
	t->guard = 0;
	int r = real_pthread_create(th, attr, trampoline, tr);
	if (r)
		STORE_REL(&tr->busy, 0);
	return r;
}

/* ---------------------------------------------------------------- fork */

static void before_fork(void)
{
	inj_t.forks++;
}

static void in_child(void)
{
	struct tstate *t = &inj_t;
	uint64_t parent_seed = LOAD(&inj_seed);
	STORE(&inj_seed, inject_mix64(parent_seed ^ inject_lineage_child(t->lhash, t->forks)));
	memcpy(t->lineage, "0", 2);
	t->lhash = INJECT_LINEAGE_ROOT;
	t->children = 0;
	t->forks = 0;
	t->slot = NULL;
	/* Fresh visit counters: its own, and a new uid for the shared ones. */
	memset(t->counts, 0, sizeof t->counts);
	t->ncounts = 0;
	t->uid = 0;
	for (size_t i = 0; i < sizeof tramps / sizeof tramps[0]; i++)
		STORE(&tramps[i].busy, 0);
	STORE(&inj_ndelays, 0);
	inj_sites_after_fork();
	inj_ring_after_fork();
	inj_logfile_after_fork();
	inj_end_after_fork();
	inj_t0 = inject_now_ns();
	STORE(&inj_pid, getpid());
	STORE(&inj_stop, 0);
}

/* ---------------------------------------------------------------- exit and signals */

/* The log is written by our destructor, after the program's own (exit's
 * work, see inj_fini).  But a thread that calls exit while another thread is
 * already ending the process must not run ahead to exit_group and cut that
 * ending's log short: it waits as a second ending does (ending.c). */
EXPORT void exit(int status)
{
	if (!real_exit)
		inj_resolve_all();
	if (LOAD(&inj_on))
		inj_end_exit_called();
	real_exit_now(real_exit, status);
}

EXPORT void _exit(int status)
{
	if (LOAD(&inj_on))
		inj_end(END_BY__EXIT, 0);
	real_exit_now(real__exit, status);
}

EXPORT void _Exit(int status)
{
	if (LOAD(&inj_on))
		inj_end(END_BY__EXIT, 0);
	real_exit_now(real__Exit ? real__Exit : real__exit, status);
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!LOAD(&inj_on) || !inj_signal_watched(sig))
		return inj_real_sigaction(sig, act, old);
	return inj_sigaction_hook(sig, act, old);
}

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	if (!LOAD(&inj_on) || !inj_signal_watched(sig)) {
		if (!real_signal)
			inj_resolve_all();
		return real_signal(sig, handler);
	}
	/* glibc's BSD semantics: restart, block the signal while it runs. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	if (inj_sigaction_hook(sig, &sa, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* ---------------------------------------------------------------- dlclose */

static int count_subs(struct dl_phdr_info *info, size_t size, void *data)
{
	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
		*(unsigned long long *)data = info->dlpi_subs;
	return 1;
}

/* Site names are cached by return address: when an object is really unloaded
 * (not only a reference dropped), code loaded later may reuse its addresses,
 * so every site is checked again on its next visit (sites.c). */
EXPORT int dlclose(void *handle)
{
	if (!real_dlclose)
		inj_resolve_all();
	if (!LOAD(&inj_on))
		return real_dlclose(handle);
	static unsigned long long subs;      /* atomic */
	int saved = errno;
	int r = real_dlclose(handle);
	int e = errno;
	unsigned long long now = 0;
	dl_iterate_phdr(count_subs, &now);
	if (now != __atomic_exchange_n(&subs, now, __ATOMIC_ACQ_REL))
		inj_sites_unloaded();
	errno = r ? e : saved;
	return r;
}

/* ---------------------------------------------------------------- life cycle */

/* Main's return from main calls exit inside libc, past our exit hook; exit
 * first runs the calling thread's thread-local destructors, so this one
 * (registered for the main thread by the constructor) sees main enter exit. */
static void main_enters_exit(void *arg)
{
	(void)arg;
	if (LOAD(&inj_on))
		inj_end_exit_called();
}

__attribute__((constructor(101))) static void inj_init(void)
{
	struct tstate *t = &inj_t;
	inj_resolve_all();
	memcpy(t->lineage, "0", 2);
	t->lhash = INJECT_LINEAGE_ROOT;
	inj_t0 = inject_now_ns();

	char err[1024];
	if (inject_config_from_env(&inj_cfg, err, sizeof err) != 0) {
		inj_write_err(err);
		real_exit_now(real__exit, 125);
	}
	if (!inj_cfg.any)
		return;                 /* pure pass-through */
	if (inj_cfg.log[0] && inj_cfg.log[0] != '/') {
		/* The log is opened again at exit, by when the program may have
		 * changed directory: keep the file this directory names. */
		char abs[sizeof inj_cfg.log];
		size_t n = getcwd(abs, sizeof abs) ? strlen(abs) : 0;
		if (n && n + 1 + strlen(inj_cfg.log) < sizeof abs) {
			abs[n] = '/';
			strcpy(abs + n + 1, inj_cfg.log);
			strcpy(inj_cfg.log, abs);
		}
	}
	if (inj_cfg.log[0]) {
		int fd = open(inj_cfg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0) {
			const char *why = strerror(errno);
			char *p = err, *end = err + sizeof err - 1;
			p = inj_fmt_str(p, "inject: INJECT_LOG: bad value \"", end);
			p = inj_fmt_str(p, inj_cfg.log, end);
			p = inj_fmt_str(p, "\": expected a file the program can append to (", end);
			p = inj_fmt_str(p, why, end);
			p = inj_fmt_str(p, ")", end);
			*p = 0;
			inj_write_err(err);
			real_exit_now(real__exit, 125);
		}
		close(fd);
	}
	inj_seed = inj_cfg.seed;
	inj_pid = getpid();
	if (inj_cfg.skip.n)     /* we unwind only for INJECT_SKIP; no global cache lock then */
		unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	if (inj_sites_init() != 0) {
		inj_write_err("inject: cannot map the shim's site table (mmap failed)");
		real_exit_now(real__exit, 125);
	}
	inj_ring_init();
	pthread_atfork(before_fork, NULL, in_child);
	if (inj_cfg.log[0])
		__cxa_thread_atexit_impl(main_enters_exit, NULL, &__dso_handle);
	inj_signals_install();
	STORE(&inj_on, 1);
	STORE_REL(&inj_points, inj_cfg.points);
}

__attribute__((destructor)) static void inj_fini(void)
{
	if (LOAD(&inj_on))
		inj_end(END_BY_EXIT, 0);
}
