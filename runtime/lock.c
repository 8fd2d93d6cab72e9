/* lock.c: locks and notes (Go 1.14's lock_futex.go).  Go's lock/unlock spin,
 * then sleep on a futex; ours are a pthread mutex that remembers its owner,
 * and they live in runtime.h as always-inline helpers, not here: every
 * unlock of sched.lock must be a pthread_mutex_unlock called from the
 * Go-named function itself (startm, stopm, ...), since the LD_PRELOAD shim
 * names a lock-release site after the function that calls pthread. A note
 * (Go's one-shot sleep/wakeup on a futex word) is a POSIX semaphore here:
 * notewakeup posts, notesleep waits, and noteclear drains the count where Go
 * stores 0 in the key.  Not modelled: Go's "notewakeup twice throws" check
 * (the semaphore counts a second wakeup instead). */
#include "runtime.h"

#include <errno.h>
#include <time.h>

void mutexinit(mutex *l)
{
    pthread_mutex_init(&l->mu, NULL);
    atomic_store(&l->owner, 0);
}

void noteinit(note *n) { sem_init(&n->sem, 0, 0); }
void notedestroy(note *n) { sem_destroy(&n->sem); }

/* noteclear: forget any pending wakeup (Go: n.key = 0). */
void noteclear(note *n)
{
    while (sem_trywait(&n->sem) == 0) {
    }
}

void notewakeup(note *n) { sem_post(&n->sem); }

void notesleep(note *n)
{
    while (sem_wait(&n->sem) != 0 && errno == EINTR) {
    }
}

bool notetsleep(note *n, int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + ns;
    ts.tv_sec = t / 1000000000LL;
    ts.tv_nsec = t % 1000000000LL;
    for (;;) {
        if (sem_clockwait(&n->sem, CLOCK_MONOTONIC, &ts) == 0)
            return true;
        if (errno == ETIMEDOUT)
            return false;
    }
}
