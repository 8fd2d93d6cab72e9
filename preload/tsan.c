/* tsan.c: the __tsan_* entry points of a program compiled with
 * -fsanitize=thread (gcc 12, clang 14), so that every memory access and every
 * atomic of it is an injection point: `access` and `atomic` (INJECT_POINTS).
 * Nothing is reported as a race, as in the Linux kernel's KCSAN, which
 * supplies its own __tsan_* functions the same way: we only move threads.
 *
 * The ABI (compiler-rt's tsan_interface.h and tsan_interface_atomic.h, gcc's
 * sanitizer.def; checked by experiment, preload/README.md): an access calls
 * __tsan_{read,write}N(addr) before it happens; an atomic calls
 * __tsan_atomicN_OP(addr, ..., order), which must perform it.  Orders are the
 * C11 numbers 0..5 in an int; gcc passes extra bits (x86 HLE) and orders
 * known only at run time through, so we mask with 0xff as libtsan does and
 * switch to builtins with constant orders (a run-time order compiles as
 * seq_cst, which would hide exactly the reorderings a bug may need).  gcc
 * calls compare_exchange_strong/_weak (0/1, the value found written back
 * into *expected on failure); clang calls only compare_exchange_val (the old
 * value; the caller compares), also for a weak CAS, so it must be strong;
 * weak is strong too, as in libtsan.  128-bit atomics go to libatomic, as the
 * program's own uninstrumented ones do.
 *
 * Sampling, as KCSAN's kcsan_skip: each thread counts down its accesses (and,
 * separately, its atomics) in initial-exec TLS; only when the count runs out
 * is the access a visit, and the count is drawn again, geometric with mean
 * INJECT_SAMPLE, from a hash of (seed, lineage, draw number): a pure function
 * of the thread's own sequence of accesses, so a seed replays.  The common
 * path is a decrement and a branch, no shared write and no locked
 * instruction.  A visit is a visit like a hook's (hooks.c): the site is the
 * caller, `function+0xoff`, matched against INJECT_SITES, and the policy
 * decides from (seed, lineage, site, visit number).  The delay comes before
 * the access or atomic happens.
 *
 * Entry points run before our constructor (an instrumented library's
 * constructors may run first): on zero state a thread's count is 0, so it
 * looks at the configuration, finds none yet, and looks again at its next
 * access; once the constructor has run, a thread whose point is not enabled
 * sets its count so high that it never looks again.  Function entry and
 * exit, __tsan_init and the ignore pair do nothing. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "../injector/policy.h"
#include "hooks.h"
#include "shim.h"
#include "state.h"

/* The draw of a new count: geometric with mean inj_cfg.sample (each access a
 * visit with probability 1/sample, independently), at least 1. */
static int64_t draw(struct tstate *t, int pt)
{
	uint64_t n = inj_cfg.sample;
	if (n <= 1)
		return 1;
	uint64_t h = inject_mix64(inj_seed_now() ^ inject_mix64(t->lhash ^
			inject_mix64(++t->tsan_draws * 2 + (uint64_t)(pt == PT_ATOMIC))));
	double u = (double)((h >> 11) + 1) * 0x1.0p-53;        /* (0, 1] */
	double k = 1 + floor(log(u) / log1p(-1.0 / (double)n));
	return k < 1e15 ? (int64_t)k : (int64_t)1e15;
}

/* The count of point pt ran out: a visit, unless the point is off.  Never
 * inlined, so that the entry points stay a few instructions. */
static __attribute__((noinline)) void visit(int pt, uintptr_t ra)
{
	struct tstate *t = &inj_t;
	int64_t *skip = &t->tsan_skip[pt - PT_ACCESS];
	if (t->guard)
		return;         /* a signal handler's access inside the shim: pass */
	int points = inj_points_now();
	if (points < 0) {
		*skip = 1;      /* before our constructor: look again next time */
		return;
	}
	if (!(points & (1 << pt))) {
		*skip = INT64_MAX;
		return;
	}
	inj_known_lineage(t);
	t->guard = 1;           /* a handler's access now does not draw */
	*skip = draw(t, pt);
	t->guard = 0;
	inj_point_visit(t, pt, ra);
}

#define RA ((uintptr_t)__builtin_return_address(0))
#define POINT(pt)                                                                   \
	do {                                                                        \
		if (__builtin_expect(--inj_t.tsan_skip[(pt) - PT_ACCESS] <= 0, 0))  \
			visit((pt), RA);                                            \
	} while (0)

/* ---------------------------------------------------------------- no-ops */

EXPORT void __tsan_init(void) {}
EXPORT void __tsan_func_entry(void *caller) { (void)caller; }
EXPORT void __tsan_func_exit(void) {}
EXPORT void __tsan_ignore_thread_begin(void) {}
EXPORT void __tsan_ignore_thread_end(void) {}

/* ---------------------------------------------------------------- plain accesses */

#define ACCESS(name) EXPORT void name(void *a) { (void)a; POINT(PT_ACCESS); }
#define SIZES(pfx) ACCESS(pfx##1) ACCESS(pfx##2) ACCESS(pfx##4) ACCESS(pfx##8) ACCESS(pfx##16)
SIZES(__tsan_read)
SIZES(__tsan_write)
SIZES(__tsan_unaligned_read)                    /* clang: misaligned */
SIZES(__tsan_unaligned_write)
SIZES(__tsan_volatile_read)                     /* tsan-distinguish-volatile=1 */
SIZES(__tsan_volatile_write)
SIZES(__tsan_unaligned_volatile_read)           /* clang */
SIZES(__tsan_unaligned_volatile_write)
SIZES(__tsan_read_write)                        /* clang -tsan-compound-read-before-write */
SIZES(__tsan_unaligned_read_write)

/* gcc: misaligned, odd-sized or large accesses (struct copies). */
EXPORT void __tsan_read_range(void *a, size_t n) { (void)a, (void)n; POINT(PT_ACCESS); }
EXPORT void __tsan_write_range(void *a, size_t n) { (void)a, (void)n; POINT(PT_ACCESS); }
/* C++ vptr stores and (clang) loads. */
EXPORT void __tsan_vptr_update(void **p, void *v) { (void)p, (void)v; POINT(PT_ACCESS); }
EXPORT void __tsan_vptr_read(void **p) { (void)p; POINT(PT_ACCESS); }

/* Newer LLVM calls these for memintrinsics (clang 14 calls libc's). */
EXPORT void *__tsan_memcpy(void *d, const void *s, size_t n)
{
	POINT(PT_ACCESS);
	return __builtin_memcpy(d, s, n);
}
EXPORT void *__tsan_memmove(void *d, const void *s, size_t n)
{
	POINT(PT_ACCESS);
	return __builtin_memmove(d, s, n);
}
EXPORT void *__tsan_memset(void *d, int c, size_t n)
{
	POINT(PT_ACCESS);
	return __builtin_memset(d, c, n);
}

/* ---------------------------------------------------------------- atomics */

/* An order invalid for an operation (a release load, say) is performed as
 * seq_cst, as gcc does with such an order when it is a constant.  A CAS's
 * failure order may not be release or acq_rel: relaxed, acquire, seq_cst. */
#define MO(mo) ((mo) & 0xff)
#define LOAD_ORDERS(X)                                                                  \
	switch (MO(mo)) {                                                               \
	case 0: X(__ATOMIC_RELAXED);                                                    \
	case 1: case 2: X(__ATOMIC_ACQUIRE);                                            \
	default: X(__ATOMIC_SEQ_CST);                                                   \
	}
#define STORE_ORDERS(X)                                                                 \
	switch (MO(mo)) {                                                               \
	case 0: X(__ATOMIC_RELAXED);                                                    \
	case 3: X(__ATOMIC_RELEASE);                                                    \
	default: X(__ATOMIC_SEQ_CST);                                                   \
	}
#define RMW_ORDERS(X)                                                                   \
	switch (MO(mo)) {                                                               \
	case 0: X(__ATOMIC_RELAXED);                                                    \
	case 1: case 2: X(__ATOMIC_ACQUIRE);                                            \
	case 3: X(__ATOMIC_RELEASE);                                                    \
	case 4: X(__ATOMIC_ACQ_REL);                                                    \
	default: X(__ATOMIC_SEQ_CST);                                                   \
	}
#define CAS_FAIL(S, X)                                                                  \
	switch (MO(fmo)) {                                                              \
	case 0: X(S, __ATOMIC_RELAXED);                                                 \
	case 1: case 2: X(S, __ATOMIC_ACQUIRE);                                         \
	default: X(S, __ATOMIC_SEQ_CST);                                                \
	}
#define CAS_ORDERS(X)                                                                   \
	switch (MO(mo)) {                                                               \
	case 0: CAS_FAIL(__ATOMIC_RELAXED, X);                                          \
	case 1: case 2: CAS_FAIL(__ATOMIC_ACQUIRE, X);                                  \
	case 3: CAS_FAIL(__ATOMIC_RELEASE, X);                                          \
	case 4: CAS_FAIL(__ATOMIC_ACQ_REL, X);                                          \
	default: CAS_FAIL(__ATOMIC_SEQ_CST, X);                                         \
	}

#define DO_LOAD(o) return __atomic_load_n(a, o);
#define DO_STORE(o) __atomic_store_n(a, v, o); return;
#define DO_CAS(s, f) return __atomic_compare_exchange_n(a, c, v, 0, s, f);
#define DO_CAS_VAL(s, f) __atomic_compare_exchange_n(a, &c, v, 0, s, f); return c;
#define DO_exchange(o) return __atomic_exchange_n(a, v, o);
#define DO_fetch_add(o) return __atomic_fetch_add(a, v, o);
#define DO_fetch_sub(o) return __atomic_fetch_sub(a, v, o);
#define DO_fetch_and(o) return __atomic_fetch_and(a, v, o);
#define DO_fetch_or(o) return __atomic_fetch_or(a, v, o);
#define DO_fetch_xor(o) return __atomic_fetch_xor(a, v, o);
#define DO_fetch_nand(o) return __atomic_fetch_nand(a, v, o);

/* Fetch operations return the old value (the caller computes op_fetch). */
#define RMW(bits, T, op)                                                                \
	EXPORT T __tsan_atomic##bits##_##op(volatile T *a, T v, int mo)                 \
	{                                                                               \
		POINT(PT_ATOMIC);                                                       \
		RMW_ORDERS(DO_##op)                                                     \
	}

#define ATOMICS(bits, T)                                                                \
	EXPORT T __tsan_atomic##bits##_load(const volatile T *a, int mo)                \
	{                                                                               \
		POINT(PT_ATOMIC);                                                       \
		LOAD_ORDERS(DO_LOAD)                                                    \
	}                                                                               \
	EXPORT void __tsan_atomic##bits##_store(volatile T *a, T v, int mo)             \
	{                                                                               \
		POINT(PT_ATOMIC);                                                       \
		STORE_ORDERS(DO_STORE)                                                  \
	}                                                                               \
	RMW(bits, T, exchange)                                                          \
	RMW(bits, T, fetch_add)                                                         \
	RMW(bits, T, fetch_sub)                                                         \
	RMW(bits, T, fetch_and)                                                         \
	RMW(bits, T, fetch_or)                                                          \
	RMW(bits, T, fetch_xor)                                                         \
	RMW(bits, T, fetch_nand)                                                        \
	/* *c is the expected value; on failure it receives the value found. */         \
	EXPORT int __tsan_atomic##bits##_compare_exchange_strong(volatile T *a, T *c, T v, \
								 int mo, int fmo)       \
	{                                                                               \
		POINT(PT_ATOMIC);                                                       \
		CAS_ORDERS(DO_CAS)                                                      \
	}                                                                               \
	EXPORT int __tsan_atomic##bits##_compare_exchange_weak(volatile T *a, T *c, T v, \
							       int mo, int fmo)         \
	{                                                                               \
		POINT(PT_ATOMIC);                                                       \
		CAS_ORDERS(DO_CAS)                                                      \
	}                                                                               \
	EXPORT T __tsan_atomic##bits##_compare_exchange_val(volatile T *a, T c, T v,    \
							    int mo, int fmo)            \
	{                                                                               \
		POINT(PT_ATOMIC);                                                       \
		CAS_ORDERS(DO_CAS_VAL)                                                  \
	}

/* gcc warns when a CAS's failure order is stronger than its success order
 * (C++17 allows it; the builtin then upgrades the success order). */
#pragma GCC diagnostic ignored "-Winvalid-memory-model"
ATOMICS(8, uint8_t)
ATOMICS(16, uint16_t)
ATOMICS(32, uint32_t)
ATOMICS(64, uint64_t)
ATOMICS(128, unsigned __int128)         /* libatomic's __atomic_*_16 */

/* A fence is no access: it is no point either. */
EXPORT void __tsan_atomic_thread_fence(int mo)
{
	switch (MO(mo)) {
	case 0: return;
	case 1: case 2: __atomic_thread_fence(__ATOMIC_ACQUIRE); return;
	case 3: __atomic_thread_fence(__ATOMIC_RELEASE); return;
	case 4: __atomic_thread_fence(__ATOMIC_ACQ_REL); return;
	default: __atomic_thread_fence(__ATOMIC_SEQ_CST); return;
	}
}

/* A signal fence orders only against this thread's handlers: the call is
 * already a compiler barrier. */
EXPORT void __tsan_atomic_signal_fence(int mo)
{
	(void)mo;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}
