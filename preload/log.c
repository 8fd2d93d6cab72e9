/* log.c: the INJECT_LOG event rings, the writer, and how the process ends.
 *
 * Each thread that delays claims a slot of static storage (no malloc) and
 * appends its events to the slot's ring; the writer reads every ring.  A slot
 * is FREE -> LIVE (claimed by CAS) -> RETIRED (its thread exited, events
 * kept) -> LIVE again when a new thread finds no FREE slot and reclaims the
 * RETIRED slot whose last event is oldest (its events count as dropped).
 *
 * The end: the log is written once per process, with write(2), by the first
 * of the destructor (exit), the _exit/_Exit hooks, or a fatal signal whose
 * action is the default; the thread that wins (end_state, by CAS) writes with
 * every blockable signal blocked.  Starting the end sets inj_stop, so threads
 * that keep running (a Go-style throw calls exit(2) while others unlock) stop
 * recording and delaying; a ring's head is published with a release store
 * after its event is filled in, so the writer reads only complete events.
 *
 * The log must be whole and name what really ended the process, but two
 * threads can end it at once (main returns from main while a worker calls
 * abort).  So an ending thread that lost the race does not end the process
 * its own way: it waits while the log is written, and then until the
 * writer's ending takes the process (a fatal signal or _exit does at once).
 * Only when the writer's ending is exit, which still runs the rest of libc's
 * exit code, is the wait bounded (END_WAIT_NS): should exit hang there, the
 * waiter puts its own reason in the end line (rewritten in place while the
 * block is still the file's last) and ends the process its way.  A fatal
 * signal that reaches the writer's own thread after the log is written
 * (its signals are unblocked again) does the same.
 *
 * Signals: for every signal whose default action ends the process (the
 * standard ones: see fatal[]) our handler stays installed; the
 * sigaction/signal hooks (hooks.c) record what the program asks for and
 * report it back, so the program's handler is the one that runs.  Our handler
 * writes the log only when the program's action is the default (the process
 * is about to die), then restores the default and sends the signal again,
 * which kills us as soon as the handler returns. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "real.h"
#include "shim.h"
#include "sites.h"
#include "state.h"

#define NSLOTS 256
#define RING 512
enum { SLOT_FREE, SLOT_LIVE, SLOT_RETIRED };

struct event {
	uint64_t t, delay;
	uint32_t visit;
	uint32_t site_point;        /* site index << 8 | point */
};

struct tslot {
	int state;                  /* atomic; FREE / LIVE / RETIRED */
	uint64_t head;              /* atomic, release: events written so far */
	uint64_t last_t;
	char lineage[LINEAGE_MAX];
	struct event ev[RING];
};

static struct tslot slots[NSLOTS];
static uint64_t dropped;            /* atomic: events lost (no slot, reclaimed) */
enum { END_OPEN, END_WRITING, END_WRITTEN };
static int end_state;               /* atomic: the log's state */
static int end_taken;               /* atomic: a thread corrects the reason and ends
				     * the process its way (at most one) */
static int exit_first;              /* atomic: the first thread that entered exit */
static int end_tid;                 /* atomic: the thread that writes or wrote it */
static int end_kind;                /* atomic: the written reason's END_BY_* */
/* The end line up to "reason=", and where it is in the file (for a later
 * correction of the reason, see rewrite_reason). */
static char end_line[512];
static size_t end_prefix;
static off_t end_at, end_size;
static pthread_key_t slot_key;
static int have_key;
/* glibc keeps the values of keys 0..31 in the thread descriptor and
 * allocates (calloc) a block for higher keys on a thread's first
 * pthread_setspecific: a hook must not malloc, so it calls
 * pthread_setspecific only when our key is below 32.  It can be higher: the
 * program's libraries and other preloaded ones are initialised before us and
 * may have created keys.  Then a thread we create registers its cleanup at
 * its start (the trampoline, outside any hook), the main thread in our
 * constructor, and a thread we did not create keeps its slot LIVE after it
 * exits (no cleanup; see preload/README.md). */
#define KEY_FIRST_BLOCK 32
static int key_in_hook;
static char key_marker;             /* the value when the slot is not known yet */

/* --- rings --- */

/* The slot key's destructor, on the exiting thread.  Later destructors of
 * the program may still unlock: they must not write into this slot, which
 * another thread may reclaim at once, so the thread forgets it (an event
 * after this claims a slot again, and glibc runs destructors again). */
static void retire_slot(struct tslot *s)
{
	int live = SLOT_LIVE;
	CAS(&s->state, &live, SLOT_RETIRED);
}

/* After this, an event of the thread (a later destructor) claims a slot,
 * writes and retires it at once. */
static void retire(void *arg)
{
	(void)arg;
	struct tstate *t = &inj_t;
	struct tslot *s = t->slot;
	t->exiting = 1;
	t->slot = NULL;
	if (s)
		retire_slot(s);
}

static struct tslot *take(struct tstate *t, struct tslot *s)
{
	memcpy(s->lineage, t->lineage, LINEAGE_MAX);
	if (key_in_hook && !t->exiting)
		pthread_setspecific(slot_key, s);
	return s;
}

void inj_log_thread_start(void)
{
	if (have_key && !key_in_hook)
		pthread_setspecific(slot_key, &key_marker);
}

static struct tslot *claim(struct tstate *t)
{
	for (int i = 0; i < NSLOTS; i++) {
		int fr = SLOT_FREE;
		if (LOAD(&slots[i].state) == SLOT_FREE && CAS(&slots[i].state, &fr, SLOT_LIVE))
			return take(t, &slots[i]);
	}
	for (;;) {
		int best = -1;
		for (int i = 0; i < NSLOTS; i++)
			if (LOAD(&slots[i].state) == SLOT_RETIRED &&
			    (best < 0 || slots[i].last_t < slots[best].last_t))
				best = i;
		if (best < 0)
			return NULL;
		int re = SLOT_RETIRED;
		if (CAS(&slots[best].state, &re, SLOT_LIVE)) {
			uint64_t h = LOAD(&slots[best].head);
			ADD(&dropped, h < RING ? h : RING);
			STORE(&slots[best].head, 0);
			return take(t, &slots[best]);
		}
	}
}

void inj_log_event(struct tstate *t, int point, int site, uint32_t visit, uint64_t delay)
{
	if (!inj_cfg.log[0])
		return;
	if (!t->slot && !(t->slot = claim(t))) {
		ADD(&dropped, 1);
		return;
	}
	struct tslot *s = t->slot;
	uint64_t h = LOAD(&s->head);
	struct event *e = &s->ev[h % RING];
	e->t = inject_now_ns() - inj_t0;
	e->delay = delay;
	e->visit = visit;
	e->site_point = (uint32_t)site << 8 | (uint32_t)point;
	s->last_t = e->t;
	STORE_REL(&s->head, h + 1);
	if (t->exiting) {
		t->slot = NULL;
		retire_slot(s);
	}
}

void inj_log_init(void)
{
	if (inj_cfg.log[0] && pthread_key_create(&slot_key, retire) == 0) {
		have_key = 1;
		key_in_hook = slot_key < KEY_FIRST_BLOCK;
		inj_log_thread_start();      /* the main thread, should it pthread_exit */
	}
}

void inj_log_after_fork(void)
{
	for (int i = 0; i < NSLOTS; i++) {
		STORE(&slots[i].state, SLOT_FREE);
		STORE(&slots[i].head, 0);
		slots[i].lineage[0] = 0;
	}
	STORE(&dropped, 0);
	STORE(&end_state, END_OPEN);
	STORE(&end_tid, 0);
	STORE(&end_taken, 0);
	STORE(&exit_first, 0);
	end_size = 0;
	inj_t.exiting = 0;
	/* Our old slot is free now: nothing to retire (retire() reads inj_t.slot,
	 * so a marker left in place for a high key is harmless). */
	if (have_key && key_in_hook)
		pthread_setspecific(slot_key, NULL);
}

/* --- the writer --- */

static char out[1 << 16];
static size_t outn;
static int outfd = -1;

static int write_failed;            /* some of the block did not reach the file */

static void emit_flush(void)
{
	size_t off = 0;
	while (off < outn) {
		ssize_t w = inj_write(outfd, out + off, outn - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			write_failed = 1;
			break;
		}
		off += (size_t)w;
	}
	outn = 0;
}

static void emit(const char *line, size_t n)
{
	if (outn + n > sizeof out)
		emit_flush();
	memcpy(out + outn, line, n);
	outn += n;
}

#define LINE_END (line + sizeof line - 2)

static char *fmt_reason(char *p, char *end, int kind, int sig)
{
	if (kind == END_BY_SIGNAL) {
		p = inj_fmt_str(p, "signal ", end);
		return inj_fmt_u64(p, (uint64_t)sig);
	}
	return inj_fmt_str(p, kind == END_BY__EXIT ? "_exit" : "exit", end);
}

static void write_log(int kind, int sig)
{
	outfd = inj_open(inj_cfg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (outfd < 0) {
		inj_write_err("inject: INJECT_LOG: cannot open the log at exit");
		return;
	}
	/* Blocks of processes sharing the file stay whole (raw: glibc's flock
	 * is not a cancellation point today, and we need it never to be one). */
	syscall(SYS_flock, outfd, LOCK_EX);
	outn = 0;
	write_failed = 0;
	char line[1024], *p;
	const struct inject_config *c = &inj_cfg;
	static const char *const actions[] = { "sleep", "yield", "spin" };

	p = inj_fmt_str(line, "# inject-log v1 pid=", LINE_END);
	p = inj_fmt_u64(p, (uint64_t)getpid());
	p = inj_fmt_str(p, " seed=", LINE_END);
	p = inj_fmt_u64(p, c->seed);
	p = inj_fmt_str(p, " prob=", LINE_END);
	p = inj_fmt_str(p, c->prob_str, LINE_END);
	p = inj_fmt_str(p, " delay=", LINE_END);
	p = inj_fmt_str(p, c->delay_str, LINE_END);
	p = inj_fmt_str(p, " action=", LINE_END);
	p = inj_fmt_str(p, actions[c->action], LINE_END);
	p = inj_fmt_str(p, " points=", LINE_END);
	p = inj_fmt_str(p, c->points_str, LINE_END);
	p = inj_fmt_str(p, " sites=", LINE_END);
	p = inj_fmt_str(p, c->sites_str[0] ? c->sites_str : "*", LINE_END);
	*p++ = '\n';
	emit(line, (size_t)(p - line));

	struct site_rec buf;
	uint64_t kept = 0, lost = LOAD(&dropped);
	for (int i = 0; i < NSLOTS; i++) {
		struct tslot *s = &slots[i];
		if (LOAD(&s->state) == SLOT_FREE)
			continue;
		/* When the ring is full, a thread that had not yet seen inj_stop may be
		 * overwriting the oldest event right now: leave that one out. */
		uint64_t h = LOAD_ACQ(&s->head), n = h < RING ? h : RING - 1;
		lost += h - n;
		for (uint64_t j = h - n; j < h; j++) {
			const struct event *e = &s->ev[j % RING];
			uint32_t site = e->site_point >> 8, point = e->site_point & 0xff;
			if (site >= SITE_SLOTS || point >= PT_COUNT)
				continue;
			p = inj_fmt_str(line, "E ", LINE_END);
			p = inj_fmt_u64(p, e->t);
			*p++ = ' ';
			p = inj_fmt_str(p, s->lineage[0] ? s->lineage : "?", LINE_END);
			*p++ = ' ';
			p = inj_fmt_str(p, inject_point_names[point], LINE_END);
			*p++ = ' ';
			p = inj_fmt_str(p, inj_site_rec((int)site, &buf)->name, LINE_END);
			*p++ = ' ';
			p = inj_fmt_u64(p, e->visit);
			*p++ = ' ';
			p = inj_fmt_u64(p, e->delay);
			*p++ = '\n';
			emit(line, (size_t)(p - line));
			kept++;
		}
	}
	uint64_t nsites = 0, matched = 0, matched_visits = 0;
	for (uint32_t u = 0, nu = inj_used_count(); u < nu; u++) {
		int i = inj_used_site(u);
		if (i < 0)
			continue;       /* its claimer was stopped between two stores */
		struct site *st = &inj_sites[i];
		uint64_t v = LOAD(&st->visits);
		if (!v)
			continue;
		const struct site_rec *r = inj_site_rec(i, &buf);
		nsites++;
		if (r->match) {
			matched++;
			matched_visits += v;
		}
		p = inj_fmt_str(line, "S ", LINE_END);
		p = inj_fmt_str(p, r->name, LINE_END);
		*p++ = ' ';
		p = inj_fmt_u64(p, v);
		*p++ = ' ';
		p = inj_fmt_u64(p, LOAD(&st->delays));
		*p++ = ' ';
		p = inj_fmt_u64(p, LOAD(&st->delay_ns));
		*p++ = '\n';
		emit(line, (size_t)(p - line));
	}
	char *e = end_line + sizeof end_line - 40;
	p = inj_fmt_str(end_line, "# end pid=", e);
	p = inj_fmt_u64(p, (uint64_t)getpid());
	p = inj_fmt_str(p, " events=", e);
	p = inj_fmt_u64(p, kept);
	p = inj_fmt_str(p, " dropped=", e);
	p = inj_fmt_u64(p, lost);
	p = inj_fmt_str(p, " unnamed=0 sites=", e);
	p = inj_fmt_u64(p, nsites);
	p = inj_fmt_str(p, " matched=", e);
	p = inj_fmt_u64(p, matched);
	p = inj_fmt_str(p, " matched_visits=", e);
	p = inj_fmt_u64(p, matched_visits);
	p = inj_fmt_str(p, " full=", e);
	p = inj_fmt_u64(p, inj_sites_full());
	p = inj_fmt_str(p, " reason=", e);
	end_prefix = (size_t)(p - end_line);
	p = fmt_reason(p, end_line + sizeof end_line - 1, kind, sig);
	*p++ = '\n';
	emit(end_line, (size_t)(p - end_line));
	emit_flush();
	/* O_APPEND left the offset at the end of what we wrote. */
	end_size = write_failed ? -1 : lseek(outfd, 0, SEEK_CUR);
	end_at = end_size - (p - end_line);
	inj_close(outfd);           /* also drops the flock */
	outfd = -1;
}

/* The process ends otherwise than the written end line says: correct its
 * reason in place, if our block is still the file's last (a process sharing
 * the log may have appended its own since; then it stays).  One pwrite: a
 * process killed meanwhile keeps the old line or gets the new one whole (a
 * shorter reason leaves the old line's last byte as an empty line). */
static void rewrite_reason(int kind, int sig)
{
	if (end_size <= 0 || end_at < 0)
		return;
	int fd = inj_open(inj_cfg.log, O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	syscall(SYS_flock, fd, LOCK_EX);
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size == end_size) {
		char *p = fmt_reason(end_line + end_prefix, end_line + sizeof end_line - 1, kind, sig);
		*p++ = '\n';
		size_t n = (size_t)(p - end_line);
		if (syscall(SYS_pwrite64, fd, end_line, n, end_at) == (long)n &&
		    end_at + (off_t)n < end_size) {
			syscall(SYS_ftruncate, fd, end_at + (off_t)n);
		}
		end_size = end_at + (off_t)n;
		STORE(&end_kind, kind);
	}
	inj_close(fd);
}

static void nap(void);

/* End the process otherwise than the log says: only one thread may (it
 * corrects the reason and goes on); any other waits for it to. */
static void take_over(int kind, int sig)
{
	int no = 0;
	if (CAS(&end_taken, &no, 1)) {
		rewrite_reason(kind, sig);
		return;
	}
	for (;;)
		nap();
}

static void nap(void)
{
	struct timespec ts = { 0, 200000 };
	syscall(SYS_nanosleep, &ts, NULL);     /* raw: not a cancellation point */
}

/* How long a thread that is ending the process waits for an exit already
 * under way (its log written) to finish, before it ends the process itself:
 * long enough for the rest of exit on a loaded machine, short enough that a
 * fatal signal still ends an exit that hangs (stdio flushing into a full pipe). */
#define END_WAIT_NS 5000000000ULL

void inj_log_end(int kind, int sig)
{
	/* A vfork child shares our memory and has no pid of its own in inj_pid:
	 * its _exit must not write (or end) the parent's log. */
	if (getpid() != LOAD(&inj_pid))
		return;
	STORE(&inj_stop, 1);
	if (!inj_cfg.log[0])
		return;
	int saved = errno;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int me = (int)syscall(SYS_gettid);
	int st = END_OPEN;
	if (CAS(&end_state, &st, END_WRITING)) {
		STORE(&end_tid, me);
		write_log(kind, sig);
		STORE(&end_kind, kind);
		STORE_REL(&end_state, END_WRITTEN);
	} else if (LOAD(&end_tid) == me) {
		/* This thread wrote the log and now ends the process another way
		 * (a signal that arrived while it wrote, or a fault after). */
		if (LOAD_ACQ(&end_state) == END_WRITTEN)
			take_over(kind, sig);
	} else {
		/* Another thread ends the process: let it. */
		while (LOAD_ACQ(&end_state) != END_WRITTEN)
			nap();
		uint64_t deadline = inject_now_ns() + END_WAIT_NS;
		while (LOAD(&end_kind) != END_BY_EXIT || inject_now_ns() < deadline)
			nap();
		take_over(kind, sig);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
}

/* Two threads in exit at once run its handlers side by side: the one that
 * runs our destructor writes the log, and the other, finding nothing left to
 * run, goes on to exit_group and kills the writer mid-write.  So only the
 * first thread to enter exit goes on; a later one waits for it to end the
 * process, at most END_WAIT_NS (its exit may be waiting for this thread:
 * then both go on, as without the shim). */
void inj_log_exit_called(void)
{
	if (getpid() != LOAD(&inj_pid) || !inj_cfg.log[0])
		return;
	int me = (int)syscall(SYS_gettid);
	if (LOAD_ACQ(&end_state) != END_OPEN) {
		if (LOAD(&end_tid) != me)
			inj_log_end(END_BY_EXIT, 0);    /* another ending is under way */
		return;
	}
	int first = 0;
	if (CAS(&exit_first, &first, me) || first == me)
		return;
	uint64_t deadline = inject_now_ns() + END_WAIT_NS;
	while (inject_now_ns() < deadline)
		nap();
}

/* --- fatal signals --- */

/* Every standard signal whose default action ends the process. */
static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT,
			     SIGQUIT, SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGALRM, SIGUSR1,
			     SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
			     SIGSTKFLT };
static struct sigaction prog[NSIG];   /* what the program asked for */
static unsigned char watched[NSIG];

int inj_signal_watched(int sig)
{
	return sig > 0 && sig < NSIG && watched[sig];
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct sigaction *pa = &prog[sig];
	if (pa->sa_handler == SIG_IGN) {
		errno = saved;
		return;
	}
	if (pa->sa_handler != SIG_DFL) {
		/* The program's handler runs: we only observe. */
		struct sigaction run = *pa;
		if (run.sa_flags & SA_RESETHAND) {
			pa->sa_handler = SIG_DFL;
			pa->sa_flags &= ~SA_SIGINFO;
		}
		errno = saved;
		if (run.sa_flags & SA_SIGINFO)
			run.sa_sigaction(sig, si, uc);
		else
			run.sa_handler(sig);
		return;
	}
	inj_log_end(END_BY_SIGNAL, sig);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	inj_real_sigaction(sig, &dfl, NULL);
	/* Pending (blocked while this handler runs) until it returns, then fatal.
	 * Sent for a fault too: not every fault recurs when we return (int3's
	 * SIGTRAP, a seccomp SIGSYS). */
	raise(sig);
	errno = saved;
}

static void install(int sig, const struct sigaction *like)
{
	struct sigaction ours;
	memset(&ours, 0, sizeof ours);
	if (like) {
		ours.sa_mask = like->sa_mask;
		ours.sa_flags = like->sa_flags;
	} else {
		sigemptyset(&ours.sa_mask);
	}
	ours.sa_flags = (ours.sa_flags | SA_SIGINFO | SA_ONSTACK) & ~SA_RESETHAND;
	ours.sa_sigaction = on_signal;
	inj_real_sigaction(sig, &ours, NULL);
}

void inj_signals_install(void)
{
	if (!inj_cfg.log[0])
		return;
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
		int sig = fatal[i];
		if (inj_real_sigaction(sig, NULL, &prog[sig]) != 0)
			continue;
		if (prog[sig].sa_handler == SIG_IGN)
			continue;        /* inherited ignore: leave it alone */
		install(sig, prog[sig].sa_handler == SIG_DFL ? NULL : &prog[sig]);
		watched[sig] = 1;
	}
}

/* sigaction() for a watched signal: record the program's action and keep ours
 * in front of it (with the program's mask and flags); SIG_IGN goes to the
 * kernel as asked, so an exec'd child inherits it. */
int inj_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction prev = prog[sig];
	if (act) {
		if (act->sa_handler == SIG_IGN) {
			if (inj_real_sigaction(sig, act, NULL) != 0)
				return -1;
		} else {
			install(sig, act);
		}
		prog[sig] = *act;
	}
	if (old)
		*old = prev;
	return 0;
}
