/* sites.c: name the function that called an interposed function, once per
 * return address.
 *
 * The table is open-addressed with linear probing and never deletes, so a
 * lookup is lock-free: hash the return address, compare keys until a match
 * or an empty slot.  A new key is claimed by CAS on the key word; the claimer
 * names the site (libunwind on the live stack, else dladdr) and publishes it
 * with a release store of state = READY.  A visitor that finds a RESOLVING
 * entry yields until it is READY (the claimer is another thread: our own
 * thread cannot re-enter while it resolves, the recursion guard is set).
 *
 * INJECT_SKIP: when the caller's function matches, the site is further up the
 * stack, so we unwind (libunwind, a few frames) on every such visit; without
 * INJECT_SKIP the steady state is one hash probe. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <sched.h>
#include <string.h>

#include "shim.h"

struct site inj_sites[NSITES + 1];

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

/* Name key as "fn+0xoff" into s->name: from the cursor standing at that
 * frame if we have one, else dladdr. */
static void name_site(struct site *s, uintptr_t key, unw_cursor_t *c)
{
	char *p = s->name, *end = s->name + SITE_NAME - 24;
	unw_word_t off;
	if (c) {
		int r = unw_get_proc_name(c, s->name, SITE_NAME - 24, &off);
		if (r == 0 || r == -UNW_ENOMEM) {
			s->name[SITE_NAME - 25] = 0;
			p = s->name + strlen(s->name);
			p = inj_fmt_str(p, "+0x", end + 24);
			p = inj_fmt_hex(p, off);
			*p = 0;
			return;
		}
	}
	Dl_info di;
	if (dladdr((void *)(key - 1), &di) && di.dli_sname) {
		p = inj_fmt_str(p, di.dli_sname, end);
		p = inj_fmt_str(p, "+0x", end + 24);
		p = inj_fmt_hex(p, key - (uintptr_t)di.dli_saddr);
	} else if (di.dli_fname) {
		const char *base = strrchr(di.dli_fname, '/');
		p = inj_fmt_str(p, base ? base + 1 : di.dli_fname, end);
		p = inj_fmt_str(p, "+0x", end + 24);
		p = inj_fmt_hex(p, key - (uintptr_t)di.dli_fbase);
	} else {
		p = inj_fmt_str(p, "?+0x", end + 24);
		p = inj_fmt_hex(p, key);
	}
	*p = 0;
}

static struct site *ready_or_null(uintptr_t key)
{
	for (size_t i = slot_of(key), n = 0; n < NSITES; i = (i + 1) & (NSITES - 1), n++) {
		uintptr_t k = LOAD(&inj_sites[i].key);
		if (k == key)
			return LOAD_ACQ(&inj_sites[i].state) == SITE_READY ? &inj_sites[i] : NULL;
		if (k == 0)
			return NULL;
	}
	return NULL;
}

static void resolve(struct site *s, uintptr_t key, unw_cursor_t *c)
{
	name_site(s, key, c);
	set_decisions(s);
	STORE_REL(&s->state, SITE_READY);
}

/* Find or insert key, naming it through c when we are the one to insert. */
static struct site *get(uintptr_t key, unw_cursor_t *c)
{
	for (size_t i = slot_of(key), n = 0; n < NSITES; i = (i + 1) & (NSITES - 1), n++) {
		struct site *s = &inj_sites[i];
		uintptr_t k = LOAD(&s->key);
		if (k == 0) {
			uintptr_t zero = 0;
			if (CAS(&s->key, &zero, key)) {
				resolve(s, key, c);
				return s;
			}
			k = zero;       /* someone else took it: with which key? */
		}
		if (k != key)
			continue;
		for (;;) {
			int st = LOAD_ACQ(&s->state);
			if (st == SITE_READY)
				return s;
			if (st == SITE_ORPHAN && CAS(&s->state, &st, SITE_RESOLVING)) {
				resolve(s, key, c);
				return s;
			}
			sched_yield();
		}
	}
	return &inj_sites[NSITES];
}

struct site *inj_site(uintptr_t ra)
{
	struct site *s = ready_or_null(ra);
	if (s && !s->skip)
		return s;

	/* New site, or a frame to skip: find ra on the live stack. */
	unw_context_t uc;
	unw_cursor_t c;
	if (unw_getcontext(&uc) == 0 && unw_init_local(&c, &uc) == 0) {
		for (int depth = 0; depth < 12 && unw_step(&c) > 0; depth++) {
			unw_word_t ip;
			if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0)
				break;
			if (ip != ra)
				continue;
			s = get(ra, &c);
			for (int up = 0; s->skip && up < 16; up++) {
				if (unw_step(&c) <= 0 || unw_get_reg(&c, UNW_REG_IP, &ip) < 0)
					break;
				s = get(ip, &c);
			}
			return s;
		}
	}
	return s ? s : get(ra, NULL);
}

void inj_sites_after_fork(void)
{
	for (int i = 0; i <= NSITES; i++) {
		struct site *s = &inj_sites[i];
		STORE(&s->visits, 0);
		STORE(&s->delays, 0);
		STORE(&s->delay_ns, 0);
		if (LOAD(&s->key) && LOAD(&s->state) == SITE_RESOLVING)
			STORE(&s->state, SITE_ORPHAN);
	}
}
