/* sleep.c: time.Sleep (Go 1.14's time.go: timeSleep, resetForSleep,
 * addtimer): park the goroutine, then queue its timer on the current P's heap
 * (time.c) and wake the poller if it would sleep past the timer.  This half
 * of time.go calls the scheduler (gopark, wakeNetPoller in proc.c), which in
 * turn reads the heap, so it has a file of its own above proc.c.
 * Simplified: Go's timeSleep goes through resettimer with the timer's f set to
 * goroutineReady; ours has only sleep timers, and checkTimers readies the
 * timer's G directly. */
#include "runtime.h"

/* addtimer: Go 1.14's addtimer (through resettimer for a sleeping G): queue t on
 * the current P and wake the poller if it would sleep past t. */
void addtimer(timer *t)
{
    p *pp = atomic_load(&g_m->p);
    lock(&pp->timersLock);
    doaddtimer(pp, t);
    unlock(&pp->timersLock);
    traceEvent("addtimer: on P", pp->id);
    wakeNetPoller(t->when);
}

/* resetForSleep: Go 1.14's resetForSleep, the unlockf of time.Sleep's gopark: the
 * timer is queued only once the G is parked. */
static void resetForSleep(void *arg)
{
    addtimer(arg);
}

/* timeSleep: Go 1.14's timeSleep (time.Sleep). */
void timeSleep(int64_t ns)
{
    timeSleepUntilWhen(nanotime() + ns);
}

/* timeSleepUntilWhen: timeSleep to a deadline rather than for a duration
 * (ours: timer-syscall's goroutines share one deadline). */
void timeSleepUntilWhen(int64_t when)
{
    g *gp = atomic_load(&g_m->curg);
    gp->timer.when = when;
    gp->timer.gp = gp;
    gopark(resetForSleep, &gp->timer, "sleep");
}
