/* panic.c: fatal errors (Go 1.14's panic.go: throw, fatalthrow, startpanic_m
 * and dopanic_m, reduced to the throw path; the model has no panics, defers or
 * recover).  A throw prints "fatal error: <msg>", the scheduler dump, the
 * throwing thread's stack ("runtime stack:"), then every other M's stack,
 * then the goroutines and, with --trace, the event ring, and ends the process
 * with exit(2).  Unlike Go, the dump path never takes sched.lock
 * (golang/go#59758: checkdead throws with it held) nor any other scheduler
 * lock: it reads the state racily, as a crash dump must.  The pieces of the
 * dump are traceback.c's; SIGQUIT's dump (dumpAndExit) is started by
 * signal.c.
 *
 * Concurrent throws: the first thread to raise `panicking` owns the output;
 * any later thrower records its message in its M and sleeps until the
 * process exits (Go blocks it on paniclk).  A throw nested inside the dump on
 * the same thread prints one line and leaves with _exit(2).
 */
#include "runtime.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

_Atomic uint32_t panicking; /* [atomic] Go's panicking: the number of throwing threads */

static __thread int throwdepth;

/* claim: become the one thread that prints; false if another already does.
 * *live is false when the driver is between iterations (the state is being
 * freed or built and must not be read); see main.c. */
static bool claim(bool *live)
{
    bool first = atomic_fetch_add(&panicking, 1) == 0;
    *live = atomic_load(&schedFreeing) == 0;
    return first;
}

static void waitForExit(void) __attribute__((noreturn));
static void waitForExit(void)
{
    for (;;)
        pause();
}

/* throw: Go's throw: print, dump, exit 2. */
void throw(const char *s)
{
    m *mp = g_m;
    if (throwdepth++ > 0) {
        rprint("fatal error: %s\npanic during panic\nstack trace unavailable\n", s);
        _exit(2);
    }
    if (mp != NULL && atomic_load(&mp->throwing) == 0)
        atomic_store(&mp->throwing, 1);
    bool live;
    if (!claim(&live)) {
        if (mp != NULL)
            atomic_store(&mp->throwmsg, s);
        waitForExit();
    }
    traceEnd();
    rprint("fatal error: %s\n\n", s);
    if (!live) {
        /* Not on an M of a running iteration: no scheduler state to show. */
        symbolizeInit();
        rprint("runtime stack:\n");
        printOwnStack("throw");
        exit(2);
    }
    m *ms = atomic_load(&allm);
    schedtrace(ms);
    bool stacks = mp == NULL || atomic_load(&mp->throwing) > 0;
    if (stacks)
        sampleOthers(ms, mp);
    symbolizeInit();
    if (stacks) {
        rprint("\nruntime stack:\n");
        printOwnStack("throw");
        printOthers();
    }
    goroutineheaders();
    traceDump(s);
    exit(2);
}

/* dumpAndExit: the SIGQUIT path: the same dump plus every M's stack. */
void dumpAndExit(const char *header)
{
    bool live;
    if (!claim(&live))
        waitForExit();
    traceEnd();
    if (!live) {
        /* The driver was between iterations.  It checks panicking before it
         * frees anything, so once it has built the next iteration (and set
         * schedFreeing back to 0) that state stays alive for us. */
        int64_t deadline = nanotime() + 1000 * 1000 * 1000LL;
        while (atomic_load(&schedFreeing) != 0 && nanotime() < deadline) {
            struct timespec ts = {0, 20 * 1000};
            nanosleep(&ts, NULL);
        }
        live = atomic_load(&schedFreeing) == 0;
    }
    rprint("%s\n\n", header);
    if (!live) {
        rprint("SCHED: between iterations; no scheduler state\n");
        exit(2);
    }
    m *ms = atomic_load(&allm);
    schedtrace(ms);
    sampleOthers(ms, NULL);
    symbolizeInit();
    printOthers();
    goroutineheaders();
    traceDump(header);
    exit(2);
}
