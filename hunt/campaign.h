/* campaign: the inject words every run gets, and the child processes that
 * run them (`inject --check`, one `stress` per campaign); the signals that
 * stop hunt are caught here and passed on to the running stress. */
#ifndef HUNT_CAMPAIGN_H
#define HUNT_CAMPAIGN_H

struct hunt;

/* A growable list of words (inject flags). */
struct wv {
	char **v;
	int n, cap;
};
void wv_push(struct wv *w, const char *s);
void wv_free(struct wv *w);
/* --prob PROB --delay D and the --inject-flags words. */
void base_words(struct hunt *h, struct wv *w, const char *prob);

void signals_init(void);
/* The stopping signal that arrived (SIGINT, SIGTERM, SIGHUP), or 0. */
int signal_pending_stop(struct hunt *h);
/* Run `inject --check FLAGS...`; a refusal is a usage error (64). */
void check_inject_flags(struct hunt *h, const struct wv *flags);
/* One stress campaign of COUNT runs with the inject words FLAGS; its records
 * are loaded with PHASE.  Returns the number of runs loaded.  A stress
 * refusal or failure ends hunt (64/125); a signal ends it as interrupted. */
int campaign(struct hunt *h, const char *label, int phase, const struct wv *flags, long count);

#endif
