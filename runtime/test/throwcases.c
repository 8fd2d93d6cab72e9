/* throwcases.c: a test-only program (build/tests/gosched-throwcases, never part
 * of gosched) that shows each of Go 1.14's throws in proc.c firing.  For one
 * named case it builds, on the main thread acting as m0, the scheduler state in
 * which a Go function's invariant check fails, and calls that function, which
 * must throw with Go's message, dump and exit 2.  Most of these states cannot
 * arise in a correct scheduler (that is why Go throws); the ones a real program
 * reaches (#40368's race, a deadlock, main calling Goexit) are shown by gosched
 * itself in tests/test_runtime.py.
 *
 * proc.c is compiled into this file so that its static functions (schedule,
 * casgstatus, ...) can be called; the code is the same source gosched runs.
 * calloc is wrapped (-Wl,--wrap=calloc) so that a case can make the next
 * allocations fail.
 *
 *   gosched-throwcases CASE     run one case (exit 2 if it threw, 1 if not)
 *   gosched-throwcases --list   the cases, one per line
 */
#include "../proc.c"

#include <stdio.h>

/* ---- calloc that fails on request ---------------------------------------------- */

void *__real_calloc(size_t n, size_t size);
static int callocOK = -1; /* allocations left before they fail; < 0: never fail */

void *__wrap_calloc(size_t n, size_t size)
{
    if (callocOK == 0)
        return NULL;
    if (callocOK > 0)
        callocOK--;
    return __real_calloc(n, size);
}

/* ---- building blocks ------------------------------------------------------------- */

/* setup: a fresh scheduler with procs Ps; this thread is m0 holding P0, as
 * mstart1 leaves it, and the dump treats the state as live. */
static void setup(int32_t procs)
{
    schedinit(procs, 512);
    atomic_store(&schedFreeing, 0);
    g_m = m0;
    m0->thread = pthread_self();
    atomic_store(&m0->tid, gettid());
    atomic_store(&m0->threadok, 1);
    acquirep(atomic_load(&m0->nextp));
    atomic_store(&m0->nextp, NULL);
}

static void body(g *gp) { (void)gp; }

/* idleM: an M without a thread, parked on the idle list as stopm would leave it. */
static m *idleM(void)
{
    m *mp = allocm(NULL, NULL, -1);
    lock(&sched.lock);
    mput(mp);
    unlock(&sched.lock);
    return mp;
}

/* takeP: take an idle P off the list, as startm's caller would. */
static p *takeP(void)
{
    lock(&sched.lock);
    p *pp = pidleget();
    unlock(&sched.lock);
    return pp;
}

/* running: a G running on m0 (as execute leaves it, without entering its body). */
static g *running(void)
{
    g *gp = newproc(body, NULL, 0);
    bool inherit;
    if (runqget(atomic_load(&m0->p), &inherit) != gp)
        throw("throwcases: newproc did not queue the G");
    atomic_store(&m0->curg, gp);
    atomic_store(&gp->m, m0);
    casgstatus(gp, Grunnable, Grunning);
    return gp;
}

/* sleeping: a G parked in time.Sleep, its timer queued on P0. */
static g *sleeping(void)
{
    g *gp = running();
    casgstatus(gp, Grunning, Gwaiting);
    dropg();
    gp->timer.when = nanotime() + 60 * 1000000000LL;
    gp->timer.gp = gp;
    lock(&allp[0]->timersLock);
    doaddtimer(allp[0], &gp->timer);
    unlock(&allp[0]->timersLock);
    return gp;
}

/* ---- the cases: each ends in a call that must throw ------------------------------- */

static void c_inconsistentCounts(void)
{
    /* m0 parks twice: the first mput leaves run == 0 with a sleeping G
     * (no deadlock while a timer is pending), the second makes run < 0. */
    setup(1);
    sleeping();
    releasep();
    lock(&sched.lock);
    mput(m0);
    mput(m0);
}

static void c_threadExhaustion(void)
{
    /* debug.SetMaxThreads(1), then a second M. */
    setup(1);
    sched.maxmcount = 1;
    newmSysmon();
}

static void c_threadIDOverflow(void)
{
    setup(1);
    lock(&sched.lock);
    sched.mnext = INT64_MAX;
    mReserveID();
}

static void c_startmNegativeSpinning(void)
{
    /* A caller claims it counted a spinning M (nmspinning is 0) and no P is idle. */
    setup(1);
    startm(NULL, true);
}

static void c_startmMSpinning(void)
{
    setup(2);
    m *mp = idleM();
    atomic_store(&mp->spinning, true);
    startm(NULL, false);
}

static void c_startmMHasP(void)
{
    setup(2);
    m *mp = idleM();
    atomic_store(&mp->nextp, allp[0]);
    startm(NULL, false);
}

static void c_startmPHasGs(void)
{
    /* A spinning start for a P with work queued. */
    setup(2);
    idleM();
    p *pp = takeP();
    g *gp = newproc(body, NULL, 0);
    bool inherit;
    runqget(allp[0], &inherit);
    runqput(pp, gp, false);
    atomic_store(&sched.nmspinning, 1);
    startm(pp, true);
}

static void c_stopmLocks(void)
{
    setup(1);
    releasep();
    m0->locks = 1;
    stopm();
}

static void c_stopmP(void)
{
    setup(1);
    stopm();
}

static void c_stopmSpinning(void)
{
    setup(1);
    releasep();
    atomic_store(&m0->spinning, true);
    stopm();
}

static void c_findrunnableNegativeSpinning(void)
{
    /* A spinning M that nmspinning does not count finds nothing and stops
     * spinning. */
    setup(1);
    atomic_store(&m0->spinning, true);
    bool inherit;
    findrunnable(&inherit);
}

static void c_pidleputNonEmpty(void)
{
    setup(1);
    newproc(body, NULL, 0);
    p *pp = releasep();
    lock(&sched.lock);
    pidleput(pp);
}

static void c_scheduleLocks(void)
{
    setup(1);
    m0->locks = 1;
    schedule();
}

static void c_scheduleSpinningWork(void)
{
    setup(1);
    newproc(body, NULL, 0);
    atomic_store(&m0->spinning, true);
    atomic_store(&sched.nmspinning, 1);
    schedule();
}

static void c_resetspinningNotSpinning(void)
{
    setup(1);
    resetspinning();
}

static void c_wirepInGo(void)
{
    setup(2);
    wirep(takeP());
}

static void c_wirepInvalid(void)
{
    /* Take back a P that is still in a system call by wirep, not by CAS. */
    setup(1);
    running();
    entersyscall();
    wirep(allp[0]);
}

static void c_releasepNoP(void)
{
    setup(1);
    releasep();
    releasep();
}

static void c_releasepInvalid(void)
{
    setup(1);
    m *other = allocm(NULL, NULL, -1);
    atomic_store(&allp[0]->m, other);
    releasep();
}

static void c_readyNotWaiting(void)
{
    setup(1);
    g *gp = newproc(body, NULL, 0);
    goready(gp);
}

static void c_runqstealOverflow(void)
{
    /* P0's queue is full; P1 holds 4 Gs, half of which come over. */
    setup(2);
    bool inherit;
    for (int i = 0; i < 4; i++) {
        g *gp = newproc(body, NULL, 0);
        runqget(allp[0], &inherit);
        runqput(allp[1], gp, false);
    }
    for (int i = 0; i < RUNQSIZE + 1; i++)
        newproc(body, NULL, 0);
    runqsteal(allp[0], allp[1], false);
}

static void c_casgstatusSame(void)
{
    setup(1);
    g *gp = newproc(body, NULL, 0);
    casgstatus(gp, Grunnable, Grunnable);
}

static void c_casgstatusReadied(void)
{
    /* injectglist (netpoll's ready list) given a G that is already runnable. */
    setup(1);
    g *gp = newproc(body, NULL, 0);
    injectglist(&gp, 1);
}

static void c_makechanNoChan(void)
{
    setup(1);
    callocOK = 0;
    makechan(4);
}

static void c_makechanNoBuf(void)
{
    setup(1);
    callocOK = 1;
    makechan(4);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"checkdead-inconsistent-counts", c_inconsistentCounts},
    {"thread-exhaustion", c_threadExhaustion},
    {"thread-id-overflow", c_threadIDOverflow},
    {"startm-negative-nmspinning", c_startmNegativeSpinning},
    {"startm-m-is-spinning", c_startmMSpinning},
    {"startm-m-has-p", c_startmMHasP},
    {"startm-p-has-runnable-gs", c_startmPHasGs},
    {"stopm-holding-locks", c_stopmLocks},
    {"stopm-holding-p", c_stopmP},
    {"stopm-spinning", c_stopmSpinning},
    {"findrunnable-negative-nmspinning", c_findrunnableNegativeSpinning},
    {"pidleput-non-empty", c_pidleputNonEmpty},
    {"schedule-holding-locks", c_scheduleLocks},
    {"schedule-spinning-with-local-work", c_scheduleSpinningWork},
    {"resetspinning-not-spinning", c_resetspinningNotSpinning},
    {"wirep-already-in-go", c_wirepInGo},
    {"wirep-invalid-p-state", c_wirepInvalid},
    {"releasep-invalid-arg", c_releasepNoP},
    {"releasep-invalid-p-state", c_releasepInvalid},
    {"ready-bad-status", c_readyNotWaiting},
    {"runqsteal-overflow", c_runqstealOverflow},
    {"casgstatus-bad-incoming", c_casgstatusSame},
    {"casgstatus-readied-twice", c_casgstatusReadied},
    {"makechan-no-memory-for-chan", c_makechanNoChan},
    {"makechan-no-memory-for-buf", c_makechanNoBuf},
};

int main(int argc, char **argv)
{
    int n = (int)(sizeof cases / sizeof cases[0]);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < n; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    for (int i = 0; argc == 2 && i < n; i++)
        if (strcmp(argv[1], cases[i].name) == 0) {
            initsig();
            cases[i].fn();
            fprintf(stderr, "throwcases: %s did not throw\n", argv[1]);
            return 1;
        }
    fprintf(stderr, "usage: gosched-throwcases CASE | --list\n");
    return 64;
}
