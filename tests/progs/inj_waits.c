/* inj_waits: the wait and thread points of issue 13, for the shim's tests.
 *
 *   inj_waits [ROUNDS]  ROUNDS times (default 5): main starts a thread at
 *                       create_site and joins it at join_site; the thread
 *                       waits at cond_site (pthread_cond_wait, woken by
 *                       main once it waits) and at timed_site (pthread_cond_timedwait with
 *                       a deadline already past: ETIMEDOUT), takes main's
 *                       post at sem_site (sem_wait) and yields at yield_site
 *                       (sched_yield, errno set before and checked after)
 * So each site is visited ROUNDS times, each by its own point.  Prints "ok"
 * and exits 0 when every check holds, 1 (with a line on stderr) otherwise. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))
#define NOTAIL() __asm__ volatile("" ::: "memory")

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static int waiting, go;         /* under mu: the thread waits, main woke it */

static void fail(const char *what)
{
	fprintf(stderr, "inj_waits: %s\n", what);
	exit(1);
}

NOINLINE void cond_site(void)
{
	pthread_mutex_lock(&mu);
	waiting = 1;
	while (!go)
		if (pthread_cond_wait(&cv, &mu))
			fail("pthread_cond_wait failed");
	waiting = go = 0;
	pthread_mutex_unlock(&mu);
	NOTAIL();
}

NOINLINE void timed_site(void)
{
	struct timespec past = {0, 0};
	pthread_mutex_lock(&mu);
	int r = pthread_cond_timedwait(&cv, &mu, &past);
	pthread_mutex_unlock(&mu);
	if (r != ETIMEDOUT)
		fail("pthread_cond_timedwait did not return ETIMEDOUT");
	NOTAIL();
}

NOINLINE void sem_site(void)
{
	if (sem_wait(&sem))
		fail("sem_wait failed");
	NOTAIL();
}

NOINLINE void yield_site(void)
{
	errno = EDOM;
	if (sched_yield())
		fail("sched_yield failed");
	if (errno != EDOM)
		fail("errno changed across sched_yield");
	NOTAIL();
}

static void *waiter(void *arg)
{
	cond_site();
	timed_site();
	sem_site();
	yield_site();
	return arg;
}

NOINLINE void create_site(pthread_t *th)
{
	if (pthread_create(th, NULL, waiter, NULL))
		fail("pthread_create failed");
	NOTAIL();
}

NOINLINE void join_site(pthread_t th)
{
	if (pthread_join(th, NULL))
		fail("pthread_join failed");
	NOTAIL();
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	if (sem_init(&sem, 0, 0))
		fail("sem_init failed");
	for (int i = 0; i < rounds; i++) {
		pthread_t th;
		create_site(&th);
		/* Wake the thread only once it waits (it released mu in the wait),
		 * so that cond_site's wait always happens. */
		pthread_mutex_lock(&mu);
		while (!waiting) {
			pthread_mutex_unlock(&mu);
			nanosleep(&(struct timespec){0, 100000}, NULL);
			pthread_mutex_lock(&mu);
		}
		go = 1;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
		sem_post(&sem);
		join_site(th);
	}
	puts("ok");
	return 0;
}
