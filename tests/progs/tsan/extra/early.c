/* early.c: an instrumented library whose constructor makes accesses and
 * atomics.  Loaded with the shim preloaded, its constructor runs before the
 * shim's (preloaded objects are initialised last), so the shim's entry points
 * must work on zero state: each atomic performed, nothing visited yet. */
#include <stdio.h>
#include <stdlib.h>

int early_plain;
long early_atomic;
int early_ok;

__attribute__((constructor)) static void early_init(void)
{
	int ok = 1;
	for (int i = 0; i < 1000; i++) {
		early_plain += i;
		ok &= __atomic_fetch_add(&early_atomic, 2, __ATOMIC_ACQ_REL) == 2L * i;
		long e = 2L * (i + 1), want = e;
		ok &= __atomic_compare_exchange_n(&early_atomic, &e, want, 0, __ATOMIC_SEQ_CST,
						  __ATOMIC_RELAXED);
	}
	early_ok = ok && early_plain == 499500 && early_atomic == 2000;
}
