/* proc.c: Go 1.14's G/M/P scheduler (src/runtime/proc.go), modelled in C on
 * pthreads.  It keeps what proc.go has (checkTimers and wakeNetPoller too);
 * the rest of the runtime it uses sits below it, each file named after the
 * Go file it models: time.c (the timer heap), netpoll.c, lock.c, trace.c (the
 * event ring), iteration.c (the model's process exit), panic.c (throw).
 * chan.c and sleep.c, which park and ready goroutines, sit above it.
 *
 * Concepts.  A G is a goroutine, an M an OS thread (here a pthread), a P the
 * right to run Go code; there are exactly gomaxprocs Ps.  An M must hold a P
 * to run a G.  An M without a P is idle (parked in stopm, on sched.midle),
 * spinning (looking for work in findrunnable, counted in sched.nmspinning),
 * polling (blocked in findrunnable's netpoll until the next timer, holding no
 * P and NOT on midle), in a system call (its P is left in _Psyscall for
 * exitsyscall to take back, or for sysmon to retake), or sysmon, the monitor
 * thread that never holds a P.
 *
 * Worker thread parking/unparking (Go's design, which we keep).  We must keep
 * enough Ms running to use the Ps, and park the rest to save CPU.  Work is
 * submitted by readying a G, by a timer falling due, or by a G leaving a
 * system call.  The protocol:
 *  1. A producer that makes work and sees an idle P but no spinning M wakes
 *     one (wakep -> startm(nil, true)); an M that stops spinning because it
 *     found work wakes a replacement (resetspinning).
 *  2. A spinning M that finds nothing first puts its P on the idle list,
 *     then decrements nmspinning, then re-checks every run queue.  The other
 *     order loses wakeups (a producer could see nmspinning > 0, wake nobody,
 *     and the M could then park).
 *  3. The M that has nothing to do but a future timer blocks in netpoll
 *     until that timer; only one M polls (sched.lastpoll == 0 while it does).
 *  4. sysmon retakes Ps held in system calls (handoffp), starts an M when a
 *     timer is overdue, and deep-sleeps until the next timer when every P is
 *     idle.
 * Rejected alternatives (Go's, and ours): waking an M on every ready (wastes
 * threads), handing a P straight to a specific M (loses locality), and a
 * global "work available" condition variable (one lock for all Ps).
 *
 * Deadlock detection.  checkdead runs whenever an M goes idle (mput) and in
 * a few other places; it counts running Ms as mcount() - nmidle -
 * nmidlelocked - nmsys and, if none is left, looks for a runnable G: finding
 * one means the scheduler's books are wrong ("checkdead: runnable g"); finding
 * only blocked ones with no timers is a genuine deadlock.  mcount() counts the
 * ids handed out (mnext), so an M counts as running from the moment its id is
 * taken.  The race of golang/go#40368 is the gap in Go 1.14.8's startm between
 * taking an idle P and taking the new M's id: sched.lock is dropped there, the
 * P is owned by nobody visible and the coming M is not counted, so an M that
 * parks in the gap can make checkdead see no running M while a G is runnable.
 * Go 1.14.9 (fix 40368 here) reserves the id before dropping the lock.
 *
 * Lock order (a lock may be taken while holding the ones to its left):
 *     chan.lock -> allpLock -> sched.lock -> allglock -> p.runqlock
 * p.timersLock is a leaf (nothing is taken under it; timers fire after it is
 * dropped).  Every unlock of sched.lock is a pthread_mutex_unlock called from
 * the Go-named function itself (lock/unlock are always inlined), so that an
 * LD_PRELOAD shim names the site after the function (startm, stopm, ...).
 *
 * Functions whose comment says "sched.lock must be held" assert it first;
 * those that say "sched.lock must not be held" (they take it, and a pthread
 * mutex taken twice by one thread hangs instead of throwing) assert that.
 */
#include "runtime.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static bool mainStarted;     /* [init by runtime_main] Go's mainStarted */
static int64_t goidgen;      /* [allglock] */
static void (*wlmain)(g *);  /* [init] the workload's main.main */

#define FORCEGC_PERIOD (2 * 60 * 1000 * 1000 * 1000LL)

static void schedule(void) __attribute__((noreturn));
static void mcall(void (*fn)(g *)) __attribute__((noreturn));
void startm(p *pp, bool spinning);
void handoffp(p *pp);
void checkdead(void);
void wakep(void);

/* ---- G status -------------------------------------------------------------- */

/* casgstatus: Go 1.14's casgstatus without the scan bit (no GC in the
 * model).  Go's own throws keep Go's messages: "bad incoming values" for an
 * identity transition, "waiting for Gwaiting but is Grunnable" for a G that
 * was readied twice.  Any other mismatch makes Go spin until a GC scan drops
 * its bit; with no GC that would spin forever, so the model throws instead,
 * under a message of its own. */
static void casgstatus(g *gp, uint32_t oldval, uint32_t newval)
{
    if (oldval == newval) {
        rprint("runtime: casgstatus: oldval=%#x newval=%#x\n", oldval, newval);
        throw("casgstatus: bad incoming values");
    }
    uint32_t o = oldval;
    if (atomic_compare_exchange_strong(&gp->atomicstatus, &o, newval))
        return;
    if (oldval == Gwaiting && o == Grunnable)
        throw("casgstatus: waiting for Gwaiting but is Grunnable");
    rprint("runtime: casgstatus: oldval=%s newval=%s (g %lld is %s)\n", gstatusName(oldval),
           gstatusName(newval), (long long)gp->goid, gstatusName(o));
    throw("casgstatus: status is not oldval (model: Go would spin)");
}

/* allgadd: publish gp on allgs (Go's allgadd).  The dump reads allgs without
 * allglock, so the array never moves during an iteration. */
static void allgadd(g *gp)
{
    lock(&allglock);
    int32_t n = atomic_load(&allglen);
    if (n >= allgcap) {
        unlock(&allglock);
        throw("newproc: too many goroutines for the model's allgs");
    }
    gp->goid = ++goidgen;
    allgs[n] = gp;
    atomic_store(&allglen, n + 1);
    unlock(&allglock);
}

/* ---- M bookkeeping (mcount is in runtime.h) ----------------------------------- */

/* checkmcount: Go 1.14's checkmcount.  sched.lock must be held. */
static void checkmcount(void)
{
    assert(lockHeld(&sched.lock));
    if (mcount() > sched.maxmcount) {
        rprint("runtime: program exceeds %d-thread limit\n", sched.maxmcount);
        throw("thread exhaustion");
    }
}

/* mReserveID: Go 1.14.9's mReserveID: take the next M id, which makes the
 * coming M count in mcount() at once.  sched.lock must be held. */
int64_t mReserveID(void)
{
    assert(lockHeld(&sched.lock));
    /* Go's test is mnext+1 < mnext, which wraps in Go; in C a signed overflow
     * is undefined and the compiler may drop the test, so compare first. */
    if (sched.mnext == INT64_MAX)
        throw("runtime: thread ID overflow");
    int64_t id = sched.mnext;
    sched.mnext++;
    checkmcount();
    return id;
}

/* mcommoninit: Go 1.14.9's mcommoninit(mp, id).  id < 0 means "take one
 * now" (Go 1.14.8's mcommoninit(mp) always does); the fix passes the id
 * startm reserved.  Then publish mp on allm.  Simplified: no creation stack,
 * no signal g (mpreinit), no cgo traceback buffer; fastrand is a xorshift
 * seeded from the id and the clock.  sched.lock must not be held (taken here). */
void mcommoninit(m *mp, int64_t id)
{
    assert(!lockHeld(&sched.lock));
    lock(&sched.lock);
    if (id >= 0)
        mp->id = id;
    else
        mp->id = mReserveID();
    mp->fastrand = 0x9e3779b97f4a7c15ULL * (uint64_t)(mp->id + 1) ^ (uint64_t)nanotime();
    if (mp->fastrand == 0)
        mp->fastrand = 1;
    m *head = atomic_load(&allm);
    atomic_store(&mp->alllink, head);
    atomic_store(&allm, mp);
    unlock(&sched.lock);
}

/* mput: Go 1.14's mput: put mp on the idle list and run checkdead (every M
 * that goes idle is a deadlock check).  sched.lock must be held. */
void mput(m *mp)
{
    assert(lockHeld(&sched.lock));
    mp->schedlink = sched.midle;
    sched.midle = mp;
    sched.nmidle++;
    checkdead();
}

/* mget: Go 1.14's mget: take an idle M, or NULL.  sched.lock must be held. */
m *mget(void)
{
    assert(lockHeld(&sched.lock));
    m *mp = sched.midle;
    if (mp != NULL) {
        sched.midle = mp->schedlink;
        sched.nmidle--;
    }
    return mp;
}

/* ---- run queues -------------------------------------------------------------- */

/* sched.runqsize and sched.pidle are written under sched.lock but read without
 * it at four places where Go 1.14 reads them racily too (a stale value costs a
 * lock taken for nothing, or a retry under the lock).  Every access is a
 * relaxed atomic, so those reads are explicit and not C11 data races; nothing
 * orders other memory through them (the lock does that). */
static inline int32_t runqsizeLoad(void) { return atomic_load_explicit(&sched.runqsize, memory_order_relaxed); }
static inline void runqsizeStore(int32_t n) { atomic_store_explicit(&sched.runqsize, n, memory_order_relaxed); }
static inline p *pidleLoad(void) { return atomic_load_explicit(&sched.pidle, memory_order_relaxed); }

/* globrunqput: Go 1.14's globrunqput.  sched.lock must be held. */
void globrunqput(g *gp)
{
    assert(lockHeld(&sched.lock));
    gp->schedlink = NULL;
    if (sched.runqtail != NULL)
        sched.runqtail->schedlink = gp;
    else
        sched.runqhead = gp;
    sched.runqtail = gp;
    runqsizeStore(runqsizeLoad() + 1);
}

/* globrunqpop: Go 1.14's sched.runq.pop() (a gQueue method).  sched.lock must be
 * held. */
static g *globrunqpop(void)
{
    assert(lockHeld(&sched.lock));
    g *gp = sched.runqhead;
    if (gp != NULL) {
        sched.runqhead = gp->schedlink;
        if (sched.runqhead == NULL)
            sched.runqtail = NULL;
        runqsizeStore(runqsizeLoad() - 1);
        gp->schedlink = NULL;
    }
    return gp;
}

static bool runqputlocal(p *pp, g *gp);

/* globrunqget: Go 1.14's globrunqget: take a fair share of the global queue
 * (runqsize/gomaxprocs + 1, at most max and half a local queue), return one G
 * and put the rest on pp's local queue.  Where Go's runqput would spill a full
 * local queue (runqputslow, which takes sched.lock), ours puts the G back on
 * the global queue; callers reach here with an empty local queue, so neither
 * happens.  sched.lock must be held. */
g *globrunqget(p *pp, int32_t max)
{
    assert(lockHeld(&sched.lock));
    int32_t size = runqsizeLoad();
    if (size == 0)
        return NULL;
    int32_t n = size / gomaxprocs + 1;
    if (n > size)
        n = size;
    if (max > 0 && n > max)
        n = max;
    if (n > RUNQSIZE / 2)
        n = RUNQSIZE / 2;
    g *gp = globrunqpop();
    for (n--; n > 0; n--) {
        g *gp1 = globrunqpop();
        if (!runqputlocal(pp, gp1)) {
            /* Local queue full: put it back on the global queue. */
            globrunqput(gp1);
            break;
        }
    }
    return gp;
}

/* runqempty: Go 1.14's runqempty (ours takes the queue lock). */
bool runqempty(p *pp)
{
    lock(&pp->runqlock);
    bool empty = pp->runqhead == pp->runqtail && pp->runnext == NULL;
    unlock(&pp->runqlock);
    return empty;
}

static bool runqputlocal(p *pp, g *gp)
{
    lock(&pp->runqlock);
    bool ok = pp->runqtail - pp->runqhead < RUNQSIZE;
    if (ok) {
        pp->runq[pp->runqtail % RUNQSIZE] = gp;
        pp->runqtail++;
    }
    unlock(&pp->runqlock);
    return ok;
}

/* runqput: Go 1.14's runqput: next puts gp in runnext, kicking the old runnext to
 * the tail; a full queue spills half of itself to the global queue
 * (runqputslow). */
void runqput(p *pp, g *gp, bool next)
{
    lock(&pp->runqlock);
    if (next) {
        g *old = pp->runnext;
        pp->runnext = gp;
        if (old == NULL) {
            unlock(&pp->runqlock);
            return;
        }
        gp = old;
    }
    if (pp->runqtail - pp->runqhead < RUNQSIZE) {
        pp->runq[pp->runqtail % RUNQSIZE] = gp;
        pp->runqtail++;
        unlock(&pp->runqlock);
        return;
    }
    /* runqputslow: move half of the queue plus gp to the global queue. */
    g *batch[RUNQSIZE / 2 + 1];
    uint32_t n = RUNQSIZE / 2;
    for (uint32_t i = 0; i < n; i++)
        batch[i] = pp->runq[(pp->runqhead + i) % RUNQSIZE];
    pp->runqhead += n;
    unlock(&pp->runqlock);
    batch[n++] = gp;
    lock(&sched.lock);
    for (uint32_t i = 0; i < n; i++)
        globrunqput(batch[i]);
    unlock(&sched.lock);
}

/* runqget: Go 1.14's runqget; *inheritTime is true for runnext. */
g *runqget(p *pp, bool *inheritTime)
{
    lock(&pp->runqlock);
    g *gp = pp->runnext;
    if (gp != NULL) {
        pp->runnext = NULL;
        *inheritTime = true;
    } else if (pp->runqhead != pp->runqtail) {
        gp = pp->runq[pp->runqhead % RUNQSIZE];
        pp->runqhead++;
        *inheritTime = false;
    }
    unlock(&pp->runqlock);
    return gp;
}

/* runqsteal: Go 1.14's runqsteal + runqgrab: take half of p2's queue (its
 * runnext too when stealRunNextG and the queue is empty), return the last G
 * taken and put the others on pp's queue.  Like Go, it backs off 3us before
 * taking the runnext of a running P (that P is likely about to run it), and
 * it never spills to the global queue: pp's queue is empty when findrunnable
 * steals, so an overflow is a broken invariant.  Ours holds p2.runqlock where
 * Go uses CAS on runqhead/runnext. */
g *runqsteal(p *pp, p *p2, bool stealRunNextG)
{
    g *batch[RUNQSIZE / 2 + 1];
    uint32_t n = 0;
    lock(&p2->runqlock);
    uint32_t avail = p2->runqtail - p2->runqhead;
    uint32_t take = avail - avail / 2;
    if (take == 0 && stealRunNextG && p2->runnext != NULL && atomic_load(&p2->status) == Prunning) {
        unlock(&p2->runqlock);
        usleep_model(3);
        lock(&p2->runqlock);
        avail = p2->runqtail - p2->runqhead;
        take = avail - avail / 2;
    }
    for (uint32_t i = 0; i < take; i++)
        batch[n++] = p2->runq[(p2->runqhead + i) % RUNQSIZE];
    p2->runqhead += take;
    if (n == 0 && stealRunNextG && p2->runnext != NULL) {
        batch[n++] = p2->runnext;
        p2->runnext = NULL;
    }
    unlock(&p2->runqlock);
    if (n == 0)
        return NULL;
    for (uint32_t i = 0; i + 1 < n; i++)
        if (!runqputlocal(pp, batch[i]))
            throw("runqsteal: runq overflow");
    return batch[n - 1];
}

/* ---- P bookkeeping ------------------------------------------------------------ */

/* pidleput: Go 1.14's pidleput.  sched.lock must be held. */
void pidleput(p *pp)
{
    assert(lockHeld(&sched.lock));
    if (!runqempty(pp))
        throw("pidleput: P has non-empty run queue");
    pp->link = pidleLoad();
    atomic_store_explicit(&sched.pidle, pp, memory_order_relaxed);
    atomic_fetch_add(&sched.npidle, 1);
}

/* pidleget: Go 1.14's pidleget.  The P keeps status _Pidle until acquirep.
 * sched.lock must be held. */
p *pidleget(void)
{
    assert(lockHeld(&sched.lock));
    p *pp = pidleLoad();
    if (pp != NULL) {
        atomic_store_explicit(&sched.pidle, pp->link, memory_order_relaxed);
        atomic_fetch_sub(&sched.npidle, 1);
    }
    return pp;
}

/* wirep: Go 1.14's wirep: attach pp to the current M. */
void wirep(p *pp)
{
    m *mp = g_m;
    if (atomic_load(&mp->p) != NULL)
        throw("wirep: already in go");
    if (atomic_load(&pp->m) != NULL || atomic_load(&pp->status) != Pidle) {
        m *pm = atomic_load(&pp->m);
        rprint("wirep: p->m=%p(%lld) p->status=%u\n", (void *)pm, pm ? (long long)pm->id : 0LL,
               atomic_load(&pp->status));
        throw("wirep: invalid p state");
    }
    atomic_store(&mp->p, pp);
    atomic_store(&pp->m, mp);
    atomic_store(&pp->status, Prunning);
}

/* acquirep: Go 1.14's acquirep. */
void acquirep(p *pp) { wirep(pp); }

/* releasep: Go 1.14's releasep: detach the current M's P (it does not go idle). */
p *releasep(void)
{
    m *mp = g_m;
    p *pp = atomic_load(&mp->p);
    if (pp == NULL)
        throw("releasep: invalid arg");
    if (atomic_load(&pp->m) != mp || atomic_load(&pp->status) != Prunning) {
        rprint("releasep: m=%p m->p=%p p->m=%p p->status=%u\n", (void *)mp, (void *)pp,
               (void *)atomic_load(&pp->m), atomic_load(&pp->status));
        throw("releasep: invalid p state");
    }
    atomic_store(&mp->p, NULL);
    atomic_store(&pp->m, NULL);
    atomic_store(&pp->status, Pidle);
    return pp;
}

/* ---- waking the poller (netpoll itself is netpoll.c) ------------------------- */

/* wakeNetPoller: Go 1.14's wakeNetPoller: break the poller if it would sleep
 * past when.  With fix 38860 (Go 1.16's version), when nobody polls it also
 * wakes a spinning M for an idle P, so that some M goes to sleep in netpoll
 * for the new timer; sched.lock must then not be held (startm takes it). */
void wakeNetPoller(int64_t when)
{
    if (atomic_load(&sched.lastpoll) == 0) {
        int64_t pollerPollUntil = atomic_load(&sched.pollUntil);
        if (pollerPollUntil == 0 || pollerPollUntil > when)
            netpollBreak();
    } else if (fixOn(FIX_38860)) {
        assert(!lockHeld(&sched.lock));
        if (atomic_load(&sched.npidle) != 0 && atomic_load(&sched.nmspinning) == 0) {
            traceEvent("wakeNetPoller: nobody polls; wakep for the timer at us", traceWhen(when));
            wakep();
        }
    }
}

/* ---- running timers (the per-P heap is time.c) ------------------------------- */

/* checkTimers: Go 1.14's checkTimers: run pp's due timers; return the time of
 * the next one in *pollUntil (0 if none) and whether any ran. */
int64_t checkTimers(p *pp, int64_t now, int64_t *pollUntil, bool *ran)
{
    *pollUntil = 0;
    *ran = false;
    int64_t next = atomic_load(&pp->timer0When);
    if (next == 0)
        return now;
    if (now == 0)
        now = nanotime();
    if (now < next) {
        *pollUntil = next;
        return now;
    }
    lock(&pp->timersLock);
    for (;;) {
        int best = -1;
        for (int i = 0; i < pp->ntimers; i++)
            if (best < 0 || pp->timers[i]->when < pp->timers[best]->when)
                best = i;
        if (best < 0)
            break;
        timer *t = pp->timers[best];
        if (t->when > now) {
            *pollUntil = t->when;
            break;
        }
        /* runOneTimer: remove it, drop the lock, run f (goroutineReady). */
        pp->timers[best] = pp->timers[--pp->ntimers];
        t->pp = NULL;
        updateTimer0When(pp);
        unlock(&pp->timersLock);
        traceEvent("timer fired: ready g", t->gp->goid);
        goready(t->gp);
        *ran = true;
        lock(&pp->timersLock);
    }
    unlock(&pp->timersLock);
    return now;
}

/* ---- the scheduler: starting and stopping Ms ------------------------------------ */

/* incidlelocked: Go 1.14's incidlelocked: nmidlelocked += v, and checkdead
 * when it grows.  The model has no locked Ms, so only retake and sysmon's
 * netpoll use it, for their -1/+1 "one more M is running" fudge.  sched.lock
 * must not be held (taken here). */
void incidlelocked(int32_t v)
{
    assert(!lockHeld(&sched.lock));
    lock(&sched.lock);
    sched.nmidlelocked += v;
    if (v > 0)
        checkdead();
    unlock(&sched.lock);
}

/* checkdead: Go 1.14's checkdead: throw if no M is running while a G could
 * run, or if every G is blocked for good.  Not modelled: c-shared/c-archive
 * builds, the cgo extra M (run0 is always 0) and the playground's fake time.
 * The model adds one early return: once main has returned (the iteration is
 * over) nothing is checked, as Go's process would already have exited.
 * sched.lock must be held. */
void checkdead(void)
{
    assert(lockHeld(&sched.lock));
    if (atomic_load(&sched.exiting))
        return;
    if (atomic_load(&panicking) > 0)
        return;
    int32_t run0 = 0;
    int64_t run = mcount() - sched.nmidle - sched.nmidlelocked - sched.nmsys;
    traceEvent("checkdead: running Ms (mcount - nmidle - nmidlelocked - nmsys)", run);
    if (run > run0)
        return;
    if (run < 0) {
        rprint("runtime: checkdead: nmidle=%d nmidlelocked=%d mcount=%lld nmsys=%d\n", sched.nmidle,
               sched.nmidlelocked, (long long)mcount(), sched.nmsys);
        throw("checkdead: inconsistent counts");
    }
    int grunning = 0;
    lock(&allglock);
    int32_t n = atomic_load(&allglen);
    for (int32_t i = 0; i < n; i++) {
        g *gp = allgs[i];
        uint32_t s = atomic_load(&gp->atomicstatus);
        switch (s) {
        case Gwaiting:
            grunning++;
            break;
        case Grunnable:
        case Grunning:
        case Gsyscall:
            unlock(&allglock);
            rprint("runtime: checkdead: find g %lld in status %u\n", (long long)gp->goid, s);
            throw("checkdead: runnable g");
        }
    }
    unlock(&allglock);
    if (grunning == 0) {
        unlock(&sched.lock);
        throw("no goroutines (main called runtime.Goexit) - deadlock!");
    }
    for (int32_t i = 0; i < gomaxprocs; i++)
        if (atomic_load(&allp[i]->timer0When) != 0)
            return;
    atomic_store(&g_m->throwing, -1);
    unlock(&sched.lock);
    throw("all goroutines are asleep - deadlock!");
}

/* stopm: Go 1.14's stopm: park the current M (mput, hence checkdead) until
 * startm hands it a P in nextp.  The model adds the way out when the
 * iteration is over.  sched.lock must not be held (taken here). */
void stopm(void)
{
    assert(!lockHeld(&sched.lock));
    m *mp = g_m;
    if (mp->locks != 0)
        throw("stopm holding locks");
    if (atomic_load(&mp->p) != NULL)
        throw("stopm holding p");
    if (atomic_load(&mp->spinning))
        throw("stopm spinning");
    lock(&sched.lock);
    if (atomic_load(&sched.exiting)) {
        unlock(&sched.lock);
        mexitIteration();
    }
    traceEvent("stopm: mput; nmidle was", sched.nmidle);
    mput(mp);
    unlock(&sched.lock);
    atomic_store(&mp->blocked, true);
    notesleep(&mp->park);
    atomic_store(&mp->blocked, false);
    noteclear(&mp->park);
    p *pp = atomic_load(&mp->nextp);
    if (pp == NULL) {
        if (atomic_load(&sched.exiting))
            mexitIteration();
        throw("stopm: woken without a P");
    }
    acquirep(pp);
    atomic_store(&mp->nextp, NULL);
}

/* mspinning: Go 1.14's mspinning, the mstartfn of an M started spinning. */
static void mspinning(void) { atomic_store(&g_m->spinning, true); }

static void mstart1(void);

/* mstart: the pthread entry (Go's mstart); the M leaves through exitctx when
 * the iteration ends. */
static void *mstart(void *arg)
{
    m *mp = arg;
    g_m = mp;
    atomic_store(&mp->tid, gettid());
    minitSignals();
    /* Timer slack 1ns: the model's timed waits (sysmon's deep sleep, the
     * poller, a syscall's sleep) end when asked, not up to 50us later. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    if (setjmp(mp->exitctx) == 0)
        mstart1();
    return NULL;
}

/* mstart1: Go 1.14's mstart1.  The setjmp here is the model's g0 stack: mcall
 * comes back to it, abandoning the G's C frames. */
static void mstart1(void)
{
    if (g_m->mstartfn != NULL)
        g_m->mstartfn();
    p *pp = atomic_load(&g_m->nextp);
    if (pp != NULL) {
        acquirep(pp);
        atomic_store(&g_m->nextp, NULL);
    }
    if (setjmp(g_m->g0ctx) != 0) {
        g_m->mcallfn(g_m->mcallg);
        throw("mcall: function returned");
    }
    schedule();
}

/* mcall: Go 1.14's mcall: switch to g0 and run fn(curg) there. */
static void mcall(void (*fn)(g *))
{
    m *mp = g_m;
    mp->mcallfn = fn;
    mp->mcallg = atomic_load(&mp->curg);
    longjmp(mp->g0ctx, 1);
}

/* newosproc: Go 1.14's newosproc: clone a thread running mstart. */
static void newosproc(m *mp)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    int err = pthread_create(&mp->thread, &attr, mstart, mp);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        rprint("runtime: failed to create new OS thread (have %lld already; errno=%d)\n",
               (long long)mcount(), err);
        throw("newosproc");
    }
    atomic_store(&mp->threadok, 1);
}

/* allocm: Go 1.14.9's allocm(p, fn, id) (1.14.8's has no id): allocate an M.
 * An M without a P (sysmon) borrows pp around the allocation, as Go does for
 * its mallocs, so pp is _Prunning on sysmon meanwhile.  Simplified: no
 * acquirem, no sched.freem reaping (Ms never exit here), no g0 stack (the
 * pthread's stack is g0's).  Calls mcommoninit, which takes sched.lock: in Go
 * 1.14.8 that is where the #40368 window closes. */
m *allocm(p *pp, void (*fn)(void), int64_t id)
{
    m *cur = g_m;
    bool borrowed = false;
    if (cur != NULL && atomic_load(&cur->p) == NULL && pp != NULL) {
        acquirep(pp);
        borrowed = true;
    }
    m *mp = calloc(1, sizeof *mp);
    if (mp == NULL)
        throw("allocm: out of memory");
    mp->mstartfn = fn;
    noteinit(&mp->park);
    mcommoninit(mp, id);
    if (borrowed)
        releasep();
    return mp;
}

/* newm: Go 1.14's newm(fn, p, id): create a new M that starts with fn and then
 * runs with p. */
void newm(void (*fn)(void), p *pp, int64_t id)
{
    m *mp = allocm(pp, fn, id);
    traceEvent("newm: new M", mp->id);
    atomic_store(&mp->nextp, pp);
    newosproc(mp);
}

/* startm: Go 1.14.8's / 1.14.9's startm: schedule some M to run pp (taking an idle P if pp is
 * NULL), creating an M if none is idle.  spinning means the caller already
 * counted the M in nmspinning.
 *   fix 40368 off (Go <= 1.14.8): mget, unlock, then newm, whose mcommoninit
 *     takes the id later under the lock: in between the P is owned by nobody
 *     visible and mcount() does not include the coming M.
 *   fix 40368 on (Go 1.14.9): mReserveID under the lock, then unlock, and the
 *     id goes down newm -> allocm -> mcommoninit.
 * Go 1.14.9 also moved the found-M path's unlock after the nil check; the
 * order is the same.  sched.lock must not be held (taken here). */
void startm(p *pp, bool spinning)
{
    assert(!lockHeld(&sched.lock));
    lock(&sched.lock);
    if (pp == NULL) {
        pp = pidleget();
        if (pp == NULL) {
            unlock(&sched.lock);
            if (spinning) {
                if ((int32_t)atomic_fetch_sub(&sched.nmspinning, 1) - 1 < 0)
                    throw("startm: negative nmspinning");
            }
            return;
        }
    }
    m *mp = mget();
    traceEvent("startm: took a P; found an idle M", mp != NULL);
    if (mp == NULL) {
        int64_t id = -1;
        if (fixOn(FIX_40368))
            id = mReserveID();
        unlock(&sched.lock);
        void (*fn)(void) = NULL;
        if (spinning)
            fn = mspinning;
        newm(fn, pp, id);
        return;
    }
    unlock(&sched.lock);
    if (atomic_load(&mp->spinning))
        throw("startm: m is spinning");
    if (atomic_load(&mp->nextp) != NULL)
        throw("startm: m has p");
    if (spinning && !runqempty(pp))
        throw("startm: p has runnable gs");
    atomic_store(&mp->spinning, spinning);
    atomic_store(&mp->nextp, pp);
    notewakeup(&mp->park);
}

/* handoffp: Go 1.14's handoffp: pp comes from a syscall; start an M for it if
 * findrunnable would find work, else put it on the idle list.  Not modelled:
 * GC work, stop-the-world and safe-point functions.  sched.lock must not be
 * held (taken here and in startm). */
void handoffp(p *pp)
{
    assert(!lockHeld(&sched.lock));
    /* Racy read, as in Go 1.14's handoffp: a stale zero is caught below. */
    if (!runqempty(pp) || runqsizeLoad() != 0) {
        traceEvent("handoffp: work queued; startm(P, false) for P", pp->id);
        startm(pp, false);
        return;
    }
    if (atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) == 0) {
        uint32_t zero = 0;
        if (atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1)) {
            traceEvent("handoffp: no spinning M, no idle P; startm(P, true) for P", pp->id);
            startm(pp, true);
            return;
        }
    }
    lock(&sched.lock);
    if (runqsizeLoad() != 0) {
        unlock(&sched.lock);
        traceEvent("handoffp: global work; startm(P, false) for P", pp->id);
        startm(pp, false);
        return;
    }
    /* The last running P, and nobody polls: someone must poll. */
    if (atomic_load(&sched.npidle) == (uint32_t)(gomaxprocs - 1) && atomic_load(&sched.lastpoll) != 0) {
        unlock(&sched.lock);
        traceEvent("handoffp: the last P and nobody polls; startm(P, false) for P", pp->id);
        startm(pp, false);
        return;
    }
    int64_t when = atomic_load(&pp->timer0When);
    traceEvent("handoffp: P to the idle list; its first timer at us", traceWhen(when));
    if (fixOn(FIX_38860)) {
        /* Go 1.16: idle the P first, then (without the lock, as wakep may
         * start an M) make sure someone will poll for its timer. */
        pidleput(pp);
        unlock(&sched.lock);
        if (when != 0)
            wakeNetPoller(when);
        return;
    }
    if (when != 0)
        wakeNetPoller(when);
    pidleput(pp);
    unlock(&sched.lock);
}

/* wakep: Go 1.14's wakep: start a spinning M if there is none (the caller
 * has checked npidle != 0 && nmspinning == 0; 1.15 moved that check inside).
 * sched.lock must not be held (startm takes it). */
void wakep(void)
{
    assert(!lockHeld(&sched.lock));
    uint32_t zero = 0;
    if (!atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1))
        return;
    startm(NULL, true);
}

/* resetspinning: Go 1.14's resetspinning: a spinning M found work; the last
 * spinner to stop must wake a replacement if a P is idle. */
static void resetspinning(void)
{
    m *mp = g_m;
    if (!atomic_load(&mp->spinning))
        throw("resetspinning: not a spinning m");
    atomic_store(&mp->spinning, false);
    int32_t nmspinning = (int32_t)atomic_fetch_sub(&sched.nmspinning, 1) - 1;
    if (nmspinning < 0)
        throw("findrunnable: negative nmspinning");
    if (nmspinning == 0 && atomic_load(&sched.npidle) > 0)
        wakep();
}

/* injectglist: Go 1.14's injectglist: make the Gs runnable on the global
 * queue and start Ms for idle Ps.  The model's netpoll never returns Gs, so
 * this only ever sees empty lists; kept for the shape of the callers.
 * sched.lock must not be held (taken here and in startm). */
void injectglist(g **list, int n)
{
    assert(!lockHeld(&sched.lock));
    if (n == 0)
        return;
    lock(&sched.lock);
    for (int i = 0; i < n; i++) {
        casgstatus(list[i], Gwaiting, Grunnable);
        globrunqput(list[i]);
    }
    unlock(&sched.lock);
    for (; n > 0 && atomic_load(&sched.npidle) != 0; n--)
        startm(NULL, false);
}

/* ---- the scheduler: finding and running Gs --------------------------------------- */

static void exitsyscallTail(g *gp);

/* execute: Go 1.14's execute: run gp on the current M ("gogo").  The body runs
 * until it blocks through mcall; a body that returns has exited. */
static void execute(g *gp, bool inheritTime) __attribute__((noreturn));
static void execute(g *gp, bool inheritTime)
{
    m *mp = g_m;
    atomic_store(&mp->curg, gp);
    atomic_store(&gp->m, mp);
    casgstatus(gp, Grunnable, Grunning);
    p *pp = atomic_load(&mp->p);
    if (!inheritTime)
        atomic_fetch_add(&pp->schedtick, 1);
    traceEvent("execute: g", gp->goid);
    if (gp->syscallsp)
        exitsyscallTail(gp);
    gp->fn(gp);
    goexit1();
}

/* dropg: Go 1.14's dropg. */
static void dropg(void)
{
    m *mp = g_m;
    g *gp = atomic_load(&mp->curg);
    if (gp != NULL)
        atomic_store(&gp->m, NULL);
    atomic_store(&mp->curg, NULL);
}

static bool shouldStealTimers(p *p2) { return atomic_load(&p2->status) != Prunning; }

/* findrunnable: Go 1.14's findrunnable: find a G to run, stealing, running
 * timers and finally blocking in netpoll until the next timer or parking.
 * Not modelled: GC workers, finalizers, safe-point functions, cgo yield,
 * network descriptors (netpoll only waits for timers). */
static g *findrunnable(bool *inheritTime)
{
    m *mp = g_m;
    p *pp;
    int64_t now, pollUntil;
    bool ran;
top:
    if (atomic_load(&sched.exiting))
        mexitIteration();
    pp = atomic_load(&mp->p);
    now = checkTimers(pp, 0, &pollUntil, &ran);

    /* local runq */
    g *gp = runqget(pp, inheritTime);
    if (gp != NULL)
        return gp;
    /* global runq; a racy read, as in Go 1.14's findrunnable (the stop path
     * re-reads it under the lock) */
    if (runqsizeLoad() != 0) {
        lock(&sched.lock);
        gp = globrunqget(pp, 0);
        unlock(&sched.lock);
        if (gp != NULL) {
            *inheritTime = false;
            return gp;
        }
    }
    /* (Non-blocking netpoll: no descriptors, nothing to find.) */

    /* Steal work from other Ps. */
    int32_t procs = gomaxprocs;
    bool ranTimer = false;
    if (!atomic_load(&mp->spinning) &&
        2 * atomic_load(&sched.nmspinning) >= (uint32_t)procs - atomic_load(&sched.npidle)) {
        traceEvent("findrunnable: enough spinning Ms, no stealing; own pollUntil at us",
                   traceWhen(pollUntil));
        goto stop;
    }
    if (!atomic_load(&mp->spinning)) {
        atomic_store(&mp->spinning, true);
        atomic_fetch_add(&sched.nmspinning, 1);
    }
    for (int i = 0; i < 4; i++) {
        uint32_t start = fastrand();
        for (int32_t k = 0; k < procs; k++) {
            p *p2 = allp[(start + (uint32_t)k) % (uint32_t)procs];
            if (pp == p2)
                continue;
            gp = runqsteal(pp, p2, i > 2);
            if (gp != NULL) {
                *inheritTime = false;
                return gp;
            }
            if (i > 2 && shouldStealTimers(p2)) {
                int64_t w;
                bool tran;
                int64_t tnow = checkTimers(p2, now, &w, &tran);
                now = tnow;
                if (w != 0 && (pollUntil == 0 || w < pollUntil))
                    pollUntil = w;
                if (tran) {
                    gp = runqget(pp, inheritTime);
                    if (gp != NULL)
                        return gp;
                    ranTimer = true;
                }
            }
        }
    }
    if (ranTimer)
        goto top;

stop:;
    int64_t delta = -1;
    if (pollUntil != 0)
        delta = pollUntil - now;

    lock(&sched.lock);
    if (runqsizeLoad() != 0) {
        gp = globrunqget(pp, 0);
        unlock(&sched.lock);
        *inheritTime = false;
        return gp;
    }
    if (releasep() != pp)
        throw("findrunnable: wrong p");
    pidleput(pp);
    unlock(&sched.lock);
    traceEvent("findrunnable: nothing to run; P to the idle list", pp->id);

    /* The delicate dance: stop spinning first, then re-check every queue. */
    bool wasSpinning = atomic_load(&mp->spinning);
    if (wasSpinning) {
        atomic_store(&mp->spinning, false);
        if ((int32_t)atomic_fetch_sub(&sched.nmspinning, 1) - 1 < 0)
            throw("findrunnable: negative nmspinning");
    }
    for (int32_t i = 0; i < procs; i++) {
        p *p2 = allp[i];
        if (!runqempty(p2)) {
            lock(&sched.lock);
            pp = pidleget();
            unlock(&sched.lock);
            if (pp != NULL) {
                acquirep(pp);
                if (wasSpinning) {
                    atomic_store(&mp->spinning, true);
                    atomic_fetch_add(&sched.nmspinning, 1);
                }
                goto top;
            }
            break;
        }
    }

    /* Fix 38860 (Go 1.16, CL 232298): a timer may have been queued on a P,
     * and that P idled, after this M looked at it (or this M never looked,
     * not being allowed to steal): re-read every P's first timer now that
     * the P is dropped, as the run queues were re-read above.  Go 1.14 has
     * no such pass; it leaves the timer to sysmon, whose deep sleep may have
     * been computed before the timer existed. */
    if (fixOn(FIX_38860)) {
        int64_t before = pollUntil;
        for (int32_t i = 0; i < procs; i++) {
            int64_t w = atomic_load(&allp[i]->timer0When);
            if (w != 0 && (pollUntil == 0 || w < pollUntil))
                pollUntil = w;
        }
        if (pollUntil != before)
            traceEvent("findrunnable: a timer this M had not seen; pollUntil now at us", traceWhen(pollUntil));
        if (pollUntil != 0) {
            now = nanotime();
            delta = pollUntil > now ? pollUntil - now : 0;
        }
    }

    /* Block in netpoll until the next timer; this M holds no P and is not
     * idle, so checkdead counts it as running. */
    if (netpollinited() && pollUntil != 0 && atomic_exchange(&sched.lastpoll, 0) != 0) {
        atomic_store(&sched.pollUntil, pollUntil);
        if (atomic_load(&mp->p) != NULL)
            throw("findrunnable: netpoll with p");
        if (atomic_load(&mp->spinning))
            throw("findrunnable: netpoll with spinning");
        traceEvent("findrunnable: netpoll blocks for ns", delta);
        int n = netpoll(delta);
        atomic_store(&sched.pollUntil, 0);
        atomic_store(&sched.lastpoll, nanotime());
        lock(&sched.lock);
        pp = pidleget();
        unlock(&sched.lock);
        traceEvent("findrunnable: netpoll woke; got a P", pp != NULL);
        if (pp == NULL) {
            injectglist(NULL, n);
        } else {
            acquirep(pp);
            if (wasSpinning) {
                atomic_store(&mp->spinning, true);
                atomic_fetch_add(&sched.nmspinning, 1);
            }
            goto top;
        }
    } else if (pollUntil != 0 && netpollinited()) {
        int64_t pollerPollUntil = atomic_load(&sched.pollUntil);
        traceEvent("findrunnable: another M polls; break it if it polls past us", traceWhen(pollUntil));
        if (pollerPollUntil == 0 || pollerPollUntil > pollUntil)
            netpollBreak();
    }
    traceEvent("findrunnable: stopm; pollUntil was us", traceWhen(pollUntil));
    stopm();
    goto top;
}

/* schedule: Go 1.14's schedule: one round of the scheduler; never returns.
 * Not modelled: locked Ms (stoplockedm/startlockedm), gcstopm, safe-point
 * functions, the trace reader and GC workers (so no tryWakeP), and disabled
 * user scheduling. */
static void schedule(void)
{
    m *mp = g_m;
    if (mp->locks != 0)
        throw("schedule: holding locks");
    if (atomic_load(&sched.exiting))
        mexitIteration();
    p *pp = atomic_load(&mp->p);
    /* Go 1.14's sanity check: a spinning M owns a P that nobody could have
     * queued work on (startm checks it for a spinning start).  Checked before
     * checkTimers, whose goready may legitimately fill the local queue. */
    if (atomic_load(&mp->spinning) && !runqempty(pp))
        throw("schedule: spinning with local work");
    int64_t pollUntil;
    bool ran;
    checkTimers(pp, 0, &pollUntil, &ran);
    g *gp = NULL;
    bool inheritTime = false;
    /* Fairness: every 61st tick take a G from the global queue first.  The
     * size is read racily, as in Go 1.14's schedule. */
    if (atomic_load(&pp->schedtick) % 61 == 0 && runqsizeLoad() > 0) {
        lock(&sched.lock);
        gp = globrunqget(pp, 1);
        unlock(&sched.lock);
        if (gp != NULL)
            traceEvent("schedule: schedtick % 61 == 0; from the global queue, g", gp->goid);
    }
    if (gp == NULL)
        gp = runqget(pp, &inheritTime);
    if (gp == NULL)
        gp = findrunnable(&inheritTime);
    if (atomic_load(&mp->spinning))
        resetspinning();
    execute(gp, inheritTime);
}

/* park_m: Go 1.14's park_m, gopark's continuation on g0. */
static void park_m(g *gp)
{
    casgstatus(gp, Grunning, Gwaiting);
    dropg();
    void (*unlockf)(void *) = gp->parkunlockf;
    void *arg = gp->parklock;
    gp->parkunlockf = NULL;
    gp->parklock = NULL;
    if (unlockf != NULL)
        unlockf(arg);
    schedule();
}

/* gopark: Go 1.14's gopark: park the current G; unlockf(lock) runs once it is
 * _Gwaiting (Go keeps the pair in the M; ours travels in the G).  Does not
 * return: the G's body is called again at its saved pc when it is readied. */
void gopark(void (*unlockf)(void *), void *lockp, const char *reason)
{
    m *mp = g_m;
    g *gp = atomic_load(&mp->curg);
    gp->waitreason = reason;
    gp->parkunlockf = unlockf;
    gp->parklock = lockp;
    mcall(park_m);
}

/* ready: Go 1.14's ready: make gp runnable on the current P, wake a P if idle. */
static void ready(g *gp, bool next)
{
    uint32_t s = atomic_load(&gp->atomicstatus);
    if (s != Gwaiting) {
        rprint("runtime: gp: gp=%p, goid=%lld, gp->atomicstatus=%u\n", (void *)gp, (long long)gp->goid, s);
        throw("bad g->status in ready");
    }
    casgstatus(gp, Gwaiting, Grunnable);
    runqput(atomic_load(&g_m->p), gp, next);
    if (atomic_load(&sched.npidle) != 0 && atomic_load(&sched.nmspinning) == 0)
        wakep();
}

void goready(g *gp) { ready(gp, true); }

/* gosched_m: Go 1.14's gosched_m / goschedImpl: current G to the global queue. */
static void gosched_m(g *gp)
{
    casgstatus(gp, Grunning, Grunnable);
    dropg();
    lock(&sched.lock);
    globrunqput(gp);
    unlock(&sched.lock);
    traceEvent("gosched: to the global queue, g", gp->goid);
    schedule();
}

/* Gosched: Go 1.14's runtime.Gosched. */
void Gosched(void) { mcall(gosched_m); }

/* goexit0: Go 1.14's goexit0 (the G is not reused: allgs keeps it, dead). */
static void goexit0(g *gp)
{
    casgstatus(gp, Grunning, Gdead);
    dropg();
    schedule();
}

void goexit1(void) { mcall(goexit0); }

/* newproc: Go 1.14's newproc/newproc1: a new runnable G on the current P (or, from
 * the driver before any M runs, on P0). */
g *newproc(void (*fn)(g *), void *obj, int64_t arg)
{
    g *gp = calloc(1, sizeof *gp);
    if (gp == NULL)
        throw("newproc: out of memory");
    gp->fn = fn;
    gp->obj = obj;
    gp->arg = arg;
    atomic_store(&gp->atomicstatus, Grunnable);
    allgadd(gp);
    p *pp = g_m != NULL ? atomic_load(&g_m->p) : allp[0];
    runqput(pp, gp, true);
    traceEvent("newproc: g", gp->goid);
    if (atomic_load(&sched.npidle) != 0 && atomic_load(&sched.nmspinning) == 0 && mainStarted)
        wakep();
    return gp;
}

/* ---- system calls ------------------------------------------------------------- */

/* entersyscall_sysmon: Go 1.14's entersyscall_sysmon: wake a deep-sleeping
 * sysmon so that it can retake our P.  sched.lock must not be held. */
static void entersyscall_sysmon(void)
{
    assert(!lockHeld(&sched.lock));
    lock(&sched.lock);
    if (atomic_load(&sched.sysmonwait) != 0) {
        atomic_store(&sched.sysmonwait, 0);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
}

/* entersyscall: Go 1.14's reentersyscall: the P stays with us in _Psyscall (not
 * idle) until exitsyscall takes it back or sysmon retakes it.  Simplified: no
 * saved pc/sp or stack guard, no safe-point function, no entersyscall_gcwait
 * (no stop-the-world). */
void entersyscall(void)
{
    m *mp = g_m;
    g *gp = atomic_load(&mp->curg);
    mp->locks++;
    traceEvent("entersyscall: g", gp->goid);
    gp->syscallsp = true;
    casgstatus(gp, Grunning, Gsyscall);
    if (atomic_load(&sched.sysmonwait) != 0)
        entersyscall_sysmon();
    p *pp = atomic_load(&mp->p);
    mp->syscalltick = atomic_load(&pp->syscalltick);
    atomic_store(&pp->m, NULL);
    mp->oldp = pp;
    atomic_store(&mp->p, NULL);
    atomic_store(&pp->status, Psyscall);
    mp->locks--;
}

/* exitsyscallfast_pidle: Go 1.14's exitsyscallfast_pidle: take any idle P,
 * waking sysmon if it deep-sleeps.  sched.lock must not be held. */
static bool exitsyscallfast_pidle(void)
{
    assert(!lockHeld(&sched.lock));
    lock(&sched.lock);
    p *pp = pidleget();
    if (pp != NULL && atomic_load(&sched.sysmonwait) != 0) {
        atomic_store(&sched.sysmonwait, 0);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
    if (pp != NULL) {
        acquirep(pp);
        return true;
    }
    return false;
}

/* exitsyscallfast: Go 1.14's exitsyscallfast: take back the old P if it is still
 * in _Psyscall (exitsyscallfast_reacquired inline), else any idle P.  Not
 * modelled: the freezetheworld check and tracing. */
static bool exitsyscallfast(p *oldp)
{
    if (oldp != NULL && atomic_load(&oldp->status) == Psyscall) {
        uint32_t s = Psyscall;
        if (atomic_compare_exchange_strong(&oldp->status, &s, Pidle)) {
            wirep(oldp);
            /* exitsyscallfast_reacquired */
            if (g_m->syscalltick != atomic_load(&oldp->syscalltick))
                atomic_fetch_add(&oldp->syscalltick, 1);
            return true;
        }
    }
    /* A racy read, as in Go 1.14's exitsyscallfast: exitsyscallfast_pidle
     * re-checks under the lock. */
    if (pidleLoad() != NULL) {
        if (exitsyscallfast_pidle())
            return true;
    }
    return false;
}

/* exitsyscall0: Go 1.14's exitsyscall0, on g0: no P to be had, so queue gp on the
 * global queue and park this M.  gp is runnable before this M counts itself
 * idle: checkdead in stopm -> mput must see some other M running.  Not
 * modelled: locked Gs (stoplockedm) and disabled user scheduling.
 * sched.lock must not be held (taken here). */
static void exitsyscall0(g *gp)
{
    assert(!lockHeld(&sched.lock));
    casgstatus(gp, Gsyscall, Grunnable);
    dropg();
    lock(&sched.lock);
    p *pp = pidleget();
    traceEvent("exitsyscall0: found an idle P", pp != NULL);
    if (pp == NULL) {
        globrunqput(gp);
    } else if (atomic_load(&sched.sysmonwait) != 0) {
        atomic_store(&sched.sysmonwait, 0);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
    if (pp != NULL) {
        acquirep(pp);
        execute(gp, false);
    }
    stopm();
    schedule();
}

/* exitsyscall: Go 1.14's exitsyscall: fast path back to running, else
 * mcall(exitsyscall0) (does not return then: the G resumes later, and
 * execute runs the rest, exitsyscallTail).  Not modelled: the syscall-frame
 * check, tracing, and Gosched for disabled user scheduling. */
void exitsyscall(void)
{
    m *mp = g_m;
    g *gp = atomic_load(&mp->curg);
    mp->locks++;
    p *oldp = mp->oldp;
    mp->oldp = NULL;
    traceEvent("exitsyscall: g", gp->goid);
    if (exitsyscallfast(oldp)) {
        atomic_fetch_add(&atomic_load(&mp->p)->syscalltick, 1);
        casgstatus(gp, Gsyscall, Grunning);
        gp->syscallsp = false;
        mp->locks--;
        return;
    }
    mp->locks--;
    mcall(exitsyscall0);
}

/* exitsyscallTail: the end of Go 1.14's exitsyscall after mcall(exitsyscall0)
 * returns, i.e. once the G runs again on whatever P the scheduler gave it:
 * clear syscallsp and bump that P's syscalltick, as the fast path does.  Our
 * mcall does not return into the G's C frame (the body resumes at its pc), so
 * execute runs this tail for a G that still has syscallsp set. */
static void exitsyscallTail(g *gp)
{
    gp->syscallsp = false;
    atomic_fetch_add(&atomic_load(&g_m->p)->syscalltick, 1);
}

/* ---- sysmon ------------------------------------------------------------------- */

/* retake: Go 1.14's retake: preempt long-running Gs (not modelled: our Gs
 * block often) and take Ps away from Ms that sit in system calls.  The
 * incidlelocked(-1)/(+1) pair around the handoff is fix 6070. */
static uint32_t retake(int64_t now)
{
    uint32_t n = 0;
    lock(&allpLock);
    for (int32_t i = 0; i < gomaxprocs; i++) {
        p *pp = allp[i];
        uint32_t s = atomic_load(&pp->status);
        bool sysretake = false;
        if (s == Prunning || s == Psyscall) {
            uint32_t t = atomic_load(&pp->schedtick);
            if (pp->sysmontick.schedtick != t) {
                pp->sysmontick.schedtick = t;
                pp->sysmontick.schedwhen = now;
            } else if (pp->sysmontick.schedwhen + FORCE_PREEMPT_NS <= now) {
                /* preemptone(pp): not modelled. */
                sysretake = true;
            }
        }
        if (s == Psyscall) {
            /* Retake only after at least one sysmon tick in the same call. */
            uint32_t t = atomic_load(&pp->syscalltick);
            if (!sysretake && pp->sysmontick.syscalltick != t) {
                pp->sysmontick.syscalltick = t;
                pp->sysmontick.syscallwhen = now;
                continue;
            }
            if (runqempty(pp) && atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) > 0 &&
                pp->sysmontick.syscallwhen + 10 * 1000 * 1000 > now)
                continue;
            unlock(&allpLock);
            /* Pretend one more M is running while we hand the P off, so that
             * an M leaving its syscall meanwhile does not see a deadlock. */
            traceEvent("retake: P from syscall", i);
            if (fixOn(FIX_6070))
                incidlelocked(-1);
            uint32_t ps = Psyscall;
            if (atomic_compare_exchange_strong(&pp->status, &ps, Pidle)) {
                n++;
                atomic_fetch_add(&pp->syscalltick, 1);
                handoffp(pp);
            }
            if (fixOn(FIX_6070))
                incidlelocked(1);
            lock(&allpLock);
        }
    }
    unlock(&allpLock);
    return n;
}

/* sysmon: Go 1.14's sysmon, on its own M with no P, counted in nmsys.  Not
 * modelled: forced GC, scavenger, schedtrace, cgo yield. */
static void sysmon(void)
{
    g_m->issysmon = true;
    traceEvent("sysmon: start", 0);
    lock(&sched.lock);
    sched.nmsys++;
    checkdead();
    unlock(&sched.lock);

    int idle = 0;
    uint32_t delay = 0;
    for (;;) {
        if (idle == 0)
            delay = 20;
        else if (idle > 50)
            delay *= 2;
        if (delay > 10 * 1000)
            delay = 10 * 1000;
        usleep_model(delay);
        if (atomic_load(&sched.exiting))
            mexitIteration();
        int64_t now = nanotime();
        int64_t next = timeSleepUntil();
        if (atomic_load(&sched.npidle) == (uint32_t)gomaxprocs) {
            lock(&sched.lock);
            if (atomic_load(&sched.npidle) == (uint32_t)gomaxprocs) {
                if (next > now) {
                    atomic_store(&sched.sysmonwait, 1);
                    unlock(&sched.lock);
                    int64_t sleep = FORCEGC_PERIOD / 2;
                    if (next - now < sleep)
                        sleep = next - now;
                    traceEvent("sysmon: all Ps idle; deep sleep until the next timer seen, at us",
                               next == MAXWHEN ? -1 : traceWhen(next));
                    traceEvent("sysmon: deep sleep for ns", sleep);
                    notetsleep(&sched.sysmonnote, sleep);
                    traceEvent("sysmon: woke", 0);
                    now = nanotime();
                    next = timeSleepUntil();
                    lock(&sched.lock);
                    atomic_store(&sched.sysmonwait, 0);
                    noteclear(&sched.sysmonnote);
                }
                idle = 0;
                delay = 20;
            }
            unlock(&sched.lock);
        }
        if (atomic_load(&sched.exiting))
            mexitIteration();
        /* Poll the network if nobody has for 10ms. */
        int64_t lastpoll = atomic_load(&sched.lastpoll);
        if (netpollinited() && lastpoll != 0 && lastpoll + 10 * 1000 * 1000 < now) {
            atomic_compare_exchange_strong(&sched.lastpoll, &lastpoll, now);
            int n = netpoll(0);
            if (n != 0) {
                /* Fix 6070's second pair (the same commit guarded both
                 * windows); dead code here, as our netpoll readies no G. */
                if (fixOn(FIX_6070))
                    incidlelocked(-1);
                injectglist(NULL, n);
                if (fixOn(FIX_6070))
                    incidlelocked(1);
            }
        }
        /* Go 1.14 only (removed in 1.16): timers that should have already
         * run; start an M to run them.  The #40368 trigger. */
        if (next < now) {
            traceEvent("sysmon: overdue timer, startm(nil, false); late ns", now - next);
            startm(NULL, false);
        }
        if (retake(now) != 0)
            idle = 0;
        else
            idle++;
    }
}

void newmSysmon(void) { newm(sysmon, NULL, -1); }

/* ---- program start (its end, ours, is iteration.c) ------------------------------ */

/* schedinit: Go 1.14's schedinit + procresize for a fresh iteration: gomaxprocs Ps,
 * all idle but P0, which goes to m0. */
void schedinit(int32_t procs, int32_t maxg)
{
    memset(&sched, 0, sizeof sched);
    mutexinit(&sched.lock);
    noteinit(&sched.sysmonnote);
    sched.maxmcount = 10000;
    atomic_store(&sched.lastpoll, nanotime());
    noteinit(&iterDone);
    noteinit(&netpollNote);
    atomic_store(&netpollInited, 0);
    mutexinit(&allglock);
    mutexinit(&allpLock);
    mainStarted = false;
    goidgen = 0;
    gomaxprocs = procs;
    allgcap = maxg;
    allgs = calloc((size_t)maxg, sizeof *allgs);
    atomic_store(&allglen, 0);
    allp = calloc((size_t)procs, sizeof *allp);
    if (allgs == NULL || allp == NULL)
        throw("schedinit: out of memory");
    atomic_store(&allm, NULL);
    runtimeInitTime = nanotime();

    m0 = calloc(1, sizeof *m0);
    noteinit(&m0->park);
    mcommoninit(m0, -1);
    lock(&sched.lock);
    for (int32_t i = procs - 1; i >= 0; i--) {
        p *pp = calloc(1, sizeof *pp);
        pp->id = i;
        atomic_store(&pp->status, Pidle);
        mutexinit(&pp->runqlock);
        mutexinit(&pp->timersLock);
        allp[i] = pp;
        if (i != 0)
            pidleput(pp);
    }
    unlock(&sched.lock);
    atomic_store(&m0->nextp, allp[0]);
}

/* runtime_main: Go 1.14's runtime.main: start sysmon, then main.main; when it
 * returns the "process" exits. */
static void runtime_main(g *gp)
{
    if (!mainStarted) {
        mainStarted = true;
        newmSysmon();
    }
    wlmain(gp);
    mainExit();
}

/* runIteration: one run of the scenario (the driver thread, not an M), as
 * Go's rt0_go starts a program: queue runtime.main, start m0 on it, and wait
 * for main to return (iteration.c's mainExit). */
void runIteration(void (*mainfn)(g *), void *obj)
{
    wlmain = mainfn;
    newproc(runtime_main, obj, 0);
    newosproc(m0);
    notesleep(&iterDone);
}
