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
 *   inj_edge stall LIB FIFO COPY
 *                       dlopen LIB, rename the FIFO over it (naming a site
 *                       in LIB now blocks opening the FIFO); thread 0.1 calls
 *                       lib_work and is stuck naming its site until SIGUSR1,
 *                       whose handler longjmps out of the shim; then main calls
 *                       lib_work (must not wait for the half-named site; prints
 *                       "waited N ms"); then COPY is renamed back over LIB,
 *                       thread 0.1 exits, and main calls lib_work again
 *   inj_edge keys       main and then a new thread each lock and unlock 3
 *                       times; fails when calloc ran inside one of those
 *                       calls (the program's calloc watches; the test preloads
 *                       a library that creates 40 pthread keys before the
 *                       shim's constructor, so the shim's key is >= 32)
 * Prints "ok" and exits 0 when every check holds, 1 (with a line on stderr)
 * otherwise. */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static sigjmp_buf stall_env;
static volatile int stall_jumped, stall_release;
static int (*stall_work)(void);

static void stall_jump(int sig)
{
	(void)sig;
	siglongjmp(stall_env, 1);
}

static void *stall_thread(void *arg)
{
	if (!sigsetjmp(stall_env, 1))
		stall_work();       /* blocks inside the shim, naming the site */
	stall_jumped = 1;
	while (!stall_release)
		usleep(1000);
	return arg;
}

static void stall(const char *lib, const char *fifo, const char *copy)
{
	void *h = dlopen(lib, RTLD_NOW);
	if (!h)
		fail(dlerror());
	stall_work = (int (*)(void))dlsym(h, "lib_work");
	if (!stall_work)
		fail("no lib_work");
	if (rename(fifo, lib))
		fail("rename fifo");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = stall_jump;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		fail("sigaction");
	pthread_t t;
	if (pthread_create(&t, NULL, stall_thread, NULL))
		fail("pthread_create failed");
	usleep(200000);
	pthread_kill(t, SIGUSR1);
	while (!stall_jumped)
		usleep(1000);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (stall_work())
		fail("lib_work failed");
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("waited %ld ms\n", (long)((b.tv_sec - a.tv_sec) * 1000 +
					  (b.tv_nsec - a.tv_nsec) / 1000000));
	if (rename(copy, lib))
		fail("rename copy");
	stall_release = 1;
	pthread_join(t, NULL);
	if (stall_work())
		fail("lib_work failed");
}

/* calloc, watched: glibc's pthread_setspecific allocates with it. */
extern void *__libc_calloc(size_t, size_t);
static __thread int in_lock_call;
static volatile int calloc_in_lock;

void *calloc(size_t n, size_t size)
{
	if (in_lock_call)
		calloc_in_lock = 1;
	return __libc_calloc(n, size);
}

__attribute__((noinline)) static void keys_site(void)
{
	for (int i = 0; i < 3; i++) {
		in_lock_call = 1;
		pthread_mutex_lock(&mu);
		pthread_mutex_unlock(&mu);
		in_lock_call = 0;
	}
}

static void *keys_thread(void *arg)
{
	keys_site();
	return arg;
}

static void keys(void)
{
	keys_site();
	pthread_t t;
	if (pthread_create(&t, NULL, keys_thread, NULL))
		fail("pthread_create failed");
	pthread_join(t, NULL);
	if (calloc_in_lock)
		fail("calloc ran inside pthread_mutex_lock/unlock");
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
	} else if (!strcmp(argv[1], "keys")) {
		keys();
	} else if (!strcmp(argv[1], "stall") && argc > 4) {
		stall(argv[2], argv[3], argv[4]);
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
