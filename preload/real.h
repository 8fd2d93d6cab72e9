/* real.h: the real functions behind the hooks (real.c), and the list of
 * release points the hooks and their real functions are generated from. */
#ifndef INJECT_REAL_H
#define INJECT_REAL_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#include "shim.h"

/* The release points, all `int f(T *)`: (point, function, type, glibc version
 * to ask dlvsym for or NULL, safe path while resolving). */
#define RELEASE_HOOKS(X)                                                                 \
	X(PT_MUTEX_UNLOCK, pthread_mutex_unlock, pthread_mutex_t, NULL,                  \
	  __pthread_mutex_unlock(a))                                                       \
	X(PT_RWLOCK_UNLOCK, pthread_rwlock_unlock, pthread_rwlock_t, NULL,               \
	  __pthread_rwlock_unlock(a))                                                      \
	X(PT_SPIN_UNLOCK, pthread_spin_unlock, pthread_spinlock_t, NULL, safe_spin_unlock(a)) \
	X(PT_SEM_POST, sem_post, sem_t, NULL, unresolved("sem_post"))                     \
	X(PT_COND_SIGNAL, pthread_cond_signal, pthread_cond_t, "GLIBC_2.3.2",              \
	  unresolved("pthread_cond_signal"))                                               \
	X(PT_COND_BROADCAST, pthread_cond_broadcast, pthread_cond_t, "GLIBC_2.3.2",        \
	  unresolved("pthread_cond_broadcast"))

/* Each points at a lazy stub until resolved (release/acquire: written once
 * with a release store, by whichever thread resolves first). */
#define DECLARE_REAL_POINTER(pt, fn, T, ver, safe) extern int (*real_##fn)(T *) HIDDEN;
RELEASE_HOOKS(DECLARE_REAL_POINTER)
#undef DECLARE_REAL_POINTER
extern int (*real_pthread_mutex_lock)(pthread_mutex_t *) HIDDEN;

/* NULL until resolved: check, and call inj_resolve_all() first. */
typedef int create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
extern create_fn *real_pthread_create HIDDEN;
extern void (*real_exit)(int) HIDDEN;
extern void (*real__exit)(int) HIDDEN;
extern void (*real__Exit)(int) HIDDEN;
extern sighandler_t (*real_signal)(int, sighandler_t) HIDDEN;
extern int (*real_dlclose)(void *) HIDDEN;

/* Look every real function up (the constructor; a lazy stub). */
void inj_resolve_all(void) HIDDEN;

/* The real sigaction, resolved first if need be; glibc's __sigaction while
 * this thread is inside dlsym. */
int inj_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old) HIDDEN;

#endif
