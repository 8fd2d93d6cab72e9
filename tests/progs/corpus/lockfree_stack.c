/* lockfree_stack: a compare-and-swap free list whose pop suffers ABA (bug
 * class 3).
 *
 * The bug: a pool of buffers kept on a Treiber stack (a singly linked free
 * list whose top moves by compare-and-swap, no lock).  pop reads the top
 * node X and X->next = Y, then swings top from X to Y by CAS.  The CAS only
 * checks that top is X again, not that nothing happened meanwhile: if other
 * threads popped X, popped Y and pushed X back in between (ABA), the CAS
 * succeeds and makes Y the top although Y is in use, so Y is handed out
 * twice (or the list loses nodes or loops on itself).  Each job of a worker
 * takes two buffers, frees the first when its first stage is done and the
 * second at the end: exactly the pop X, pop Y, push X that ABA needs.
 *
 * The window: between pop's read of X->next and its CAS, a few
 * instructions; another worker must complete a job's first stage (~20 us)
 * inside it.  Plain runs see that only if the OS takes the CPU from a worker
 * right there, for longer than a stage.
 *
 * What widens it: holding a worker at its CAS in pop (after it read
 * X->next) for longer than another worker's first stage: ~20 us and up, best
 * ended while that worker still holds Y.  The window has no pthread call: only
 * an access-level point (a -fsanitize=thread build linked to the shim) can
 * hold a thread there.
 *
 * Plain runs: no failure in 1,000 (classes.tsv keeps the count).
 * Exit 0, or 13 with "lockfree_stack: BUG: ..." when a
 * buffer was handed out twice or the free list lost or repeated nodes. */
#include <stdatomic.h>

#include "corpus.h"

#define PROG "lockfree_stack"
#define NODES 8
#define WORKERS 3
#define JOBS 10
#define STAGE 15000             /* work per stage, ~20 us */

struct node {
	struct node *next;
	atomic_int owner;       /* 0 free, else the worker holding it, plus one */
	int id;
};

static struct node pool[NODES];
static _Atomic(struct node *) top;

static void push(struct node *n)
{
	struct node *old = atomic_load_explicit(&top, memory_order_relaxed);
	do
		n->next = old;
	while (!atomic_compare_exchange_weak_explicit(&top, &old, n, memory_order_release,
						      memory_order_relaxed));
}

/* The ABA window: old->next is read, then the CAS only compares top with old. */
static struct node *pop(void)
{
	struct node *old = atomic_load_explicit(&top, memory_order_acquire);
	while (old && !atomic_compare_exchange_weak_explicit(&top, &old, old->next,
							     memory_order_acquire,
							     memory_order_acquire))
		;
	return old;
}

static struct node *take(int w)
{
	struct node *n = pop();
	if (!n)
		corpus_bug(CORPUS_EXIT_STACK, PROG,
			   "worker %d found the pool empty, though at most %d of its %d buffers are in use",
			   w, 2 * WORKERS, NODES);
	int was = atomic_exchange(&n->owner, w + 1);
	if (was)
		corpus_bug(CORPUS_EXIT_STACK, PROG,
			   "buffer %d handed to worker %d while worker %d holds it", n->id, w, was - 1);
	return n;
}

static void give(struct node *n)
{
	atomic_store(&n->owner, 0);
	push(n);
}

static void *worker(void *arg)
{
	int w = (int)(uintptr_t)arg;
	for (int job = 0; job < JOBS; job++) {
		struct node *in = take(w), *out = take(w);
		corpus_work(STAGE, (uint64_t)w << 32 | (unsigned)job);       /* read the input */
		give(in);
		corpus_work(STAGE, (uint64_t)w << 32 | (unsigned)job);       /* write the output */
		give(out);
	}
	return NULL;
}

int main(void)
{
	for (int i = 0; i < NODES; i++) {
		pool[i].id = i;
		push(&pool[i]);
	}
	pthread_t th[WORKERS];
	for (int i = 0; i < WORKERS; i++)
		corpus_start(&th[i], worker, (void *)(uintptr_t)i, PROG);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	/* Every buffer is back: the list must hold each node exactly once. */
	int seen[NODES] = {0}, count = 0;
	for (struct node *n = atomic_load(&top); n; n = n->next) {
		if (++count > NODES || seen[n->id]++)
			corpus_bug(CORPUS_EXIT_STACK, PROG, "the free list repeats buffer %d", n->id);
	}
	if (count != NODES)
		corpus_bug(CORPUS_EXIT_STACK, PROG, "the free list holds %d of %d buffers", count, NODES);
	return 0;
}
