/* finish: how hunt ends when no verdict can be given (a harness error, a
 * usage error that stress found, a signal): the report of what the finished
 * runs say, marked with that ending, then the exit. */
#include "finish.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hunt.h"
#include "rank.h"
#include "report.h"

void finish_early(struct hunt *h, int rc)
{
	if (h->stop_sig) {
		h->abort_verdict = "interrupted";
		long f, p, x;
		rank_outcomes(&h->runs, -1, &f, &p, &x);
		const char *nm = sigabbrev_np(h->stop_sig);
		snprintf(h->abort_reason, sizeof h->abort_reason, "SIG%s stopped hunt %s%s; no "
			 "verdict: the tables cover the %ld runs that finished", nm ? nm : "?",
			 h->where ? "in " : "before its first run", h->where ? h->where : "",
			 f + p + x);
		rc = 128 + h->stop_sig;
		/* A closed pipe on stdout must not turn the signal's ending
		 * into a SIGPIPE one. */
		signal(SIGPIPE, SIG_IGN);
	}
	h->culprit = NULL;
	h->exact_site = NULL;
	if (!h->blind_done)
		h->stop_reason = h->abort_verdict;
	const char *werr = NULL;
	if (h->dir[0]) {
		if (!h->blind_s)
			h->blind_s = elapsed(h);
		struct row *funcs, *sites;
		int nf, ns;
		rank_screening(h, &funcs, &nf, &sites, &ns);
		report(h, funcs, nf, sites, ns, rc);
		werr = report_write_error();
		rank_free(funcs, nf);
		rank_free(sites, ns);
	}
	fflush(stdout);
	fprintf(stderr, "hunt: %s%s%s%s%s%s%s\n", h->stop_sig ? "interrupted: " : rc == 125 ?
		"HARNESS ERROR: " : "", h->abort_reason, werr ? "; and " : "", werr ? werr : "",
		h->dir[0] && !werr ? " (report in " : "", h->dir[0] && !werr ? h->dir : "",
		h->dir[0] && !werr ? ")" : "");
	if (h->stop_sig) {
		/* End as the signal would have ended hunt: a shell (or a script's
		 * loop) sees hunt killed by it. */
		signal(h->stop_sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, h->stop_sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(h->stop_sig);
	}
	exit(werr ? 125 : rc);
}

/* End hunt on an error that is no verdict: one line on stderr, and the
 * results folder (once it exists) says so. */
static void __attribute__((noreturn, format(printf, 4, 0)))
stop_on_error(struct hunt *h, const char *verdict, int rc, const char *fmt, va_list ap)
{
	vsnprintf(h->abort_reason, sizeof h->abort_reason, fmt, ap);
	h->abort_verdict = verdict;
	if (!h->dir[0]) {
		fprintf(stderr, "hunt: %s%s\n", rc == 125 ? "HARNESS ERROR: " : "",
			h->abort_reason);
		exit(rc);
	}
	finish_early(h, rc);
}

void harness_fail(struct hunt *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	stop_on_error(h, "harness error", 125, fmt, ap);
}

void usage_fail(struct hunt *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	stop_on_error(h, "usage error", 64, fmt, ap);
}
