/* hunt_pair [ROUNDS [DECOYS [NAP1]]]: a failure that needs delays at two lock releases at
 * once, for tests/test_hunt_pair.py (issue 13, item 4).
 *
 * Each round two workers open a window each: first_half() sets stage1 = 1
 * under lock1, unlocks (SITE 1), then sets stage1 = 2; second_half() does
 * the same with lock2 and stage2 (SITE 2).  The main thread waits until
 * both have started, waits 300us more, and fails ("fatal error: hunt_pair:
 * both windows open", exit 2) when both stages still read 1: both workers
 * were held back after their unlock at the same time.  Without a delay each
 * window is a few instructions wide.  Now and then (1 round in NAP1, 160
 * by default, for the first, 1 in 250 for the second, from a generator seeded by the clock, not
 * by the injection seed) a worker naps 2ms in its window by itself, so that
 * a delay at one site alone fails a few runs too: the failure is not
 * invisible to one site, only far likelier with both.  A small NAP1 (40)
 * makes second_half alone fail about a third of the runs, so that hunt
 * confirms it as a single before it looks for its partner.
 *
 * The decoys (tick_a, tick_b, round_stats) release locks around
 * self-contained critical sections.  Helpers are noinline and not tail
 * calls, so the shim names each site after the function written here.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NOTAIL() __asm__ volatile("" ::: "memory")

static pthread_mutex_t lock1 = PTHREAD_MUTEX_INITIALIZER;	/* guards stage1's writes */
static pthread_mutex_t lock2 = PTHREAD_MUTEX_INITIALIZER;	/* guards stage2's writes */
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards ticks */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards stats */
static int stage1, stage2;	/* atomic: 0 not started, 1 in the window, 2 done */
static long ticks[2], stats;
static pthread_barrier_t start, done;
static int rounds = 30;
static unsigned nap1 = 160;	/* first_half naps 1 round in nap1 */
static uint64_t rng_state;	/* atomic: the naps' generator */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One in N, from a shared splitmix64 stream. */
static int one_in(unsigned n)
{
	uint64_t x = __atomic_add_fetch(&rng_state, 0x9e3779b97f4a7c15ULL, __ATOMIC_RELAXED);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31)) % n == 0;
}

__attribute__((noinline)) static void tick_a(void)
{
	pthread_mutex_lock(&tick_lock);
	ticks[0]++;
	pthread_mutex_unlock(&tick_lock);
	NOTAIL();
}

__attribute__((noinline)) static void tick_b(void)
{
	pthread_mutex_lock(&tick_lock);
	ticks[1]++;
	pthread_mutex_unlock(&tick_lock);
	NOTAIL();
}

__attribute__((noinline)) static void round_stats(void)
{
	pthread_mutex_lock(&stats_lock);
	stats++;
	pthread_mutex_unlock(&stats_lock);
	NOTAIL();
}

/* DECOYS more harmless sites, one function each, visited by the main thread
 * once a round: they spread a blind plan's delays over many sites, as a
 * real program's locks do. */
#define DECOY(n)                                                          \
	static pthread_mutex_t decoy_lock##n = PTHREAD_MUTEX_INITIALIZER; \
	static long decoy_count##n;                                       \
	__attribute__((noinline)) static void decoy##n(void)              \
	{                                                                 \
		pthread_mutex_lock(&decoy_lock##n);                       \
		decoy_count##n++;                                         \
		pthread_mutex_unlock(&decoy_lock##n);                     \
		NOTAIL();                                                 \
	}
#define DECOY8(n) DECOY(n##0) DECOY(n##1) DECOY(n##2) DECOY(n##3) DECOY(n##4) DECOY(n##5) \
	DECOY(n##6) DECOY(n##7)
DECOY8(1) DECOY8(2) DECOY8(3) DECOY8(4)
#define REF8(n) decoy##n##0, decoy##n##1, decoy##n##2, decoy##n##3, decoy##n##4, decoy##n##5, \
	decoy##n##6, decoy##n##7
static void (*const decoys[])(void) = { REF8(1), REF8(2), REF8(3), REF8(4) };
enum { MAX_DECOYS = sizeof decoys / sizeof decoys[0] };
static int ndecoys;

__attribute__((noinline)) static void first_half(void)
{
	pthread_mutex_lock(&lock1);
	__atomic_store_n(&stage1, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&lock1);	/* SITE 1 */
	NOTAIL();
	if (one_in(nap1))
		usleep(2000);
	__atomic_store_n(&stage1, 2, __ATOMIC_SEQ_CST);
}

__attribute__((noinline)) static void second_half(void)
{
	pthread_mutex_lock(&lock2);
	__atomic_store_n(&stage2, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&lock2);	/* SITE 2 */
	NOTAIL();
	if (one_in(250))
		usleep(2000);
	__atomic_store_n(&stage2, 2, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
	int which = (int)(intptr_t)arg;
	for (int r = 0; r < rounds; r++) {
		pthread_barrier_wait(&start);
		if (which == 1) {
			tick_a();
			first_half();
		} else {
			tick_b();
			second_half();
		}
		pthread_barrier_wait(&done);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atoi(argv[1]);
	if (argc > 2)
		ndecoys = atoi(argv[2]);
	if (argc > 3)
		nap1 = (unsigned)atoi(argv[3]);
	if (rounds < 1 || ndecoys < 0 || ndecoys > MAX_DECOYS || nap1 < 1) {
		fprintf(stderr, "usage: hunt_pair [ROUNDS [DECOYS (0-%d) [NAP1 (>= 1)]]]\n",
			(int)MAX_DECOYS);
		return 64;
	}
	rng_state = now_ns() ^ ((uint64_t)getpid() << 32);
	pthread_barrier_init(&start, NULL, 3);
	pthread_barrier_init(&done, NULL, 3);
	pthread_t t1, t2;
	pthread_create(&t1, NULL, worker, (void *)1);
	pthread_create(&t2, NULL, worker, (void *)2);
	for (int r = 0; r < rounds; r++) {
		__atomic_store_n(&stage1, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&stage2, 0, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&start);
		/* Both started (or 50ms passed), then 300us more. */
		uint64_t t0 = now_ns();
		while ((!__atomic_load_n(&stage1, __ATOMIC_SEQ_CST) ||
			!__atomic_load_n(&stage2, __ATOMIC_SEQ_CST)) && now_ns() - t0 < 50000000)
			;
		uint64_t t1s = now_ns();
		while (now_ns() - t1s < 300000)
			;
		if (__atomic_load_n(&stage1, __ATOMIC_SEQ_CST) == 1 &&
		    __atomic_load_n(&stage2, __ATOMIC_SEQ_CST) == 1) {
			fprintf(stderr, "fatal error: hunt_pair: both windows open\n");
			fflush(stderr);
			_exit(2);
		}
		pthread_barrier_wait(&done);
		round_stats();
		for (int d = 0; d < ndecoys; d++)
			decoys[d]();
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("ok: %d rounds\n", rounds);
	return 0;
}
