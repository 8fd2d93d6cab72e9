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

void finish_early(int rc)
{
	if (H.stop_sig) {
		H.abort_verdict = "interrupted";
		long f, p, x;
		rank_outcomes(&H.R, -1, &f, &p, &x);
		const char *nm = sigabbrev_np(H.stop_sig);
		snprintf(H.abort_reason, sizeof H.abort_reason, "SIG%s stopped hunt %s%s; no verdict: "
			 "the tables cover the %ld runs that finished", nm ? nm : "?",
			 H.where ? "in " : "before its first run", H.where ? H.where : "", f + p + x);
		rc = 128 + H.stop_sig;
		/* A closed pipe on stdout must not turn the signal's ending
		 * into a SIGPIPE one. */
		signal(SIGPIPE, SIG_IGN);
	}
	H.culprit = NULL;
	H.exact_site = NULL;
	if (!H.blind_done)
		H.stop_reason = H.abort_verdict;
	const char *werr = NULL;
	if (H.dir[0]) {
		if (!H.blind_s)
			H.blind_s = elapsed();
		struct row *funcs, *sites;
		int mf, ms;
		int nf = rank_rows(&H.R, PH_BLIND, 1, &funcs, &mf);
		int ns = rank_rows(&H.R, PH_BLIND, 0, &sites, &ms);
		H.tested_funcs = mf;
		H.tested_sites = ms;
		report(funcs, nf, sites, ns, rc);
		werr = report_write_error();
		rank_free(funcs, nf);
		rank_free(sites, ns);
	}
	fflush(stdout);
	fprintf(stderr, "hunt: %s%s%s%s%s%s%s\n", H.stop_sig ? "interrupted: " : rc == 125 ?
		"HARNESS ERROR: " : "", H.abort_reason, werr ? "; and " : "", werr ? werr : "",
		H.dir[0] && !werr ? " (report in " : "", H.dir[0] && !werr ? H.dir : "",
		H.dir[0] && !werr ? ")" : "");
	if (H.stop_sig) {
		/* End as the signal would have ended hunt: a shell (or a script's
		 * loop) sees hunt killed by it. */
		signal(H.stop_sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, H.stop_sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(H.stop_sig);
	}
	exit(werr ? 125 : rc);
}

/* End hunt on an error that is no verdict: one line on stderr, and the
 * results folder (once it exists) says so. */
static void __attribute__((noreturn, format(printf, 3, 0)))
stop_on_error(const char *verdict, int rc, const char *fmt, va_list ap)
{
	vsnprintf(H.abort_reason, sizeof H.abort_reason, fmt, ap);
	H.abort_verdict = verdict;
	if (!H.dir[0]) {
		fprintf(stderr, "hunt: %s%s\n", rc == 125 ? "HARNESS ERROR: " : "", H.abort_reason);
		exit(rc);
	}
	finish_early(rc);
}

void harness_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	stop_on_error("harness error", 125, fmt, ap);
}

void usage_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	stop_on_error("usage error", 64, fmt, ap);
}
