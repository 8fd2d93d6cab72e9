/* tsan_overhead: nanoseconds per memory access (or per atomic) of a program
 * compiled with -fsanitize=thread, its __tsan_* calls going to the shim.
 *
 *   tsan_overhead access|atomic [ITERATIONS] [REPEATS]
 *
 * access: a loop of arr[i & 1023] += i, one read and one write (gcc
 * instruments both) per iteration; atomic: one relaxed fetch_add per
 * iteration.  Prints the best (lowest) of REPEATS timings of this thread's
 * CPU time, in ns per access (per atomic), as one number.
 * bench/tsan_overhead.sh runs the plain, instrumented and libtsan builds in
 * each configuration, interleaved, and prints the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long arr[1024];
static long counter;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Two accesses per iteration. */
__attribute__((noinline)) void bench_access(long n)
{
	for (long i = 0; i < n; i++) {
		arr[i & 1023] += i;
		__asm__ volatile("" ::: "memory");
	}
}

/* One atomic per iteration. */
__attribute__((noinline)) void bench_atomic(long n)
{
	for (long i = 0; i < n; i++)
		__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
}

int main(int argc, char **argv)
{
	int atomic = argc > 1 && !strcmp(argv[1], "atomic");
	if (argc < 2 || (!atomic && strcmp(argv[1], "access"))) {
		fprintf(stderr, "usage: tsan_overhead access|atomic [ITERATIONS] [REPEATS]\n");
		return 64;
	}
	long n = argc > 2 ? atol(argv[2]) : 10000000;
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	double per = atomic ? 1 : 2;
	(atomic ? bench_atomic : bench_access)(n / 10);      /* warm up: sites named */
	double best = 1e30;
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		(atomic ? bench_atomic : bench_access)(n);
		double ns = (now() - t0) / ((double)n * per);
		if (ns < best)
			best = ns;
	}
	printf("%.2f\n", best);
	return 0;
}
