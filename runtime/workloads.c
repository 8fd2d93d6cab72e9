/* workloads.c: the Go programs the model runs, as goroutine state machines.
 *
 * A body is called with gp->pc at its resume point and runs until it blocks
 * in a runtime call that does not return (timeSleep, chanrecv when it must
 * wait, Gosched, exitsyscall's slow path); it sets gp->pc first, so that the
 * next call resumes after the block.  Returning from the body is goexit (for
 * main: main.main returned).  Everything a body keeps lives in its G: newproc's
 * argument in gp->arg, its locals in gp->locals (one struct per workload).
 *
 * A system call is real blocking between entersyscall and exitsyscall (a
 * clock_nanosleep), so the M is out of the scheduler exactly as in Go.
 */
#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

struct wlparams wl;
int64_t tsPeriod = 3 * 1000 * 1000; /* timer-syscall: the shared deadline, ns after start */
int64_t tsSkew = 50 * 1000;         /* timer-syscall: syscall end minus timer deadline */

/* Per-iteration allocations, freed by wlfree. */
static chan *chans[4096];
static int nchans;

static chan *wlchan(int cap)
{
    if (nchans == (int)(sizeof chans / sizeof chans[0]))
        throw("workload: too many channels");
    chan *c = makechan(cap);
    chans[nchans++] = c;
    return c;
}

void wlfree(void)
{
    for (int i = 0; i < nchans; i++)
        freechan(chans[i]);
    nchans = 0;
}

/* sleepUntil: the blocking part of a system call. */
static void sleepUntil(int64_t when)
{
    struct timespec ts = {.tv_sec = when / 1000000000LL, .tv_nsec = when % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static void spin(int64_t ns)
{
    int64_t end = nanotime() + ns;
    while (nanotime() < end) {
    }
}

static uint64_t rnd(int64_t *state)
{
    uint64_t x = (uint64_t)*state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = (int64_t)x;
    return x;
}

static int64_t seedFor(int64_t goid)
{
    uint64_t s = wl.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)goid * 0xbf58476d1ce4e5b9ULL +
                 (uint64_t)wl.iteration * 0x94d049bb133111ebULL;
    return (int64_t)(s | 1);
}

/* ---- timer-syscall: the shape of golang/go#40368 --------------------------------
 * main (G1) starts goroutines G2..Gn that sleep until a shared deadline D,
 * yields, then makes one blocking system call that returns at D + skew.  With
 * GOMAXPROCS=1, as a --trace shows it (README.md tells it step by step):
 * P0's schedtick is still 0 when main yields, so schedule's every-61st-tick
 * check takes main back off the global queue before G2 runs, and main enters
 * its syscall with G2 queued on P0.  Sysmon (M1) retakes P0; handoffp sees G2
 * queued and starts a new M (M2, not spinning), which runs G2 (its timer goes
 * on P0), idles P0 and blocks in netpoll until D; every P is idle, so sysmon
 * deep-sleeps until D.  At D sysmon sees the overdue timer and calls
 * startm(nil, false), and M2 and M0 (main's syscall returning) both park
 * while it is in the window: whichever parks second throws. */
static void tsSleeper(g *gp)
{
    switch (gp->pc) {
    case 0:
        gp->pc = 1;
        timeSleepUntilWhen(gp->arg);
    case 1:
        return;
    }
}

static void tsMain(g *gp)
{
    switch (gp->pc) {
    case 0: {
        int64_t deadline = nanotime() + tsPeriod;
        gp->locals.ts.deadline = deadline;
        for (int32_t i = 1; i < wl.goroutines; i++)
            newproc(tsSleeper, NULL, deadline);
        gp->pc = 1;
        Gosched();
    }
    case 1:
        gp->pc = 2;
        entersyscall();
        sleepUntil(gp->locals.ts.deadline + tsSkew);
        exitsyscall();
        /* fallthrough: the fast path got the P back */
    case 2:
        return;
    }
}

/* ---- mixed: many goroutines doing everything ------------------------------------------
 * main starts N workers (pairs that hand a token back and forth over two
 * channels) and waits on `done`; each worker runs R rounds of one random
 * local step (compute, system call, timer sleep, yield, or spawning a child
 * in its first round) followed by the hand-off with its partner.  The last
 * goroutine to finish sends on `done`. */
enum { MIXED_ROUNDS = 6 };

struct mixed {
    chan *done;
    chan **ab; /* per pair: a -> b, b -> a */
    _Atomic int32_t pending;
    int32_t n;
};

static struct mixed *mixedobj;

static void mixedChild(g *gp);

static void finish(void)
{
    if (atomic_fetch_sub(&mixedobj->pending, 1) == 1)
        chansend(mixedobj->done, (void *)1);
}

/* localStep: one random step; returns only if it did not block, else the G
 * resumes at `next`. */
static void localStep(g *gp, int next, bool maySpawn)
{
    int64_t *rs = &gp->locals.mixed.rng;
    uint64_t r = rnd(rs);
    switch (r % (maySpawn ? 6 : 5)) {
    case 0:
        spin(1000 + (int64_t)(rnd(rs) % 20000));
        return;
    case 1: {
        int64_t len = 20000 + (int64_t)(rnd(rs) % 200000);
        gp->pc = next;
        entersyscall();
        sleepUntil(nanotime() + len);
        exitsyscall();
        return;
    }
    case 2:
        gp->pc = next;
        timeSleep(20000 + (int64_t)(rnd(rs) % 500000));
    case 3:
        gp->pc = next;
        Gosched();
    case 4:
        return;
    default: {
        atomic_fetch_add(&mixedobj->pending, 1);
        newproc(mixedChild, NULL, 0);
        return;
    }
    }
}

static void mixedChild(g *gp)
{
    /* locals.mixed: round counts the steps done. */
    if (gp->pc == 0) {
        gp->locals.mixed.rng = seedFor(gp->goid);
        gp->pc = 1;
    }
    while (gp->locals.mixed.round < 3) {
        gp->locals.mixed.round++;
        localStep(gp, 1, false);
    }
    finish();
}

/* worker: arg is its index; locals.mixed: the rounds done, the random state.
 * pc: 0 start, 1 local step done, 2 after send/first receive, 3 round done. */
static void mixedWorker(g *gp)
{
    struct mixed *mx = mixedobj;
    int32_t idx = (int32_t)gp->arg;
    int32_t pair = idx / 2;
    bool hasPartner = pair * 2 + 1 < mx->n;
    bool isA = idx % 2 == 0;
    void *v;
    for (;;) {
        switch (gp->pc) {
        case 0:
            gp->locals.mixed.rng = seedFor(gp->goid);
            gp->locals.mixed.round = 0;
            gp->pc = 10;
            break;
        case 10: /* start of a round */
            if (gp->locals.mixed.round == MIXED_ROUNDS) {
                finish();
                return;
            }
            gp->pc = 11;
            localStep(gp, 11, gp->locals.mixed.round == 0);
            break;
        case 11: /* the hand-off */
            if (!hasPartner) {
                gp->pc = 13;
                break;
            }
            if (isA)
                chansend(mx->ab[2 * pair], (void *)1);
            gp->pc = 12;
            if (!chanrecv(mx->ab[2 * pair + (isA ? 1 : 0)], &v)) {
            }
            /* fallthrough */
        case 12:
            if (hasPartner && !isA)
                chansend(mx->ab[2 * pair + 1], (void *)1);
            gp->pc = 13;
            break;
        case 13:
            gp->locals.mixed.round++;
            gp->pc = 10;
            break;
        default:
            throw("mixedWorker: bad pc");
        }
    }
}

static void mixedMain(g *gp)
{
    void *v;
    switch (gp->pc) {
    case 0: {
        struct mixed *mx = calloc(1, sizeof *mx);
        int32_t n = wl.goroutines;
        mx->n = n;
        mx->done = wlchan(1);
        mx->ab = calloc((size_t)(n + 1), sizeof *mx->ab);
        for (int32_t i = 0; i < (n + 1) / 2 * 2; i++)
            mx->ab[i] = wlchan(MIXED_ROUNDS + 1);
        atomic_store(&mx->pending, n);
        mixedobj = mx;
        gp->pc = 1;
        for (int32_t i = 0; i < n; i++)
            newproc(mixedWorker, NULL, i);
        if (!chanrecv(mx->done, &v)) {
        }
    }
    /* fallthrough */
    case 1:
        return;
    }
}

void mixedFree(void)
{
    if (mixedobj != NULL) {
        free(mixedobj->ab);
        free(mixedobj);
        mixedobj = NULL;
    }
}

/* ---- timer-idle: a spawn followed by a short sleep, over and over --------------
 * The shape of golang/go#38860: main (G1) warms up (a compute, then a sleep
 * long enough for every P to go idle), then runs rounds of "start a
 * goroutine, sleep briefly, compute a little".  The spawn wakes a spinning M
 * (newproc's wakep) that finds nothing to do, since the child runs on main's
 * P as soon as main parks; main's sleep queues its timer on that P just
 * before the P goes idle and its M polls for it.  The spinner looks at that
 * P's timers only if the P is no longer running when it gets there.  Each
 * round is one chance for the interleaving of README.md's "Fix 38860";
 * there are no system calls, which would wake a deep-sleeping sysmon.
 * --goroutines N: main and N-1 children, one per round. */

static void tiChild(g *gp) { (void)gp; }

static void tiMain(g *gp)
{
    int64_t *rs = &gp->locals.ti.rng;
    for (;;) {
        switch (gp->pc) {
        case 0:
            *rs = seedFor(gp->goid);
            spin(300 * 1000);
            gp->pc = 1;
            timeSleep(6 * 1000 * 1000);
        case 1: /* start of a round */
            if (gp->locals.ti.round == wl.goroutines - 1)
                return;
            gp->locals.ti.round++;
            newproc(tiChild, NULL, 0);
            gp->pc = 2;
            timeSleep(20 * 1000 + (int64_t)(rnd(rs) % 100000));
        case 2:
            spin((int64_t)(rnd(rs) % 100000));
            gp->pc = 1;
            break;
        default:
            throw("tiMain: bad pc");
        }
    }
}

/* ---- deadlock: every goroutine waits on a channel nobody sends on --------------- */

static chan *never;

static void deadlockWaiter(g *gp)
{
    void *v;
    switch (gp->pc) {
    case 0:
        gp->pc = 1;
        if (!chanrecv(never, &v)) {
        }
    /* fallthrough */
    case 1:
        return;
    }
}

static void deadlockMain(g *gp)
{
    void *v;
    switch (gp->pc) {
    case 0:
        never = wlchan(1);
        for (int32_t i = 1; i < wl.goroutines; i++)
            newproc(deadlockWaiter, NULL, 0);
        gp->pc = 1;
        if (!chanrecv(never, &v)) {
        }
    /* fallthrough */
    case 1:
        return;
    }
}

/* ---- goexit: main calls runtime.Goexit ------------------------------------------
 * main (G1) starts goroutines G2..Gn that compute briefly and return, then calls
 * runtime.Goexit: main.main never returns, so the program runs on until the
 * last goroutine has exited, and then the last M to park (or sysmon, if it
 * starts last) finds no goroutine at all: checkdead throws "no goroutines
 * (main called runtime.Goexit) - deadlock!", as Go 1.14 does. */

static void geWorker(g *gp)
{
    (void)gp;
    spin(20 * 1000);
}

static void geMain(g *gp)
{
    (void)gp;
    for (int32_t i = 1; i < wl.goroutines; i++)
        newproc(geWorker, NULL, 0);
    goexit1();
}

const struct workload workloads[] = {
    {"timer-syscall",
     "the golang/go#40368 shape: main blocks in a syscall that returns as the other goroutines' "
     "timers fall due (default --procs 1 --goroutines 2)",
     1, 2, tsMain},
    {"mixed",
     "goroutines in pairs handing tokens over channels, between random computes, syscalls, timer "
     "sleeps, yields and spawns; must always finish (default --procs 2 --goroutines 16)",
     2, 16, mixedMain},
    {"deadlock",
     "every goroutine waits on a channel nobody sends on, no timers: must throw 'all goroutines are "
     "asleep - deadlock!' (default --procs 1 --goroutines 4)",
     1, 4, deadlockMain},
    {"timer-idle",
     "the golang/go#38860 shape: main spawns a goroutine and sleeps briefly, round after round, "
     "so that a spinning M passes main's P just before its timer is queued (default --procs 2 "
     "--goroutines 41: 40 rounds)",
     2, 41, tiMain},
    {"goexit",
     "main starts goroutines that finish, then calls runtime.Goexit: must throw 'no goroutines "
     "(main called runtime.Goexit) - deadlock!' (default --procs 1 --goroutines 3)",
     1, 3, geMain},
};
const int nworkloads = sizeof workloads / sizeof workloads[0];
