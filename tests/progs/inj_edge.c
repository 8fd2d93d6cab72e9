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
 *   inj_edge stall jump|park|cancel
 *                       thread 0.1 turns its own openat calls into SIGSYS
 *                       (a seccomp filter on that thread alone) and calls
 *                       stall_site, whose new site the shim starts to name:
 *                       its open of the program raises SIGSYS inside the
 *                       shim.  jump: the handler longjmps out of the shim;
 *                       park: the handler waits there until main is done;
 *                       cancel: it waits there until main cancels the thread
 *                       (usleep is a cancellation point) and joins it.
 *                       Meanwhile main calls stall_site 5 times (prints
 *                       "waited N ms"); then thread 0.1 is let go (park: the
 *                       open fails with EACCES, the shim goes on) and, in
 *                       park, calls stall_site 4 more times.  Prints
 *                       "unsupported" (exit 0) where the filter cannot be set.
 *   inj_edge fifo LIB FIFO
 *                       dlopen LIB, rename the FIFO over it, call its lib_work
 *                       (the shim must not block opening the FIFO to name
 *                       the site)
 *   inj_edge keys       main and then a new thread each lock and unlock 3
 *                       times; fails when calloc ran inside one of those
 *                       calls (the program's calloc watches; the test preloads
 *                       a library that creates 40 pthread keys before the
 *                       shim's constructor, so the shim's key is >= 32)
 * Prints "ok" and exits 0 when every check holds, 1 (with a line on stderr)
 * otherwise. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#endif

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

#if defined(__x86_64__)
static sigjmp_buf stall_env;
static volatile int stall_parked, stall_release, stall_jumped, stall_jump, stall_cancel;

__attribute__((noinline)) void stall_site(void)
{
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	__asm__ volatile("" ::: "memory");
}

/* SIGSYS: a trapped openat, which only the shim's naming makes on thread 0.1. */
static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	if (stall_jump)
		siglongjmp(stall_env, 1);
	stall_parked = 1;
	while (!stall_release)
		usleep(1000);
	uc->uc_mcontext.gregs[REG_RAX] = -EACCES;     /* the openat's result */
}

static int trap_openat(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	/* Without SECCOMP_FILTER_FLAG_TSYNC: this thread only. */
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static volatile int stall_unsupported;

static void *stall_thread(void *arg)
{
	if (trap_openat()) {
		stall_unsupported = 1;
		return arg;
	}
	if (!sigsetjmp(stall_env, 1))
		stall_site();   /* SIGSYS inside the shim, naming the site */
	stall_jumped = 1;
	if (stall_jump) {
		while (!stall_release)      /* alive, its naming left half done */
			usleep(1000);
	} else {
		for (int i = 0; i < 4; i++)
			stall_site();
	}
	return arg;
}

static void stall(const char *mode)
{
	stall_jump = !strcmp(mode, "jump");
	stall_cancel = !strcmp(mode, "cancel");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		fail("sigaction");
	pthread_t t;
	if (pthread_create(&t, NULL, stall_thread, NULL))
		fail("pthread_create failed");
	/* The shim opens the program's file the first time it names a site in
	 * it, which must be thread 0.1's stall_site. */
	for (int ms = 0; !stall_unsupported && !(stall_jump ? stall_jumped : stall_parked); ms++) {
		if (ms == 20000 || (!stall_jump && stall_jumped))
			fail("thread 0.1 was never stopped inside the shim");
		usleep(1000);
	}
	if (stall_unsupported) {
		pthread_join(t, NULL);
		puts("unsupported");
		exit(0);
	}
	if (stall_cancel) {
		void *r;
		if (pthread_cancel(t) || pthread_join(t, &r) || r != PTHREAD_CANCELED)
			fail("thread 0.1 was not cancelled");
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 5; i++)
		stall_site();
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("waited %ld ms\n", (long)((b.tv_sec - a.tv_sec) * 1000 +
					  (b.tv_nsec - a.tv_nsec) / 1000000));
	stall_release = 1;
	if (!stall_cancel)
		pthread_join(t, NULL);
}
#else
static void stall(const char *mode)
{
	(void)mode;
	puts("unsupported");
	exit(0);
}
#endif

static void fifo(const char *lib, const char *path)
{
	void *h = dlopen(lib, RTLD_NOW);
	if (!h)
		fail(dlerror());
	int (*work)(void) = (int (*)(void))dlsym(h, "lib_work");
	if (!work)
		fail("no lib_work");
	if (rename(path, lib))
		fail("rename fifo");
	if (work())
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
	} else if (!strcmp(argv[1], "stall") && argc > 2) {
		stall(argv[2]);
	} else if (!strcmp(argv[1], "fifo") && argc > 3) {
		fifo(argv[2], argv[3]);
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
