/* sites.c: name the function that called an interposed function, once per
 * return address.
 *
 * The table is open-addressed with linear probing and never deletes, so a
 * lookup is lock-free: hash the return address, compare keys until a match
 * or an empty slot.  A new key is claimed by CAS on the key word; the claimer
 * names the site (the object's .symtab or .dynsym) and publishes it
 * with a release store of state = READY.  A visitor that finds a RESOLVING
 * entry yields until it is READY (the claimer is another thread: our own
 * thread cannot re-enter while it resolves, the recursion guard is set), but
 * only for SITE_WAIT_NS: the claimer may never finish (a signal handler that
 * longjmps out of the shim, asynchronous cancellation, a fork child whose
 * fork handlers did not run: _Fork, or a program's child handler registered
 * before ours).  Then the visit passes through without injecting (counted in
 * inj_unnamed, the log's "unnamed="), the entry is marked stalled so later
 * visitors do not wait again, and a claimer whose thread no longer exists
 * (its tid is gone: cancelled, or the parent's thread in a fork child) is
 * replaced: the visitor claims the entry and names it.
 *
 * INJECT_SKIP: when the caller's function matches, the site is further up the
 * stack, so we unwind (libunwind, a few frames) on every such visit; without
 * INJECT_SKIP the steady state is one hash probe and libunwind is never
 * called (a program that unlocks from inside libunwind, holding libunwind's
 * own locks, must not find us calling back into it).  Sites inside libunwind
 * itself are never skipped, for the same reason. */
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

#include "shim.h"

struct site inj_sites[NSITES + 1];
uint32_t inj_dlgen;
uint64_t inj_unnamed;

/* How long a visitor waits for another thread to finish naming a site. */
#define SITE_WAIT_NS 1000000

static size_t slot_of(uintptr_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> (64 - NSITES_LOG2));
}

static void set_decisions(struct site *s)
{
	char fn[SITE_NAME];
	size_t n = 0;
	while (s->name[n] && s->name[n] != '+' && n < sizeof fn - 1) {
		fn[n] = s->name[n];
		n++;
	}
	fn[n] = 0;
	s->hash = inject_hash_str(s->name);
	s->match = (unsigned char)inject_patterns_match(&inj_cfg.sites, fn, s->name, 1);
	s->skip = (unsigned char)inject_patterns_match(&inj_cfg.skip, fn, s->name, 0);
}

void inj_sites_init(void)
{
	struct site *o = &inj_sites[NSITES];
	strcpy(o->name, "?overflow+0x0");
	set_decisions(o);
	o->skip = 0;
	STORE_REL(&o->state, SITE_READY);
}

/* Look addr up in the symbol tables of the file mapped at base: .symtab (the
 * full table, which dladdr does not see: static functions, a program linked
 * without -rdynamic), else .dynsym (what a stripped object keeps).  Only
 * syscalls: open, fstat, mmap, munmap (open and close raw: glibc's are
 * cancellation points). */
static int symtab_name(const char *file, uintptr_t base, uintptr_t addr, char *out,
		       size_t outlen, uintptr_t *off)
{
	int fd = inj_open(file, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(ElfW(Ehdr)))
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	inj_close(fd);
	if (map == MAP_FAILED)
		return -1;
	const char *img = map;
	size_t size = (size_t)st.st_size;
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
	munmap(map, size);
	return found;
}

/* Name key as "fn+0xoff" into s->name: the symbol tables of the object that
 * holds it, else "object+0xoff", else "?+0xaddress".  The object is found
 * with _dl_find_object, which takes no lock: dladdr takes the loader's lock,
 * and a thread started by a library constructor (dlopen holds that lock) and
 * joined there would wait for it forever.  No libunwind here either: the
 * program may be inside libunwind (holding its locks) when it unlocks. */
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
	if (symtab_name(file, (uintptr_t)lm->l_addr, key - 1, name, (size_t)(end - name),
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

static struct site *ready_or_null(uintptr_t key)
{
	for (size_t i = slot_of(key), n = 0; n < NSITES; i = (i + 1) & (NSITES - 1), n++) {
		struct site *s = &inj_sites[i];
		uintptr_t k = LOAD(&s->key);
		if (k == key) {
			if (LOAD(&s->dead))
				continue;
			return LOAD_ACQ(&s->state) == SITE_READY &&
			       LOAD(&s->gen) == LOAD(&inj_dlgen) ? s : NULL;
		}
		if (k == 0)
			return NULL;
	}
	return NULL;
}

static int my_tid(void)
{
	return (int)syscall(SYS_gettid);
}

static void resolve(struct site *s, uintptr_t key)
{
	STORE(&s->owner, my_tid());
	STORE(&s->gen, LOAD(&inj_dlgen));
	int in_unwind = name_site(s->name, key);
	set_decisions(s);
	if (in_unwind)
		s->skip = 0;
	STORE_REL(&s->state, SITE_READY);
}

/* An object was unloaded since s was named: is key still the same code? */
static int still_current(struct site *s, uintptr_t key)
{
	uint32_t gen = LOAD(&inj_dlgen);
	char name[SITE_NAME];
	name_site(name, key);
	if (strcmp(name, s->name)) {
		STORE(&s->dead, 1);
		return 0;
	}
	STORE(&s->gen, gen);
	return 1;
}

/* Does the thread that claimed s still exist?  (A fork child's only thread
 * has a tid of its own, so a claimer from the parent is gone there.) */
static int owner_gone(struct site *s)
{
	int owner = LOAD(&s->owner);
	if (owner <= 0)
		return 0;           /* not yet stored: the claimer is still running */
	int saved = errno;
	int gone = syscall(SYS_tgkill, (int)syscall(SYS_getpid), owner, 0) != 0 &&
		   errno == ESRCH;
	errno = saved;
	return gone;
}

/* Wait, boundedly, until s (key) is READY; 1 when it is (or we named it
 * ourselves), 0 to pass this visit through unnamed. */
static int wait_ready(struct site *s, uintptr_t key)
{
	uint64_t deadline = 0;
	for (unsigned spins = 0;; spins++) {
		int st = LOAD_ACQ(&s->state);
		if (st == SITE_READY)
			return 1;
		if (st == SITE_ORPHAN && CAS(&s->state, &st, SITE_RESOLVING)) {
			resolve(s, key);
			return 1;
		}
		if (st == SITE_RESOLVING && (LOAD(&s->stalled) || (deadline &&
		    inject_now_ns() >= deadline))) {
			/* The claimer is late: take over if its thread is gone (one
			 * visitor wins the CAS on the owner), else pass through. */
			int owner = LOAD(&s->owner);
			if (owner_gone(s) && CAS(&s->owner, &owner, my_tid())) {
				resolve(s, key);
				STORE(&s->stalled, 0);
				return 1;
			}
			STORE(&s->stalled, 1);
			ADD(&inj_unnamed, 1);
			return 0;
		}
		if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
			continue;
		}
		if (!deadline)
			deadline = inject_now_ns() + SITE_WAIT_NS;
		sched_yield();
	}
}

/* Find or insert key, naming it when we are the one to insert; NULL when
 * another thread is naming it and does not finish in time. */
static struct site *get(uintptr_t key)
{
	for (size_t i = slot_of(key), n = 0; n < NSITES; i = (i + 1) & (NSITES - 1), n++) {
		struct site *s = &inj_sites[i];
		uintptr_t k = LOAD(&s->key);
		if (k == 0) {
			uintptr_t zero = 0;
			if (CAS(&s->key, &zero, key)) {
				resolve(s, key);
				return s;
			}
			k = zero;       /* someone else took it: with which key? */
		}
		if (k != key || LOAD(&s->dead))
			continue;
		if (!wait_ready(s, key))
			return NULL;
		if (LOAD(&s->gen) == LOAD(&inj_dlgen) || still_current(s, key))
			return s;
	}
	return &inj_sites[NSITES];
}

struct site *inj_site(uintptr_t ra)
{
	struct site *s = ready_or_null(ra);
	if (!s && !(s = get(ra)))
		return NULL;
	if (!s->skip)
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
		for (int up = 0; s->skip && up < 16; up++) {
			if (unw_step(&c) <= 0 || unw_get_reg(&c, UNW_REG_IP, &ip) < 0)
				break;
			if (!(s = get(ip)))
				return NULL;
		}
		break;
	}
	return s;
}

void inj_sites_after_fork(void)
{
	for (int i = 0; i <= NSITES; i++) {
		struct site *s = &inj_sites[i];
		STORE(&s->visits, 0);
		STORE(&s->delays, 0);
		STORE(&s->delay_ns, 0);
		STORE(&s->stalled, 0);
		if (LOAD(&s->key) && LOAD(&s->state) == SITE_RESOLVING) {
			STORE(&s->owner, 0);     /* before the entry can be claimed */
			STORE(&s->state, SITE_ORPHAN);
		}
	}
	STORE(&inj_unnamed, 0);
}
