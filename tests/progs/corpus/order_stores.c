/* order_stores: an order violation between two plain stores (bug class 1).
 *
 * The bug: a setting is a pair (a, b) that readers must see whole, with
 * b == -a: (0, 0) before anyone set it.  Setter i writes it with two plain
 * stores, `a = i; b = -i;`, and checker threads read it with two plain
 * loads; no lock and no atomic orders the loads against the stores (issue
 * 13's `a = 1; b = -1;`, with several setters and checkers).
 *
 * The window: between a setter's two stores (a checker then reads (i, -j),
 * the new a with the old b), or between a checker's two loads when a
 * setter's two stores fall in between.  Either is a few instructions wide,
 * and the threads reach their step some 100 us apart (one pthread_create
 * each), so plain runs do not land in it.
 *
 * What widens it: holding a setter just before its store to b (or a checker
 * between its two loads) for longer than the next thread takes to start and
 * check or set (~100 us and up).  No lock is near: only an access-level
 * point, in a -fsanitize=thread build linked to the shim, can stop a thread
 * there.  A delay anywhere else moves whole steps, never splits one.
 *
 * Plain runs: no failure in 1,000 (classes.tsv keeps the count).
 * Exit 0, or 11 with "order_stores: BUG: ..." when
 * a checker saw half a setting. */
#include "corpus.h"

#define PROG "order_stores"
#define PAIRS 3                 /* setters, and as many checkers */

static int a, b;                /* the setting: always b == -a */

static void *set(void *arg)
{
	int i = (int)(uintptr_t)arg + 1;
	corpus_work(2000, (uint64_t)i);         /* the setter's own work first */
	a = i;
	b = -i;
	return NULL;
}

static void *check(void *arg)
{
	corpus_work(2000, (uintptr_t)arg);
	int x = a, y = b;
	if (y != -x)
		corpus_bug(CORPUS_EXIT_ORDER, PROG, "checker %d read (a, b) = (%d, %d), half a setting",
			   (int)(uintptr_t)arg, x, y);
	return NULL;
}

int main(void)
{
	pthread_t th[2 * PAIRS];
	for (int i = 0; i < PAIRS; i++) {
		corpus_start(&th[2 * i], set, (void *)(uintptr_t)i, PROG);
		corpus_start(&th[2 * i + 1], check, (void *)(uintptr_t)i, PROG);
	}
	for (int i = 0; i < 2 * PAIRS; i++)
		pthread_join(th[i], NULL);
	return 0;
}
