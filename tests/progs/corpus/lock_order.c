/* lock_order: a lock-order deadlock between two mutexes (bug class 5).
 *
 * The bug: transfer(from, to) locks the source account, then the
 * destination, moves the money and unlocks.  One teller thread pays from
 * account 0 to account 1, another from 1 to 0, so they take the two locks in
 * opposite orders.  If each holds its first lock when the other wants it,
 * both wait forever.
 *
 * The window: a teller holds its first lock for the few instructions before
 * it asks for the second, once per ~40 us of work; the second teller starts
 * ~100 us after the first, so plain runs meet in it only when the machine's
 * load makes the tellers run together and then only by a near-exact
 * coincidence.
 *
 * What widens it: holding a teller after it took its first lock and before
 * it takes the second (at that second pthread_mutex_lock, --points
 * mutex_lock or all) while the other teller starts and takes its own first
 * lock: ~100 us and up.  A delay after an unlock cannot hold a teller there
 * (no teller unlocks anything while it holds one lock and waits for the
 * other), yet the blind plan exposed it (6 of 37 runs, bench/README.md, on a
 * machine at load 15 to 20): delays between transfers stretch the tellers
 * over milliseconds, so that they overlap and the machine's own preemption
 * lands in the window; so that rate moves with the load.
 *
 * Plain runs: no failure in 1,000 (classes.tsv keeps the count).
 * Exit 0; the deadlock is a hang (no output), which
 * stress's --timeout catches. */
#include "corpus.h"

#define PROG "lock_order"
#define TRANSFERS 3

struct account {
	pthread_mutex_t lock;
	long balance;
};

static struct account acct[2] = {
	{PTHREAD_MUTEX_INITIALIZER, 1000},
	{PTHREAD_MUTEX_INITIALIZER, 1000},
};

static void transfer(struct account *from, struct account *to, long amount)
{
	pthread_mutex_lock(&from->lock);
	pthread_mutex_lock(&to->lock);
	from->balance -= amount;
	to->balance += amount;
	pthread_mutex_unlock(&to->lock);
	pthread_mutex_unlock(&from->lock);
}

static void *teller(void *arg)
{
	int from = (int)(uintptr_t)arg;
	for (int i = 0; i < TRANSFERS; i++) {
		corpus_work(30000, (uint64_t)from << 32 | (unsigned)i);     /* check the order */
		transfer(&acct[from], &acct[1 - from], 10 + i);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		corpus_start(&th[i], teller, (void *)(uintptr_t)i, PROG);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	return 0;
}
