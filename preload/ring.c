/* ring.c: the per-thread event rings (see ring.h).
 *
 * A slot is FREE -> LIVE (claimed by CAS) -> RETIRED (its thread exited,
 * events kept) -> LIVE again when a new thread finds no FREE slot and
 * reclaims the RETIRED slot whose last event is oldest (its events count as
 * dropped).  Once the process is ending (inj_stop) no event is recorded
 * (hooks.c checks), but a thread that had not yet seen inj_stop may still
 * be writing: inj_ring_read leaves out the one event it may be overwriting. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "../injector/policy.h"
#include "ring.h"
#include "shim.h"
#include "state.h"

enum { SLOT_FREE, SLOT_LIVE, SLOT_RETIRED };

static struct tslot slots[NSLOTS];
static uint64_t dropped;            /* atomic: events lost (no slot, reclaimed) */
static pthread_key_t slot_key;
static int have_key;
/* glibc keeps the values of keys 0..31 in the thread descriptor and
 * allocates (calloc) a block for higher keys on a thread's first
 * pthread_setspecific: a hook must not malloc, so it calls
 * pthread_setspecific only when our key is below 32.  It can be higher: the
 * program's libraries and other preloaded ones are initialised before us and
 * may have created keys.  Then a thread we create registers its cleanup at
 * its start (the trampoline, outside any hook), the main thread in our
 * constructor, and a thread we did not create keeps its slot LIVE after it
 * exits (no cleanup; see preload/README.md). */
#define KEY_FIRST_BLOCK 32
static int key_in_hook;
static char key_marker;             /* the value when the slot is not known yet */

/* Give s up: RETIRED keeps its events for the writer, until a thread that
 * finds no FREE slot reclaims it. */
static void retire_slot(struct tslot *s)
{
	int live = SLOT_LIVE;
	CAS(&s->state, &live, SLOT_RETIRED);
}

/* The slot key's destructor, on the exiting thread.  Later destructors of
 * the program may still unlock: they must not write into this slot, which
 * another thread may reclaim at once, so the thread forgets it (an event
 * after this claims a slot again, and glibc runs destructors again).  After
 * this, an event of the thread (a later destructor) claims a slot, writes
 * and retires it at once. */
static void on_thread_exit(void *arg)
{
	(void)arg;
	struct tstate *t = &inj_t;
	struct tslot *s = t->slot;
	t->exiting = 1;
	t->slot = NULL;
	if (s)
		retire_slot(s);
}

static struct tslot *take_slot(struct tstate *t, struct tslot *s)
{
	memcpy(s->lineage, t->lineage, LINEAGE_MAX);
	/* The kernel's id too, so that a reader can put our events on the
	 * same track as the program's own (a raw syscall: no lock, no malloc). */
	s->tid = (int32_t)syscall(SYS_gettid);
	if (key_in_hook && !t->exiting)
		pthread_setspecific(slot_key, s);
	return s;
}

void inj_ring_thread_start(void)
{
	if (have_key && !key_in_hook)
		pthread_setspecific(slot_key, &key_marker);
}

static struct tslot *claim_slot(struct tstate *t)
{
	for (int i = 0; i < NSLOTS; i++) {
		int fr = SLOT_FREE;
		if (LOAD(&slots[i].state) == SLOT_FREE && CAS(&slots[i].state, &fr, SLOT_LIVE))
			return take_slot(t, &slots[i]);
	}
	for (;;) {
		int best = -1;
		for (int i = 0; i < NSLOTS; i++)
			if (LOAD(&slots[i].state) == SLOT_RETIRED &&
			    (best < 0 || slots[i].last_t < slots[best].last_t))
				best = i;
		if (best < 0)
			return NULL;
		int re = SLOT_RETIRED;
		if (CAS(&slots[best].state, &re, SLOT_LIVE)) {
			uint64_t h = LOAD(&slots[best].head);
			ADD(&dropped, h < RING ? h : RING);
			STORE(&slots[best].head, 0);
			return take_slot(t, &slots[best]);
		}
	}
}

void inj_ring_event(struct tstate *t, int point, int site, uint32_t visit, uint64_t delay)
{
	if (!inj_cfg.log[0])
		return;
	if (!t->slot && !(t->slot = claim_slot(t))) {
		ADD(&dropped, 1);
		return;
	}
	struct tslot *s = t->slot;
	uint64_t h = LOAD(&s->head);
	struct event *e = &s->ev[h % RING];
	e->t = inject_now_ns() - inj_t0;
	e->delay = delay;
	e->visit = visit;
	e->site_point = (uint32_t)site << 8 | (uint32_t)point;
	s->last_t = e->t;
	STORE_REL(&s->head, h + 1);
	if (t->exiting) {
		t->slot = NULL;
		retire_slot(s);
	}
}

void inj_ring_init(void)
{
	if (inj_cfg.log[0] && pthread_key_create(&slot_key, on_thread_exit) == 0) {
		have_key = 1;
		key_in_hook = slot_key < KEY_FIRST_BLOCK;
		inj_ring_thread_start();     /* the main thread, should it pthread_exit */
	}
}

const struct tslot *inj_ring_read(int i, uint64_t *from, uint64_t *to, uint64_t *lost)
{
	struct tslot *s = &slots[i];
	if (LOAD(&s->state) == SLOT_FREE)
		return NULL;
	/* When the ring is full, a thread that had not yet seen inj_stop may be
	 * overwriting the oldest event right now: leave that one out. */
	uint64_t h = LOAD_ACQ(&s->head), n = h < RING ? h : RING - 1;
	*lost += h - n;
	*from = h - n;
	*to = h;
	return s;
}

uint64_t inj_ring_dropped(void)
{
	return LOAD(&dropped);
}

void inj_ring_after_fork(void)
{
	for (int i = 0; i < NSLOTS; i++) {
		STORE(&slots[i].state, SLOT_FREE);
		STORE(&slots[i].head, 0);
		slots[i].lineage[0] = 0;
	}
	STORE(&dropped, 0);
	inj_t.exiting = 0;
	/* Our old slot is free now: nothing to retire (on_thread_exit() reads
	 * inj_t.slot, so a marker left in place for a high key is harmless). */
	if (have_key && key_in_hook)
		pthread_setspecific(slot_key, NULL);
}
