/* sites.h: naming a call site and counting its visits (sites.c).
 *
 * The site table: open addressing on the return address, never deleting, so
 * a lookup is lock-free.  A new key is claimed by CAS on the key word; its
 * name is a pure function of the address (the loaded objects' symbol
 * tables), so whichever visitor finds an entry not yet named names it itself
 * (into a record of its own) and publishes the record with one CAS: nobody
 * ever waits for another thread, and a namer that never finishes (a signal
 * handler longjmped out of it, cancellation, a fork) leaves nothing half
 * done.  After a dlclose that unloaded an object (inj_sites_unloaded) an
 * entry is named again on its next visit: the same name, it is current
 * again; another (new code at a reused address), it is marked dead, keeps
 * its counts, and the key gets a new entry further along the probe sequence.
 * The tables live in one anonymous mapping made by the constructor (pages
 * are touched only as sites arrive). */
#ifndef INJECT_SITES_H
#define INJECT_SITES_H

#include <stdint.h>

#include "shim.h"

#define SITE_SLOTS_LOG2 17
#define SITE_SLOTS (1u << SITE_SLOTS_LOG2)    /* table slots */
#define SITES_MAX 65536u                      /* sites named; later ones count as full */
#define SITE_NAME 128

struct site_rec {                   /* immutable once published */
	char name[SITE_NAME];       /* "fn+0xoff" */
	uint64_t hash;              /* inject_hash_str(name) */
	unsigned char match, skip;  /* INJECT_SITES / INJECT_SKIP decisions */
};

struct __attribute__((aligned(64))) site {     /* one cache line */
	uintptr_t key;              /* return address (atomic; 0 = empty) */
	struct site_rec *rec;       /* atomic, release/acquire; NULL until named */
	uint32_t gen;               /* atomic: the unload generation the name is
				     * known good at */
	unsigned char dead;         /* atomic: its object was unloaded, the key now
				     * names other code (a later entry) */
	uint64_t visits, delays, delay_ns;   /* atomic counters, for S lines */
};
extern struct site *inj_sites HIDDEN;   /* SITE_SLOTS entries */

/* Map the tables; 0, or -1 (the mapping failed). */
int inj_sites_init(void) HIDDEN;
/* The site for a call whose return address is ra (after INJECT_SKIP), named,
 * and its record in *rec; NULL when the table is full (the visit is counted
 * as full). */
struct site *inj_site(uintptr_t ra, const struct site_rec **rec) HIDDEN;
/* This thread's visit number for site index idx (1 for the first), or 0 when
 * no counter could be kept (counted as full). */
uint32_t inj_visit(int idx) HIDDEN;
/* Entries claimed so far, in claim order: inj_used_site(i) for i < n is a
 * site index, or -1 while its claimer has not yet recorded it. */
uint32_t inj_used_count(void) HIDDEN;
int inj_used_site(uint32_t i) HIDDEN;
/* A site's name for the log: its record's, or named now (into buf) when no
 * record was published (its namer was interrupted). */
const struct site_rec *inj_site_rec(int idx, struct site_rec *buf) HIDDEN;
/* Visits not decided because a table was full (the end line's full=). */
uint64_t inj_sites_full(void) HIDDEN;
/* An object was really unloaded (the dlclose hook): every site is checked
 * again on its next visit, since new code may reuse its addresses. */
void inj_sites_unloaded(void) HIDDEN;
void inj_sites_after_fork(void) HIDDEN;

#endif
