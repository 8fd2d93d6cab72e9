/* inj_exitrace: another thread ends the process while main returns from
 * main, for the test that the injection log survives any ending.
 *
 *   inj_exitrace abort|_exit|exit|segv|kill SPIN_US
 *
 * Two threads lock and unlock at race_site without end (the shim delays
 * them, so the log has events to write).  Once each has unlocked 50 times,
 * main sets a flag and returns 0; a third thread, waiting for that flag,
 * busy-waits SPIN_US microseconds and then ends the process its way: abort(),
 * _exit(3), exit(4), a NULL store (SIGSEGV), or kill(getpid(), SIGTERM).  A negative
 * SPIN_US makes main busy-wait that long after setting the flag instead, so
 * the other thread acts first.  Depending on SPIN_US the ending lands before,
 * inside or after exit's work, the shim's log writing included.
 *
 *   inj_exitrace stuck|stuck-abort
 *
 * Exit that hangs after the shim wrote its log: main unlocks at race_site 10
 * times, leaves 256 KiB in stdout's buffer and returns, so exit blocks
 * flushing it when stdout is a pipe nobody reads.  stuck-abort: another
 * thread calls abort() 300 ms after main returned.  stuck: nothing else (the
 * test sends a signal). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int ending;
static volatile long rounds[2];
static const char *mode;
static long spin_us;

__attribute__((noinline)) void race_site(volatile long *n)
{
	pthread_mutex_lock(&mu);
	++*n;
	pthread_mutex_unlock(&mu);
	__asm__ volatile("" ::: "memory");
}

static void *unlocker(void *arg)
{
	for (;;) {
		race_site(arg);
		usleep(20);     /* leave the CPUs to main and the ender */
	}
	return NULL;
}

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void *late_abort(void *arg)
{
	while (!ending)
		;
	usleep(300000);
	abort();
	return arg;
}

static int stuck(int with_abort)
{
	static char buf[1 << 20], data[1 << 18];
	volatile long n = 0;
	for (int i = 0; i < 10; i++)
		race_site(&n);
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	memset(data, 'x', sizeof data);
	fwrite(data, 1, sizeof data, stdout);
	pthread_t t;
	if (with_abort && pthread_create(&t, NULL, late_abort, NULL))
		return 1;
	ending = 1;
	return 0;
}

static void *ender(void *arg)
{
	while (!ending)
		;
	long until = now_us() + spin_us;
	while (spin_us > 0 && now_us() < until)
		;
	if (!strcmp(mode, "abort"))
		abort();
	if (!strcmp(mode, "_exit"))
		_exit(3);
	if (!strcmp(mode, "exit"))
		exit(4);
	if (!strcmp(mode, "segv"))
		*(volatile int *)arg = 1;       /* arg is NULL */
	if (!strcmp(mode, "kill"))
		kill(getpid(), SIGTERM);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strncmp(argv[1], "stuck", 5))
		return stuck(!strcmp(argv[1], "stuck-abort"));
	if (argc != 3) {
		fputs("usage: inj_exitrace abort|_exit|exit|segv|kill SPIN_US | stuck|stuck-abort\n",
		      stderr);
		return 1;
	}
	mode = argv[1];
	spin_us = atol(argv[2]);
	pthread_t t;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t, NULL, unlocker, (void *)&rounds[i]))
			return 1;
	if (pthread_create(&t, NULL, ender, NULL))
		return 1;
	while (rounds[0] < 50 || rounds[1] < 50)
		usleep(1000);
	ending = 1;
	long until = now_us() - spin_us;
	while (spin_us < 0 && now_us() < until)
		;
	return 0;
}
