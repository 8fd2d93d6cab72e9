/* real.c: the real functions behind the hooks.
 *
 * Resolved in the constructor; each pointer starts at a lazy stub that
 * resolves on first use (a hook can run before our constructor, from another
 * library's).  While this thread is inside dlsym, a re-entered lazy stub
 * takes a safe path instead of recursing: glibc's own
 * __pthread_mutex_lock/__pthread_mutex_unlock/__pthread_rwlock_unlock and
 * __sigaction, an inline spin unlock (and, in the exit hooks of hooks.c, a
 * raw exit_group). */
#include <dlfcn.h>
#include <errno.h>

#include "fmt.h"
#include "real.h"
#include "shim.h"
#include "state.h"

/* glibc's non-interposable aliases, for the safe path. */
extern int __pthread_mutex_lock(pthread_mutex_t *);
extern int __pthread_mutex_unlock(pthread_mutex_t *);
extern int __pthread_rwlock_unlock(pthread_rwlock_t *);
extern int __sigaction(int, const struct sigaction *, struct sigaction *);

/* The definition of name after ours (the version's, when there is one). */
static void *next_symbol(const char *name, const char *version)
{
	void *p = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
	return p ? p : dlsym(RTLD_NEXT, name);
}

/* Safe paths for the points glibc gives no alias of (real.h's list): a spin
 * lock is released by a store; a post or signal is dropped, said on stderr. */
static int safe_spin_unlock(pthread_spinlock_t *l)
{
	__atomic_store_n((volatile int *)l, 0, __ATOMIC_RELEASE);
	return 0;
}

static int unresolved(const char *name)
{
	inj_write_err("inject: a hook re-entered while resolving symbols; call dropped");
	(void)name;
	return EAGAIN;
}

/* Each release point's pointer, starting at its lazy stub. */
#define DECLARE_REAL(pt, fn, T, ver, safe)                                               \
	static int lazy_##fn(T *a);                                                        \
	int (*real_##fn)(T *) = lazy_##fn;                                                 \
	static int lazy_##fn(T *a)                                                         \
	{                                                                                  \
		if (inj_t.resolving)                                                       \
			return safe;                                                       \
		inj_resolve_all();                                                         \
		return real_##fn == lazy_##fn ? (safe) : real_##fn(a);                     \
	}
RELEASE_HOOKS(DECLARE_REAL)

static int lazy_pthread_mutex_lock(pthread_mutex_t *m);
int (*real_pthread_mutex_lock)(pthread_mutex_t *) = lazy_pthread_mutex_lock;
static int lazy_pthread_mutex_lock(pthread_mutex_t *m)
{
	if (!inj_t.resolving) {
		inj_resolve_all();
		if (real_pthread_mutex_lock != lazy_pthread_mutex_lock)
			return real_pthread_mutex_lock(m);
	}
	return __pthread_mutex_lock(m);
}

create_fn *real_pthread_create;
void (*real_exit)(int);
void (*real__exit)(int);
void (*real__Exit)(int);
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
sighandler_t (*real_signal)(int, sighandler_t);
int (*real_dlclose)(void *);

/* Every real function: where its pointer is, and the name (and glibc
 * version) to look up. */
#define REAL_SYMBOL(pt, fn, T, ver, safe) { (void **)&real_##fn, #fn, ver },
static const struct real_symbol {
	void **ptr;
	const char *name, *version;
} real_symbols[] = {
	RELEASE_HOOKS(REAL_SYMBOL)
	{ (void **)&real_pthread_mutex_lock, "pthread_mutex_lock", NULL },
	{ (void **)&real_pthread_create, "pthread_create", NULL },
	{ (void **)&real_exit, "exit", NULL },
	{ (void **)&real__exit, "_exit", NULL },
	{ (void **)&real__Exit, "_Exit", NULL },
	{ (void **)&real_sigaction, "sigaction", NULL },
	{ (void **)&real_signal, "signal", NULL },
	{ (void **)&real_dlclose, "dlclose", NULL },
};

void inj_resolve_all(void)
{
	struct tstate *t = &inj_t;
	t->resolving = 1;
	for (size_t i = 0; i < sizeof real_symbols / sizeof real_symbols[0]; i++) {
		const struct real_symbol *r = &real_symbols[i];
		void *p = next_symbol(r->name, r->version);
		if (p)
			__atomic_store_n(r->ptr, p, __ATOMIC_RELEASE);
	}
	t->resolving = 0;
}

int inj_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!real_sigaction && !inj_t.resolving)
		inj_resolve_all();
	return real_sigaction ? real_sigaction(sig, act, old) : __sigaction(sig, act, old);
}
