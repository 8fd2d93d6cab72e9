/* lib.c: a library compiled with -fsanitize=thread (tests/test_tsan.py,
 * libraries): lib_work makes plain accesses and atomics from two threads.
 * Linked four ways (tests/progs/module.mk): against the shim (it runs under
 * the launcher), against libtsan, calling an entry point the shim lacks
 * (LIB_FUTURE), and with a ThreadSanitizer runtime of its own (own_rt.c). */
#include <pthread.h>

#ifdef LIB_FUTURE
void __tsan_future_entry(void);
#endif

static long plain_sum;
static long atomic_sum;

static void *lib_worker(void *arg)
{
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		plain_sum += 0;
		__atomic_fetch_add(&atomic_sum, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

long lib_work(long n)
{
#ifdef LIB_FUTURE
	__tsan_future_entry();
#endif
	pthread_t t;
	if (pthread_create(&t, 0, lib_worker, (void *)n) != 0)
		return -1;
	lib_worker((void *)n);
	pthread_join(t, 0);
	return atomic_sum + plain_sum;
}
