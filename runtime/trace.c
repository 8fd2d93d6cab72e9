/* trace.c: the --trace / --verbose event ring, ours.  It takes the place of
 * Go 1.14's execution tracer (trace.go), which writes per-P binary buffers
 * for `go tool trace`: the model keeps one flat ring of text events instead,
 * written without locks from every M and printed at the end of a dump
 * (panic.c) or, under --verbose, after each iteration (main.c).
 *
 * Under stress the ring is also kept when nobody asked to see it: stress
 * names a file in STRESS_EVENTS for each run, and a dump (a throw, SIGQUIT)
 * writes the iteration's events there, with absolute CLOCK_MONOTONIC times
 * and each M's kernel thread id and role, so that stress can draw them on
 * one timeline with the shim's delays (docs/interfaces.md, "The events
 * file").  Nothing is printed unless --trace or --verbose asked for it. */
#include "runtime.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The --trace / --verbose event trace: scheduler events in a fixed ring (no locks; a
 * writer that laps a slow reader can tear one entry, which is acceptable for
 * a debugging trace).  The last TRACE_N events survive, so a hang's dump
 * (traceDump) shows what led to it. */
#define TRACE_N 4096
struct traceev {
    int64_t t;
    int64_t mid;
    const char *what;
    int64_t arg;
};
static struct traceev traceevs[TRACE_N];
static _Atomic uint64_t ntraceevs;
bool traceOn; /* [init] the ring records: --trace, --verbose or STRESS_EVENTS */
static bool tracePrint;       /* [init] a dump prints the ring: --trace or --verbose */
static const char *traceFile; /* [init] STRESS_EVENTS: a dump writes the ring there */
static _Atomic int64_t traceEndT;  /* [atomic] when the throw or dump began (nanotime) */
static _Atomic int64_t traceEndM;  /* [atomic] on which M (-1: not on an M) */

/* traceInit: record when print (--trace, --verbose) or when STRESS_EVENTS
 * names a file (main.c, before the first iteration). */
void traceInit(bool print)
{
    const char *f = getenv("STRESS_EVENTS");
    traceFile = f != NULL && f[0] != 0 ? f : NULL;
    tracePrint = print;
    traceOn = print || traceFile != NULL;
}

/* traceEvent: record (what, arg) for the current M, if the trace is on. */
void traceEvent(const char *what, int64_t arg)
{
    if (!traceOn)
        return;
    uint64_t i = atomic_fetch_add(&ntraceevs, 1);
    struct traceev *e = &traceevs[i % TRACE_N];
    e->t = nanotime();
    e->mid = g_m != NULL ? g_m->id : -1;
    e->what = what;
    e->arg = arg;
}

/* traceWhen: a deadline as the trace shows it, us since the iteration began
 * (0: none). */
int64_t traceWhen(int64_t when) { return when == 0 ? 0 : (when - runtimeInitTime) / 1000; }

/* traceWrite: the kept events, oldest first, times relative to t0, through
 * rprint (no stdio, so the dump may call it). */
static void traceWrite(int64_t t0)
{
    uint64_t n = atomic_load(&ntraceevs);
    uint64_t first = n > TRACE_N ? n - TRACE_N : 0;
    if (first > 0)
        rprint("  (%llu earlier events not kept)\n", (unsigned long long)first);
    for (uint64_t i = first; i < n; i++) {
        struct traceev *e = &traceevs[i % TRACE_N];
        int64_t dt = e->t - t0; /* ns; printed as us with one decimal */
        rprint("  %s%7lld.%01lldus M%lld %s %lld\n", dt < 0 ? "-" : "", llabs(dt) / 1000,
               llabs(dt) / 100 % 10, (long long)e->mid, e->what ? e->what : "?", (long long)e->arg);
    }
}

/* traceFlush: print the iteration's events (driver, after join, --verbose). */
void traceFlush(int64_t t0) { traceWrite(t0); }

/* traceReset: forget them before the next iteration. */
void traceReset(void) { atomic_store(&ntraceevs, 0); }

/* traceSave: the iteration's events into STRESS_EVENTS (format:
 * docs/interfaces.md): the Ms with their threads and roles, the events with
 * absolute nanotime (CLOCK_MONOTONIC), and the throw or dump WHY. */
static void traceSave(const char *why)
{
    int fd = open(traceFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    uint64_t n = atomic_load(&ntraceevs);
    uint64_t first = n > TRACE_N ? n - TRACE_N : 0;
    fdprint(fd, "# gosched-events v1 pid=%d clock=monotonic dropped=%llu\n", (int)getpid(),
            (unsigned long long)first);
    /* The driver (not an M) runs on the main thread. */
    fdprint(fd, "M -1 %d driver\n", (int)getpid());
    for (m *mp = atomic_load(&allm); mp != NULL; mp = atomic_load(&mp->alllink))
        fdprint(fd, "M %lld %d %s\n", (long long)mp->id, (int)atomic_load(&mp->tid),
                mp == m0 ? "m0" : mp->issysmon ? "sysmon" : "m");
    for (uint64_t i = first; i < n; i++) {
        struct traceev *e = &traceevs[i % TRACE_N];
        fdprint(fd, "E %lld %lld %lld %s\n", (long long)e->t, (long long)e->mid,
                (long long)e->arg, e->what ? e->what : "?");
    }
    fdprint(fd, "X %lld %lld %s\n", (long long)atomic_load(&traceEndT),
            (long long)atomic_load(&traceEndM), why);
    close(fd);
}

/* traceEnd: the throw or dump begins now, on this M (panic.c, once it owns
 * the output). */
void traceEnd(void)
{
    atomic_store(&traceEndT, nanotime());
    atomic_store(&traceEndM, g_m != NULL ? g_m->id : -1);
}

/* traceDump: the dump's view of the trace (panic.c): printed with --trace or
 * --verbose, saved under STRESS_EVENTS; WHY is the throw's message or the
 * dump's header. */
void traceDump(const char *why)
{
    if (traceFile != NULL)
        traceSave(why);
    if (!tracePrint)
        return;
    rprint("\nscheduler trace (--trace), the last %d events, us since the iteration began:\n", TRACE_N);
    traceWrite(runtimeInitTime);
}
