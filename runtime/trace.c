/* trace.c: the --trace / --verbose event ring, ours.  It takes the place of
 * Go 1.14's execution tracer (trace.go), which writes per-P binary buffers
 * for `go tool trace`: the model keeps one flat ring of text events instead,
 * written without locks from every M and printed at the end of a dump
 * (panic.c) or, under --verbose, after each iteration (main.c). */
#include "runtime.h"

#include <stdlib.h>

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
bool traceOn; /* [init] --trace or --verbose (main.c) */

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

/* traceDump: the dump's view of the trace (panic.c), with --trace or --verbose. */
void traceDump(void)
{
    if (!traceOn)
        return;
    rprint("\nscheduler trace (--trace), the last %d events, us since the iteration began:\n", TRACE_N);
    traceWrite(runtimeInitTime);
}
