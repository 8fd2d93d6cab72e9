/* Runs that cannot outlive their stress, and scratch dirs that do not
 * outlive it for long.
 *
 * spawn_run: clone(CLONE_VM | CLONE_VFORK) on a stack of our own, as glibc's
 * posix_spawn does (so a run costs what it did), but the child also asks for
 * SIGKILL when its parent dies (PR_SET_PDEATHSIG, which posix_spawn cannot
 * set) and then checks that its parent is still us: were stress SIGKILLed in
 * between, the kernel would not send the signal.  The death signal survives
 * the exec of the inject launcher and of the program, but not a fork: a
 * run's own children are the sentinel's job.
 *
 * The sentinel: a small process (this binary again, `stress --sentinel`)
 * that holds the read end of a pipe.  stress writes each run's process group
 * to it when the run starts and when it ends; when the pipe reaches EOF
 * (stress exited, however it died) the sentinel SIGKILLs every group still
 * listed, and exits.  It ignores the terminal's signals: Ctrl-C is stress's
 * to handle.
 *
 * Scratch dirs: <results>/<run>/.tmp holds the runs' injection logs.  stress
 * holds an flock on .tmp/.owner for its whole life; the next stress in the
 * same results folder removes every .tmp whose lock it can take (its owner
 * is dead; the kernel drops the lock however the owner died).
 *
 * check_inject: `inject --check FLAGS` once per job before anything runs. */
#include "stress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct child {
	const char *path;
	char *const *argv, *const *envp;
	int outfd, nullfd;
	pid_t parent;
	int err;              /* errno of a failed exec, read after CLONE_VFORK returns */
};

/* Signals stress ignores or that a caller may have changed: the run gets
 * each at its default. */
static const int defsigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGCHLD, SIGHUP,
                              SIGUSR1, SIGUSR2, SIGXFSZ};

/* In the child, on the shared memory and our stack: system calls only. */
static int child_main(void *arg)
{
	struct child *c = arg;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != c->parent) {
		c->err = errno ? errno : ESRCH;
		_exit(127);
	}
	setpgid(0, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof defsigs / sizeof defsigs[0]; i++)
		sigaction(defsigs[i], &sa, NULL);
	if (dup2(c->nullfd, 0) < 0 || dup2(c->outfd, 1) < 0 || dup2(c->outfd, 2) < 0) {
		c->err = errno;
		_exit(127);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(c->path, c->argv, c->envp);
	c->err = errno;
	_exit(127);
}

int spawn_run(const char *path, char *const argv[], char *const envp[], int outfd, pid_t *pid)
{
	static int nullfd = -1;
	static char *stack;
	enum { STACK = 64 * 1024 };
	if (nullfd < 0 && (nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	if (!stack)
		stack = xmalloc(STACK);
	struct child c = {path, argv, envp, outfd, nullfd, getpid(), 0};
	/* The stack grows down on every Linux target we build for. */
	pid_t p = clone(child_main, stack + STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
	if (p < 0)
		return errno;
	if (c.err) {
		/* It never ran: reap it here, so the caller never sees it. */
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
		return c.err;
	}
	*pid = p;
	return 0;
}

/* ---- the sentinel ---- */

static int sent_fd = -1;
static pid_t sent_pid = -1;

/* `stress --sentinel`: fd 3 is the pipe. */
int sentinel_main(void)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	enum { MAXG = 8192 };
	static pid_t groups[MAXG];
	int n = 0;
	for (;;) {
		int32_t v;
		ssize_t r = read(3, &v, sizeof v);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof v)
			break;
		if (v > 0 && n < MAXG) {
			groups[n++] = v;
		} else if (v < 0) {
			for (int i = 0; i < n; i++)
				if (groups[i] == -v) {
					groups[i] = groups[--n];
					break;
				}
		}
	}
	for (int i = 0; i < n; i++)
		kill(-groups[i], SIGKILL);
	return 0;
}

int sentinel_start(void)
{
	/* p: runs for the sentinel; st: the sentinel's exec failure (its errno),
	 * or EOF when the exec worked (close-on-exec). */
	int p[2], st[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(st, O_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		close(st[0]);
		close(st[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		/* Nothing of ours but the pipes: not the caller's output pipes
		 * (a reader would wait for us), not the scratch dir's lock. */
		int nul = open("/dev/null", O_RDWR);
		if (dup2(p[0], 3) < 0 || dup2(st[1], 4) < 0 || nul < 0 || dup2(nul, 0) < 0 ||
		    dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
			_exit(127);
		fcntl(4, F_SETFD, FD_CLOEXEC);
		close_range(5, ~0U, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Our own binary even if its file was replaced or deleted since. */
		char *argv[] = {"stress", "--sentinel", NULL};
		execve("/proc/self/exe", argv, environ);
		int e = errno;
		(void)!write(4, &e, sizeof e);
		_exit(127);
	}
	close(p[0]);
	close(st[1]);
	int e = 0;
	ssize_t r;
	while ((r = read(st[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(st[0]);
	if (r > 0) {
		close(p[1]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		errno = e ? e : ENOEXEC;
		return -1;
	}
	/* Never block a run's start on it: were it stopped (SIGSTOP) and its
	 * pipe full, a lost line is better than a stalled stress. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	sent_fd = p[1];
	sent_pid = pid;
	return 0;
}

/* At a normal end: no run is left, so the sentinel has nothing to do; wait
 * for it, so that nothing of ours outlives us. */
void sentinel_stop(void)
{
	if (sent_fd < 0)
		return;
	close(sent_fd);
	sent_fd = -1;
	while (waitpid(sent_pid, NULL, 0) < 0 && errno == EINTR)
		;
	sent_pid = -1;
}

static void sentinel_say(int32_t v)
{
	if (sent_fd < 0)
		return;
	while (write(sent_fd, &v, sizeof v) < 0 && errno == EINTR)
		;
}

void sentinel_add(pid_t pgid)
{
	sentinel_say((int32_t)pgid);
}

void sentinel_del(pid_t pgid)
{
	sentinel_say(-(int32_t)pgid);
}

bool sentinel_is(pid_t pid)
{
	return pid == sent_pid;
}

/* ---- scratch dirs ---- */

/* Make tmpdir ours: the lock on its .owner, held for as long as the
 * returned descriptor stays open (our whole life).  -1 with errno. */
int tmp_claim(const char *tmpdir)
{
	if (mkdir(tmpdir, 0700) < 0 && errno != EEXIST)
		return -1;
	char p[PATH_MAX + 16];
	snprintf(p, sizeof p, "%s/.owner", tmpdir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	/* Blocking: a stress cleaning up may hold it for an instant (it finds
	 * the file empty and leaves it). */
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	char pid[24];
	int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, pid, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

int clean_abandoned(const char *results)
{
	DIR *d = opendir(results);
	if (!d)
		return 0;
	int cleaned = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char tmp[PATH_MAX], owner[PATH_MAX + 16];
		snprintf(tmp, sizeof tmp, "%s/%s/.tmp", results, e->d_name);
		snprintf(owner, sizeof owner, "%s/.owner", tmp);
		/* No owner file: not ours to judge (an older stress, or not a
		 * scratch dir at all).  An empty one: its stress is starting (it
		 * writes its pid once it holds the lock). */
		int fd = open(owner, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		struct stat st;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 && st.st_size > 0 &&
		    rm_rf(tmp) == 0)
			cleaned++;
		close(fd);
	}
	closedir(d);
	return cleaned;
}

/* ---- inject --check ---- */

int check_inject(const struct job *j, char *line, size_t n)
{
	line[0] = 0;
	/* As a run gives them, minus the log path we do not have yet. */
	size_t k = 0, cap = (size_t)j->inject_argc + 6;
	char **argv = xmalloc(sizeof *argv * cap);
	argv[k++] = (char *)j->launcher;
	argv[k++] = "--check";
	for (int i = 0; i < j->inject_argc; i++)
		argv[k++] = j->inject_argv[i];
	argv[k++] = "--seed";
	argv[k++] = "0";
	argv[k] = NULL;
	size_t ne = 0;
	for (char **e = environ; *e; e++)
		ne++;
	char **envp = xmalloc(sizeof *envp * (ne + 1));
	ne = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "INJECT_LOG=", 11) && strncmp(*e, "INJECT_SEED=", 12))
			envp[ne++] = *e;
	envp[ne] = NULL;

	int p[2], rc = -1;
	pid_t pid;
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(line, n, "pipe: %s", strerror(errno));
		goto out;
	}
	int err = spawn_run(j->launcher, argv, envp, p[1], &pid);
	close(p[1]);
	if (err) {
		close(p[0]);
		snprintf(line, n, "cannot run %s: %s", j->launcher, strerror(err));
		goto out;
	}
	char buf[4096];
	size_t len = 0;
	for (;;) {
		ssize_t r = read(p[0], buf + len, sizeof buf - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof buf - 1) {
			char sink[4096];
			while (read(p[0], sink, sizeof sink) > 0)
				;
			break;
		}
	}
	close(p[0]);
	buf[len] = 0;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	snprintf(line, n, "%s", buf);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !len)
		rc = 0;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_USAGE && !strncmp(buf, "inject: ", 8))
		rc = EXIT_USAGE;
	else if (!buf[0])
		snprintf(line, n, "%s --check exited with status %d and said nothing", j->launcher,
		         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
out:
	free(argv);
	free(envp);
	return rc;
}
