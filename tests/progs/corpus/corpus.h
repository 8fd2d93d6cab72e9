/* corpus.h: the few helpers the bug-class programs of tests/progs/corpus/ share.
 *
 * Each program of the corpus carries one concurrency bug that plain runs do
 * not show; when the bug does show, the program says what went wrong in one
 * line and exits with its class's own status (CORPUS_EXIT_*), so a stress
 * summary tells the classes apart by signature ("exit 13") without reading
 * the output.  A deadlock is a hang instead: stress's --timeout catches it.
 *
 * corpus_work() stands for the program's real work between the racy steps:
 * arithmetic in registers only, so that an instrumented build
 * (-fsanitize=thread) sees no memory access in it and the accesses the bug
 * is made of are the ones the shim gets to delay. */
#ifndef CORPUS_H
#define CORPUS_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum {
	CORPUS_EXIT_ORDER = 11,         /* order violation between two plain stores */
	CORPUS_EXIT_COUNTER = 12,       /* lost update on a counter without a lock */
	CORPUS_EXIT_STACK = 13,         /* lock-free stack: a node handed out twice */
	CORPUS_EXIT_DEQUE = 14,         /* work-stealing deque: a task taken twice */
	/* 15: the lock-order deadlock hangs, it has no status of its own */
	/* 16: the lost wakeup hangs too */
	CORPUS_EXIT_TWOLOCKS = 17,      /* one datum under two different mutexes */
	CORPUS_EXIT_INIT = 18,          /* a table used before its init finished */
};

/* Print "PROG: BUG: ..." on stderr and exit with STATUS. */
__attribute__((format(printf, 3, 4), noreturn)) static inline void
corpus_bug(int status, const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: BUG: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* pthread_create that cannot fail quietly: a thread the machine refuses is
 * not the bug, so it ends the run with status 1 and says so. */
static inline void corpus_start(pthread_t *th, void *(*fn)(void *), void *arg, const char *prog)
{
	if (pthread_create(th, NULL, fn, arg) != 0) {
		fprintf(stderr, "%s: cannot create a thread\n", prog);
		exit(1);
	}
}

/* A server's worker threads: n threads running fn, each given its index,
 * started 200 us apart as connections arrive, then joined. */
static inline void corpus_serve(int n, void *(*fn)(void *), const char *prog)
{
	pthread_t th[n];
	for (int i = 0; i < n; i++) {
		struct timespec accept = {0, 200000};   /* the next connection */
		nanosleep(&accept, NULL);
		corpus_start(&th[i], fn, (void *)(uintptr_t)i, prog);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* N iterations of a multiply-add (~1.5 ns each here): work that touches
 * no memory.  The asm keeps the compiler from folding the loop away. */
static inline uint64_t corpus_work(uint64_t n, uint64_t x)
{
	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

#endif
