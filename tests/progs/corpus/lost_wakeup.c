/* lost_wakeup: a condition signalled before anyone waits, with no predicate
 * (bug class 6).
 *
 * The bug: main starts a worker and polls until the worker says it is idle;
 * then it prepares a job (an I/O wait, here a 1 ms sleep), stores it and
 * signals the condition variable.  The worker, once it has said it is idle,
 * locks the mutex and waits on the condition without checking a predicate
 * ("a job is there"), taking "idle" to mean "waiting": a signal with no
 * waiter is lost, so a worker that is slow to get from "idle" to its wait
 * waits forever, and main, joining it, too.
 *
 * The window: from the worker's "idle" to its pthread_cond_wait, a few
 * instructions, against main's 1 ms job preparation: plain runs lose the
 * signal only if the OS takes the CPU from the worker right there for more
 * than a millisecond.  (Without the "idle" handshake the race would be the
 * new thread's start-up latency, which a loaded machine often makes longer
 * than 1 ms: not a bug that hides.)
 *
 * What widens it: holding the worker after it said it is idle and before its
 * wait, for more than ~1 ms: at its pthread_mutex_lock (--points mutex_lock
 * or all).  A delay at its start only makes main poll longer; delays after
 * unlocks (the default points) never hold it: it unlocks nothing before
 * waiting.
 *
 * Plain runs: no failure in 1,000 (classes.tsv keeps the count).
 * Exit 0; the lost wakeup is a hang (no output), which
 * stress's --timeout catches. */
#include <stdatomic.h>
#include <time.h>

#include "corpus.h"

#define PROG "lost_wakeup"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static int job;                 /* under lock */
static atomic_int idle;         /* the worker's state, polled by main */

static void *worker(void *arg)
{
	(void)arg;
	atomic_store(&idle, 1);
	pthread_mutex_lock(&lock);
	pthread_cond_wait(&work, &lock);        /* no predicate: the bug */
	int j = job;
	pthread_mutex_unlock(&lock);
	corpus_work(1000, (uint64_t)j);         /* do the job */
	return NULL;
}

static void sleep_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

int main(void)
{
	pthread_t th;
	corpus_start(&th, worker, NULL, PROG);
	while (!atomic_load(&idle))
		sleep_us(100);
	sleep_us(1000);                         /* prepare the job: 1 ms of I/O */
	pthread_mutex_lock(&lock);
	job = 42;
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
	pthread_join(th, NULL);
	return 0;
}
