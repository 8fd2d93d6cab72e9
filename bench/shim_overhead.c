/* shim_overhead: nanoseconds per uncontended pthread_mutex_lock/unlock pair.
 *
 *   shim_overhead [PAIRS] [REPEATS]
 *
 * Prints the best (lowest) of REPEATS timings of PAIRS pairs, in ns per pair,
 * as one number.  bench/shim_overhead.sh runs it without the shim and under
 * the shim in each configuration, interleaved, and prints the table. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The site the shim sees: bench_pairs+0x... */
__attribute__((noinline)) void bench_pairs(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&mu);
		pthread_mutex_unlock(&mu);
		__asm__ volatile("" ::: "memory");
	}
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 2000000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	bench_pairs(pairs / 10);            /* warm up: the site gets resolved */
	double best = 1e30;
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		bench_pairs(pairs);
		double ns = (now() - t0) / (double)pairs;
		if (ns < best)
			best = ns;
	}
	printf("%.2f\n", best);
	return 0;
}
