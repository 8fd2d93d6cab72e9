/* log.c: the INJECT_LOG event rings, the writer, and fatal-signal handling.
 *
 * Each thread that delays claims a slot of static storage (no malloc) and
 * appends its events to the slot's ring; the writer reads every ring.  A slot
 * is FREE -> LIVE (claimed by CAS) -> RETIRED (its thread exited, events
 * kept) -> LIVE again when a new thread finds no FREE slot and reclaims the
 * RETIRED slot whose last event is oldest (its events count as dropped).
 *
 * The log is written once per process, with write(2), by whichever comes
 * first: the destructor (exit), the _exit/_Exit hooks, or a fatal signal
 * whose action is the default.  Writing first sets inj_stop, so threads that
 * keep running (a Go-style throw calls exit(2) while others unlock) stop
 * recording and delaying; a ring's head is published with a release store
 * after its event is filled in, so the writer reads only complete events.
 *
 * Signals: for SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT,
 * SIGQUIT, SIGTERM, SIGINT and SIGHUP our handler stays installed; the
 * sigaction/signal hooks (hooks.c) record what the program asks for and
 * report it back, so the program's handler is the one that runs.  Our handler
 * writes the log only when the program's action is the default (the process
 * is about to die), then restores the default and lets the signal kill us. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "shim.h"

#define NSLOTS 256
#define RING 512
enum { SLOT_FREE, SLOT_LIVE, SLOT_RETIRED };

struct event {
	uint64_t t, delay;
	uint32_t visit;
	uint16_t site;
	uint8_t point;
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
static int flushed;                 /* atomic: the log has been written */
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

/* --- formatting (async-signal-safe) --- */

char *inj_fmt_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

char *inj_fmt_hex(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do
		tmp[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4));
	while (n)
		*p++ = tmp[--n];
	return p;
}

char *inj_fmt_str(char *p, const char *s, char *end)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

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
	e->site = (uint16_t)site;
	e->point = (uint8_t)point;
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
	STORE(&flushed, 0);
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

static void emit_flush(void)
{
	size_t off = 0;
	while (off < outn) {
		ssize_t w = inj_write(outfd, out + off, outn - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
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

void inj_log_flush(const char *reason)
{
	/* A vfork child shares our memory and has no pid of its own in inj_pid:
	 * its _exit must not write (or end) the parent's log. */
	if (getpid() != LOAD(&inj_pid))
		return;
	STORE(&inj_stop, 1);
	if (!inj_cfg.log[0] || __atomic_exchange_n(&flushed, 1, __ATOMIC_ACQ_REL))
		return;
	int saved = errno;
	outfd = inj_open(inj_cfg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (outfd < 0) {
		inj_write_err("inject: INJECT_LOG: cannot open the log at exit");
		errno = saved;
		return;
	}
	flock(outfd, LOCK_EX);      /* blocks of processes sharing the file stay whole */
	outn = 0;
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
			if (e->site > NSITES || e->point >= PT_COUNT)
				continue;
			p = inj_fmt_str(line, "E ", LINE_END);
			p = inj_fmt_u64(p, e->t);
			*p++ = ' ';
			p = inj_fmt_str(p, s->lineage[0] ? s->lineage : "?", LINE_END);
			*p++ = ' ';
			p = inj_fmt_str(p, inject_point_names[e->point], LINE_END);
			*p++ = ' ';
			p = inj_fmt_str(p, inj_sites[e->site].name, LINE_END);
			*p++ = ' ';
			p = inj_fmt_u64(p, e->visit);
			*p++ = ' ';
			p = inj_fmt_u64(p, e->delay);
			*p++ = '\n';
			emit(line, (size_t)(p - line));
			kept++;
		}
	}
	for (int i = 0; i <= NSITES; i++) {
		struct site *st = &inj_sites[i];
		uint64_t v = LOAD(&st->visits);
		if (!v || LOAD_ACQ(&st->state) != SITE_READY)
			continue;
		p = inj_fmt_str(line, "S ", LINE_END);
		p = inj_fmt_str(p, st->name, LINE_END);
		*p++ = ' ';
		p = inj_fmt_u64(p, v);
		*p++ = ' ';
		p = inj_fmt_u64(p, LOAD(&st->delays));
		*p++ = ' ';
		p = inj_fmt_u64(p, LOAD(&st->delay_ns));
		*p++ = '\n';
		emit(line, (size_t)(p - line));
	}
	p = inj_fmt_str(line, "# end pid=", LINE_END);
	p = inj_fmt_u64(p, (uint64_t)getpid());
	p = inj_fmt_str(p, " events=", LINE_END);
	p = inj_fmt_u64(p, kept);
	p = inj_fmt_str(p, " dropped=", LINE_END);
	p = inj_fmt_u64(p, lost);
	p = inj_fmt_str(p, " unnamed=", LINE_END);
	p = inj_fmt_u64(p, LOAD(&inj_unnamed));
	p = inj_fmt_str(p, " reason=", LINE_END);
	p = inj_fmt_str(p, reason, LINE_END);
	*p++ = '\n';
	emit(line, (size_t)(p - line));
	emit_flush();
	inj_close(outfd);           /* also drops the flock */
	outfd = -1;
	errno = saved;
}

/* --- fatal signals --- */

static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT,
			     SIGQUIT, SIGTERM, SIGINT, SIGHUP };
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
	char reason[24], *p = inj_fmt_str(reason, "signal ", reason + 16);
	p = inj_fmt_u64(p, (uint64_t)sig);
	*p = 0;
	inj_log_flush(reason);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	inj_real_sigaction(sig, &dfl, NULL);
	/* A fault the kernel raised recurs when we return; anything else we send
	 * again, pending until this handler returns. */
	int sync = si && si->si_code > 0 &&
		   (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
		    sig == SIGTRAP || sig == SIGSYS);
	if (!sync)
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
