/* Classify a finished run.
 *
 * A run passes when it exited with an accepted status (--ok-status, default
 * 0).  Otherwise it fails, unless --failure RE is given and does not match
 * its output, or --ignore RE matches (as in Go's stress).  A timed-out run
 * always fails.  The failure's signature is, first match wins:
 *   1. timeout                     the run hit --timeout (we sent SIGQUIT)
 *   2. the text after "fatal error: " on the first such line (Go's throw)
 *   3. "panic: ..." on the first such line
 *   4. a C++ program's uncaught exception: libstdc++'s "terminate called
 *      after throwing an instance of 'X'", with ": " and the first line of
 *      its "what():" text when there is one (or "terminate called without
 *      an active exception")
 *   5. an assertion failure text
 *   6. the signal's name ("SIGSEGV") when it was killed by a signal
 *   7. "exit N"
 * Exit status 125 with a line starting "inject:" is the launcher (or the
 * shim) refusing its flags, and so is 64 with such a line under the
 * launcher: a harness error, never a failure of the program.
 *
 * A failure reproduces what the job is after when its signature matches the
 * job's --signature (POSIX ERE, searched in the signature text); without
 * one, every failure but a timeout does.
 */
#include "stress.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIG_MAX 160

/* The first line starting with prefix; returns the rest of that line. */
static const char *line_with(const char *out, const char *prefix, size_t *len)
{
	size_t pl = strlen(prefix);
	for (const char *p = out; p && *p;) {
		if (strncmp(p, prefix, pl) == 0) {
			const char *e = strchr(p, '\n');
			*len = e ? (size_t)(e - p) : strlen(p);
			return p;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* An assertion failure line (glibc "prog: f.c:3: fn: Assertion `x' failed.",
 * musl/BSD "Assertion failed: x (f.c: fn: 3)"); returns from "Assertion". */
static const char *assertion(const char *out, size_t *len)
{
	for (const char *p = out; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		for (size_t i = 0; i + 9 <= n; i++) {
			if (strncasecmp(p + i, "assertion", 9) == 0) {
				const char *rest = p + i;
				size_t rn = n - i;
				for (size_t k = 0; k + 4 <= rn; k++)
					if (strncasecmp(rest + k, "fail", 4) == 0) {
						*len = rn;
						return rest;
					}
			}
		}
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

/* The signature from the N bytes at S, into sig: trailing blanks trimmed,
 * at most SIG_MAX bytes. */
static void set_sig(char *sig, size_t sigsz, const char *s, size_t n)
{
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n > SIG_MAX)
		n = SIG_MAX;
	/* Cut on a character boundary, then make it valid UTF-8 without
	 * control characters: a signature is a JSON key and a path. */
	char *c = utf8_fix_n(s, n, UTF8_CTL_NL | UTF8_QMARK);
	if (!c)
		xalloc_die();
	size_t m = strlen(c);
	if (m >= sigsz)
		m = sigsz - 1;
	while (m && ((unsigned char)c[m] & 0xc0) == 0x80)
		m--;
	memcpy(sig, c, m);
	sig[m] = 0;
	free(c);
}

const char *signame(int sig)
{
	static char buf[32];
	const char *ab = sigabbrev_np(sig);
	if (ab)
		snprintf(buf, sizeof buf, "SIG%s", ab);
	else
		snprintf(buf, sizeof buf, "signal %d", sig);
	return buf;
}

/* libstdc++'s words for std::terminate (__gnu_cxx::__verbose_terminate_handler). */
static bool cxx_terminate(const char *out, char *sig, size_t sigsz)
{
	size_t n;
	const char *p = line_with(out, "terminate called ", &n);
	if (!p)
		return false;
	char buf[SIG_MAX * 2 + 16];
	snprintf(buf, sizeof buf, "%.*s", (int)(n < SIG_MAX ? n : SIG_MAX), p);
	/* The next line, when it is "  what():  TEXT". */
	const char *w = p[n] ? p + n + 1 : NULL;
	while (w && (*w == ' ' || *w == '\t'))
		w++;
	if (w && !strncmp(w, "what():", 7)) {
		w += 7;
		while (*w == ' ' || *w == '\t')
			w++;
		const char *e = strchr(w, '\n');
		size_t wl = e ? (size_t)(e - w) : strlen(w);
		size_t bl = strlen(buf);
		snprintf(buf + bl, sizeof buf - bl, ": %.*s", (int)(wl < SIG_MAX ? wl : SIG_MAX), w);
	}
	set_sig(sig, sigsz, buf, strlen(buf));
	return true;
}

bool sig_reproduces(const struct job *j, const char *sig)
{
	if (j->signature_re)
		return regexec(j->signature_re, sig, 0, NULL, 0) == 0;
	return strcmp(sig, "timeout") != 0;
}

enum outcome classify(const struct job *j, const struct runinfo *r, char *sig, size_t sigsz)
{
	const char *p;
	size_t n;

	sig[0] = 0;
	if (r->exited && (r->code == EXIT_HARNESS || (r->code == EXIT_USAGE && j->inject_argv)) &&
	    (p = line_with(r->out, "inject:", &n))) {
		set_sig(sig, sigsz, p, n);
		return OUT_HARNESS;
	}
	if (r->timed_out) {
		snprintf(sig, sigsz, "timeout");
		return OUT_FAIL;
	}
	if (r->exited)
		for (int i = 0; i < j->nok; i++)
			if (r->code == j->ok_status[i])
				return OUT_PASS;
	if (j->failure_re && regexec(j->failure_re, r->out, 0, NULL, 0) != 0)
		return OUT_PASS;
	if (j->ignore_re && regexec(j->ignore_re, r->out, 0, NULL, 0) == 0)
		return OUT_PASS;

	if ((p = line_with(r->out, "fatal error: ", &n)))
		set_sig(sig, sigsz, p + 13, n - 13);
	else if ((p = line_with(r->out, "panic: ", &n)))
		set_sig(sig, sigsz, p, n);
	else if (cxx_terminate(r->out, sig, sigsz))
		;
	else if ((p = assertion(r->out, &n)))
		set_sig(sig, sigsz, p, n);
	else if (!r->exited)
		snprintf(sig, sigsz, "%s", signame(r->code));
	else
		snprintf(sig, sigsz, "exit %d", r->code);
	if (!sig[0])
		snprintf(sig, sigsz, "fatal error");
	return OUT_FAIL;
}
