/* policy.h: the injection decision, a pure function of
 * (seed, thread lineage, site, visit number), and the delay itself.
 *
 * Counter-based: every decision hashes its own coordinates, so no PRNG
 * state is shared between threads and the plan does not depend on the order
 * in which the OS runs them.  Everything here is safe in a signal handler. */
#ifndef INJECT_POLICY_H
#define INJECT_POLICY_H

#include <stdint.h>

#include "spec.h"

/* splitmix64's finalizer: a bijective 64-bit mixer. */
static inline uint64_t inject_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* FNV-1a over a string, then mixed: names are stable across runs (ASLR moves
 * addresses, not "startm+0x4c"). */
uint64_t inject_hash_str(const char *s);

/* The main thread's lineage hash, and a child's from its parent's and its
 * index (1 for the first thread the parent creates). */
#define INJECT_LINEAGE_ROOT 0x6a09e667f3bcc908ULL
static inline uint64_t inject_lineage_child(uint64_t parent, uint64_t n)
{
	return inject_mix64(parent ^ inject_mix64(n + 0x9e3779b97f4a7c15ULL));
}

/* The delay in ns for this visit (visit counts from 1), 0 for none. */
uint64_t inject_decide(const struct inject_config *c, uint64_t seed, uint64_t lineage,
		       uint64_t site, uint64_t visit);

uint64_t inject_now_ns(void);

/* Hold the calling thread for ns: spin busy-waits; sleep sleeps, except below
 * INJECT_SPIN_BELOW_NS where the kernel would oversleep, so it spins; yield
 * yields until the time has passed (at least once). */
#define INJECT_SPIN_BELOW_NS 100000
void inject_wait(int action, uint64_t ns);

#endif
