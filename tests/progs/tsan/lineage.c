/* lineage.c: threads (and threads of threads) whose sequences of accesses and
 * atomics are fixed, whatever the OS scheduler does: each writes its own
 * slots of a shared array (writer), reads them back (reader) and adds to a
 * shared atomic counter, a fixed number of times.  Under the shim the events
 * of each thread (by lineage) must be the same in every run with one seed.
 *
 *   lineage [THREADS [ITERS [fork]]]       defaults 3 and 2000
 * Each thread of main starts one child of its own.  Prints "sum=N" (exit 0)
 * when the counter is exact.  With fork, the process first forks a child
 * that works alone and exits, then goes on.  Every thread checks that errno
 * survives its accesses (exit 3 if not). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SLOTS = 64 };
static int iters;
static long cells[16][SLOTS];
static long counter;

__attribute__((noinline)) static void writer(long *mine, int i)
{
	mine[i % SLOTS] = i;
}

__attribute__((noinline)) static long reader(const long *mine, int i)
{
	return mine[(i * 7) % SLOTS];
}

static void work(int id)
{
	long seen = 0;
	for (int i = 0; i < iters; i++) {
		errno = 1000 + i % 7;
		writer(cells[id], i);
		seen += reader(cells[id], i);
		__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
		if (errno != 1000 + i % 7) {
			fprintf(stderr, "lineage: errno changed to %d\n", errno);
			exit(3);
		}
	}
	if (seen < 0)
		abort();
}

static void *child(void *arg)
{
	work((int)(long)arg);
	return NULL;
}

static void *top(void *arg)
{
	int id = (int)(long)arg;
	pthread_t c;
	if (pthread_create(&c, NULL, child, (void *)(long)(id + 8)))
		abort();
	work(id);
	pthread_join(c, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 3;
	iters = argc > 2 ? atoi(argv[2]) : 2000;
	if (threads < 1 || threads > 8 || iters < 0) {
		fprintf(stderr, "usage: lineage [THREADS(1-8) [ITERS]]\n");
		return 64;
	}
	if (argc > 3 && !strcmp(argv[3], "fork")) {
		pid_t pid = fork();
		if (pid == 0) {
			work(15);
			exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "lineage: the forked child failed\n");
			return 1;
		}
		counter = 0;
	}
	pthread_t t[8];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, top, (void *)(long)i))
			abort();
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	long want = 2L * threads * iters;
	printf("sum=%ld\n", counter);
	return counter == want ? 0 : 1;
}
