/* runs: the per-run records that stress writes with --record (one JSON object
 * a line, see docs/interfaces.md), loaded into one table of sites and runs.
 *
 * A site is `function+0xoff` as the shim names it; its unit for aggregation
 * is the function name (the text before the last '+').  Every run is
 * classified once, when loaded, against the failure filter:
 *   FAIL      status "fail" and the signature matches the filter
 *   PASS      status "pass"
 *   EXCLUDED  any other failure (by default: "timeout", which an injected
 *             delay causes by itself and which says nothing about the race)
 */
#ifndef HUNT_RUNS_H
#define HUNT_RUNS_H

#include <stddef.h>

enum outcome { PASS, FAIL, EXCLUDED };

struct hit {
	int site;		/* index into runs.sites */
	long visits, delays;
	double delay_ns;
};

struct run {
	int phase;		/* which campaign it came from (caller's tag) */
	enum outcome outcome;
	char *signature;	/* NULL for a pass */
	double seconds;
	struct hit *hits;
	int nhits;
};

struct site {
	char *name;		/* function+0xoff */
	char *func;		/* function */
};

struct runs {
	struct site *sites;
	int nsites, capsites;
	struct run *runs;
	int nruns, capruns;
	const char *fail_on;	/* signature substring, NULL: any but excluded */
	int count_timeouts;	/* 1: a timeout is a failure too */
};

int runs_site(struct runs *r, const char *name);
int runs_find_site(const struct runs *r, const char *name);
/* Append the records of FILE with the given phase tag; returns how many runs
 * were read.  -1, with one line in ERR (no "hunt: " prefix) and nothing
 * appended, when the file cannot be read or holds a line that is not a
 * record: a JSON object whose "status" is "pass" or "fail" and whose
 * "sites", when present, is an object.  Blank lines are skipped.  The run's
 * seed is not kept (hunt states none), so any integer, however large, is
 * read. */
int runs_load(struct runs *r, const char *file, int phase, char *err, size_t errsz);
void runs_free(struct runs *r);
char *site_func(const char *name);

#endif
