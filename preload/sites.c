/* sites.c: name the function that called an interposed function, once per
 * return address, and keep each thread's visit count per site.
 *
 * The table is open-addressed with linear probing and never deletes, so a
 * lookup is lock-free: hash the return address, compare keys until a match
 * or an empty slot.  A new key is claimed by CAS on the key word.  Naming
 * (the object's .symtab or .dynsym) is a pure function of the address, so no
 * visitor ever waits for another: whoever finds the entry without a name
 * names it into a record of its own and publishes it by CAS on the entry's
 * record pointer; a loser keeps its record for its next naming.  A thread
 * descheduled, cancelled, or longjmped out of a signal handler in the middle
 * of naming delays nobody and changes no decision: the next visitor names the
 * site, and every visit to it is counted and decided as in any other run.
 * (The old design let a visitor wait about a millisecond for the claimer and
 * then pass through undecided: on a busy machine a claimer is often off the
 * CPU that long, so the same seed made different decisions.)
 *
 * INJECT_SKIP: when the caller's function matches, the site is further up the
 * stack, so we unwind (libunwind, a few frames) on every such visit; without
 * INJECT_SKIP the steady state is one hash probe and libunwind is never
 * called (a program that unlocks from inside libunwind, holding libunwind's
 * own locks, must not find us calling back into it).  Sites inside libunwind
 * itself are never skipped, for the same reason.
 *
 * Visit counters: a thread counts its visits to its first sites in its own
 * small table (struct tstate's counts, state.h: no sharing), and to further
 * sites in a shared table keyed by (thread uid, site), written only by that
 * thread. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libunwind.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>

#include "../injector/policy.h"
#include "fmt.h"
#include "shim.h"
#include "sites.h"
#include "state.h"

/* Records: one per named entry, plus room for the few a thread loses a
 * publishing race with and never reuses (it exits holding its spare). */
#define NRECS (SITES_MAX + 4096u)
/* Shared visit counters: (uid << 18 | site index + 1) -> count. */
#define NSPILL_LOG2 18
#define NSPILL (1u << NSPILL_LOG2)
#define SPILL_PROBES 64

struct spill {
	uint64_t key;               /* atomic; 0 = free */
	uint32_t n;                 /* written by the key's thread only */
};

struct site *inj_sites;
static struct site_rec *recs;       /* NRECS */
static uint32_t *used;              /* SITE_SLOTS: site index + 1 in claim order */
static struct spill *spill;         /* NSPILL */
static uint32_t nused;              /* atomic: entries claimed */
static uint32_t nrecs;              /* atomic: records handed out */
static uint64_t next_uid;           /* atomic */
static uint32_t dlgen;              /* atomic: objects unloaded so far */
static uint64_t full_visits;        /* atomic: visits not decided: a table was full */

static size_t slot_of(uintptr_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> (64 - SITE_SLOTS_LOG2));
}

static void set_decisions(struct site_rec *r)
{
	char fn[SITE_NAME];
	size_t n = 0;
	while (r->name[n] && r->name[n] != '+' && n < sizeof fn - 1) {
		fn[n] = r->name[n];
		n++;
	}
	fn[n] = 0;
	r->hash = inject_hash_str(r->name);
	r->match = (unsigned char)inject_patterns_match(&inj_cfg.sites, fn, r->name, 1);
	r->skip = (unsigned char)inject_patterns_match(&inj_cfg.skip, fn, r->name, 0);
}

int inj_sites_init(void)
{
	size_t sz_sites = SITE_SLOTS * sizeof(struct site);
	size_t sz_recs = NRECS * sizeof(struct site_rec);
	size_t sz_used = SITE_SLOTS * sizeof(uint32_t);
	size_t sz_spill = NSPILL * sizeof(struct spill);
	char *m = mmap(NULL, sz_sites + sz_recs + sz_used + sz_spill, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	recs = (struct site_rec *)(m + sz_sites);
	used = (uint32_t *)(m + sz_sites + sz_recs);
	spill = (struct spill *)(m + sz_sites + sz_recs + sz_used);
	STORE_REL(&inj_sites, (struct site *)m);
	return 0;
}

/* Map an object's file for reading its symbols: only syscalls (open and
 * close raw: glibc's are cancellation points).  Opened non-blocking and
 * mapped only when it is a regular file: naming never blocks (a FIFO renamed
 * over the object).  NULL when it cannot be read. */
static const char *map_file(const char *file, size_t *size)
{
	*size = 0;
	int fd = inj_open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size >= sizeof(ElfW(Ehdr))) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		*size = (size_t)st.st_size;
	}
	inj_close(fd);
	return map == MAP_FAILED ? NULL : map;
}

/* Objects' files stay mapped once read: a big program names thousands of
 * sites in a few objects, and mapping a file for each (then unmapping it)
 * cost most of a millisecond per site.  An entry is claimed by CAS on its
 * key and published by a release store of ready; a thread that finds it
 * claimed but not ready (its claimer is off the CPU, or was stopped) maps the
 * file itself for this one naming.  Keyed by link map, load address and
 * dlgen: after an unload, entries of an earlier generation are not used
 * again (their mappings stay: at most NOBJ). */
#define NOBJ 64
struct objmap {
	uintptr_t lm;               /* atomic: the link map (0 = free) */
	uintptr_t base;             /* its l_addr */
	uint32_t gen;
	int ready;                  /* atomic, release: the fields below are set */
	const char *img;            /* NULL: the file could not be read */
	size_t size;
};
static struct objmap objs[NOBJ];

/* The file of lm, mapped: from the cache, or (*owned) mapped for the caller. */
static const char *object_image(struct link_map *lm, const char *file, size_t *size,
				int *owned)
{
	uint32_t gen = LOAD(&dlgen);
	*owned = 0;
	for (int i = 0; i < NOBJ; i++) {
		struct objmap *o = &objs[i];
		uintptr_t k = LOAD(&o->lm);
		if (k == 0) {
			uintptr_t zero = 0;
			if (!CAS(&o->lm, &zero, (uintptr_t)lm))
				continue;       /* taken meanwhile: look further */
			o->base = (uintptr_t)lm->l_addr;
			o->gen = gen;
			o->img = map_file(file, &o->size);
			STORE_REL(&o->ready, 1);
			*size = o->size;
			return o->img;
		}
		if (k == (uintptr_t)lm && LOAD_ACQ(&o->ready) && o->gen == gen &&
		    o->base == (uintptr_t)lm->l_addr) {
			*size = o->size;
			return o->img;
		}
	}
	*owned = 1;
	return map_file(file, size);
}

/* Look addr up in the symbol tables of object lm (loaded at base): .symtab
 * (the full table, which dladdr does not see: static functions, a program
 * linked without -rdynamic), else .dynsym (what a stripped object keeps). */
static int symtab_name(struct link_map *lm, const char *file, uintptr_t base, uintptr_t addr,
		       char *out, size_t outlen, uintptr_t *off)
{
	size_t size;
	int owned;
	const char *img = object_image(lm, file, &size, &owned);
	if (!img)
		return -1;
	void *map = (void *)img;
	const ElfW(Ehdr) *eh = map;
	int found = -1;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_shoff == 0 || eh->e_shoff > size ||
	    (size - eh->e_shoff) / sizeof(ElfW(Shdr)) < eh->e_shnum)
		goto out;
	const ElfW(Shdr) *sh = (const void *)(img + eh->e_shoff);
	uintptr_t bias = base;      /* the link map's l_addr: 0 for ET_EXEC */
	static const unsigned types[] = { SHT_SYMTAB, SHT_DYNSYM };
	for (int ty = 0; ty < 2 && found < 0; ty++)
	for (int i = 0; i < eh->e_shnum && found < 0; i++) {
		if (sh[i].sh_type != types[ty] || sh[i].sh_link >= eh->e_shnum)
			continue;
		const ElfW(Shdr) *strs = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset ||
		    strs->sh_offset > size || strs->sh_size > size - strs->sh_offset)
			continue;
		const ElfW(Sym) *sym = (const void *)(img + sh[i].sh_offset);
		size_t n = sh[i].sh_size / sizeof(ElfW(Sym));
		for (size_t j = 0; j < n; j++) {
			if (ELF64_ST_TYPE(sym[j].st_info) != STT_FUNC || sym[j].st_shndx == SHN_UNDEF)
				continue;
			uintptr_t lo = bias + sym[j].st_value;
			if (addr < lo || addr >= lo + (sym[j].st_size ? sym[j].st_size : 1) ||
			    sym[j].st_name >= strs->sh_size)
				continue;
			const char *name = img + strs->sh_offset + sym[j].st_name;
			size_t k = 0;
			while (k < outlen - 1 && sym[j].st_name + k < strs->sh_size && name[k]) {
				out[k] = name[k];
				k++;
			}
			out[k] = 0;
			*off = addr - lo;
			found = 0;
			break;
		}
	}
out:
	if (owned)
		munmap(map, size);
	return found;
}

/* Name key as "fn+0xoff" into name: the symbol tables of the object that
 * holds it, else "object+0xoff", else "?+0xaddress".  The object is found
 * with _dl_find_object, which takes no lock: dladdr takes the loader's lock,
 * and a thread started by a library constructor (dlopen holds that lock) and
 * joined there would wait for it forever.  No libunwind here either: the
 * program may be inside libunwind (holding its locks) when it unlocks.
 * Returns 1 when key is inside libunwind. */
static int name_site(char *name, uintptr_t key)
{
	char *p = name, *end = name + SITE_NAME - 24;
	uintptr_t off;
	int in_unwind = 0;
	/* Look up key - 1: a return address may sit just past a noreturn call at
	 * the very end of its function. */
	struct dl_find_object fo, fu;
	if (_dl_find_object((void *)(key - 1), &fo) != 0 || !fo.dlfo_link_map) {
		p = inj_fmt_str(p, "?+0x", end + 24);
		p = inj_fmt_hex(p, key);
		*p = 0;
		return 0;
	}
	struct link_map *lm = fo.dlfo_link_map;
	if (_dl_find_object((void *)(uintptr_t)unw_init_local, &fu) == 0 &&
	    fu.dlfo_link_map == lm)
		in_unwind = 1;
	const char *file = lm->l_name && lm->l_name[0] ? lm->l_name : "/proc/self/exe";
	if (symtab_name(lm, file, (uintptr_t)lm->l_addr, key - 1, name, (size_t)(end - name),
			&off) == 0) {
		p = name + strlen(name);
		p = inj_fmt_str(p, "+0x", end + 24);
		p = inj_fmt_hex(p, off + 1);
		*p = 0;
		return in_unwind;
	}
	const char *obj = lm->l_name && lm->l_name[0] ? lm->l_name : program_invocation_name;
	const char *base = strrchr(obj, '/');
	p = inj_fmt_str(p, base ? base + 1 : obj, end);
	p = inj_fmt_str(p, "+0x", end + 24);
	p = inj_fmt_hex(p, key - (uintptr_t)fo.dlfo_map_start);
	*p = 0;
	return in_unwind;
}

static void fill_rec(struct site_rec *r, uintptr_t key)
{
	int in_unwind = name_site(r->name, key);
	set_decisions(r);
	if (in_unwind)
		r->skip = 0;
}

/* The steady state: key's entry, named and current (and its record), or NULL. */
static struct site *ready_or_null(uintptr_t key, const struct site_rec **rec)
{
	struct site *tab = inj_sites;
	for (size_t i = slot_of(key), n = 0; n < SITE_SLOTS; i = (i + 1) & (SITE_SLOTS - 1), n++) {
		struct site *s = &tab[i];
		uintptr_t k = LOAD(&s->key);
		if (k == key) {
			if (LOAD(&s->dead))
				continue;
			*rec = LOAD_ACQ(&s->rec);
			return *rec && LOAD(&s->gen) == LOAD(&dlgen) ? s : NULL;
		}
		if (k == 0)
			return NULL;
	}
	return NULL;
}

static struct site_rec *new_rec(void)
{
	uint32_t n = LOAD(&nrecs);
	do {
		if (n >= NRECS)
			return NULL;
	} while (!CAS(&nrecs, &n, n + 1));
	return &recs[n];
}

/* Name s (whose key is key) and publish the name, unless another visitor
 * publishes first: then its record, which names the same code, is the one.
 * NULL only when no record is left. */
static struct site_rec *publish(struct site *s, uintptr_t key)
{
	struct tstate *t = &inj_t;
	struct site_rec *r = t->spare;
	t->spare = NULL;
	if (!r && !(r = new_rec()))
		return NULL;
	uint32_t gen = LOAD(&dlgen);
	fill_rec(r, key);
	struct site_rec *none = NULL;
	if (__atomic_compare_exchange_n(&s->rec, &none, r, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		STORE(&s->gen, gen);    /* only the publisher vouches for a generation */
		return r;
	}
	t->spare = r;
	return none;
}

/* An object was unloaded since s was named: is key still the same code? */
static int still_current(struct site *s, uintptr_t key)
{
	uint32_t gen = LOAD(&dlgen);
	char name[SITE_NAME];
	name_site(name, key);
	if (strcmp(name, LOAD_ACQ(&s->rec)->name)) {
		STORE(&s->dead, 1);
		return 0;
	}
	STORE(&s->gen, gen);
	return 1;
}

/* Find or insert key and see it named; NULL when the table is full. */
static struct site *find_or_add(uintptr_t key)
{
	struct site *tab = inj_sites;
	for (size_t i = slot_of(key), n = 0; n < SITE_SLOTS; i = (i + 1) & (SITE_SLOTS - 1), n++) {
		struct site *s = &tab[i];
		uintptr_t k = LOAD(&s->key);
		if (k == 0) {
			if (LOAD(&nused) >= SITES_MAX)
				break;
			uintptr_t zero = 0;
			if (CAS(&s->key, &zero, key)) {
				/* nused never exceeds SITE_SLOTS: each claim takes a slot. */
				STORE_REL(&used[ADD(&nused, 1)], (uint32_t)i + 1);
				k = key;
			} else {
				k = zero;       /* someone else took it: with which key? */
			}
		}
		if (k != key || LOAD(&s->dead))
			continue;
		if (!LOAD_ACQ(&s->rec) && !publish(s, key))
			break;
		if (LOAD(&s->gen) == LOAD(&dlgen) || still_current(s, key))
			return s;
	}
	ADD(&full_visits, 1);
	return NULL;
}

struct site *inj_site(uintptr_t ra, const struct site_rec **rec)
{
	struct site *s = ready_or_null(ra, rec);
	if (!s) {
		if (!(s = find_or_add(ra)))
			return NULL;
		*rec = LOAD_ACQ(&s->rec);
	}
	if (__builtin_expect(!(*rec)->skip, 1))
		return s;

	/* A wrapper to skip (INJECT_SKIP is set): find ra on the live stack and
	 * walk up to the first frame that is not skipped. */
	unw_context_t uc;
	unw_cursor_t c;
	if (unw_getcontext(&uc) != 0 || unw_init_local(&c, &uc) != 0)
		return s;
	for (int depth = 0; depth < 12 && unw_step(&c) > 0; depth++) {
		unw_word_t ip;
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0)
			break;
		if (ip != ra)
			continue;
		for (int up = 0; (*rec)->skip && up < 16; up++) {
			if (unw_step(&c) <= 0 || unw_get_reg(&c, UNW_REG_IP, &ip) < 0)
				break;
			if (!(s = find_or_add(ip)))
				return NULL;
			*rec = LOAD_ACQ(&s->rec);
		}
		break;
	}
	return s;
}

uint32_t inj_visit(int idx)
{
	struct tstate *t = &inj_t;
	uint32_t want = (uint32_t)idx + 1;
	uint32_t h = (uint32_t)(inject_mix64(want) & (TCOUNTS - 1));
	for (uint32_t n = 0; n < TCOUNTS; n++, h = (h + 1) & (TCOUNTS - 1)) {
		struct tcount *c = &t->counts[h];
		if (c->site1 == want)
			return ++c->n;
		if (c->site1 == 0) {
			if (t->ncounts >= TCOUNTS * 3 / 4)
				break;          /* keep probes short: the rest are shared */
			t->ncounts++;
			c->site1 = want;
			return c->n = 1;
		}
	}
	if (!t->uid)
		t->uid = ADD(&next_uid, 1) + 1;
	uint64_t key = t->uid << 18 | want;
	uint64_t j = inject_mix64(key) >> (64 - NSPILL_LOG2);
	for (int n = 0; n < SPILL_PROBES; n++, j = (j + 1) & (NSPILL - 1)) {
		struct spill *e = &spill[j];
		uint64_t k = LOAD(&e->key);
		if (k == 0) {
			uint64_t zero = 0;
			if (CAS(&e->key, &zero, key))
				k = key;
			else
				k = zero;
		}
		if (k == key)
			return ++e->n;
	}
	ADD(&full_visits, 1);
	return 0;
}

uint32_t inj_used_count(void)
{
	uint32_t n = LOAD(&nused);
	return n < SITE_SLOTS ? n : SITE_SLOTS;
}

int inj_used_site(uint32_t i)
{
	return (int)LOAD_ACQ(&used[i]) - 1;
}

const struct site_rec *inj_site_rec(int idx, struct site_rec *buf)
{
	struct site *s = &inj_sites[idx];
	const struct site_rec *r = LOAD_ACQ(&s->rec);
	if (r)
		return r;
	fill_rec(buf, LOAD(&s->key));
	return buf;
}

/* In a forked child: counts start again (the child writes its own log), and
 * the surviving thread's spare record stays its own. */
void inj_sites_after_fork(void)
{
	for (uint32_t u = 0, n = inj_used_count(); u < n; u++) {
		int i = inj_used_site(u);
		if (i < 0)
			continue;
		struct site *s = &inj_sites[i];
		STORE(&s->visits, 0);
		STORE(&s->delays, 0);
		STORE(&s->delay_ns, 0);
	}
	STORE(&full_visits, 0);
}

uint64_t inj_sites_full(void)
{
	return LOAD(&full_visits);
}

void inj_sites_unloaded(void)
{
	ADD(&dlgen, 1);
}
