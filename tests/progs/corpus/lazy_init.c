/* lazy_init: a two-stage initialisation read before it is complete (bug
 * class 8).
 *
 * The bug: main starts a worker per incoming connection (here: one every
 * 200 us), and a lookup table is built lazily by the first worker that
 * needs it.
 * table_get() returns the published table at once when there is one;
 * otherwise it claims the table under init_lock and publishes it (stage 1),
 * then, to keep the lock short, fills the buckets after unlocking (stage 2).
 * A thread that calls table_get() between the two stages gets a table that
 * is published but still empty.
 *
 * The window: from the claimer's publication of the table to the end of its
 * fill (an unlock and 64 stores, ~0.1 us); the workers call table_get()
 * some 250 us apart, so plain runs do not land in it.
 *
 * What widens it: holding the claimer right after its pthread_mutex_unlock
 * (the default point) for longer than the next worker takes to start and
 * look up: ~250 us and up.
 *
 * Plain runs: no failure in 1,000 (classes.tsv keeps the count).
 * Exit 0, or 18 with "lazy_init: BUG: ..." when a
 * worker found the table empty. */
#include <stdatomic.h>

#include "corpus.h"

#define PROG "lazy_init"
#define WORKERS 4
#define BUCKETS 64

struct table {
	int nbuckets;
	uint64_t bucket[BUCKETS];
};

static struct table storage;
static _Atomic(struct table *) table;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static void fill(struct table *t)
{
	for (int i = 0; i < BUCKETS; i++)
		t->bucket[i] = (uint64_t)i * 2654435761u;
	t->nbuckets = BUCKETS;
}

static struct table *table_get(void)
{
	struct table *t = atomic_load_explicit(&table, memory_order_acquire);
	if (t)
		return t;
	int mine = 0;
	pthread_mutex_lock(&init_lock);
	t = atomic_load_explicit(&table, memory_order_relaxed);
	if (!t) {
		t = &storage;           /* stage 1: claim and publish */
		atomic_store_explicit(&table, t, memory_order_release);
		mine = 1;
	}
	pthread_mutex_unlock(&init_lock);
	if (mine)
		fill(t);                /* stage 2, outside the lock */
	return t;
}

static void *worker(void *arg)
{
	int w = (int)(uintptr_t)arg;
	struct table *t = table_get();
	int n = t->nbuckets;
	if (n == 0)
		corpus_bug(CORPUS_EXIT_INIT, PROG, "worker %d got the table before it was filled", w);
	uint64_t v = t->bucket[(unsigned)w * 7 % (unsigned)n];
	corpus_work(1000, v);           /* use the entry */
	return NULL;
}

int main(void)
{
	corpus_serve(WORKERS, worker, PROG);
	return 0;
}
