/* inj_basic: a program that never creates a thread, for the shim's tests.
 *
 *   inj_basic [N] [MODE]
 *
 * Runs N rounds (default 200) of lock/unlock at three sites: site_alpha and
 * site_beta call pthread_mutex_unlock directly, site_gamma through the helper
 * wrap_unlock (for INJECT_SKIP).  Then checks what the shim must not change:
 * recursive and error-checking mutexes (EPERM passed through, errno kept), a
 * statically initialised mutex.  MODE then ends the program: exit (default),
 * _exit, abort, segv, or handler (installs its own SIGTERM handler, which
 * unlocks, raises SIGTERM and exits 0 when the handler ran); vfork first
 * starts a vfork child that calls _exit at once; unwind first calls
 * libunwind's unw_backtrace. */
#include <errno.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int counter;

#define NOINLINE __attribute__((noinline))
/* Keeps a call from becoming a tail call, so the caller stays on the stack. */
#define NOTAIL() __asm__ volatile("" ::: "memory")

NOINLINE void site_alpha(void)
{
	pthread_mutex_lock(&mu);
	counter++;
	pthread_mutex_unlock(&mu);
	NOTAIL();
}

NOINLINE void site_beta(void)
{
	pthread_mutex_lock(&mu);
	counter += 2;
	pthread_mutex_unlock(&mu);
	NOTAIL();
}

NOINLINE void wrap_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	NOTAIL();
}

NOINLINE void site_gamma(void)
{
	pthread_mutex_lock(&mu);
	counter += 3;
	wrap_unlock(&mu);
	NOTAIL();
}

static void fail(const char *what)
{
	fprintf(stderr, "inj_basic: %s\n", what);
	exit(1);
}

static void check_mutex_kinds(void)
{
	pthread_mutexattr_t a;
	pthread_mutex_t rec, chk;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&rec, &a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&chk, &a);
	if (pthread_mutex_lock(&rec) || pthread_mutex_lock(&rec))
		fail("recursive lock failed");
	if (pthread_mutex_unlock(&rec) || pthread_mutex_unlock(&rec))
		fail("recursive unlock failed");
	errno = 4242;
	int r = pthread_mutex_unlock(&chk);        /* not owned */
	if (r != EPERM)
		fail("error-checking unlock of an unowned mutex did not return EPERM");
	if (errno != 4242)
		fail("errno changed across pthread_mutex_unlock");
	if (pthread_mutex_lock(&chk) || pthread_mutex_lock(&chk) != EDEADLK)
		fail("error-checking relock did not return EDEADLK");
	errno = 777;
	if (pthread_mutex_unlock(&chk) || errno != 777)
		fail("error-checking unlock failed or changed errno");
	static pthread_mutex_t st = PTHREAD_MUTEX_INITIALIZER;
	static pthread_mutex_t strec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	if (pthread_mutex_lock(&st) || pthread_mutex_unlock(&st))
		fail("static mutex failed");
	if (pthread_mutex_lock(&strec) || pthread_mutex_lock(&strec) ||
	    pthread_mutex_unlock(&strec) || pthread_mutex_unlock(&strec))
		fail("static recursive mutex failed");
}

static volatile int *volatile bad_ptr;   /* NULL, opaque to the compiler */
static volatile sig_atomic_t handled;
static pthread_mutex_t hmu = PTHREAD_MUTEX_INITIALIZER;

static void on_term(int sig)
{
	pthread_mutex_lock(&hmu);
	handled = sig;
	pthread_mutex_unlock(&hmu);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	const char *mode = argc > 2 ? argv[2] : "exit";
	if (!strcmp(mode, "unwind")) {
		/* libunwind unlocks its own mutexes while holding others: the shim
		 * must not call back into libunwind from that unlock. */
		void *frames[16];
		if (unw_backtrace(frames, 16) <= 0)
			fail("unw_backtrace failed");
	}
	if (!strcmp(mode, "vfork")) {
		/* The child shares our memory until it _exits. */
		pid_t pid = vfork();
		if (pid == 0)
			_exit(7);
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
			fail("vfork child failed");
	}
	for (int i = 0; i < n; i++) {
		site_alpha();
		site_beta();
		site_gamma();
	}
	if (counter != 6 * n)
		fail("counter is wrong");
	check_mutex_kinds();
	if (!strcmp(mode, "_exit"))
		_exit(3);
	if (!strcmp(mode, "abort"))
		abort();
	if (!strcmp(mode, "segv"))
		*bad_ptr = 1;
	if (!strcmp(mode, "handler")) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_term;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGTERM, &sa, NULL))
			fail("sigaction failed");
		if (sigaction(SIGTERM, NULL, &old) || old.sa_handler != on_term)
			fail("sigaction does not report the program's handler");
		raise(SIGTERM);
		if (handled != SIGTERM)
			fail("the program's SIGTERM handler did not run");
	}
	puts("ok");
	return 0;
}
