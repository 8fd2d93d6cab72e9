/* ring.h: the per-thread event rings of INJECT_LOG (ring.c).
 *
 * Each thread that delays claims a slot of static storage (no malloc) and
 * appends its events to the slot's ring; the log writer (logfile.c) reads
 * every ring once the process is ending.  A ring's head is published with a
 * release store after its event is filled in, so the writer reads only
 * complete events. */
#ifndef INJECT_RING_H
#define INJECT_RING_H

#include <stdint.h>

#include "shim.h"
#include "state.h"

#define NSLOTS 256
#define RING 512

struct event {
	uint64_t t, delay;
	uint32_t visit;
	uint32_t site_point;        /* site index << 8 | point */
};

struct tslot {
	int state;                  /* atomic; FREE / LIVE / RETIRED (ring.c) */
	uint64_t head;              /* atomic, release: events written so far */
	uint64_t last_t;
	int32_t tid;                /* the claiming thread's kernel id (the log's T line) */
	char lineage[LINEAGE_MAX];
	struct event ev[RING];
};

/* Make the slot key (when there is a log): the constructor. */
void inj_ring_init(void) HIDDEN;
/* A thread we created starts (trampoline): register its slot cleanup. */
void inj_ring_thread_start(void) HIDDEN;
/* Record one delay in t's ring (claiming a slot first); counted as dropped
 * when no slot is to be had. */
void inj_ring_event(struct tstate *t, int point, int site, uint32_t visit,
		    uint64_t delay) HIDDEN;
/* For the writer: slot i, or NULL when it is free; its complete events are
 * those numbered [*from, *to) (event j at ev[j % RING]); events it no longer
 * holds are added to *lost. */
const struct tslot *inj_ring_read(int i, uint64_t *from, uint64_t *to, uint64_t *lost) HIDDEN;
/* Events lost so far: no slot was free, or a slot was reclaimed. */
uint64_t inj_ring_dropped(void) HIDDEN;
/* In a forked child: every slot free, nothing dropped. */
void inj_ring_after_fork(void) HIDDEN;

#endif
