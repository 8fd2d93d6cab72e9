/* main.c: gosched's command line (ours; a Go program has no such driver):
 * flags and the loop that runs a workload --iterations times with a fresh
 * scheduler (the fix table is fixes.c).
 * Exit status: 0 ok, 2 a Go-style fatal error, 64 a usage error. */
#include "runtime.h"

#include "../common/duration.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The bound of --period and of --skew either way: the scenario is about
 * milliseconds, and a typo of minutes would look like a hang. */
#define MAX_PERIOD (60 * DURATION_S)

static void usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "gosched: %s (see gosched --help)\n", buf);
    exit(64);
}

static const char helptext[] =
    "usage: gosched [flags]\n"
    "  a C model of Go 1.14's G/M/P scheduler; silent and exit 0 on success,\n"
    "  Go-style fatal error and exit 2 on a throw, exit 64 on a usage error.\n"
    "\n"
    "  --workload NAME        timer-syscall (default), mixed, deadlock, timer-idle;\n"
    "                         see --list-workloads\n"
    "  --procs N              GOMAXPROCS (default: the workload's)\n"
    "  --goroutines N         goroutines the workload starts (default: the workload's)\n"
    "  --iterations N         run the scenario N times in this process, fresh scheduler each\n"
    "                         time (default 1)\n"
    "  --seed N               seed for the workload's random choices (default 1)\n"
    "  --fix on|off           the golang/go#40368 fix (default on)\n"
    "  --fix ISSUE=on|off     any fix by its Go issue number; see --list-fixes\n"
    "  --period DUR           timer-syscall: timers fall due DUR after start (default 3ms;\n"
    "                         above 0, at most 60s)\n"
    "  --skew DUR             timer-syscall: the syscall returns DUR after the timers (default\n"
    "                         50us; -60s to 60s)\n"
    "  --verbose              print per-iteration timings and scheduler events on stderr\n"
    "  --trace                keep the last 4096 scheduler events and print them in the dump\n"
    "                         of a fatal error or SIGQUIT (a hang's history; --verbose implies it)\n"
    "  --list-workloads, --list-fixes, --help\n"
    "  DUR is a duration as Go writes one: numbers with units ns, us, ms, s, m, h\n"
    "  (500us, 1.5ms, 1ms500us, -50us; docs/interfaces.md, \"Durations\").\n";

static bool parseInt(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != 0 || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* parseDuration: s in the one duration grammar of every binary
 * (common/duration.h, docs/interfaces.md), within [min, max] ns. */
static bool parseDuration(const char *s, int64_t min, int64_t max, int64_t *out)
{
    int64_t ns;
    if (duration_parse(s, &ns) != DURATION_OK || ns < min || ns > max)
        return false;
    *out = ns;
    return true;
}

static void setFix(const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *val = eq ? eq + 1 : arg;
    bool on;
    if (strcmp(val, "on") == 0)
        on = true;
    else if (strcmp(val, "off") == 0)
        on = false;
    else
        usage("--fix wants on, off or ISSUE=on|off, not '%s'", arg);
    if (eq == NULL) {
        fixes[FIX_40368].on = on;
        return;
    }
    char num[32];
    size_t len = (size_t)(eq - arg);
    if (len == 0 || len >= sizeof num)
        usage("--fix: bad issue in '%s'", arg);
    memcpy(num, arg, len);
    num[len] = 0;
    const char *n = num[0] == '#' ? num + 1 : num;
    long long issue;
    if (!parseInt(n, 1, 1000000, &issue))
        usage("--fix: bad issue number '%s'", num);
    for (int i = 0; i < NFIXES; i++)
        if (fixes[i].issue == issue) {
            fixes[i].on = on;
            return;
        }
    usage("--fix: no modelled fix for golang/go#%lld (see --list-fixes)", issue);
}

int main(int argc, char **argv)
{
    const struct workload *w = &workloads[0];
    long long procs = -1, goroutines = -1, iterations = 1, seed = 1;
    bool verbose = false, trace = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        char name[64];
        if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != NULL && strncmp(a, "--fix=", 6) != 0) {
            size_t len = (size_t)(strchr(a, '=') - a);
            if (len >= sizeof name)
                usage("unknown flag '%s'", a);
            memcpy(name, a, len);
            name[len] = 0;
            val = strchr(a, '=') + 1;
            a = name;
        } else if (strncmp(a, "--fix=", 6) == 0) {
            val = a + 6;
            a = "--fix";
        }
#define VALUE() (val != NULL ? val : (i + 1 < argc ? argv[++i] : (usage("flag %s needs a value", a), "")))
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(helptext, stdout);
            return 0;
        } else if (strcmp(a, "--list-workloads") == 0) {
            for (int k = 0; k < nworkloads; k++)
                printf("%-14s %s\n", workloads[k].name, workloads[k].what);
            return 0;
        } else if (strcmp(a, "--list-fixes") == 0) {
            for (int k = 0; k < NFIXES; k++)
                printf("%-6d golang/go#%d \"%s\"; fixed in %s; default %s\n       %s\n", fixes[k].issue,
                       fixes[k].issue, fixes[k].title, fixes[k].fixedin, fixes[k].on ? "on" : "off",
                       fixes[k].what);
            return 0;
        } else if (strcmp(a, "--workload") == 0) {
            const char *v = VALUE();
            w = NULL;
            for (int k = 0; k < nworkloads; k++)
                if (strcmp(workloads[k].name, v) == 0)
                    w = &workloads[k];
            if (w == NULL)
                usage("unknown workload '%s' (see --list-workloads)", v);
        } else if (strcmp(a, "--procs") == 0) {
            const char *v = VALUE();
            if (!parseInt(v, 1, 256, &procs))
                usage("--procs wants an integer in 1..256, not '%s'", v);
        } else if (strcmp(a, "--goroutines") == 0) {
            const char *v = VALUE();
            if (!parseInt(v, 1, 100000, &goroutines))
                usage("--goroutines wants an integer in 1..100000, not '%s'", v);
        } else if (strcmp(a, "--iterations") == 0) {
            const char *v = VALUE();
            if (!parseInt(v, 1, 100000000, &iterations))
                usage("--iterations wants a positive integer, not '%s'", v);
        } else if (strcmp(a, "--seed") == 0) {
            const char *v = VALUE();
            if (!parseInt(v, 0, INT64_MAX, &seed))
                usage("--seed wants a non-negative integer, not '%s'", v);
        } else if (strcmp(a, "--fix") == 0) {
            setFix(VALUE());
        } else if (strcmp(a, "--period") == 0) {
            const char *v = VALUE();
            if (!parseDuration(v, 1, MAX_PERIOD, &tsPeriod))
                usage("--period wants a duration above 0 and at most 60s, like 3ms, not '%s'", v);
        } else if (strcmp(a, "--skew") == 0) {
            const char *v = VALUE();
            if (!parseDuration(v, -MAX_PERIOD, MAX_PERIOD, &tsSkew))
                usage("--skew wants a duration from -60s to 60s, like 50us, not '%s'", v);
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose = true;
        } else if (strcmp(a, "--trace") == 0) {
            trace = true;
        } else {
            usage("unknown flag '%s'", a);
        }
#undef VALUE
    }
    if (procs < 0) {
        procs = w->defprocs;
        if (procs == 0)
            procs = sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (goroutines < 0)
        goroutines = w->defgoroutines;

    traceInit(verbose || trace);
    initsig();
    wl.goroutines = (int32_t)goroutines;
    wl.seed = (uint64_t)seed;
    int64_t start = nanotime();
    for (long long it = 0; it < iterations; it++) {
        int64_t t0 = nanotime();
        wl.iteration = (int)it;
        schedinit((int32_t)procs, (int32_t)(2 * goroutines + 16));
        atomic_store(&schedFreeing, 0);
        runIteration(w->mainfn, NULL);
        /* Dekker with the dumper (traceback.c): either it sees schedFreeing
         * and leaves the state alone, or we see panicking and never free. */
        atomic_store(&schedFreeing, 1);
        if (atomic_load(&panicking) != 0)
            for (;;)
                pause();
        joinAll();
        int32_t threads = (int32_t)mcount();
        schedfree();
        wlfree();
        mixedFree();
        if (verbose) {
            fprintf(stderr, "gosched: iteration %lld: %.0fus, %d threads\n", it + 1,
                    (double)(nanotime() - t0) / 1e3, threads);
            traceFlush(t0);
        }
        traceReset();
    }
    if (verbose) {
        /* Every fix of the table, so that a new one is never left out. */
        char fixstate[32 * NFIXES] = "";
        size_t len = 0;
        for (int k = 0; k < NFIXES; k++)
            len += (size_t)snprintf(fixstate + len, sizeof fixstate - len, " fix%d=%s", fixes[k].issue,
                                    fixes[k].on ? "on" : "off");
        double total = (double)(nanotime() - start) / 1e6;
        fprintf(stderr,
                "gosched: workload=%s procs=%lld goroutines=%lld%s: %lld iterations in %.1fms (%.0fus each)\n",
                w->name, procs, goroutines, fixstate, iterations, total, total * 1e3 / (double)iterations);
    }
    if (atomic_load(&panicking) != 0)
        for (;;)
            pause();
    return 0;
}
