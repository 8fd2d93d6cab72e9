/* spec.h: the INJECT_* configuration and its one parser, shared by the
 * launcher (build/inject, which rejects a bad value before exec) and the shim
 * (libinject.so, whose constructor rejects a bad value set by hand).
 *
 * Everything lives in fixed-size fields of struct inject_config: the shim
 * parses in its constructor and then only reads, from hooks that must never
 * allocate. */
#ifndef INJECT_SPEC_H
#define INJECT_SPEC_H

#include <stddef.h>
#include <stdint.h>

enum { INJ_MAXPAT = 32, INJ_PATBUF = 1024, INJ_PATH = 4096 };

enum inject_dist { DIST_FIXED, DIST_UNIFORM, DIST_EXP, DIST_LOGUNIFORM };
enum inject_action { ACT_SLEEP, ACT_YIELD, ACT_SPIN };

/* The interposed calls that can be injection points (INJECT_POINTS); access
 * and atomic are the __tsan_* entry points of a program compiled with
 * -fsanitize=thread (preload/tsan.c). */
enum inject_point {
	PT_MUTEX_UNLOCK, PT_MUTEX_LOCK, PT_RWLOCK_UNLOCK, PT_SPIN_UNLOCK,
	PT_SEM_POST, PT_COND_SIGNAL, PT_COND_BROADCAST, PT_THREAD_START,
	PT_ACCESS, PT_ATOMIC,
	PT_COUNT
};
extern const char *const inject_point_names[PT_COUNT];

struct inject_delay {
	int dist;               /* enum inject_dist */
	uint64_t a, b;          /* ns: fixed D / uniform,loguniform MIN MAX / exp MEAN */
};

/* A comma list of globs; an item starting with '!' excludes. */
struct inject_patterns {
	int n, nincl;
	const char *pat[INJ_MAXPAT];
	unsigned char neg[INJ_MAXPAT];
	char buf[INJ_PATBUF];
};

struct inject_config {
	int any;                /* some INJECT_* variable is set and not empty */
	uint64_t seed;
	double prob;
	struct inject_delay delay;
	int action;             /* enum inject_action */
	unsigned points;        /* bit set of enum inject_point */
	uint64_t max;           /* most delays per process; UINT64_MAX = no bound */
	uint64_t sample;        /* an access (atomic) is visited once per this many
				 * of a thread's accesses (atomics), on average */
	struct inject_patterns sites, skip;
	char log[INJ_PATH];     /* empty: no log */
	/* The values as printed in the log header. */
	char prob_str[32], delay_str[128], sites_str[INJ_PATBUF], points_str[160];
	/* The plan family in effect (injector/plan.h), drawn from the seed by
	 * the portfolio or named by INJECT_PLAN; NULL when the INJECT_* values
	 * alone make the plan.  plan_str is the family's name or "custom". */
	const struct inject_family *family;
	char plan_str[32];
	/* The families INJECT_PLAN names (bit i: inject_families[i]; every
	 * available one for portfolio); 0 without INJECT_PLAN. */
	unsigned plan_set;
	/* None of them can reach the program as INJECT_INSTRUMENTED tells (the
	 * access-level families without INJECT_INSTRUMENTED=1): the family was
	 * drawn among them all the same; the launcher, which knows the program,
	 * refuses such a plan. */
	int plan_unreached;
	int pin;                /* the family puts every thread on one CPU */
	int pin_cpu;            /* the CPU the shim pinned them to; -1: none */
};

/* The variables, in the order they are checked. */
extern const char *const inject_vars[];

/* Defaults applied when a variable is unset or empty (empty is unset: it
 * neither turns injection on nor changes a default). */
#define INJECT_DEFAULT_DELAY  "loguniform:1us:1ms"
#define INJECT_DEFAULT_PROB   "0.1"   /* "1" when INJECT_SITES names a site to include */
#define INJECT_DEFAULT_ACTION "sleep"
#define INJECT_DEFAULT_POINTS "mutex_unlock"
#define INJECT_DEFAULT_SAMPLE "1000"  /* "1" when INJECT_SITES names a site to include */
#define INJECT_SAMPLE_MAX 1000000000ULL

/* The plan: INJECT_PLAN names a family, a comma list of distinct families
 * (a family drawn from INJECT_SEED among them; one name is that family), or
 * "portfolio" (a family drawn from INJECT_SEED among them all).  Unset, with
 * none of INJECT_PROB, INJECT_DELAY, INJECT_SITES, INJECT_POINTS and
 * INJECT_ACTION set, it is the portfolio: blind injection draws its family
 * from the seed.  Whatever the family, a variable that is set keeps its own
 * value.  The longest value taken: */
#define INJECT_PLAN_MAXLEN 255
struct inject_family;
/* Can this build use family F (its points all exist)? */
int inject_family_available(const struct inject_family *f);
/* The portfolio's family for SEED, among the available ones. */
const struct inject_family *inject_family_draw(uint64_t seed);
/* The family for SEED among those of SET (bits as plan_set) that can reach
 * the program, by the portfolio's draw (the portfolio is SET = every
 * family); NULL when none of them can. */
const struct inject_family *inject_family_draw_among(uint64_t seed, unsigned set);
/* The available families' names, comma separated, into buf. */
void inject_family_list(char *buf, size_t n);

/* Fill c from getenv().  Returns 0, or -1 with the one-line message
 * ("inject: INJECT_X: bad value ...", no newline) in err. */
int inject_config_from_env(struct inject_config *c, char *err, size_t errlen);

/* Check one variable's value alone (the launcher checks each flag). */
int inject_check_var(const char *name, const char *value, char *err, size_t errlen);

/* Glob match: '*', '?', '[...]' (with '!' or '^' negation and ranges). */
int inject_glob(const char *pat, const char *s);

/* Does a site (function name fn, full name "fn+0xoff") match the list?  An
 * empty list gives if_empty; excludes win; a list of only excludes matches
 * everything else. */
int inject_patterns_match(const struct inject_patterns *p, const char *fn, const char *full,
			  int if_empty);

/* The longest duration a spec may give, and the longest delay the policy
 * ever produces (an exp tail included): an hour. */
#define INJECT_DELAY_MAX_NS 3600000000000ULL

/* Parse the duration from s to end (the one grammar, common/duration.h:
 * "200us", "1.5ms", "2e3ns", "1m30s") into ns; -1 if bad, negative or above
 * INJECT_DELAY_MAX_NS. */
int inject_parse_duration(const char *s, const char *end, uint64_t *ns);

#endif
