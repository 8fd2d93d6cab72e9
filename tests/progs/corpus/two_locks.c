/* two_locks: one datum guarded by two different mutexes (bug class 7).
 *
 * The bug: a cache keeps its entries in an array with a count.  insert runs
 * under the cache's lock: it reads the count, builds the entry (from a pool
 * with a lock of its own), stores it in the slot and writes count + 1.  A
 * trimmer that drops the newest entries takes stats_lock instead, which it
 * believes guards every counter, and decrements the count under it.  Each
 * update is locked, but not by the same lock, so a decrement that lands
 * between insert's read and its write is lost.
 *
 * The window: insert's entry building, a pool lock and unlock and a few
 * stores (~0.1 us), once per ~20 us of an inserter's work; the trimmer
 * starts ~100 us after the inserters and trims twice, 20 us apart, so plain
 * runs land in it only when the machine's load makes the threads run
 * together and then only by a near-exact coincidence.
 *
 * What widens it: holding an inserter between its read of the count and its
 * write (after it unlocks the pool's lock: a delay at a mutex_unlock, the
 * default point) while the trimmer starts and trims: ~100 us and up.
 *
 * Plain runs: no failure in 1,000 (classes.tsv keeps the count).
 * Exit 0, or 17 with "two_locks: BUG: ..." when the
 * count does not match the entries inserted and trimmed. */
#include "corpus.h"

#define PROG "two_locks"
#define INSERTERS 2
#define INSERTS 4
#define TRIMS 2
#define POOL (INSERTERS * INSERTS)

struct entry {
	int key;
	uint64_t value;
};

static struct {
	pthread_mutex_t lock;   /* guards count and slot ... */
	int count;
	struct entry *slot[POOL];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;  /* ... but trim takes this */
static int trimmed;             /* under stats_lock */

static struct {
	pthread_mutex_t lock;
	int used;
	struct entry e[POOL];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct entry *make_entry(int key, uint64_t value)
{
	pthread_mutex_lock(&pool.lock);
	struct entry *e = &pool.e[pool.used++];
	pthread_mutex_unlock(&pool.lock);
	e->key = key;
	e->value = value;
	return e;
}

static void insert(int key, uint64_t value)
{
	pthread_mutex_lock(&cache.lock);
	int n = cache.count;
	cache.slot[n] = make_entry(key, value);
	cache.count = n + 1;
	pthread_mutex_unlock(&cache.lock);
}

static void trim(void)
{
	pthread_mutex_lock(&stats_lock);        /* the wrong lock for count */
	if (cache.count > 0) {
		cache.count--;
		trimmed++;
	}
	pthread_mutex_unlock(&stats_lock);
}

static void *inserter(void *arg)
{
	int id = (int)(uintptr_t)arg;
	for (int i = 0; i < INSERTS; i++) {
		uint64_t v = corpus_work(15000, (uint64_t)id << 32 | (unsigned)i);   /* compute it */
		insert(id * INSERTS + i, v);
	}
	return NULL;
}

static void *trimmer(void *arg)
{
	(void)arg;
	for (int i = 0; i < TRIMS; i++) {
		corpus_work(15000, (uint64_t)i);
		trim();
	}
	return NULL;
}

int main(void)
{
	pthread_t th[INSERTERS + 1];
	for (int i = 0; i < INSERTERS; i++)
		corpus_start(&th[i], inserter, (void *)(uintptr_t)i, PROG);
	corpus_start(&th[INSERTERS], trimmer, NULL, PROG);
	for (int i = 0; i <= INSERTERS; i++)
		pthread_join(th[i], NULL);
	int want = INSERTERS * INSERTS - trimmed;
	if (cache.count != want)
		corpus_bug(CORPUS_EXIT_TWOLOCKS, PROG,
			   "count = %d after %d inserts and %d trims, expected %d", cache.count,
			   INSERTERS * INSERTS, trimmed, want);
	return 0;
}
