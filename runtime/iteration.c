/* iteration.c: the model's process exit, which Go does not have.  gosched
 * runs a workload --iterations times in one process, each time on a fresh
 * scheduler, where a Go program runs once: when main.main returns Go calls
 * exit(0), and the model instead ends the iteration (mainExit): it marks the
 * iteration over (sched.exiting), wakes every parked M, the poller and sysmon,
 * and each M leaves its thread through mexitIteration the next time it looks.
 * The driver (main.c), woken on iterDone, then joins the threads (joinAll)
 * and frees the state (schedfree) before the next schedinit.  Nothing here
 * calls into the scheduler: the scheduler (proc.c) calls down into this file.
 */
#include "runtime.h"

#include <sched.h>
#include <stdlib.h>

note iterDone; /* the driver waits here for main to return */

/* mexitIteration: leave this M's thread, the iteration being over: the
 * model's stand-in for the process exiting under it.  (Go's mexit is another
 * thing: the exit of one M whose locked goroutine exited; the model has no
 * locked Ms.) */
void mexitIteration(void)
{
    atomic_store(&g_m->exited, 1);
    longjmp(g_m->exitctx, 1);
}

/* mainExit: main.main returned: Go calls exit(0).  The model ends the
 * iteration instead: mark it over, wake every M so that each thread leaves,
 * and tell the driver. */
void mainExit(void)
{
    lock(&sched.lock);
    atomic_store(&sched.exiting, 1);
    for (m *mp = sched.midle; mp != NULL; mp = mp->schedlink)
        notewakeup(&mp->park);
    notewakeup(&sched.sysmonnote);
    unlock(&sched.lock);
    netpollBreak();
    notewakeup(&iterDone);
    mexitIteration();
}

/* joinAll: join every M's thread.  An M creates Ms only synchronously
 * (newm returns after pthread_create), so once every M on allm is joined no
 * new one can appear. */
void joinAll(void)
{
    for (;;) {
        bool any = false;
        for (m *mp = atomic_load(&allm); mp != NULL; mp = atomic_load(&mp->alllink)) {
            if (mp->joined)
                continue;
            while (!atomic_load(&mp->threadok))
                sched_yield();
            pthread_join(mp->thread, NULL);
            mp->joined = true;
            any = true;
        }
        if (!any)
            break;
    }
}

/* schedfree: free the iteration's state (every thread has been joined). */
void schedfree(void)
{
    for (m *mp = atomic_load(&allm), *next; mp != NULL; mp = next) {
        next = atomic_load(&mp->alllink);
        notedestroy(&mp->park);
        free(mp);
    }
    atomic_store(&allm, NULL);
    m0 = NULL;
    for (int32_t i = 0; i < atomic_load(&allglen); i++)
        free(allgs[i]);
    atomic_store(&allglen, 0);
    free(allgs);
    allgs = NULL;
    for (int32_t i = 0; i < gomaxprocs; i++) {
        pthread_mutex_destroy(&allp[i]->runqlock.mu);
        pthread_mutex_destroy(&allp[i]->timersLock.mu);
        free(allp[i]->timers);
        free(allp[i]);
    }
    free(allp);
    allp = NULL;
    notedestroy(&sched.sysmonnote);
    notedestroy(&iterDone);
    notedestroy(&netpollNote);
}
