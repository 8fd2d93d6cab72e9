/* spec.c: parse and check the INJECT_* variables (see spec.h).
 *
 * One parser for the launcher and the shim, so that a value the launcher
 * accepts is exactly a value the shim accepts.  It runs before the program
 * does (launcher, shim constructor): strtod and friends are fine here; the
 * match helpers at the bottom run inside hooks and use no library calls. */
#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/duration.h"
#include "plan.h"

const char *const inject_point_names[PT_COUNT] = {
	"mutex_unlock", "mutex_lock", "rwlock_unlock", "spin_unlock",
	"sem_post", "cond_signal", "cond_broadcast", "thread_start", "access", "atomic",
};

const char *const inject_vars[] = {
	"INJECT_SEED", "INJECT_PROB", "INJECT_DELAY", "INJECT_SITES", "INJECT_SKIP",
	"INJECT_POINTS", "INJECT_ACTION", "INJECT_MAX", "INJECT_LOG", "INJECT_SAMPLE", "INJECT_PLAN",
	NULL,
};

static const char *expected(const char *name)
{
	if (!strcmp(name, "INJECT_SEED"))
		return "an unsigned 64-bit integer (decimal or 0x hex)";
	if (!strcmp(name, "INJECT_PROB"))
		return "a probability from 0 to 1 (decimal)";
	if (!strcmp(name, "INJECT_DELAY"))
		return "fixed:D, uniform:MIN:MAX, exp:MEAN or loguniform:MIN:MAX";
	if (!strcmp(name, "INJECT_SITES") || !strcmp(name, "INJECT_SKIP"))
		return "a comma list of function names or globs, !NAME to exclude";
	if (!strcmp(name, "INJECT_POINTS"))
		return "a comma list of mutex_unlock, mutex_lock, rwlock_unlock, spin_unlock, "
		       "sem_post, cond_signal, cond_broadcast, thread_start, access, atomic or all";
	if (!strcmp(name, "INJECT_ACTION"))
		return "sleep, yield or spin";
	if (!strcmp(name, "INJECT_MAX"))
		return "a non-negative integer";
	if (!strcmp(name, "INJECT_LOG"))
		return "a file the program can append to";
	if (!strcmp(name, "INJECT_SAMPLE"))
		return "an integer from 1 to 1000000000";
	if (!strcmp(name, "INJECT_PLAN")) {
		static char buf[512];
		char list[400];
		inject_family_list(list, sizeof list);
		snprintf(buf, sizeof buf, "portfolio or a plan family: %s; or a comma list of "
			 "distinct families", list);
		return buf;
	}
	return "a valid value";
}

static int bad_value(const char *name, const char *value, const char *why, char *err,
		     size_t errlen)
{
	snprintf(err, errlen, "inject: %s: bad value \"%s\": expected %s%s%s", name, value,
		 expected(name), why ? " " : "", why ? why : "");
	return -1;
}

static int parse_unsigned(const char *s, int base, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* INJECT_PROB's number, which is a duration term's number without its unit
 * (docs/interfaces.md): the length of the decimal number s starts with:
 * digits with an optional fraction and exponent ("12", "0.5", ".5", "1e-3"),
 * no sign, no leading zero before another digit (010 reads as octal to
 * some), so no hex, inf or nan (strtod takes all of those); 0 when s does
 * not start with one. */
static size_t decimal_len(const char *s)
{
	size_t i = 0, digits = 0;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (s[i] == '.') {
		i++;
		while (s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return 0;
	if (s[i] == 'e' || s[i] == 'E') {
		size_t j = i + 1;
		if (s[j] == '+' || s[j] == '-')
			j++;
		if (s[j] < '0' || s[j] > '9')
			return 0;
		while (s[j] >= '0' && s[j] <= '9')
			j++;
		i = j;
	}
	return i;
}

/* The one duration grammar (common/duration.h), then INJECT_DELAY's own
 * range: not negative, at most INJECT_DELAY_MAX_NS. */
int inject_parse_duration(const char *s, const char *end, uint64_t *ns)
{
	int64_t v;
	if (duration_parse_n(s, (size_t)(end - s), &v) != DURATION_OK || v < 0 ||
	    (uint64_t)v > INJECT_DELAY_MAX_NS)      /* over an hour: surely a typo */
		return -1;
	*ns = (uint64_t)v;
	return 0;
}

static int parse_delay(const char *s, struct inject_delay *d)
{
	static const struct { const char *name; int dist, nargs; } kinds[] = {
		{ "fixed:", DIST_FIXED, 1 }, { "uniform:", DIST_UNIFORM, 2 },
		{ "exp:", DIST_EXP, 1 }, { "loguniform:", DIST_LOGUNIFORM, 2 },
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i].name);
		if (strncmp(s, kinds[i].name, n))
			continue;
		const char *a = s + n, *colon = strchr(a, ':');
		d->dist = kinds[i].dist;
		if (kinds[i].nargs == 1) {
			if (colon || inject_parse_duration(a, a + strlen(a), &d->a))
				return -1;
			d->b = d->a;
			return d->a == 0 && d->dist == DIST_EXP ? -1 : 0;
		}
		if (!colon || strchr(colon + 1, ':'))
			return -1;
		if (inject_parse_duration(a, colon, &d->a) ||
		    inject_parse_duration(colon + 1, colon + 1 + strlen(colon + 1), &d->b))
			return -1;
		if (d->a > d->b || (d->dist == DIST_LOGUNIFORM && d->a == 0))
			return -1;
		return 0;
	}
	return -1;
}

static int parse_patterns(const char *s, struct inject_patterns *p)
{
	memset(p, 0, sizeof *p);
	size_t len = strlen(s);
	if (len >= sizeof p->buf)
		return -1;
	if (len == 0)
		return 0;
	memcpy(p->buf, s, len + 1);
	for (char *item = p->buf;;) {
		char *comma = strchr(item, ',');
		if (comma)
			*comma = 0;
		int neg = item[0] == '!';
		const char *pat = item + neg;
		if (!*pat || p->n == INJ_MAXPAT || strpbrk(pat, " \t\n!"))
			return -1;
		p->pat[p->n] = pat;
		p->neg[p->n] = (unsigned char)neg;
		p->nincl += !neg;
		p->n++;
		if (!comma)
			return 0;
		item = comma + 1;
	}
}

static int parse_points(const char *s, unsigned *points, char *str, size_t strlen_)
{
	char buf[256];
	if (strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	*points = 0;
	for (char *save, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (!strcmp(item, "all")) {
			*points = (1u << PT_COUNT) - 1;
			continue;
		}
		int i;
		for (i = 0; i < PT_COUNT && strcmp(item, inject_point_names[i]); i++)
			;
		if (i == PT_COUNT)
			return -1;
		*points |= 1u << i;
	}
	if (!*points || strstr(s, ",,") || s[0] == ',' || s[strlen(s) - 1] == ',')
		return -1;
	str[0] = 0;
	for (int i = 0; i < PT_COUNT; i++)
		if (*points & (1u << i)) {
			if (str[0])
				strncat(str, ",", strlen_ - strlen(str) - 1);
			strncat(str, inject_point_names[i], strlen_ - strlen(str) - 1);
		}
	return 0;
}

/* The index of the available family named by the LEN bytes at NAME, or -1. */
static int family_index(const char *name, size_t len)
{
	for (int i = 0; i < INJ_MAXFAM && inject_families[i].name; i++)
		if (strlen(inject_families[i].name) == len &&
		    !strncmp(inject_families[i].name, name, len))
			return inject_family_available(&inject_families[i]) ? i : -1;
	return -1;
}

/* INJECT_PLAN's value into SET (bits as plan_set): portfolio is every
 * available family; else a comma list of distinct available families, read
 * in place (no copy, so no buffer to bound but the value's length).  A set,
 * not a sequence: the draw does not depend on the order of the names.  On a
 * bad value, returns -1 with why it is bad in WHY. */
static int parse_plan(const char *value, unsigned *set, char *why, size_t n)
{
	size_t len = strlen(value);
	*set = 0;
	if (len > INJECT_PLAN_MAXLEN) {
		snprintf(why, n, "(%zu characters; at most %d)", len, INJECT_PLAN_MAXLEN);
		return -1;
	}
	if (!strcmp(value, INJECT_PLAN_PORTFOLIO)) {
		for (int i = 0; i < INJ_MAXFAM && inject_families[i].name; i++)
			if (inject_family_available(&inject_families[i]))
				*set |= 1u << i;
		return 0;
	}
	for (const char *p = value;; p++) {
		size_t l = strcspn(p, ",");
		int i = family_index(p, l);
		if (!l)
			snprintf(why, n, "(an empty name in the list)");
		else if (i < 0 && l == strlen(INJECT_PLAN_PORTFOLIO) &&
			 !strncmp(p, INJECT_PLAN_PORTFOLIO, l))
			snprintf(why, n, "(portfolio is every family: it is no name in a list)");
		else if (i < 0)
			snprintf(why, n, "(no family \"%.*s\" in this build)", (int)l, p);
		else if (*set & (1u << i))
			snprintf(why, n, "(\"%.*s\" twice)", (int)l, p);
		if (!l || i < 0 || (*set & (1u << i)))
			return -1;
		*set |= 1u << i;
		p += l;
		if (!*p)
			return 0;
	}
}

/* Parse one variable into c.  value is non-NULL and non-empty. */
static int parse_var(struct inject_config *c, const char *name, const char *value, char *err,
		     size_t errlen)
{
	if (!strcmp(name, "INJECT_SEED")) {
		if (parse_unsigned(value, 0, &c->seed))
			return bad_value(name, value, NULL, err, errlen);
	} else if (!strcmp(name, "INJECT_PROB")) {
		char *end;
		errno = 0;
		double p = strtod(value, &end);
		if (errno || *end || end == value || !(p >= 0 && p <= 1) ||
		    decimal_len(value) != strlen(value))
			return bad_value(name, value, NULL, err, errlen);
		c->prob = p;
		snprintf(c->prob_str, sizeof c->prob_str, "%s", value);
	} else if (!strcmp(name, "INJECT_DELAY")) {
		if (strlen(value) >= sizeof c->delay_str || parse_delay(value, &c->delay))
			return bad_value(name, value, NULL, err, errlen);
		strcpy(c->delay_str, value);
	} else if (!strcmp(name, "INJECT_SITES")) {
		if (parse_patterns(value, &c->sites))
			return bad_value(name, value, NULL, err, errlen);
		strcpy(c->sites_str, value);
	} else if (!strcmp(name, "INJECT_SKIP")) {
		if (parse_patterns(value, &c->skip))
			return bad_value(name, value, NULL, err, errlen);
	} else if (!strcmp(name, "INJECT_POINTS")) {
		if (parse_points(value, &c->points, c->points_str, sizeof c->points_str))
			return bad_value(name, value, NULL, err, errlen);
	} else if (!strcmp(name, "INJECT_ACTION")) {
		if (!strcmp(value, "sleep"))
			c->action = ACT_SLEEP;
		else if (!strcmp(value, "yield"))
			c->action = ACT_YIELD;
		else if (!strcmp(value, "spin"))
			c->action = ACT_SPIN;
		else
			return bad_value(name, value, NULL, err, errlen);
	} else if (!strcmp(name, "INJECT_MAX")) {
		if (parse_unsigned(value, 10, &c->max))
			return bad_value(name, value, NULL, err, errlen);
	} else if (!strcmp(name, "INJECT_SAMPLE")) {
		if (parse_unsigned(value, 10, &c->sample) || c->sample < 1 ||
		    c->sample > INJECT_SAMPLE_MAX)
			return bad_value(name, value, NULL, err, errlen);
	} else if (!strcmp(name, "INJECT_PLAN")) {
		char why[128];
		if (parse_plan(value, &c->plan_set, why, sizeof why)) {
			if (strlen(value) <= INJECT_PLAN_MAXLEN)
				return bad_value(name, value, why, err, errlen);
			/* Not the whole of a value this long on the one line. */
			char head[64];
			snprintf(head, sizeof head, "%.40s...", value);
			return bad_value(name, head, why, err, errlen);
		}
	} else if (!strcmp(name, "INJECT_LOG")) {
		if (strlen(value) >= sizeof c->log)
			return bad_value(name, value, "(path too long)", err, errlen);
		strcpy(c->log, value);
	}
	return 0;
}

static void defaults(struct inject_config *c)
{
	memset(c, 0, sizeof *c);
	c->seed = 0;
	c->max = UINT64_MAX;
	c->action = ACT_SLEEP;
	parse_delay(INJECT_DEFAULT_DELAY, &c->delay);
	strcpy(c->delay_str, INJECT_DEFAULT_DELAY);
	parse_points(INJECT_DEFAULT_POINTS, &c->points, c->points_str, sizeof c->points_str);
	strcpy(c->sites_str, "*");
	strcpy(c->plan_str, "custom");
	c->pin_cpu = -1;
}

int inject_family_available(const struct inject_family *f)
{
	unsigned points;
	char str[160];
	return parse_points(f->points, &points, str, sizeof str) == 0;
}

/* Does F delay at the access-level points of instrumented programs? */
static int family_needs_instrumented(const struct inject_family *f)
{
	unsigned points;
	char str[160];
	return parse_points(f->points, &points, str, sizeof str) == 0 &&
	       (points & ((1u << PT_ACCESS) | (1u << PT_ATOMIC)));
}

/* The family for SEED among the available families of SET, in table
 * order (so the order a list names them in does not matter); with REACH,
 * among those that can reach the program only.  NULL when there are none. */
static const struct inject_family *draw(uint64_t seed, unsigned set, int reach)
{
	const char *ins = getenv("INJECT_INSTRUMENTED");
	int instrumented = ins && !strcmp(ins, "1");
	const struct inject_family *ok[INJ_MAXFAM];
	unsigned n = 0;
	for (int i = 0; i < INJ_MAXFAM && inject_families[i].name; i++) {
		const struct inject_family *f = &inject_families[i];
		if ((set & (1u << i)) && inject_family_available(f) &&
		    (!reach || instrumented || !family_needs_instrumented(f)))
			ok[n++] = f;
	}
	return n ? ok[inject_family_pick(seed, n)] : NULL;
}

/* The portfolio draws among the families that can reach the program: the
 * access-level ones only when the launcher found the program instrumented
 * (INJECT_INSTRUMENTED=1, set by inject before the shim reads its
 * configuration; without the launcher they are never drawn).  A list
 * draws among its families the same way, so a list of every family is the
 * portfolio. */
const struct inject_family *inject_family_draw_among(uint64_t seed, unsigned set)
{
	return draw(seed, set, 1);
}

const struct inject_family *inject_family_draw(uint64_t seed)
{
	return draw(seed, ~0u, 1);
}

void inject_family_list(char *buf, size_t n)
{
	buf[0] = 0;
	for (const struct inject_family *f = inject_families; f->name; f++)
		if (inject_family_available(f)) {
			size_t l = strlen(buf);
			snprintf(buf + l, n - l, "%s%s", l ? ", " : "", f->name);
		}
}

/* The variables that make a plan: with none of them (and no INJECT_PLAN)
 * blind injection is the portfolio. */
static const char *const plan_vars[] = {
	"INJECT_PROB", "INJECT_DELAY", "INJECT_SITES", "INJECT_POINTS", "INJECT_ACTION", NULL,
};

/* Apply family F to c: each of its values where its variable is not set. */
static void apply_family(struct inject_config *c, const struct inject_family *f, unsigned set)
{
	static const char *const vars[] = { "INJECT_POINTS", "INJECT_PROB", "INJECT_DELAY",
					    "INJECT_ACTION" };
	const char *vals[] = { f->points, f->prob, f->delay, f->action };
	char err[256];
	for (int i = 0; i < 4; i++) {
		int k;
		for (k = 0; plan_vars[k] && strcmp(plan_vars[k], vars[i]); k++)
			;
		if (!(set & (1u << k)))
			parse_var(c, vars[i], vals[i], err, sizeof err);   /* valid: our table */
	}
	const char *max = getenv("INJECT_MAX");
	if (f->max && !(max && *max))   /* the family's bound, unless one is given */
		parse_var(c, "INJECT_MAX", f->max, err, sizeof err);
	c->family = f;
	c->pin = f->pin;
	snprintf(c->plan_str, sizeof c->plan_str, "%s", f->name);
}

int inject_config_from_env(struct inject_config *c, char *err, size_t errlen)
{
	defaults(c);
	unsigned set = 0;       /* bit k: plan_vars[k] is set */
	int sample_set = 0;
	for (int i = 0; inject_vars[i]; i++) {
		const char *v = getenv(inject_vars[i]);
		if (!v || !*v)
			continue;       /* empty is unset: VAR= from a script */
		c->any = 1;
		if (parse_var(c, inject_vars[i], v, err, errlen))
			return -1;
		for (int k = 0; plan_vars[k]; k++)
			if (!strcmp(inject_vars[i], plan_vars[k]))
				set |= 1u << k;
		sample_set |= !strcmp(inject_vars[i], "INJECT_SAMPLE");
	}
	const char *plan = getenv("INJECT_PLAN");
	if (plan && *plan) {
		/* A list none of whose families can reach the program (only
		 * access-level ones, the program not known to be instrumented)
		 * still draws among them: without the launcher the shim cannot
		 * tell (a program linked against libinject.so, run by hand), and
		 * one family named is given, as it always was.  The launcher
		 * refuses it (plan_unreached) where it found the program plain. */
		const struct inject_family *f = inject_family_draw_among(c->seed, c->plan_set);
		c->plan_unreached = !f;
		apply_family(c, f ? f : draw(c->seed, c->plan_set, 0), set);
	} else if (c->any && !set)
		apply_family(c, inject_family_draw(c->seed), set);
	if (!sample_set && c->family && inject_family_sample(c->seed, c->family))
		c->sample = inject_family_sample(c->seed, c->family);   /* drawn per run */
	else if (!sample_set)   /* aimed at named sites: every access there is a visit */
		c->sample = strtoull(c->sites.nincl ? "1" : INJECT_DEFAULT_SAMPLE, NULL, 10);
	if (!(set & 1) && !c->family) {     /* plan_vars[0]: INJECT_PROB */
		/* Aimed at named sites: delay every visit; else a light sprinkle. */
		const char *p = c->sites.nincl ? "1" : INJECT_DEFAULT_PROB;
		c->prob = strtod(p, NULL);
		strcpy(c->prob_str, p);
	}
	return 0;
}

int inject_check_var(const char *name, const char *value, char *err, size_t errlen)
{
	static struct inject_config scratch;
	defaults(&scratch);
	return *value ? parse_var(&scratch, name, value, err, errlen) : 0;
}

/* --- used inside hooks: no library calls below this line --- */

static int class_match(const char **pp, char ch)
{
	const char *p = *pp + 1;           /* after '[' */
	int neg = *p == '!' || *p == '^', hit = 0;
	p += neg;
	const char *start = p;
	for (; *p && (*p != ']' || p == start); p++) {
		if (p[1] == '-' && p[2] && p[2] != ']') {
			if (ch >= p[0] && ch <= p[2])
				hit = 1;
			p += 2;
		} else if (*p == ch) {
			hit = 1;
		}
	}
	if (!*p)
		return -1;                 /* no closing ']': treat '[' literally */
	*pp = p + 1;
	return hit != neg;
}

int inject_glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = ++pat;
			resume = s;
			continue;
		}
		if (*pat == '[') {
			const char *p = pat;
			int m = class_match(&p, *s);
			if (m == 1) {
				pat = p;
				s++;
				continue;
			}
			if (m == 0)
				goto backtrack;
		}
		if (*pat && (*pat == '?' || *pat == *s)) {
			pat++;
			s++;
			continue;
		}
backtrack:
		if (!star)
			return 0;
		pat = star;
		s = ++resume;
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}

int inject_patterns_match(const struct inject_patterns *p, const char *fn, const char *full,
			  int if_empty)
{
	if (p->n == 0)
		return if_empty;
	int incl = 0;
	for (int i = 0; i < p->n; i++) {
		int m = inject_glob(p->pat[i], fn) || inject_glob(p->pat[i], full);
		if (m && p->neg[i])
			return 0;
		incl |= m && !p->neg[i];
	}
	return p->nincl == 0 || incl;
}
