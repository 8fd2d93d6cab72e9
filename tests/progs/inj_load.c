/* inj_load: many threads reach many new sites at once, for the test that a
 * seed fixes every decision on a busy machine.
 *
 *   inj_load THREADS ROUNDS
 *
 * Main starts THREADS threads (at most 16), which wait at a barrier, then
 * each makes ROUNDS passes over 64 functions site_00..site_77 (each thread
 * starting at another one), each locking and unlocking its own mutex: every
 * site is new to the shim while several threads arrive at it together.
 * Prints "ok" and exits 0, or 1 with a line on stderr. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NSITE 64
#define NOINLINE __attribute__((noinline))

static pthread_mutex_t mu[NSITE];
static pthread_barrier_t start;
static int rounds;
static long count[NSITE];

/* site_00 .. site_77 (two octal digits: mutex a * 8 + b). */
#define SITE(a, b)                                              \
	NOINLINE void site_##a##b(void)                         \
	{                                                       \
		pthread_mutex_lock(&mu[a * 8 + b]);             \
		count[a * 8 + b]++;                             \
		pthread_mutex_unlock(&mu[a * 8 + b]);           \
		__asm__ volatile("" ::: "memory");              \
	}
#define SITE8(a) SITE(a, 0) SITE(a, 1) SITE(a, 2) SITE(a, 3) \
		 SITE(a, 4) SITE(a, 5) SITE(a, 6) SITE(a, 7)
SITE8(0) SITE8(1) SITE8(2) SITE8(3) SITE8(4) SITE8(5) SITE8(6) SITE8(7)

#define REF(a, b) site_##a##b,
#define REF8(a) REF(a, 0) REF(a, 1) REF(a, 2) REF(a, 3) REF(a, 4) REF(a, 5) REF(a, 6) REF(a, 7)
static void (*const sites[NSITE])(void) = {
	REF8(0) REF8(1) REF8(2) REF8(3) REF8(4) REF8(5) REF8(6) REF8(7)
};

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	pthread_barrier_wait(&start);
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < NSITE; k++)
			sites[(k + 5 * id) % NSITE]();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	rounds = argc > 2 ? atoi(argv[2]) : 0;
	if (n < 1 || n > 16 || rounds < 1) {
		fputs("usage: inj_load THREADS(1-16) ROUNDS\n", stderr);
		return 1;
	}
	for (int k = 0; k < NSITE; k++)
		pthread_mutex_init(&mu[k], NULL);
	pthread_barrier_init(&start, NULL, (unsigned)n);
	pthread_t t[16];
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(long)i)) {
			fputs("inj_load: pthread_create failed\n", stderr);
			return 1;
		}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int k = 0; k < NSITE; k++)
		if (count[k] != (long)n * rounds) {
			fputs("inj_load: lost updates\n", stderr);
			return 1;
		}
	puts("ok");
	return 0;
}
