/* traceback.c: the pieces of a dump (Go 1.14's traceback.go, and proc.go's
 * schedtrace): the scheduler state (schedtrace(detailed=true)), the goroutine
 * headers, this thread's stack and every other M's.  panic.c puts them
 * together for a throw or SIGQUIT.  Everything here reads the scheduler's
 * state racily and takes no scheduler lock, since a dump runs where any lock
 * may be held (checkdead throws with sched.lock held).  Go walks goroutine
 * stacks; ours are state machines without stacks (a goroutine's header says
 * where it resumes), so the stacks shown are the Ms' C stacks.
 *
 * Other threads' stacks: the dumping thread sends each M the stack signal
 * (SIGURG, Go's preemption signal; signal.c installs the handler) and waits;
 * the handler unwinds its own thread from the signal context with libunwind
 * into a static buffer (no malloc, no locks) and raises a flag; the dumping
 * thread symbolizes the PCs (names via libdwfl symbol tables, file:line via
 * DWARF).  One request at a time, so one static buffer suffices.
 */
#define UNW_LOCAL_ONLY
#include "runtime.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <libunwind.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAXFRAMES 64

/* gstatusName: Go 1.14's gStatusStrings (traceback.go): a G status's name. */
const char *gstatusName(uint32_t s)
{
    switch (s) {
    case Gidle: return "idle";
    case Grunnable: return "runnable";
    case Grunning: return "running";
    case Gsyscall: return "syscall";
    case Gwaiting: return "waiting";
    case Gdead: return "dead";
    default: return "???";
    }
}

/* ---- symbolization -------------------------------------------------------------- */

static Dwfl *dwfl;

/* symbolizeInit: report this process's modules to libdwfl (once). */
void symbolizeInit(void)
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
void printOwnStack(const char *from)
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
void sigStackHandler(int sig, siginfo_t *si, void *ucv)
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

/* sampleOthers: sample every M on ms but self.  ms is allm as it was when the dump
 * began (the caller passes the same snapshot to schedtrace): allm only grows, at its
 * head, so walking from this snapshot gives the same Ms to the SCHED section and to the
 * stack section even while the process keeps creating threads. */
void sampleOthers(m *ms, m *self)
{
    nsamples = 0;
    if (allp == NULL)
        return;
    for (m *mp = ms; mp != NULL && nsamples < MAXSAMPLES; mp = atomic_load(&mp->alllink)) {
        if (mp == self)
            continue;
        samples[nsamples].mp = mp;
        sampleThread(&samples[nsamples]);
        nsamples++;
    }
}

/* ---- the dump ------------------------------------------------------------------------ */

static int64_t mid(m *mp) { return mp != NULL ? mp->id : -1; }

/* runqlenForDump: the length of pp's local run queue, runnext included, read
 * without p.runqlock. */
static uint32_t runqlenForDump(p *pp) { return pp->runqtail - pp->runqhead + (pp->runnext != NULL); }

/* schedtrace: Go 1.14's schedtrace(detailed=true), without sched.lock.  It
 * prints only what the model keeps: Go's fields for GC, stop-the-world, locked
 * Ms and Gs, the G free list, malloc and preemption (gcwaiting, stopwait,
 * gfreecnt, mallocing, preemptoff, dying, lockedg, lockedm) are left out, not
 * printed as constants.  Added, from the model's state: the M counts checkdead
 * uses (nmidle, nmsys, mnext, nmfreed), whether an M polls (lastpoll), each P's
 * first timer and idle-list membership, each M's nextp and idle-list membership.
 * ms: the Ms to show (allm when the dump began, see sampleOthers). */
void schedtrace(m *ms)
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
    for (m *mp = ms; mp != NULL; mp = atomic_load(&mp->alllink)) {
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

/* goroutineheaders: Go's goroutineheader for every live G (what our Gs have
 * instead of a stack: where the state machine resumes). */
void goroutineheaders(void)
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

/* printOthers: the stacks sampleOthers took, symbolized. */
void printOthers(void)
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
