/* runtime.h: the types and globals of gosched, a C model of Go 1.14's G/M/P
 * scheduler (runtime2.go's g, m, p and schedt, cut down to the fields the
 * scheduler logic reads), and every prototype one file of runtime/ takes from
 * another.  proc.c opens with the design comment; README.md maps every file
 * and function to Go 1.14 and lists the simplifications.
 *
 * Every shared field names what guards it:
 *   [sched]   sched.lock          [owner] only the M that owns the G/P/M
 *   [atomic]  C11 atomic, seq_cst unless noted   [runq] p.runqlock
 *   [timers]  p.timersLock        [init]  written before the threads start
 *   [sched, racy reads]  written only under sched.lock, but also read without
 *             it where Go reads it racily; every access is a relaxed atomic
 *             so that those reads are explicit (proc.c names each one)
 */
#ifndef GOSCHED_RUNTIME_H
#define GOSCHED_RUNTIME_H

#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct g g;
typedef struct m m;
typedef struct p p;

/* Go's G status values (runtime2.go). */
enum { Gidle = 0, Grunnable = 1, Grunning = 2, Gsyscall = 3, Gwaiting = 4, Gdead = 6 };
/* Go's P status values. */
enum { Pidle = 0, Prunning = 1, Psyscall = 2, Pgcstop = 3, Pdead = 4 };

#define MAXWHEN INT64_MAX
#define RUNQSIZE 256
#define FORCE_PREEMPT_NS (10 * 1000 * 1000LL)

/* A mutex that remembers its owner, so that "sched.lock must be held" can be
 * asserted.  Locked and unlocked only through the always-inline helpers below,
 * so that pthread_mutex_unlock is called from the Go-named function itself. */
typedef struct mutex {
    pthread_mutex_t mu;
    _Atomic(unsigned long) owner; /* [atomic, relaxed] pthread_self of the holder, 0 if free */
} mutex;

static inline __attribute__((always_inline)) void lock(mutex *l)
{
    pthread_mutex_lock(&l->mu);
    atomic_store_explicit(&l->owner, (unsigned long)pthread_self(), memory_order_relaxed);
}

static inline __attribute__((always_inline)) void unlock(mutex *l)
{
    atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
    pthread_mutex_unlock(&l->mu);
}

static inline __attribute__((always_inline)) bool lockHeld(mutex *l)
{
    return atomic_load_explicit(&l->owner, memory_order_relaxed) == (unsigned long)pthread_self();
}

void mutexinit(mutex *l); /* lock.c */

/* A note (Go's one-shot sleep/wakeup event) on a POSIX semaphore (lock.c). */
typedef struct note {
    sem_t sem;
} note;

void noteinit(note *n);
void notedestroy(note *n);
void noteclear(note *n);
void notewakeup(note *n);
void notesleep(note *n);
bool notetsleep(note *n, int64_t ns); /* true if woken, false on timeout */

/* A goroutine's sleep timer (Go's runtime.timer for time.Sleep). [timers] */
typedef struct timer {
    int64_t when;
    g *gp; /* goroutineReady(gp) when it fires */
    p *pp; /* the P whose heap holds it, NULL when not queued */
} timer;

/* The locals a goroutine body keeps across a block.  Go keeps them on the G's
 * stack; ours are state machines (below), so they live in the G: one struct
 * per workload (workloads.c), which the runtime never reads. */
union glocals {
    struct {
        int64_t deadline; /* main: the deadline D its sleepers share */
    } ts;                 /* timer-syscall */
    struct {
        int64_t round; /* a worker's rounds done; a child's steps done */
        int64_t rng;   /* its random state */
    } mixed;
    struct {
        int64_t round; /* main: rounds started */
        int64_t rng;   /* its random state */
    } ti; /* timer-idle */
};

/* A goroutine.  Real Go goroutines have stacks; ours are state machines: fn is
 * called with the G's saved resume point in pc and runs until it blocks (a
 * runtime call that does not return: gopark, Gosched, exitsyscall's slow path,
 * goexit), so everything a G keeps across a block lives in the struct. */
struct g {
    int64_t goid;                  /* [init] */
    _Atomic uint32_t atomicstatus; /* [atomic] G status */
    m *_Atomic m;                  /* [atomic] the M running it, or NULL */
    g *schedlink;                  /* run queue / wait queue link [whoever queues it] */
    const char *waitreason;        /* [owner] why it is _Gwaiting */
    void (*fn)(g *);               /* [init] the goroutine's body */
    int pc;                        /* [owner] where fn resumes */
    int64_t arg;                   /* [init] newproc's argument (Go copies it to the new stack) */
    union glocals locals;          /* [owner] the body's locals */
    void *obj;                     /* [owner] the body's object (workload data) */
    timer timer;                   /* [timers] time.Sleep timer */
    void *elem;                    /* [chan lock] value handed over by a channel */
    void (*parkunlockf)(void *);   /* [owner] gopark's unlockf, run by park_m */
    void *parklock;                /* [owner] its argument */
    bool syscallsp;                /* [owner] Go's g.syscallsp != 0: set by entersyscall,
                                      cleared when exitsyscall is complete */
};

/* A machine: an OS thread (pthread). */
struct m {
    int64_t id;                 /* [sched] assigned by mcommoninit or mReserveID */
    pthread_t thread;           /* set by the creator once pthread_create returns */
    _Atomic int threadok;       /* [atomic] thread is valid */
    _Atomic int exited;         /* [atomic] the thread is leaving (iteration over) */
    _Atomic pid_t tid;          /* [atomic] kernel thread id, for the dump */
    bool joined;                /* [driver] */
    g *_Atomic curg;            /* [owner, atomic for the dump] */
    p *_Atomic p;               /* [owner, atomic for the dump] attached P */
    p *_Atomic nextp;           /* [sched or waker] P to attach on wakeup */
    p *oldp;                    /* [owner] P held before entering a syscall */
    _Atomic bool spinning;      /* [owner, atomic for the dump] */
    _Atomic bool blocked;       /* [atomic] parked on park (for the dump) */
    note park;                  /* stopm sleeps here */
    m *schedlink;               /* [sched] midle link */
    m *_Atomic alllink;         /* [atomic publish] allm list */
    void (*mstartfn)(void);     /* [init] sysmon or mspinning */
    int locks;                  /* [owner] */
    _Atomic int throwing;       /* [atomic] 1 throwing, -1 deadlock throw */
    uint32_t syscalltick;       /* [owner] */
    _Atomic(const char *) throwmsg; /* [atomic] a throw that lost the race to print */
    uint64_t fastrand;          /* [owner] */
    bool issysmon;              /* [init] */
    jmp_buf g0ctx;              /* mcall returns here (the model's g0 stack) */
    void (*mcallfn)(g *);       /* [owner] */
    g *mcallg;                  /* [owner] */
    jmp_buf exitctx;            /* the thread's way out when the iteration ends */
};

/* A processor: the right to run Go code. */
struct p {
    int32_t id;              /* [init] */
    _Atomic uint32_t status; /* [atomic] P status */
    p *link;                 /* [sched] pidle link */
    m *_Atomic m;            /* [owner] back-link to the M (atomic for the dump) */
    _Atomic uint32_t schedtick;   /* [owner] incremented on every scheduler call */
    _Atomic uint32_t syscalltick; /* [owner] incremented on every system call */
    struct {                 /* [sysmon] last tick observed by sysmon */
        uint32_t schedtick;
        int64_t schedwhen;
        uint32_t syscalltick;
        int64_t syscallwhen;
    } sysmontick;
    /* Local run queue.  Go's is a lock-free ring; ours takes runqlock. */
    mutex runqlock;
    g *runq[RUNQSIZE]; /* [runq] */
    uint32_t runqhead, runqtail; /* [runq] */
    g *runnext;                  /* [runq] */
    /* Timers (Go's per-P heap; ours is an unsorted array scanned for the min). */
    mutex timersLock;
    timer **timers;               /* [timers] */
    int ntimers, timerscap;       /* [timers] */
    _Atomic int64_t timer0When;   /* [atomic] earliest timer, 0 if none */
};

/* The global scheduler state (Go's schedt). */
typedef struct schedt {
    mutex lock;
    m *midle;            /* [sched] idle Ms waiting for work */
    int32_t nmidle;      /* [sched] number of idle Ms */
    int32_t nmidlelocked;/* [sched] locked Ms waiting for work; retake's -1 fudge */
    int64_t mnext;       /* [sched] number of Ms created and next M id */
    int32_t maxmcount;   /* [init] */
    int32_t nmsys;       /* [sched] system Ms (sysmon) not counted for deadlock */
    int64_t nmfreed;     /* [sched] cumulative freed Ms (always 0: Ms never exit) */
    p *_Atomic pidle;    /* [sched, racy reads] idle Ps */
    _Atomic uint32_t npidle;     /* [atomic] */
    _Atomic uint32_t nmspinning; /* [atomic] */
    g *runqhead, *runqtail;      /* [sched] global run queue */
    _Atomic int32_t runqsize;    /* [sched, racy reads] */
    _Atomic uint32_t sysmonwait; /* [atomic, written under sched] */
    note sysmonnote;
    _Atomic int64_t lastpoll;    /* [atomic] 0 means an M is blocked in netpoll */
    _Atomic int64_t pollUntil;   /* [atomic] when the poller will wake */
    /* The model's own state (not in Go): */
    _Atomic int exiting;         /* [atomic, set under sched] the iteration is over */
} schedt;

/* runtime2.c: the scheduler's shared globals. */
extern schedt sched;
extern p **allp;               /* [init] gomaxprocs Ps */
extern int32_t gomaxprocs;     /* [init] */
extern m *_Atomic allm;        /* [atomic publish] */
extern m *m0;
extern mutex allglock;
extern mutex allpLock;
extern g **allgs;              /* [allglock; read without it by the dump] */
extern _Atomic int32_t allglen;
extern int32_t allgcap;
extern int64_t runtimeInitTime;
extern _Atomic int schedFreeing; /* [atomic] the driver is building or freeing the state */

extern __thread m *g_m; /* getg().m */

/* mcount: Go 1.14's mcount (proc.go): the Ms that exist, counted from the ids
 * handed out.  Here beside schedt, so that the dump (traceback.c) reads it
 * without calling into the scheduler. */
static inline int64_t mcount(void) { return sched.mnext - sched.nmfreed; }

/* fixes.c: the fixes that can be switched off (--fix in main.c). */
enum { FIX_40368, FIX_6070, FIX_38860, NFIXES };
struct fix {
    int issue;
    const char *title;   /* the Go issue's title */
    const char *fixedin; /* Go release and commit of the fix */
    const char *what;    /* what switching it on changes in the model */
    bool on;
};
extern struct fix fixes[NFIXES];
static inline bool fixOn(int f) { return fixes[f].on; }

/* Prototypes, file by file, in the order a run's data flows through them
 * (README.md): the driver, the programs, the runtime calls they make, the
 * scheduler, and what the scheduler stands on. */

/* workloads.c: the Go programs. */
struct workload {
    const char *name;
    const char *what;
    int32_t defprocs;     /* 0: number of CPUs */
    int32_t defgoroutines;
    void (*mainfn)(g *);
};
extern const struct workload workloads[];
extern const int nworkloads;
struct wlparams {
    int32_t goroutines;
    uint64_t seed;
    int iteration;
};
extern struct wlparams wl;
extern int64_t tsPeriod, tsSkew; /* [init] timer-syscall's --period and --skew */
void wlfree(void);
void mixedFree(void);

/* chan.c: channels (Go's chan.go). */
/* A channel-like object: a buffered queue whose receivers park (Go's hchan,
 * reduced to what the workloads need: send never blocks). */
typedef struct chan {
    mutex lock;
    void **buf;
    int cap, head, n;
    g *recvq, *recvqtail; /* parked receivers */
} chan;
chan *makechan(int cap);
void freechan(chan *c);
void chansend(chan *c, void *v);
/* chanrecv: returns true with *v set if a value was ready; otherwise parks
 * the G (does not return); when the G runs again the value is in gp->elem. */
bool chanrecv(chan *c, void **v);

/* sleep.c: time.Sleep (Go's time.go). */
void timeSleep(int64_t ns) __attribute__((noreturn));
void timeSleepUntilWhen(int64_t when) __attribute__((noreturn));

/* proc.c: the scheduler, under Go's names. */
void schedinit(int32_t procs, int32_t maxg);
void runIteration(void (*mainfn)(g *), void *obj);
g *newproc(void (*fn)(g *), void *obj, int64_t arg);
void Gosched(void) __attribute__((noreturn));
void gopark(void (*unlockf)(void *), void *lockp, const char *reason) __attribute__((noreturn));
void goready(g *gp);
void entersyscall(void);
void exitsyscall(void);
void goexit1(void) __attribute__((noreturn));
void newmSysmon(void);
void wakeNetPoller(int64_t when);

/* time.c: the per-P timer heap (Go's time.go). */
void doaddtimer(p *pp, timer *t);
void updateTimer0When(p *pp);
int64_t timeSleepUntil(void);

/* netpoll.c: the poller, timers only (Go's netpoll.go, netpoll_epoll.go). */
extern _Atomic int netpollInited;
extern note netpollNote;
void netpollGenericInit(void);
bool netpollinited(void);
void netpollBreak(void);
int netpoll(int64_t delay);

/* iteration.c: the model's process exit (ours). */
extern note iterDone;
void mainExit(void) __attribute__((noreturn));
void mexitIteration(void) __attribute__((noreturn));
void joinAll(void);
void schedfree(void);

/* trace.c: the --trace event ring (ours), and its copy in STRESS_EVENTS. */
extern bool traceOn;
void traceInit(bool print);
void traceEvent(const char *what, int64_t arg);
int64_t traceWhen(int64_t when);
void traceFlush(int64_t t0);
void traceReset(void);
void traceEnd(void);
void traceDump(const char *why);

/* signal.c: signal set-up and SIGQUIT (Go's signal_unix.go). */
#define STACKSIG SIGURG /* the signal that asks an M for its stack (traceback.c) */
void initsig(void);
void minitSignals(void);

/* panic.c: fatal errors (Go's panic.go). */
extern _Atomic uint32_t panicking;
void throw(const char *s) __attribute__((noreturn));
void dumpAndExit(const char *header) __attribute__((noreturn));

/* traceback.c: the pieces of a dump (Go's traceback.go, proc.go's schedtrace). */
const char *gstatusName(uint32_t s);
void symbolizeInit(void);
void printOwnStack(const char *from);
void sigStackHandler(int sig, siginfo_t *si, void *ucv);
void sampleOthers(m *ms, m *self);
void printOthers(void);
void schedtrace(m *ms);
void goroutineheaders(void);

/* print.c: the runtime's print (Go's print.go). */
void rprint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fdprint(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* stubs.c: clock, sleep, random (Go's time_nofake.go, stubs.go). */
int64_t nanotime(void);
void usleep_model(uint32_t us);
uint32_t fastrand(void);

#endif
