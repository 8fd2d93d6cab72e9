/* hunt_racy: a small pthread program with one racy lock release and several
 * harmless ones, for tests/test_hunt.py (issue 7).
 *
 * Each round, the main thread makes one slot free and releases NTHREADS
 * workers through a barrier.  Every worker, 300us after the previous one,
 * calls claim_slot(), which checks
 * under slot_lock whether a slot is free, drops the lock, and then takes the
 * slot under the lock again: a check-then-act across an unlock.  Without a
 * delay the gap between the two critical sections is a few instructions and
 * the workers, arriving 300us apart, never overlap; a delay right after the first unlock lets
 * a second worker see the same free slot, and the slot count goes negative:
 * "fatal error: claim_slot: slot claimed twice", exit status 2.
 *
 * The decoys (stats_add, log_event, heartbeat, reset_round, and the second
 * unlock in claim_slot itself) release locks around self-contained critical
 * sections: delaying them only makes the program slower.
 *
 * Every lock-release helper is noinline and not a tail call, so the shim
 * names each site after the function written here.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOTAIL() __asm__ volatile("" ::: "memory")

enum { NTHREADS = 3 };

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards slots_free */
static int slots_free;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards stats */
static long stats[4];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards ring, ring_pos */
static int ring[64], ring_pos;
static pthread_mutex_t beat_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards beats */
static long beats[NTHREADS];
static pthread_barrier_t start, done;
static int rounds = 40;

static void fatal(const char *msg)
{
	fprintf(stderr, "fatal error: %s\n", msg);
	fflush(stderr);
	exit(2);
}

__attribute__((noinline)) static void stats_add(int i, long v)
{
	pthread_mutex_lock(&stats_lock);
	stats[i & 3] += v;
	pthread_mutex_unlock(&stats_lock);
	NOTAIL();
}

__attribute__((noinline)) static void log_event(int ev)
{
	pthread_mutex_lock(&log_lock);
	ring[ring_pos++ & 63] = ev;
	pthread_mutex_unlock(&log_lock);
	NOTAIL();
}

__attribute__((noinline)) static void heartbeat(int id)
{
	pthread_mutex_lock(&beat_lock);
	beats[id]++;
	pthread_mutex_unlock(&beat_lock);
	NOTAIL();
}

/* The race: the decision made under slot_lock is acted on after the lock was
 * dropped and taken again, without checking again. */
__attribute__((noinline)) static int claim_slot(int id)
{
	pthread_mutex_lock(&slot_lock);
	int available = slots_free > 0;
	pthread_mutex_unlock(&slot_lock); /* RACY UNLOCK: the window opens here */
	if (!available)
		return 0;
	pthread_mutex_lock(&slot_lock);
	slots_free--;
	int broken = slots_free < 0;
	pthread_mutex_unlock(&slot_lock); /* harmless: the act is complete */
	if (broken)
		fatal("claim_slot: slot claimed twice");
	log_event(id);
	return 1;
}

__attribute__((noinline)) static void reset_round(void)
{
	pthread_mutex_lock(&slot_lock);
	slots_free = 1;
	pthread_mutex_unlock(&slot_lock);
	NOTAIL();
}

/* Workers reach claim_slot STAGGER_NS apart, so that only a window held
 * open far longer than the shim's own overhead lets two of them overlap. */
enum { STAGGER_NS = 300000 };

static void spin_ns(long ns)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ns);
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	for (int r = 0; r < rounds; r++) {
		pthread_barrier_wait(&start);
		heartbeat(id);
		stats_add(id, 1);
		spin_ns((long)id * STAGGER_NS);
		int got = claim_slot(id);
		stats_add(id + 1, got);
		log_event(100 + id);
		heartbeat(id);
		pthread_barrier_wait(&done);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: hunt_racy [--rounds N]\n");
			return 64;
		}
	}
	pthread_barrier_init(&start, NULL, NTHREADS + 1);
	pthread_barrier_init(&done, NULL, NTHREADS + 1);
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(long)i);
	for (int r = 0; r < rounds; r++) {
		reset_round();
		stats_add(3, 1);
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&done);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("ok: %d rounds\n", rounds);
	return 0;
}
