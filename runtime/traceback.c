/* traceback.c: fatal errors (Go's throw/fatalthrow/startpanic_m/dopanic_m,
 * panic.go), the scheduler dump (Go's schedtrace(detailed=true)) and stacks.
 *
 * A throw prints "fatal error: <msg>", the scheduler dump, the throwing
 * thread's stack ("runtime stack:"), then every other M's stack, then the
 * goroutines, and ends the process with exit(2).  Unlike Go, the dump path
 * never takes sched.lock (golang/go#59758: checkdead throws with it held) nor
 * any other scheduler lock: it reads the state racily, as a crash dump must.
 *
 * Other threads' stacks: the dumping thread sends each M the stack signal
 * (SIGURG, Go's preemption signal) and waits; the handler unwinds its own
 * thread from the signal context with libunwind into a static buffer (no
 * malloc, no locks) and raises a flag; the dumping thread symbolizes the PCs
 * (names via libdwfl symbol tables, file:line via DWARF).  One request at a
 * time, so one static buffer suffices.
 *
 * Concurrent throws: the first thread to raise `panicking` owns the output;
 * any later thrower records its message in its M and sleeps until the
 * process exits (Go blocks it on paniclk).  A throw nested inside the dump on
 * the same thread prints one line and leaves with _exit(2).
 *
 * SIGQUIT is blocked in every thread but a dedicated one that waits for it
 * with sigwait and then dumps, as Go does on SIGQUIT, and exits 2.
 */
#define UNW_LOCAL_ONLY
#include "runtime.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <libunwind.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STACKSIG SIGURG
#define MAXFRAMES 64

uint32_t runqlenForDump(p *pp);

static __thread int throwdepth;

/* rprint: Go's print: format into a stack buffer, one write(2). */
void rprint(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    const char *s = buf;
    while (n > 0) {
        ssize_t w = write(2, s, (size_t)n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        s += w;
        n -= (int)w;
    }
}

/* ---- symbolization -------------------------------------------------------------- */

static Dwfl *dwfl;

static void symbolizeInit(void)
{
    static char *debuginfo_path;
    static const Dwfl_Callbacks cb = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .debuginfo_path = &debuginfo_path,
    };
    if (dwfl != NULL)
        return;
    dwfl = dwfl_begin(&cb);
    if (dwfl == NULL)
        return;
    if (dwfl_linux_proc_report(dwfl, getpid()) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0) {
        dwfl_end(dwfl);
        dwfl = NULL;
    }
}

/* printFrame: "name+0xoff" then a tab and "file:line" when DWARF knows it.
 * exact: pc is the interrupted instruction, not a return address. */
static void printFrame(uintptr_t pc, bool exact, const char *uname, uintptr_t uoff)
{
    uintptr_t look = exact ? pc : pc - 1;
    Dwfl_Module *mod = dwfl != NULL ? dwfl_addrmodule(dwfl, look) : NULL;
    const char *name = NULL;
    uintptr_t off = 0;
    if (mod != NULL) {
        /* The full symbol table (libc's local symbols too); libunwind's
         * name, from the dynamic symbols, is the fallback. */
        GElf_Off o = 0;
        GElf_Sym sym;
        name = dwfl_module_addrinfo(mod, look, &o, &sym, NULL, NULL, NULL);
        off = (uintptr_t)o + (pc - look);
    }
    if (name == NULL) {
        name = uname;
        off = uoff;
    }
    if (name != NULL) {
        rprint("%s+0x%lx\n", name, (unsigned long)off);
    } else {
        const char *modname = mod != NULL ? dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL) : NULL;
        rprint("?+0x%lx%s%s\n", (unsigned long)pc, modname ? " in " : "", modname ? modname : "");
    }
    Dwfl_Line *line = mod != NULL ? dwfl_module_getsrc(mod, look) : NULL;
    int lineno = 0;
    const char *file = line != NULL ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file != NULL)
        rprint("\t%s:%d\n", file, lineno);
}

/* printOwnStack: this thread's frames from `from` (e.g. "throw") down, named
 * by libunwind (function+offset). */
static void printOwnStack(const char *from)
{
    unw_context_t ctx;
    unw_cursor_t c;
    uintptr_t pcs[MAXFRAMES];
    char names[MAXFRAMES][96];
    uintptr_t offs[MAXFRAMES];
    int n = 0;
    unw_getcontext(&ctx);
    if (unw_init_local(&c, &ctx) != 0) {
        rprint("stack trace unavailable\n");
        return;
    }
    do {
        unw_word_t ip, off = 0;
        unw_get_reg(&c, UNW_REG_IP, &ip);
        pcs[n] = ip;
        if (unw_get_proc_name(&c, names[n], sizeof names[n], &off) != 0)
            names[n][0] = 0;
        offs[n] = off;
        n++;
    } while (n < MAXFRAMES && unw_step(&c) > 0);
    int first = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], from) == 0) {
            first = i;
            break;
        }
    for (int i = first; i < n; i++)
        printFrame(pcs[i], false, names[i][0] ? names[i] : NULL, offs[i]);
}

/* ---- other threads' stacks ----------------------------------------------------------- */

static struct {
    _Atomic pid_t target;
    _Atomic int done;
    int n;
    uintptr_t pcs[MAXFRAMES];
} stackreq;

/* sigStackHandler: the stack signal's handler: unwind this thread from the signal
 * context into stackreq.  Async-signal-safe: libunwind local unwinding and
 * atomics only. */
static void sigStackHandler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    int saved = errno;
    if (atomic_load(&stackreq.target) == gettid()) {
        unw_cursor_t c;
        int n = 0;
        if (unw_init_local2(&c, (unw_context_t *)ucv, UNW_INIT_SIGNAL_FRAME) == 0) {
            do {
                unw_word_t ip;
                unw_get_reg(&c, UNW_REG_IP, &ip);
                stackreq.pcs[n++] = ip;
            } while (n < MAXFRAMES && unw_step(&c) > 0);
        }
        stackreq.n = n;
        atomic_store(&stackreq.done, 1);
    }
    errno = saved;
}

/* Stacks sampled from other threads, all taken before any is printed, so
 * that they show one moment (symbolizing is slow). */
#define MAXSAMPLES 64
static struct sample {
    m *mp;
    int n;                 /* -1: no answer */
    uintptr_t pcs[MAXFRAMES];
} samples[MAXSAMPLES];
static int nsamples;

static void sampleThread(struct sample *s)
{
    m *mp = s->mp;
    s->n = -1;
    pid_t tid = atomic_load(&mp->tid);
    if (tid == 0 || !atomic_load(&mp->threadok) || atomic_load(&mp->exited))
        return;
    stackreq.n = 0;
    atomic_store(&stackreq.done, 0);
    atomic_store(&stackreq.target, tid);
    if (pthread_kill(mp->thread, STACKSIG) != 0) {
        atomic_store(&stackreq.target, 0);
        return;
    }
    int64_t deadline = nanotime() + 200 * 1000 * 1000LL;
    while (!atomic_load(&stackreq.done) && nanotime() < deadline) {
    }
    atomic_store(&stackreq.target, 0);
    if (!atomic_load(&stackreq.done))
        return;
    s->n = stackreq.n;
    memcpy(s->pcs, stackreq.pcs, sizeof s->pcs);
}

/* The Ms a dump shows: allm as it was when the dump began.  allm only grows, at its
 * head, so walking from this snapshot gives the same Ms to the SCHED section and to the
 * stack section even while the process keeps creating threads. */
static m *dumpAllm;

static void sampleOthers(m *self)
{
    nsamples = 0;
    if (allp == NULL)
        return;
    for (m *mp = dumpAllm; mp != NULL && nsamples < MAXSAMPLES; mp = atomic_load(&mp->alllink)) {
        if (mp == self)
            continue;
        samples[nsamples].mp = mp;
        sampleThread(&samples[nsamples]);
        nsamples++;
    }
}

/* ---- the dump ------------------------------------------------------------------------ */

static int64_t mid(m *mp) { return mp != NULL ? mp->id : -1; }

/* schedtrace: Go 1.14's schedtrace(detailed=true), without sched.lock.  It
 * prints only what the model keeps: Go's fields for GC, stop-the-world, locked
 * Ms and Gs, the G free list, malloc and preemption (gcwaiting, stopwait,
 * gfreecnt, mallocing, preemptoff, dying, lockedg, lockedm) are left out, not
 * printed as constants.  Added, from the model's state: the M counts checkdead
 * uses (nmidle, nmsys, mnext, nmfreed), whether an M polls (lastpoll), each P's
 * first timer and idle-list membership, each M's nextp and idle-list membership. */
static void schedtrace(void)
{
    p **ps = allp;
    if (ps == NULL) {
        rprint("SCHED: no scheduler running\n");
        return;
    }
    int32_t idlem = 0;
    for (m *mp = sched.midle; mp != NULL && idlem < 100000; mp = mp->schedlink)
        idlem++;
    rprint("SCHED %lldus: gomaxprocs=%d idleprocs=%u threads=%lld spinningthreads=%u idlethreads=%d "
           "runqueue=%d nmidlelocked=%d sysmonwait=%u nmidle=%d nmsys=%d "
           "mnext=%lld nmfreed=%lld lastpoll=%s\n",
           (long long)((nanotime() - runtimeInitTime) / 1000), gomaxprocs, atomic_load(&sched.npidle),
           (long long)mcount(), atomic_load(&sched.nmspinning), idlem, atomic_load(&sched.runqsize), sched.nmidlelocked,
           atomic_load(&sched.sysmonwait), sched.nmidle, sched.nmsys, (long long)sched.mnext,
           (long long)sched.nmfreed, atomic_load(&sched.lastpoll) == 0 ? "0(polling)" : "set");
    for (int32_t i = 0; i < gomaxprocs; i++) {
        p *pp = ps[i];
        bool onidle = false;
        int k = 0; /* racy read: bound the walk, as for midle below */
        for (p *q = atomic_load(&sched.pidle); q != NULL && k < 100000; q = q->link, k++)
            if (q == pp)
                onidle = true;
        int64_t t0 = atomic_load(&pp->timer0When);
        rprint("  P%d: status=%u schedtick=%u syscalltick=%u m=%lld runqsize=%u timerslen=%d "
               "timer0when=%s%lldus onidlelist=%s\n",
               i, atomic_load(&pp->status), atomic_load(&pp->schedtick), atomic_load(&pp->syscalltick),
               (long long)mid(atomic_load(&pp->m)), runqlenForDump(pp), pp->ntimers,
               t0 == 0 ? "none/" : "", t0 == 0 ? 0LL : (long long)((t0 - runtimeInitTime) / 1000),
               onidle ? "true" : "false");
    }
    for (m *mp = dumpAllm; mp != NULL; mp = atomic_load(&mp->alllink)) {
        p *pp = atomic_load(&mp->p);
        p *np = atomic_load(&mp->nextp);
        g *cg = atomic_load(&mp->curg);
        bool onidle = false;
        int k = 0;
        for (m *q = sched.midle; q != NULL && k < 100000; q = q->schedlink, k++)
            if (q == mp)
                onidle = true;
        rprint("  M%lld: p=%d curg=%lld throwing=%d locks=%d spinning=%s "
               "blocked=%s nextp=%d idle=%s%s%s\n",
               (long long)mp->id, pp ? pp->id : -1, cg ? (long long)cg->goid : -1LL,
               atomic_load(&mp->throwing), mp->locks, atomic_load(&mp->spinning) ? "true" : "false",
               atomic_load(&mp->blocked) ? "true" : "false", np ? np->id : -1, onidle ? "true" : "false",
               mp->issysmon ? " (sysmon)" : "", mp == m0 ? " (m0)" : "");
    }
    int32_t n = atomic_load(&allglen);
    for (int32_t i = 0; i < n; i++) {
        g *gp = allgs[i];
        uint32_t s = atomic_load(&gp->atomicstatus);
        m *gm = atomic_load(&gp->m);
        rprint("  G%lld: status=%u(%s) m=%lld\n", (long long)gp->goid, s,
               s == Gwaiting && gp->waitreason ? gp->waitreason : "", (long long)mid(gm));
    }
}

static void goroutineheaders(void)
{
    if (allgs == NULL)
        return;
    int32_t n = atomic_load(&allglen);
    for (int32_t i = 0; i < n; i++) {
        g *gp = allgs[i];
        uint32_t s = atomic_load(&gp->atomicstatus);
        if (s == Gdead)
            continue;
        rprint("\ngoroutine %lld [%s]:\n", (long long)gp->goid,
               s == Gwaiting && gp->waitreason ? gp->waitreason : gstatusName(s));
        m *gm = atomic_load(&gp->m);
        if (gm != NULL)
            rprint("goroutine running on other thread (M%lld); stack unavailable\n", (long long)gm->id);
        else
            rprint("\t(state machine %p resumes at step %d)\n", (void *)(uintptr_t)gp->fn, gp->pc);
    }
}

static void printOthers(void)
{
    for (int i = 0; i < nsamples; i++) {
        m *mp = samples[i].mp;
        const char *msg = atomic_load(&mp->throwmsg);
        rprint("\nM%lld (thread %d)%s%s stack:\n", (long long)mp->id, (int)atomic_load(&mp->tid),
               mp == m0 ? " m0" : mp->issysmon ? " sysmon" : "", msg != NULL ? " [also throwing]" : "");
        if (msg != NULL)
            rprint("fatal error (lost the race to print): %s\n", msg);
        if (samples[i].n < 0) {
            rprint("thread not running or did not answer; stack unavailable\n");
            continue;
        }
        for (int k = 0; k < samples[i].n; k++)
            printFrame(samples[i].pcs[k], k == 0, NULL, 0);
    }
}

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
    rprint("fatal error: %s\n\n", s);
    if (!live) {
        /* Not on an M of a running iteration: no scheduler state to show. */
        symbolizeInit();
        rprint("runtime stack:\n");
        printOwnStack("throw");
        exit(2);
    }
    dumpAllm = atomic_load(&allm);
    schedtrace();
    bool stacks = mp == NULL || atomic_load(&mp->throwing) > 0;
    if (stacks)
        sampleOthers(mp);
    symbolizeInit();
    if (stacks) {
        rprint("\nruntime stack:\n");
        printOwnStack("throw");
        printOthers();
    }
    goroutineheaders();
    traceDump();
    exit(2);
}

/* dumpAndExit: the SIGQUIT path: the same dump plus every M's stack. */
void dumpAndExit(const char *header)
{
    bool live;
    if (!claim(&live))
        waitForExit();
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
    dumpAllm = atomic_load(&allm);
    schedtrace();
    sampleOthers(NULL);
    symbolizeInit();
    printOthers();
    goroutineheaders();
    traceDump();
    exit(2);
}

static void *sigquitThread(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGQUIT);
    int sig;
    while (sigwait(&set, &sig) != 0) {
    }
    /* Between iterations the state is being freed or built: wait (briefly)
     * for the next iteration, so that the dump has something to show. */
    int64_t deadline = nanotime() + 200 * 1000 * 1000LL;
    while (atomic_load(&schedFreeing) != 0 && nanotime() < deadline) {
        struct timespec ts = {0, 20 * 1000};
        nanosleep(&ts, NULL);
    }
    dumpAndExit("SIGQUIT: quit");
}

/* threadsiginit: per-thread signal setup (the mask is inherited: SIGQUIT
 * stays blocked, the stack signal open). */
void threadsiginit(void) {}

/* tracebackinit: install the stack signal, block SIGQUIT everywhere and start
 * the thread that waits for it.  (No libunwind warm-up here: under an
 * LD_PRELOAD shim that itself unwinds at every mutex unlock, libunwind's
 * cache locks would be taken re-entrantly at start-up.) */
void tracebackinit(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigStackHandler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(STACKSIG, &sa, NULL);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, sigquitThread, NULL) == 0)
        pthread_detach(t);
}
