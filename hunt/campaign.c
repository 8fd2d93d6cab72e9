/* campaign: the inject words every run gets, hunt's child processes
 * (`inject --check` and one `stress` per campaign), the signals that stop
 * them, and which of their refusals and failures end hunt how (finish.c
 * does the ending).
 *
 * Children.  Each is forked with SIGINT, SIGTERM and SIGHUP blocked (so a
 * signal cannot fall between fork and the bookkeeping), gets
 * PR_SET_PDEATHSIG(SIGTERM) and re-checks its parent before exec: if hunt
 * dies, even by SIGKILL, stress is told to stop, and stress stops its runs.
 *
 * Signals.  SIGINT, SIGTERM and SIGHUP are caught: the handler records the
 * first one and passes it on to the stress child, which kills its runs and
 * writes its summary.  hunt waits for it (SIGKILL after STOP_GRACE_S), loads
 * the runs that finished, writes its report marked interrupted, and dies of
 * the same signal (finish_early).
 *
 * Exit statuses of stress: 0 and 1 are normal (no expectation is given),
 * 64 is a usage error (hunt passed something stress refuses: hunt ends
 * with 64), anything else, a signal included, is a harness error (125).
 */
#include "campaign.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/words.h"
#include "../common/xalloc.h"
#include "finish.h"
#include "hunt.h"

/* Seconds a stress child has to stop after hunt passed a signal on. */
#define STOP_GRACE_S 20.0

static volatile sig_atomic_t got_sig;
static volatile sig_atomic_t child_pid;

static void on_signal(int sig)
{
	int e = errno;
	if (!got_sig)
		got_sig = sig;
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
	errno = e;
}

static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP};

static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof stop_sigs / sizeof *stop_sigs; i++)
		sigaddset(set, stop_sigs[i]);
}

void signals_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: waitpid sees EINTR */
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof stop_sigs / sizeof *stop_sigs; i++)
		sigaction(stop_sigs[i], &sa, NULL);
}

/* Note a signal that arrived; true when hunt has been told to stop. */
static int stopping(struct hunt *h)
{
	if (got_sig && !h->stop_sig)
		h->stop_sig = got_sig;
	return h->stop_sig != 0;
}

int signal_pending_stop(struct hunt *h)
{
	stopping(h);
	return h->stop_sig;
}

void wv_push(struct wv *w, const char *s)
{
	if (w->n + 2 > w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->v = xrealloc(w->v, w->cap * sizeof *w->v);
	}
	w->v[w->n++] = xstrdup(s);
	w->v[w->n] = NULL;
}

void wv_free(struct wv *w)
{
	for (int i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	memset(w, 0, sizeof *w);
}

void base_words(struct hunt *h, struct wv *w, const char *prob)
{
	wv_push(w, "--prob");
	wv_push(w, prob);
	wv_push(w, "--delay");
	wv_push(w, h->delay);
	for (int i = 0; i < h->nextra; i++)
		wv_push(w, h->extra_argv[i]);
}

/* fork and exec ARGV with stdout and stderr on OUT (-1: inherited). */
static pid_t spawn(struct hunt *h, char *const *argv, int out)
{
	sigset_t block, old;
	stop_set(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (stopping(h)) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < sizeof stop_sigs / sizeof *stop_sigs; i++)
			signal(stop_sigs[i], SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		/* hunt gone (even by SIGKILL): stress stops and ends its runs. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(125);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		execv(argv[0], argv);
		dprintf(out >= 0 ? out : 2, "hunt: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int e = errno;
	if (pid > 0)
		child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		harness_fail(h, "cannot fork: %s", strerror(e));
	return pid;
}

/* Wait for the child; once hunt is stopping, give it STOP_GRACE_S to end
 * its runs, then SIGKILL.  Returns the wait status. */
static int reap(struct hunt *h, pid_t pid)
{
	int st = 0;
	double deadline = 0;
	for (;;) {
		pid_t r = waitpid(pid, &st, stopping(h) ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			harness_fail(h, "waitpid: %s", strerror(errno));
		if (r == 0) {
			if (!deadline)
				deadline = now_s() + STOP_GRACE_S;
			if (now_s() > deadline)
				kill(pid, SIGKILL);
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	child_pid = 0;
	return st;
}

void check_inject_flags(struct hunt *h, const struct wv *flags)
{
	struct wv argv = {0};
	wv_push(&argv, h->inject);
	wv_push(&argv, "--check");
	for (int i = 0; i < flags->n; i++)
		wv_push(&argv, flags->v[i]);
	int fd[2];
	if (pipe2(fd, O_CLOEXEC) < 0)
		harness_fail(h, "pipe: %s", strerror(errno));
	pid_t pid = spawn(h, argv.v, fd[1]);
	close(fd[1]);
	char out[2048];
	size_t n = 0;
	ssize_t k;
	while ((k = read(fd[0], out + n, sizeof out - 1 - n)) > 0 || (k < 0 && errno == EINTR))
		n += k > 0 ? (size_t)k : 0;
	close(fd[0]);
	out[n] = 0;
	int st = pid > 0 ? reap(h, pid) : 0;
	if (stopping(h))
		finish_early(h, 0);
	/* The launcher's one line, as it said it. */
	char *line = strstr(out, "inject: ");
	if (line)
		line[strcspn(line, "\n")] = 0;
	char *words = NULL;
	size_t wn = 0;
	FILE *o = open_memstream(&words, &wn);
	for (int i = 0; i < flags->n; i++) {
		char *q = shquote(flags->v[i]);
		fprintf(o, "%s%s", i ? " " : "", q);
		free(q);
	}
	fclose(o);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 64) {
		fprintf(stderr, "hunt: inject refuses the flags `%s`: %s\n", words,
			line ? line : "exit status 64");
		exit(64);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || n > 0) {
		char *l = out;
		l[strcspn(l, "\n")] = 0;
		harness_fail(h, "%s --check did not answer as it should (%s %d%s%s)", h->inject,
			     WIFEXITED(st) ? "exit status" : "signal",
			     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), *l ? ": " : "", l);
	}
	free(words);
	wv_free(&argv);
}

/* The last line stress wrote that starts with "stress: ", without it, in
 * BUF; "" when there is none. */
static void stress_said(struct hunt *h, char *buf, size_t n)
{
	char path[PATH_MAX + 16], *line = NULL;
	size_t cap = 0;
	buf[0] = 0;
	snprintf(path, sizeof path, "%s/stress.log", h->dir);
	FILE *f = fopen(path, "re");
	while (f && getline(&line, &cap, f) >= 0)
		if (strncmp(line, "stress: ", 8) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, n, "%s", line);
		}
	if (f)
		fclose(f);
	free(line);
}

int campaign(struct hunt *h, const char *label, int phase, const struct wv *flags, long count)
{
	static char where[64];
	snprintf(where, sizeof where, "%s", label);
	h->where = where;
	if (stopping(h))
		finish_early(h, 0);
	char record[PATH_MAX + 64], sdir[PATH_MAX + 16], logf[PATH_MAX + 16];
	char cnt[32], procs[32], seed[32];
	snprintf(record, sizeof record, "%s/runs/%s.jsonl", h->dir, label);
	snprintf(sdir, sizeof sdir, "%s/stress", h->dir);
	snprintf(logf, sizeof logf, "%s/stress.log", h->dir);
	snprintf(cnt, sizeof cnt, "%ld", count);
	snprintf(procs, sizeof procs, "%d", h->procs);
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)(rng(h) >> 1));
	/* The inject words as one --inject value that stress splits back into
	 * exactly these words (each quoted as a shell would need it). */
	char *inj = NULL;
	size_t injn = 0;
	FILE *o = open_memstream(&inj, &injn);
	for (int i = 0; i < flags->n; i++) {
		char *q = shquote(flags->v[i]);
		fprintf(o, "%s%s", i ? " " : "", q);
		free(q);
	}
	fclose(o);
	const char *argv[64 + h->ncmd];
	int n = 0;
	argv[n++] = h->stress;
	argv[n++] = "--count";
	argv[n++] = cnt;
	argv[n++] = "-p";
	argv[n++] = procs;
	argv[n++] = "--timeout";
	argv[n++] = h->timeout;
	argv[n++] = "--seed";
	argv[n++] = seed;
	argv[n++] = "--inject";
	argv[n++] = inj;
	argv[n++] = "--record";
	argv[n++] = record;
	argv[n++] = "--results";
	argv[n++] = sdir;
	argv[n++] = "--name";
	argv[n++] = label;
	argv[n++] = "--";
	for (int i = 0; i < h->ncmd; i++)
		argv[n++] = h->cmd[i];
	argv[n] = NULL;

	/* stress.log is a log that grows while stress runs (stress's own output
	 * goes there), so it is appended to, not written atomically; its
	 * results and --record files are stress's, and stress reports a failure
	 * to write them as a harness error (exit 125), which stops the hunt. */
	int lfd = open(logf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int werr = lfd < 0 || dprintf(lfd, "\n### %s:", label) < 0;
	for (int i = 0; i < n && !werr; i++) {
		char *q = shquote(argv[i]);
		werr = dprintf(lfd, " %s", q) < 0;
		free(q);
	}
	if (werr || dprintf(lfd, "\n") < 0) {
		int e = errno;
		if (lfd >= 0)
			close(lfd);
		free(inj);
		harness_fail(h, "cannot write %s: %s", logf, strerror(e));
	}
	pid_t pid = spawn(h, (char *const *)argv, lfd);
	close(lfd);
	free(inj);
	int st = pid > 0 ? reap(h, pid) : 0;
	if (pid > 0)
		h->stress_calls++;
	char err[PATH_MAX + 256];
	if (stopping(h)) {
		/* What finished before the signal counts; a record torn by the
		 * SIGKILL after the grace period is left out as a whole. */
		int got = pid > 0 && access(record, F_OK) == 0 ?
			runs_load(&h->runs, record, phase, err, sizeof err) : 0;
		h->total_runs += got > 0 ? got : 0;
		finish_early(h, 0);
	}
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (rc != 0 && rc != 1) {
		char said[1024];
		stress_said(h, said, sizeof said);
		const char *how = WIFEXITED(st) ? "exited with status" : "was killed by signal";
		int code = WIFEXITED(st) ? rc : WTERMSIG(st);
		if (rc == 64)
			usage_fail(h, "stress refused its arguments in campaign %s: %s (stress "
				   "output in %s)", label, said[0] ? said : "exit status 64", logf);
		harness_fail(h, "stress %s %d in campaign %s%s%s (stress output in %s)", how, code,
			     label, said[0] ? ": " : "", said, logf);
	}
	int got = runs_load(&h->runs, record, phase, err, sizeof err);
	if (got < 0)
		harness_fail(h, "stress's --record file of campaign %s is unreadable: %s", label,
			     err);
	if (got != count)
		harness_fail(h, "stress recorded %d runs of the %ld asked in campaign %s (stress "
			     "output in %s)", got, count, label, logf);
	h->total_runs += got;
	return got;
}
