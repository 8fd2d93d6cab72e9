/* counter: an atomicity violation on a counter read and written without a
 * lock (bug class 2).
 *
 * The bug: main accepts connections (here: waits 200 us for each) and starts
 * a worker thread per connection; a worker serves its connection's requests
 * and, when done, adds them to the shared `served` with `served += n`: a
 * load, an add and a store, not one indivisible step.  The counter is
 * volatile, in the old belief that this makes it safe to share.  main checks
 * the total at the end, as a statistics report would.
 *
 * The window: between one worker's load of `served` and its store; another
 * worker's addition that lands there is lost.  It is a few instructions
 * wide (plus a cache miss), and each worker is done ~25 us after it starts,
 * while the next starts ~250 us later, so plain runs do not land in it.
 *
 * What widens it: holding a worker between the load and the store (at its
 * store to `served`) while the next worker starts, serves and adds: ~250 us
 * and up.  No lock is near, so only an access-level point (a
 * -fsanitize=thread build linked to the shim) can hold a thread there.
 *
 * Plain runs: no failure in 1,000 (classes.tsv keeps the count).
 * Exit 0, or 12 with "counter: BUG: ..." when
 * requests went uncounted. */

#include "corpus.h"

#define PROG "counter"
#define WORKERS 4
#define REQUESTS 4

static volatile long served;    /* requests served by every worker: no lock */

static void *worker(void *arg)
{
	int w = (int)(uintptr_t)arg;
	long n = 0;
	for (int req = 0; req < REQUESTS; req++) {
		corpus_work(5000, (uint64_t)w << 32 | (unsigned)req);   /* the request */
		n++;
	}
	served += n;
	return NULL;
}

int main(void)
{
	corpus_serve(WORKERS, worker, PROG);
	if (served != WORKERS * REQUESTS)
		corpus_bug(CORPUS_EXIT_COUNTER, PROG, "served = %ld, expected %d: %ld uncounted",
			   served, WORKERS * REQUESTS, WORKERS * REQUESTS - served);
	return 0;
}
