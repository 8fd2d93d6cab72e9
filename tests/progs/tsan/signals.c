/* signals.c: instrumented code in a signal handler that interrupts
 * instrumented code (and the shim, when a visit is delayed).  A timer signal
 * every 100 us runs a handler that makes a plain access and an atomic; two
 * threads make accesses and atomics and check errno across them.
 *
 *   signals [ITERS]        default 200000
 * Prints "signals=N ok" and exits 0 when the counts agree: the handler's
 * plain and atomic counts are equal, the workers' atomic counter is exact,
 * errno survived.  Exit 1 otherwise. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t handled;   /* main thread's handler only */
static long handled_atomic;
static long counter;
static long cells[2][64];
static int iters;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	handled = handled + 1;
	__atomic_fetch_add(&handled_atomic, 1, __ATOMIC_RELAXED);
	errno = saved;
}

static void *worker(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < iters; i++) {
		errno = 100 + i % 5;
		cells[id][i % 64] += i;
		__atomic_fetch_add(&counter, 1, __ATOMIC_ACQ_REL);
		if (errno != 100 + i % 5) {
			fprintf(stderr, "signals: errno changed to %d\n", errno);
			exit(1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	iters = argc > 1 ? atoi(argv[1]) : 200000;
	/* Only the main thread takes the timer signal. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, worker, (void *)1L))
		return 1;
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 100 }, { 0, 100 } };
	setitimer(ITIMER_REAL, &it, NULL);
	worker((void *)0L);
	pthread_join(t, NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	long h = handled, ha = __atomic_load_n(&handled_atomic, __ATOMIC_RELAXED);
	if (h != ha || counter != 2L * iters) {
		fprintf(stderr, "signals: handled=%ld atomic=%ld counter=%ld\n", h, ha, counter);
		return 1;
	}
	printf("signals=%s ok\n", h > 0 ? "some" : "none");
	return 0;
}
