/* inj_many: a program with 3,000 distinct unlock sites, as a big program has
 * (databases, browsers), for the test that the shim's site table holds them.
 *
 *   inj_many [ROUNDS]
 *
 * Calls f0000, f0001, ..., f2999 in turn, ROUNDS times (default 1); each
 * locks and unlocks its own mutex.  Prints "ok". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N 3000
static pthread_mutex_t mu[N];

#define F(a, b, c, d)                                                   \
	__attribute__((noinline)) void f##a##b##c##d(void)              \
	{                                                               \
		pthread_mutex_t *m = &mu[a * 1000 + b * 100 + c * 10 + d]; \
		pthread_mutex_lock(m);                                  \
		pthread_mutex_unlock(m);                                \
		__asm__ volatile("" ::: "memory");                      \
	}
#define D10(X, a, b, c) X(a, b, c, 0) X(a, b, c, 1) X(a, b, c, 2) X(a, b, c, 3) X(a, b, c, 4) \
			X(a, b, c, 5) X(a, b, c, 6) X(a, b, c, 7) X(a, b, c, 8) X(a, b, c, 9)
#define D100(X, a, b) D10(X, a, b, 0) D10(X, a, b, 1) D10(X, a, b, 2) D10(X, a, b, 3) \
		      D10(X, a, b, 4) D10(X, a, b, 5) D10(X, a, b, 6) D10(X, a, b, 7) \
		      D10(X, a, b, 8) D10(X, a, b, 9)
#define D1000(X, a) D100(X, a, 0) D100(X, a, 1) D100(X, a, 2) D100(X, a, 3) D100(X, a, 4) \
		    D100(X, a, 5) D100(X, a, 6) D100(X, a, 7) D100(X, a, 8) D100(X, a, 9)
D1000(F, 0) D1000(F, 1) D1000(F, 2)

#define REF(a, b, c, d) f##a##b##c##d,
static void (*const fns[N])(void) = { D1000(REF, 0) D1000(REF, 1) D1000(REF, 2) };

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1;
	for (int i = 0; i < N; i++)
		pthread_mutex_init(&mu[i], NULL);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < N; i++)
			fns[i]();
	puts("ok");
	return 0;
}
