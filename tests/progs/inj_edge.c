/* inj_edge: corner cases of the host program, for the shim's tests.
 *
 *   inj_edge cancel     a thread with a cancellation pending locks and unlocks
 *                       20 times (neither is a cancellation point), then
 *                       returns: it must not be cancelled inside the shim
 *   inj_edge dlopen LIB dlopen LIB (whose constructor starts a thread that
 *                       unlocks at a new site, and joins it) and call its
 *                       lib_work; the loader's lock is held meanwhile
 *   inj_edge chdir DIR  chdir to DIR, then lock and unlock 10 times
 *   inj_edge retire     thread 0.1 unlocks, returns, and unlocks again at
 *                       dtor_site from a pthread key destructor, but only
 *                       after 255 more threads have each unlocked and exited
 *   inj_edge reload A B dlopen A, call its lib_work, dlclose it; then the
 *                       same with B; prints "reused" when B's lib_work has
 *                       A's address (the loader reused the unmapped range)
 * Prints "ok" and exits 0 when every check holds, 1 (with a line on stderr)
 * otherwise. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what)
{
	fprintf(stderr, "inj_edge: %s\n", what);
	exit(1);
}

static volatile int go, done;

static void *cancel_target(void *arg)
{
	while (!go)
		;
	for (int i = 0; i < 20; i++) {
		pthread_mutex_lock(&mu);
		pthread_mutex_unlock(&mu);
	}
	done = 1;
	return arg;
}

static void cancel(void)
{
	pthread_t t;
	void *r;
	if (pthread_create(&t, NULL, cancel_target, NULL))
		fail("pthread_create failed");
	pthread_cancel(t);
	go = 1;
	pthread_join(t, &r);
	if (r == PTHREAD_CANCELED || !done)
		fail("cancelled inside pthread_mutex_lock/unlock, which are not cancellation points");
}

static void *load(const char *lib)
{
	void *h = dlopen(lib, RTLD_NOW);
	if (!h)
		fail(dlerror());
	int (*work)(void) = (int (*)(void))dlsym(h, "lib_work");
	if (!work || work() != 0)
		fail("lib_work failed");
	if (dlclose(h))
		fail("dlclose failed");
	return (void *)work;
}

static pthread_key_t key;
static volatile int in_dtor, release_dtor;

__attribute__((noinline)) void dtor_site(void)
{
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	__asm__ volatile("" ::: "memory");
}

static void dtor(void *v)
{
	in_dtor = 1;
	while (!release_dtor)
		usleep(100);
	dtor_site();
}

static void *unlock_once(void *arg)
{
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	if (arg)
		pthread_setspecific(key, arg);
	return NULL;
}

static void retire(void)
{
	pthread_t first, t;
	unlock_once(NULL);
	if (pthread_key_create(&key, dtor))
		fail("pthread_key_create failed");
	if (pthread_create(&first, NULL, unlock_once, &key))
		fail("pthread_create failed");
	while (!in_dtor)
		usleep(100);
	for (int i = 0; i < 255; i++) {
		if (pthread_create(&t, NULL, unlock_once, NULL))
			fail("pthread_create failed");
		pthread_join(t, NULL);
	}
	release_dtor = 1;
	pthread_join(first, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		fail("usage: inj_edge cancel|dlopen LIB|reload A B|chdir DIR|retire");
	if (!strcmp(argv[1], "cancel"))
		cancel();
	else if (!strcmp(argv[1], "dlopen") && argc > 2)
		load(argv[2]);
	else if (!strcmp(argv[1], "retire"))
		retire();
	else if (!strcmp(argv[1], "reload") && argc > 3) {
		void *a = load(argv[2]);
		if (load(argv[3]) == a)
			puts("reused");
	} else if (!strcmp(argv[1], "chdir") && argc > 2) {
		if (chdir(argv[2]))
			fail("chdir failed");
		for (int i = 0; i < 10; i++) {
			pthread_mutex_lock(&mu);
			pthread_mutex_unlock(&mu);
		}
	}
	else
		fail("unknown mode");
	puts("ok");
	return 0;
}
