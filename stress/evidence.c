/* What a run's injection log says about the run: did the plan reach the
 * program at all?
 *
 * A run under `inject` whose log shows no delay and no visit to a site the
 * plan could delay tested nothing: its pass says nothing about the race.
 * Such runs are counted apart (untouched), and so are runs whose log is
 * missing or cut short (lost: no evidence either way).  The log format is in
 * docs/interfaces.md; a log may hold several process blocks (a fork child
 * writes its own), which are summed.  The end line's sites=, matched=,
 * matched_visits= and full= fields come from newer shims; a log without them
 * is read as before: untouched only when it shows no delay and no site. */
#include "stress.h"

#include <stdlib.h>
#include <string.h>

/* The value of " key=" in an end line; false when absent. */
static bool field(const char *line, const char *key, unsigned long long *v)
{
	size_t kl = strlen(key);
	for (const char *p = line; (p = strstr(p, key)); p += kl) {
		if (p > line && p[-1] == ' ' && p[kl] == '=') {
			char *e;
			unsigned long long x = strtoull(p + kl + 1, &e, 10);
			if (e == p + kl + 1)
				return false;
			*v = x;
			return true;
		}
	}
	return false;
}

void read_evidence(const char *path, struct evidence *e)
{
	memset(e, 0, sizeof *e);
	e->fields = true;
	FILE *f = path ? fopen(path, "re") : NULL;
	if (!f) {
		e->fields = false;
		return;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (!strncmp(line, "# inject-log ", 13)) {
			e->blocks++;
		} else if (!strncmp(line, "# end ", 6)) {
			e->ended++;
			unsigned long long v;
			if (field(line, "matched_visits", &v)) {
				e->matched_visits += v;
				if (field(line, "matched", &v))
					e->matched += v;
				if (field(line, "sites", &v))
					e->sites += v;
				if (field(line, "full", &v))
					e->full += v;
			} else {
				e->fields = false;
			}
		} else if (line[0] == 'S' && line[1] == ' ') {
			/* S <site> <visits> <delays> <delay_ns> */
			char site[512];
			unsigned long long vis, d, ns;
			if (sscanf(line, "S %511s %llu %llu %llu", site, &vis, &d, &ns) == 4) {
				e->slines++;
				e->delays += d;
			}
		}
	}
	free(line);
	fclose(f);
	if (!e->ended)
		e->fields = false;
}

enum reach reach_of(const struct evidence *e)
{
	if (!e->blocks)
		return REACH_LOST;
	if (e->delays)
		return REACH_REACHED;
	if (e->fields && e->matched_visits)
		return REACH_REACHED;
	/* A block without its end line: the process died while writing, and
	 * what it did not write cannot be read as "nothing happened". */
	if (e->ended < e->blocks)
		return REACH_LOST;
	if (e->fields)
		return REACH_UNTOUCHED;
	/* An older log: no visit counts for the plan's sites; untouched only
	 * when it saw no site at all. */
	return e->slines ? REACH_REACHED : REACH_UNTOUCHED;
}

const char *reach_name(enum reach r)
{
	return r == REACH_REACHED ? "reached" : r == REACH_UNTOUCHED ? "untouched" : "no-log";
}
