/* time.c: the per-P timer heap (Go 1.14's time.go: doaddtimer, timeSleepUntil
 * and the upkeep of p.timer0When), which the scheduler reads: checkTimers
 * runs a P's due timers (proc.c, as in Go's proc.go), sysmon sleeps until
 * timeSleepUntil.  The other half of time.go, putting a sleeping goroutine's
 * timer on the heap (timeSleep, addtimer), parks the goroutine and wakes the
 * poller, so it sits above the scheduler in sleep.c.
 * Simplified: a small unsorted array per P scanned for its minimum instead of
 * Go's 4-ary heap, and only sleep timers, which are never deleted or
 * modified: no timer status machine, no deltimer/modtimer/adjusttimers. */
#include "runtime.h"

#include <assert.h>
#include <stdlib.h>

/* updateTimer0When: Go 1.14's updateTimer0When: publish pp's earliest timer
 * (0 if none) for readers without the lock.  Its callers hold
 * pp.timersLock, as Go's do. */
void updateTimer0When(p *pp)
{
    int64_t w = 0;
    for (int i = 0; i < pp->ntimers; i++)
        if (w == 0 || pp->timers[i]->when < w)
            w = pp->timers[i]->when;
    atomic_store(&pp->timer0When, w);
}

/* doaddtimer: Go 1.14's doaddtimer.  pp.timersLock must be held. */
void doaddtimer(p *pp, timer *t)
{
    assert(lockHeld(&pp->timersLock));
    if (!netpollinited())
        netpollGenericInit();
    if (t->pp != NULL)
        throw("doaddtimer: P already set in timer");
    if (pp->ntimers == pp->timerscap) {
        int cap = pp->timerscap ? 2 * pp->timerscap : 16;
        timer **nt = realloc(pp->timers, (size_t)cap * sizeof *nt);
        if (nt == NULL)
            throw("doaddtimer: out of memory");
        pp->timers = nt;
        pp->timerscap = cap;
    }
    t->pp = pp;
    pp->timers[pp->ntimers++] = t;
    updateTimer0When(pp);
}

/* timeSleepUntil: Go 1.14's timeSleepUntil: the earliest timer of any P. */
int64_t timeSleepUntil(void)
{
    int64_t next = MAXWHEN;
    lock(&allpLock);
    for (int32_t i = 0; i < gomaxprocs; i++) {
        int64_t w = atomic_load(&allp[i]->timer0When);
        if (w != 0 && w < next)
            next = w;
    }
    unlock(&allpLock);
    return next;
}
