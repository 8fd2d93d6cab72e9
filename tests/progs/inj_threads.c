/* inj_threads: threaded programs for the shim's tests.
 *
 *   inj_threads lineage [ROUNDS]  main starts 3 workers, each starts 1 child;
 *                                 every thread unlocks at worker_loop and
 *                                 touches every other point once per round
 *   inj_threads fork [ROUNDS]     2 workers unlock while main forks; the
 *                                 child unlocks at child_work and exits
 *   inj_threads throw             2 threads unlock while main calls exit(2),
 *                                 once each has unlocked 200 times
 *   inj_threads signals [N]       a thread sends N SIGUSR1 to main, whose
 *                                 handler locks and unlocks; main unlocks too
 * Exits 0 when every check holds, 1 (with a line on stderr) otherwise. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define NOTAIL() __asm__ volatile("" ::: "memory")

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static long total;
static int rounds = 50;

static void fail(const char *what)
{
	fprintf(stderr, "inj_threads: %s\n", what);
	exit(1);
}

NOINLINE void worker_loop(void)
{
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&mu);
		total++;
		pthread_mutex_unlock(&mu);
		NOTAIL();
	}
}

NOINLINE void other_points(void)
{
	pthread_rwlock_rdlock(&rw);
	pthread_rwlock_unlock(&rw);
	pthread_spin_lock(&spin);
	pthread_spin_unlock(&spin);
	sem_post(&sem);
	sem_wait(&sem);
	pthread_mutex_lock(&mu);
	pthread_cond_signal(&cv);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	NOTAIL();
}

static void *child(void *arg)
{
	worker_loop();
	other_points();
	return arg;
}

static void *worker(void *arg)
{
	pthread_t t;
	if (pthread_create(&t, NULL, child, NULL))
		fail("pthread_create failed");
	worker_loop();
	other_points();
	pthread_join(t, NULL);
	return arg;
}

static int lineage(void)
{
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			fail("pthread_create failed");
	worker_loop();
	other_points();
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	if (total != 7L * rounds)
		fail("lost updates");
	return 0;
}

static volatile int stop;
static volatile long spins[2];      /* rounds of each spinner, for throwing */

static void *spinner(void *arg)
{
	volatile long *mine = arg;
	while (!stop) {
		pthread_mutex_lock(&mu);
		total++;
		pthread_mutex_unlock(&mu);
		NOTAIL();
		if (mine)
			++*mine;
	}
	return NULL;
}

NOINLINE void child_work(void)
{
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&mu);
		total++;
		pthread_mutex_unlock(&mu);
		NOTAIL();
	}
}

static int forking(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, spinner, NULL))
			fail("pthread_create failed");
	usleep(20000);
	pid_t pid = fork();
	if (pid < 0)
		fail("fork failed");
	if (pid == 0) {
		/* Only this thread survives; mu may have been held by a spinner at
		 * the fork, so the child uses a fresh mutex. */
		pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
		memcpy(&mu, &fresh, sizeof mu);
		total = 0;
		child_work();
		exit(total == rounds ? 0 : 1);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("the forked child failed");
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* A Go-style throw: exit(2) from one thread while the others keep unlocking,
 * once each has unlocked 200 times (however busy the machine is). */
static int throwing(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, spinner, (void *)&spins[i]))
			fail("pthread_create failed");
	while (spins[0] < 200 || spins[1] < 200)
		usleep(1000);
	fputs("fatal error: checkdead: runnable g\n", stderr);
	exit(2);
}

static pthread_mutex_t hmu = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t handled;
static pthread_t main_thread;

static void on_usr1(int sig)
{
	(void)sig;
	int e = errno;
	pthread_mutex_lock(&hmu);
	handled++;
	pthread_mutex_unlock(&hmu);
	errno = e;
}

static void *sender(void *arg)
{
	int n = *(int *)arg;
	for (int i = 0; i < n; i++) {
		int before = handled;
		pthread_kill(main_thread, SIGUSR1);
		while (handled == before)
			sched_yield();
	}
	stop = 1;
	return NULL;
}

static int signals(int n)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	pthread_t t;
	if (pthread_create(&t, NULL, sender, &n))
		fail("pthread_create failed");
	while (!stop) {
		pthread_mutex_lock(&mu);
		total++;
		pthread_mutex_unlock(&mu);
		NOTAIL();
	}
	pthread_join(t, NULL);
	if (handled != n)
		fail("signals lost");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		fail("usage: inj_threads lineage|fork|throw|signals [N]");
	pthread_spin_init(&spin, 0);
	sem_init(&sem, 0, 0);
	int n = argc > 2 ? atoi(argv[2]) : 0;
	if (n > 0)
		rounds = n;
	int r;
	if (!strcmp(argv[1], "lineage"))
		r = lineage();
	else if (!strcmp(argv[1], "fork"))
		r = forking();
	else if (!strcmp(argv[1], "throw"))
		r = throwing();
	else if (!strcmp(argv[1], "signals"))
		r = signals(n > 0 ? n : 200);
	else
		fail("unknown mode");
	puts("ok");
	return r;
}
