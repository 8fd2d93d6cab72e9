/* The run loop.
 *
 * One thread drives up to -p runs at a time.  Each run is a slot:
 *
 *   free -> running -> exited -> (output drained) -> finished -> free
 *
 * 1. Start: a pipe (both ends close-on-exec), spawn_run (spawn.c) with stdout
 *    and stderr dup'ed onto the pipe's write end, stdin from /dev/null, its
 *    own process group, an empty signal mask, default dispositions and
 *    SIGKILL should stress die.  No shell.  The group is told to the
 *    sentinel, which kills it if stress dies first.
 * 2. Wait: poll() on the signalfd (SIGCHLD, SIGINT, SIGTERM are blocked and
 *    read from it) and on every running slot's pipe.  Output goes into a
 *    bounded buffer: the first part (head) and a ring of the last part (tail);
 *    what falls in between is counted and reported as dropped.
 * 3. Timeout: SIGQUIT to the run's process group (Go and our runtime dump
 *    every stack), then SIGKILL after the grace period.
 * 4. Exit: on SIGCHLD, waitid(WNOWAIT) finds the exited slot while it is
 *    still a zombie, so its process group id cannot be reused; SIGKILL to the
 *    group ends any descendant that would linger (and hold the pipe open);
 *    then wait4 reaps it with its rusage.
 * 5. Finish when the pipe reached EOF (or a second after exit, should an
 *    escaped descendant keep it open): classify, count, keep, record.
 *
 * Stop conditions (count, time, max failures) stop *starting* runs; the
 * runs in flight finish and count.  Ctrl-C, --failfast and a harness error
 * kill the runs in flight (SIGKILL to each group) and do not count them.
 */
#include "stress.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct obuf {
	char *head, *tail;
	size_t hcap, hlen, tcap;
	unsigned long long total;
};

struct slot {
	bool busy, exited, discard, timed_out, killed;
	pid_t pid;
	int fd;
	long long run;
	uint64_t seed;
	double start, deadline, kill_at, drain_until, end;
	int wstatus;
	struct rusage ru;
	struct obuf ob;
	char dir[PATH_MAX], log[PATH_MAX + 16];
	char seedbuf[24], envrun[48], envseed[48], envinj[48];
	char events[PATH_MAX + 16], envevents[PATH_MAX + 32];
	char **argv, **envp;
};

/* Process-wide, set up once by engine_init: the signalfd the loop reads
 * SIGCHLD, SIGINT, SIGTERM and SIGHUP from, and the environment every run
 * inherits (minus the variables set per run). */
static int sigfd = -1;
static char **base_env;
static size_t nbase_env;

int engine_init(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* A closed terminal or ssh session: stop and keep the summary, as on
	 * Ctrl-C, rather than die with the runs left running as orphans. */
	sigaddset(&set, SIGHUP);
	/* Children must be reaped by us, not by the kernel. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	/* A run's descendant that leaves its process group and session (a
	 * daemon: fork, setsid, fork) is reparented to us rather than to init,
	 * so that sweep() can find and end it. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return -1;

	if (sentinel_start() < 0)
		return -1;
	/* The environment every run inherits, minus the variables we set per run. */
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n++;
	base_env = xmalloc(sizeof *base_env * (n + 1));
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "STRESS_RUN=", 11) && strncmp(*e, "STRESS_SEED=", 12) &&
		    strncmp(*e, "INJECT_SEED=", 12) && strncmp(*e, "STRESS_EVENTS=", 14))
			base_env[nbase_env++] = *e;
	base_env[nbase_env] = NULL;
	return 0;
}

/* ---- output buffer ---- */

static void ob_init(struct obuf *b, size_t max_output)
{
	b->hcap = max_output / 4;
	b->tcap = max_output - b->hcap;
	b->head = xmalloc(b->hcap);
	b->tail = xmalloc(b->tcap);
	b->hlen = 0;
	b->total = 0;
}

static void ob_add(struct obuf *b, const char *p, size_t n)
{
	if (b->hlen < b->hcap) {
		size_t k = b->hcap - b->hlen < n ? b->hcap - b->hlen : n;
		memcpy(b->head + b->hlen, p, k);
		b->hlen += k;
		b->total += k;
		p += k;
		n -= k;
	}
	while (n) {
		size_t pos = (size_t)((b->total - b->hcap) % b->tcap);
		size_t k = b->tcap - pos < n ? b->tcap - pos : n;
		memcpy(b->tail + pos, p, k);
		b->total += k;
		p += k;
		n -= k;
	}
}

/* The kept output as one NUL-terminated string, with a note where bytes were dropped. */
static char *ob_text(const struct obuf *b, size_t *len, unsigned long long *dropped)
{
	unsigned long long rest = b->total - b->hlen;
	size_t tl = rest < b->tcap ? (size_t)rest : b->tcap;
	*dropped = rest - tl;
	char note[160] = "";
	if (*dropped)
		snprintf(note, sizeof note,
		         "\n[stress: %llu bytes of output dropped here; kept the first %zu and the last %zu]\n",
		         *dropped, b->hlen, tl);
	size_t nl = strlen(note);
	char *t = xmalloc(b->hlen + nl + tl + 1);
	memcpy(t, b->head, b->hlen);
	memcpy(t + b->hlen, note, nl);
	if (tl) {
		size_t start = (size_t)((b->total - b->hcap - tl) % b->tcap);
		size_t first = b->tcap - start < tl ? b->tcap - start : tl;
		memcpy(t + b->hlen + nl, b->tail + start, first);
		memcpy(t + b->hlen + nl + first, b->tail, tl - first);
	}
	*len = b->hlen + nl + tl;
	t[*len] = 0;
	return t;
}

/* ---- slots ---- */

/* One job's run loop: what engine_run passes to every step. */
struct loop {
	const struct runenv *env;
	struct job *job;
	struct slot *slots;
	int nslots;
	bool stopping;        /* start no more runs */
	double t0;            /* when the job started (now_mono) */
};

/* Our children that are not runs: descendants of runs that escaped their
 * process group, reparented to us (we are a subreaper).  End those of the
 * run with this seed (its STRESS_SEED), or all of them when all is set;
 * their process group goes too, unless it is ours.  Returns how many. */
static int sweep(struct loop *l, uint64_t seed, bool all)
{
	char path[64], buf[8192];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char want[48];
	snprintf(want, sizeof want, "STRESS_SEED=%llu", (unsigned long long)seed);
	int killed = 0;
	for (char *p = buf, *e; *p; p = e) {
		long v = strtol(p, &e, 10);
		if (e == p)
			break;
		pid_t pid = (pid_t)v;
		bool run = false;
		for (int i = 0; i < l->nslots && !run; i++)
			run = l->slots[i].busy && !l->slots[i].exited && l->slots[i].pid == pid;
		if (run || pid <= 0 || sentinel_is(pid))
			continue;
		bool mine = all;
		if (!mine) {
			snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			/* The environment block: NUL-separated; look for ours. */
			static char env[65536];
			ssize_t k = read(fd, env, sizeof env - 1);
			close(fd);
			for (ssize_t off = 0; k > 0 && off < k && !mine; off += (ssize_t)strlen(env + off) + 1) {
				env[k] = 0;
				mine = !strcmp(env + off, want);
			}
		}
		if (!mine)
			continue;
		pid_t g = getpgid(pid);
		if (g > 0 && g != getpgrp())
			kill(-g, SIGKILL);
		kill(pid, SIGKILL);
		killed++;
	}
	return killed;
}

static void kill_all(struct loop *l)
{
	for (int i = 0; i < l->nslots; i++)
		if (l->slots[i].busy && !l->slots[i].exited) {
			l->slots[i].discard = true;
			kill(-l->slots[i].pid, SIGKILL);
		} else if (l->slots[i].busy) {
			l->slots[i].discard = true;
		}
}

static void stop(struct loop *l, bool kill_running)
{
	l->stopping = true;
	if (kill_running)
		kill_all(l);
}

/* The harness failed, not the program: the first such error is the job's,
 * and it stops, killing the runs in flight (they are not counted). */
static void harness_error(struct loop *l, const char *msg)
{
	if (!l->job->harness_error)
		l->job->harness_error = xstrdup(msg);
	stop(l, true);
}

static void harness_errorf(struct loop *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void harness_errorf(struct loop *l, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		xalloc_die();
	va_end(ap);
	harness_error(l, msg);
	free(msg);
}

static bool can_start(const struct loop *l, double now)
{
	const struct job *j = l->job;
	if (l->stopping)
		return false;
	/* count bounds the run index: a shard stops at the unsharded job's end. */
	if (j->count && (j->fixed_seed ? j->started : shard_run(l->env, j->started)) >= j->count)
		return false;
	if (j->time_s > 0 && now - l->t0 >= j->time_s)
		return false;
	if (j->max_failures && j->failures >= j->max_failures)
		return false;
	return true;
}

static void start_run(struct loop *l, struct slot *s, int w)
{
	struct job *j = l->job;
	bool inj = j->inject_argv != NULL;
	/* Run index and seed as unsharded: a shard makes every Nth (shard.c). */
	s->run = j->fixed_seed ? j->fixed_run : shard_run(l->env, j->started);
	s->seed = l->env->seed_base + (j->fixed_seed ? 0 : (uint64_t)s->run);
	j->started++;
	snprintf(s->seedbuf, sizeof s->seedbuf, "%llu", (unsigned long long)s->seed);
	snprintf(s->envrun, sizeof s->envrun, "STRESS_RUN=%lld", s->run);
	snprintf(s->envseed, sizeof s->envseed, "STRESS_SEED=%s", s->seedbuf);
	snprintf(s->envinj, sizeof s->envinj, "INJECT_SEED=%s", s->seedbuf);
	if (inj)
		unlink(s->log);
	unlink(s->events);

	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		harness_errorf(l, "pipe: %s", strerror(errno));
		return;
	}
	s->start = now_mono();
	int err = spawn_run(inj ? j->launcher : j->path, s->argv, s->envp, p[1], &s->pid);
	close(p[1]);
	if (err) {
		close(p[0]);
		harness_errorf(l, "cannot run %s: %s", inj ? j->launcher : j->path, strerror(err));
		return;
	}
	sentinel_add(s->pid);
	s->fd = p[0];
	s->busy = true;
	s->exited = s->discard = s->timed_out = s->killed = false;
	s->deadline = j->timeout_s > 0 ? s->start + j->timeout_s : INFINITY;
	s->kill_at = s->drain_until = INFINITY;
	s->ob.hlen = 0;
	s->ob.total = 0;
	(void)w;
}

/* What slot s's finished run was, for classify.c and the rest: its status,
 * times and output (malloc'd, NULs made blanks; the caller frees it). */
static char *run_info(const struct loop *l, const struct slot *s, int w, struct runinfo *r)
{
	memset(r, 0, sizeof *r);
	size_t len;
	char *text = ob_text(&s->ob, &len, &r->dropped_bytes);
	for (size_t i = 0; i < len; i++)
		if (!text[i])
			text[i] = ' ';
	r->run = s->run;
	r->seed = s->seed;
	r->worker = w;
	r->exited = WIFEXITED(s->wstatus);
	r->code = r->exited ? WEXITSTATUS(s->wstatus) : WTERMSIG(s->wstatus);
	r->timed_out = s->timed_out;
	r->dur_ms = (s->end - s->start) * 1e3;
	r->cpu_s = s->ru.ru_utime.tv_sec + s->ru.ru_utime.tv_usec / 1e6 + s->ru.ru_stime.tv_sec +
	           s->ru.ru_stime.tv_usec / 1e6;
	r->out = text;
	r->outlen = len;
	r->total_bytes = s->ob.total;
	r->logpath = l->job->inject_argv ? s->log : NULL;
	r->eventspath = access(s->events, F_OK) == 0 ? s->events : NULL;
	r->start_mono = s->start;
	r->end_mono = s->end;
	return text;
}

/* A run that has exited and whose output is read, in its steps: what it
 * was (run_info), its outcome (classify.c), what it adds to the job
 * (tally.c: the injection log's reach first, before a kept failure takes
 * the log), what is kept of it (keep.c), its --record line (record.c).
 *
 * The policy on the harness's own errors is here and nowhere else: the
 * launcher refusing to run, a failure that cannot be kept (a full or
 * read-only results filesystem: this evidence is lost, and so would be the
 * next) and a --record line that cannot be written each stop the job with
 * a harness error; the run is still recorded when it can be. */
static void finish_run(struct loop *l, struct slot *s, int w)
{
	struct job *j = l->job;
	sweep(l, s->seed, j->fixed_seed);
	s->busy = false;
	if (s->discard) {
		if (j->inject_argv)
			unlink(s->log);
		return;
	}
	struct runinfo r;
	char *text = run_info(l, s, w, &r);
	char sig[256];
	enum outcome o = classify(j, &r, sig, sizeof sig);
	if (o == OUT_HARNESS) {
		harness_errorf(l, "the inject launcher refused to run (exit %d): %s", r.code, sig);
		free(text);
		return;
	}
	const char *reach = r.logpath ? tally_injection(j, r.logpath) : NULL;
	struct sig *g = tally_run(j, &r, o == OUT_FAIL ? sig : NULL, now_mono() - l->t0);
	family_tally(j, r.logpath, g);

	const char *log = r.logpath;
	char kept_log[PATH_MAX + 64];
	if (g && g->nkept < j->keep && l->env->rundir) {
		char *d = keep_failure(l->env, j, &r, sig, g);
		if (!d) {
			harness_errorf(l, "cannot keep a failure under %s/failures: %s", j->dir,
			               strerror(errno));
		} else {
			tally_kept(j, g, d);
			/* The log went into the kept dir with the failure. */
			if (log && access(log, F_OK) < 0) {
				snprintf(kept_log, sizeof kept_log, "%s/%s/inject.log", l->env->rundir, d);
				log = kept_log;
			}
		}
	}
	char gopath[PATH_MAX];
	if (g && j->out_prefix) {
		if (go_output_write(j->out_prefix, &r, sig, gopath, sizeof gopath) < 0)
			harness_errorf(l, "cannot write -o %s...: %s", j->out_prefix, strerror(errno));
		else if (!l->env->quiet)
			printf("%s: run %lld: %s\n", gopath, r.run, sig);
	}
	if (g && j->failfast)
		stop(l, true);
	if (l->env->record_fd >= 0 && record_run(l->env->record_fd, j, &r, g ? sig : NULL, reach,
	                                         log) < 0)
		harness_errorf(l, "cannot write the --record file: %s", strerror(errno));
	if (r.logpath)
		unlink(r.logpath);
	if (r.eventspath)
		unlink(r.eventspath);
	free(text);
}

/* Reap every running slot that has exited (called on SIGCHLD). */
static void reap(struct loop *l)
{
	for (int i = 0; i < l->nslots; i++) {
		struct slot *s = &l->slots[i];
		if (!s->busy || s->exited)
			continue;
		siginfo_t si;
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != s->pid)
			continue;
		/* Still a zombie: the group id is ours; end whatever lingers in it. */
		kill(-s->pid, SIGKILL);
		while (wait4(s->pid, &s->wstatus, 0, &s->ru) < 0 && errno == EINTR)
			;
		sentinel_del(s->pid);
		s->exited = true;
		if (s->timed_out && !s->killed && l->job->nokill) {
			/* One hang less; the status line names one still alive. */
			l->job->hung--;
			for (int k = 0; k < l->nslots; k++)
				if (l->slots[k].busy && !l->slots[k].exited && l->slots[k].timed_out)
					l->job->hung_pid = (int)l->slots[k].pid;
		}
		s->end = now_mono();
		s->drain_until = s->end + 1.0;
		/* And what escaped the group (a daemon), now our child. */
		sweep(l, s->seed, l->job->fixed_seed);
	}
	/* Reap escaped descendants that have ended (we adopted them). */
	for (;;) {
		siginfo_t si;
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
			break;
		bool run = false;
		for (int i = 0; i < l->nslots && !run; i++)
			run = l->slots[i].busy && !l->slots[i].exited && l->slots[i].pid == si.si_pid;
		if (run) {
			reap(l);
			return;
		}
		while (waitpid(si.si_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
}

static void read_slot(struct slot *s)
{
	char buf[65536];
	ssize_t n = read(s->fd, buf, sizeof buf);
	if (n > 0) {
		ob_add(&s->ob, buf, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(s->fd);
		s->fd = -1;
	}
}

/* Each slot's scratch dir (its injection log), output buffer, argv and
 * environment, set up once per job and rewritten in place by each run. */
static void slots_init(struct loop *l, const char *jtmp)
{
	struct job *j = l->job;
	bool inj = j->inject_argv != NULL;
	l->nslots = j->procs;
	l->slots = calloc((size_t)l->nslots, sizeof *l->slots);
	if (!l->slots)
		xalloc_die();
	for (int i = 0; i < l->nslots; i++) {
		struct slot *s = &l->slots[i];
		s->fd = -1;
		ob_init(&s->ob, l->env->max_output);
		snprintf(s->dir, sizeof s->dir, "%s/w%d", jtmp, i);
		mkdir(s->dir, 0700);
		snprintf(s->log, sizeof s->log, "%s/inject.log", s->dir);
		s->argv = job_argv(j, s->seedbuf, s->log);
		/* A program that keeps its own events (gosched's ring) writes them
		 * here when it fails; a kept failure takes them (keep.c). */
		snprintf(s->events, sizeof s->events, "%s/events.txt", s->dir);
		snprintf(s->envevents, sizeof s->envevents, "STRESS_EVENTS=%s", s->events);
		s->envp = xmalloc(sizeof *s->envp * (nbase_env + 5));
		memcpy(s->envp, base_env, sizeof *s->envp * nbase_env);
		s->envp[nbase_env] = s->envrun;
		s->envp[nbase_env + 1] = s->envseed;
		s->envp[nbase_env + 2] = s->envevents;
		s->envp[nbase_env + 3] = inj ? s->envinj : NULL;
		s->envp[nbase_env + 4] = NULL;
	}
}

static void slots_free(struct loop *l)
{
	for (int i = 0; i < l->nslots; i++) {
		free(l->slots[i].ob.head);
		free(l->slots[i].ob.tail);
		free(l->slots[i].argv);
		free(l->slots[i].envp);
	}
	free(l->slots);
}

/* SIGINT, SIGTERM or SIGHUP: the job is interrupted (once). */
static void interrupted(struct loop *l, bool kill_running)
{
	if (l->job->interrupted)
		return;
	l->job->interrupted = true;
	if (kill_running)
		stop(l, true);
}

/* Sleep until the next output, exit, signal or timer (wake, at the
 * latest), then read what came: output into the slots' buffers, signals
 * from the signalfd (SIGCHLD: reap). */
static void wait_once(struct loop *l, double now, double wake, struct pollfd *pfd, int *who)
{
	int n = 0;
	pfd[n].fd = sigfd;
	pfd[n].events = POLLIN;
	who[n++] = -1;
	for (int i = 0; i < l->nslots; i++) {
		struct slot *s = &l->slots[i];
		if (!s->busy)
			continue;
		if (s->fd >= 0) {
			pfd[n].fd = s->fd;
			pfd[n].events = POLLIN;
			who[n++] = i;
		}
		if (!s->exited)
			wake = fmin(wake, s->timed_out ? s->kill_at : s->deadline);
		else
			wake = fmin(wake, s->drain_until);
	}
	int ms = -1;
	if (isfinite(wake)) {
		double d = (wake - now) * 1e3;
		ms = d <= 0 ? 0 : d > 1e9 ? 1000000000 : (int)ceil(d);
	}
	int pr = poll(pfd, (nfds_t)n, ms);
	if (pr < 0 && errno != EINTR) {
		harness_error(l, "poll failed");
		return;
	}
	for (int k = 1; pr > 0 && k < n; k++)
		if (pfd[k].revents)
			read_slot(&l->slots[who[k]]);
	if (pr > 0 && pfd[0].revents) {
		struct signalfd_siginfo si;
		bool chld = false;
		while (read(sigfd, &si, sizeof si) == sizeof si) {
			if (si.ssi_signo == SIGCHLD)
				chld = true;
			else
				interrupted(l, true);
		}
		if (chld)
			reap(l);
	}
}

/* Each busy slot at time now: a timeout's SIGQUIT, then its SIGKILL after
 * the grace period; a pipe an escaped descendant holds open, given up a
 * second after the exit; and a run that has exited with its output read,
 * finished. */
static void check_slots(struct loop *l, double now)
{
	for (int i = 0; i < l->nslots; i++) {
		struct slot *s = &l->slots[i];
		if (!s->busy)
			continue;
		if (!s->exited && !s->timed_out && now >= s->deadline && l->job->nokill) {
			/* -kill=false (Go's stress): leave the hang for a debugger and
			 * wait for it; it still ends as a timeout. */
			s->timed_out = true;
			l->job->hung++;
			l->job->hung_pid = (int)s->pid;
			printf("process %d timed out: run %lld left running (-kill=false); attach with "
			       "gdb -p %d; stress waits until it ends\n", (int)s->pid, s->run, (int)s->pid);
			fflush(stdout);
		} else if (!s->exited && !s->timed_out && now >= s->deadline) {
			s->timed_out = true;
			kill(-s->pid, SIGQUIT);
			s->kill_at = now + l->job->grace_s;
		} else if (!s->exited && s->timed_out && !s->killed && now >= s->kill_at) {
			s->killed = true;
			kill(-s->pid, SIGKILL);
		}
		if (s->exited && s->fd >= 0 && now >= s->drain_until) {
			const char *m = "\n[stress: a descendant outside the run's process group kept "
			                "the output open; stopped reading]\n";
			ob_add(&s->ob, m, strlen(m));
			close(s->fd);
			s->fd = -1;
		}
		if (s->exited && s->fd < 0)
			finish_run(l, s, i);
	}
}

/* Run job j to its end: start runs while the stop conditions allow, keep
 * -p of them going, finish each as it ends.  Status lines on stdout. */
void engine_run(const struct runenv *env, struct job *j)
{
	struct loop loop = {.env = env, .job = j}, *l = &loop;
	j->ran = true;
	j->first_run = -1;
	j->first_repro_run = -1;
	char *jtmp = xasprintf("%s/%s", env->tmpdir, j->name);
	mkdir(jtmp, 0700);
	slots_init(l, jtmp);

	l->t0 = now_mono();
	double every = env->status_every;
	double next_status = every > 0 ? l->t0 + every : INFINITY;
	struct pollfd *pfd = xmalloc(sizeof *pfd * (size_t)(l->nslots + 1));
	int *who = xmalloc(sizeof *who * (size_t)(l->nslots + 1));

	if (j->harness_error)
		l->stopping = true;
	for (;;) {
		double now = now_mono();
		for (int i = 0; i < l->nslots && can_start(l, now); i++)
			if (!l->slots[i].busy)
				start_run(l, &l->slots[i], i);
		int busy = 0;
		for (int i = 0; i < l->nslots; i++)
			busy += l->slots[i].busy;
		if (!busy && !can_start(l, now_mono()))
			break;

		double wake = next_status;
		if (j->time_s > 0 && !l->stopping)
			wake = fmin(wake, l->t0 + j->time_s);
		wait_once(l, now, wake, pfd, who);

		now = now_mono();
		check_slots(l, now);
		if (now >= next_status) {
			status_line(env, j, now - l->t0, false);
			/* The next tick after now, in one step: adding a tiny
			 * interval to a large clock value can leave it unchanged. */
			next_status += every * (floor((now - next_status) / every) + 1);
			if (next_status <= now)
				next_status = now + every;
		}
	}
	j->wall_s = now_mono() - l->t0;
	/* No run is left: whatever escaped a run and is still ours goes now. */
	for (int k = 0; k < 200 && sweep(l, 0, true); k++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	/* A killed run could leave a signal pending; drain it. */
	struct signalfd_siginfo si;
	while (read(sigfd, &si, sizeof si) == sizeof si)
		if (si.ssi_signo != SIGCHLD)
			interrupted(l, false);
	slots_free(l);
	free(pfd);
	free(who);
	rm_rf(jtmp);
	free(jtmp);
	status_line(env, j, j->wall_s, true);
}

/* --shim-control N: the control's job, run through the engine after the
 * job's own runs: the same command and settings, the shim at probability 0,
 * N runs, nothing kept, no expectation (family.c says how the reports use
 * it). */
void shim_control_run(const struct runenv *env, struct job *j)
{
	if (!j->shim_control || !j->inject_argv || j->harness_error || j->interrupted)
		return;
	struct job *c = xmalloc(sizeof *c);
	*c = *j;
	/* Results start empty; configuration as the job's but for these. */
	c->name = xasprintf("%s.shim-only", j->name);
	c->inject = xstrdup("--prob 0");
	static char *words[] = { "--prob", "0", NULL };
	c->inject_argv = words;
	c->inject_argc = 2;
	c->count = j->shim_control;
	c->time_s = 0;
	c->max_failures = 0;
	c->failfast = false;
	c->keep = 0;
	c->expect = EXPECT_NONE;
	c->control = NULL;
	c->shim_control = 0;
	c->ran = false;
	c->started = c->runs = c->failures = c->repros = 0;
	c->inj_reached = c->inj_untouched = c->inj_lost = c->inj_fielded = 0;
	c->inj_matched_max = c->inj_sites_max = c->inj_full_runs = c->inj_full_visits = 0;
	c->sigs = NULL;
	c->nsigs = 0;
	c->dur_ms = NULL;
	c->ndur = c->capdur = 0;
	c->wall_s = c->cpu_s = 0;
	c->harness_error = NULL;
	c->first_trace = c->first_kept = NULL;
	c->interrupted = false;
	c->confidence = c->verdict = NULL;
	c->warnings = NULL;
	c->nwarnings = 0;
	c->fams = NULL;
	c->nfams = 0;
	c->ctl = NULL;
	printf("stress: %s: %lld runs with the shim loaded and no delay (--shim-control)\n",
	       j->name, c->count);
	fflush(stdout);
	engine_run(env, c);
	j->ctl = c;
	if (c->harness_error && !j->harness_error)
		j->harness_error = xasprintf("the shim-only control: %s", c->harness_error);
	if (c->interrupted)
		j->interrupted = true;
}
