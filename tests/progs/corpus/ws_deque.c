/* ws_deque: a work-stealing deque (Chase-Lev) whose steal races with pop
 * (bug class 4).
 *
 * The bug: the owner pushes and pops tasks at the bottom of its deque,
 * thieves steal at the top with a compare-and-swap on top (after Chase and
 * Lev, with the C11 orders of Le, Pop, Cohen and Zappa Nardelli, PPoPP 2013).
 * In the real algorithm the owner's pop of the last task also CASes top, since a
 * thief may be taking that same task.  Here the thieves "leave the last task to
 * its owner": a steal gives up when it sees fewer than two tasks, and pop, trusting
 * that, takes the last task without the CAS.  But a thief's count can be
 * stale by the time it CASes: if the owner popped twice after the thief read
 * bottom, the thief's task is the owner's last, and both run it.
 *
 * The window: in steal, between the load of bottom (two tasks seen) and the
 * CAS on top, a few instructions; the owner must pop two tasks, running one
 * (~7 us), inside it.  Plain runs see that only if the OS stops a thief
 * there for longer than a task.
 *
 * What widens it: holding a thief between its load of bottom and its CAS
 * (at the load of the task or at the CAS) for longer than a task of the
 * owner's: ~7 us and up.  No pthread call is near: only an access-level
 * point (a -fsanitize=thread build linked to the shim) can hold it there.
 *
 * Plain runs: no failure in 1,000 (classes.tsv keeps the count).
 * Exit 0, or 14 with "ws_deque: BUG: ..." when a task
 * ran twice (or never). */
#include <sched.h>
#include <stdatomic.h>

#include "corpus.h"

#define PROG "ws_deque"
#define TASKS 48
#define THIEVES 2
#define CAP 64                  /* a power of two, above TASKS: no growth needed */
#define TASK_WORK 5000          /* ~7 us per task */
#define EMPTY (-1)

static atomic_long top, bottom;
static atomic_int buf[CAP];
static atomic_int runs[TASKS];  /* how often each task ran */
static atomic_int done;

static void push(int task)
{
	long b = atomic_load_explicit(&bottom, memory_order_relaxed);
	atomic_store_explicit(&buf[b % CAP], task, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&bottom, b + 1, memory_order_relaxed);
}

static int pop(void)
{
	long b = atomic_load_explicit(&bottom, memory_order_relaxed) - 1;
	atomic_store_explicit(&bottom, b, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	long t = atomic_load_explicit(&top, memory_order_relaxed);
	if (t > b) {
		atomic_store_explicit(&bottom, b + 1, memory_order_relaxed);
		return EMPTY;
	}
	/* t == b is the last task.  Chase-Lev settles it here with a CAS on top
	 * against the thieves; this pop relies on steal never taking the last. */
	return atomic_load_explicit(&buf[b % CAP], memory_order_relaxed);
}

static int steal(void)
{
	long t = atomic_load_explicit(&top, memory_order_acquire);
	atomic_thread_fence(memory_order_seq_cst);
	long b = atomic_load_explicit(&bottom, memory_order_acquire);
	if (b - t < 2)
		return EMPTY;   /* leave the last task to the owner */
	int task = atomic_load_explicit(&buf[t % CAP], memory_order_relaxed);
	if (!atomic_compare_exchange_strong_explicit(&top, &t, t + 1, memory_order_seq_cst,
						     memory_order_relaxed))
		return EMPTY;   /* another thief won it */
	return task;
}

static void run(int task, const char *who)
{
	if (atomic_fetch_add(&runs[task], 1) != 0)
		corpus_bug(CORPUS_EXIT_DEQUE, PROG, "task %d ran twice (the second time in the %s)",
			   task, who);
	corpus_work(TASK_WORK, (uint64_t)task);
}

static void *thief(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		int task = steal();
		if (task == EMPTY)
			sched_yield();
		else
			run(task, "thief");
	}
	return NULL;
}

int main(void)
{
	for (int i = 0; i < TASKS; i++)
		push(i);
	pthread_t th[THIEVES];
	for (int i = 0; i < THIEVES; i++)
		corpus_start(&th[i], thief, NULL, PROG);
	for (int task; (task = pop()) != EMPTY;)
		run(task, "owner");
	atomic_store(&done, 1);
	for (int i = 0; i < THIEVES; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < TASKS; i++)
		if (atomic_load(&runs[i]) != 1)
			corpus_bug(CORPUS_EXIT_DEQUE, PROG, "task %d ran %d times", i,
				   atomic_load(&runs[i]));
	return 0;
}
