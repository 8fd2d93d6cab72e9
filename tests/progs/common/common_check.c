/* common_check: the helpers of common/ run from the command line, so that
 * tests/test_common.py can hold every test of them in one table.
 *
 *   common_check duration S...          one line per S: S<TAB>ns, or S<TAB>syntax|overflow
 *   common_check duration_n S LEN       the first LEN bytes of S
 *   common_check seconds S MIN_NS MAX_NS  %.17g seconds, or "bad"
 *   common_check wilson K N             "%.17g %.17g"
 *   common_check utf8 FLAGS HEX [LEN]   utf8_fix_n of the bytes HEX (LEN: of them), as hex
 *   common_check json HEX...            json_strv of the strings HEX..., dumped
 *   common_check split S                "ok N" and each word in hex, or "error: REASON"
 *   common_check shquote S              shquote(S)
 *   common_check path CMD               path_lookup(CMD), or "none"
 *   common_check find CMD               find_in_path(CMD), or "none"
 *   common_check mkdirs P               "ok", or "error: strerror"
 *   common_check oom                    xmalloc of more than can be had
 *
 * Exit 0, or 64 on a command it does not know. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../common/duration.h"
#include "../../../common/path.h"
#include "../../../common/resultio.h"
#include "../../../common/wilson.h"
#include "../../../common/words.h"
#include "../../../common/xalloc.h"

static char *unhex(const char *h, size_t *len)
{
	size_t n = strlen(h) / 2;
	char *o = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		o[i] = (char)v;
	}
	o[n] = 0;
	*len = n;
	return o;
}

static void puthex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", (unsigned char)s[i]);
	putchar('\n');
}

static void duration(const char *s, size_t len)
{
	int64_t ns = 12345;
	int rc = duration_parse_n(s, len, &ns);
	if (rc == DURATION_OK)
		printf("%s\t%lld\n", s, (long long)ns);
	else
		printf("%s\t%s\n", s, rc == DURATION_SYNTAX ? "syntax" : rc == DURATION_OVERFLOW ?
		       "overflow" : "?");
	/* A refusal leaves *ns alone. */
	if (rc != DURATION_OK && ns != 12345)
		printf("%s\tclobbered\n", s);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "duration")) {
		for (int i = 2; i < argc; i++) {
			duration(argv[i], strlen(argv[i]));
			/* The NUL-terminated entry point agrees. */
			int64_t a = 0, b = 0;
			if (duration_parse(argv[i], &a) != duration_parse_n(argv[i], strlen(argv[i]), &b) ||
			    a != b)
				printf("%s\tdisagree\n", argv[i]);
		}
	} else if (!strcmp(cmd, "duration_n") && argc == 4) {
		duration(argv[2], strtoul(argv[3], NULL, 10));
	} else if (!strcmp(cmd, "seconds") && argc == 5) {
		double d;
		if (duration_seconds(argv[2], strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10), &d) < 0)
			printf("bad\n");
		else
			printf("%.17g\n", d);
	} else if (!strcmp(cmd, "wilson") && argc == 4) {
		double lo, hi;
		wilson(strtoll(argv[2], NULL, 10), strtoll(argv[3], NULL, 10), &lo, &hi);
		printf("%.17g %.17g\n", lo, hi);
	} else if (!strcmp(cmd, "utf8") && (argc == 4 || argc == 5)) {
		size_t n;
		char *in = unhex(argv[3], &n);
		if (argc == 5)
			n = strtoul(argv[4], NULL, 10);
		char *out = utf8_fix_n(in, n, (unsigned)strtoul(argv[2], NULL, 0));
		puthex(out, strlen(out));
		if (argc == 4 && strlen(in) == n) {
			char *again = utf8_fix(in, (unsigned)strtoul(argv[2], NULL, 0));
			if (strcmp(again, out))
				printf("utf8_fix and utf8_fix_n disagree\n");
			free(again);
		}
		free(out);
		free(in);
	} else if (!strcmp(cmd, "json")) {
		char **v = xmalloc(sizeof *v * (size_t)argc);
		for (int i = 2; i < argc; i++) {
			size_t n;
			v[i - 2] = unhex(argv[i], &n);
		}
		json_t *a = json_strv(v, argc - 2);
		char *t = a ? json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		printf("%s\n", t ? t : "NULL");
		free(t);
		json_decref(a);
	} else if (!strcmp(cmd, "split") && argc == 3) {
		char **w, err[256];
		int n;
		if (split_words(argv[2], &w, &n, err, sizeof err) < 0) {
			printf("error: %s\n", err);
		} else {
			printf("ok %d\n", n);
			for (int i = 0; i < n; i++)
				puthex(w[i], strlen(w[i]));
			if (w[n])
				printf("not NULL-terminated\n");
		}
	} else if (!strcmp(cmd, "shquote") && argc == 3) {
		printf("%s\n", shquote(argv[2]));
	} else if (!strcmp(cmd, "path") && argc == 3) {
		char buf[4096];
		printf("%s\n", path_lookup(argv[2], buf, sizeof buf) == 0 ? buf : "none");
	} else if (!strcmp(cmd, "find") && argc == 3) {
		char *p = find_in_path(argv[2]);
		printf("%s\n", p ? p : "none");
	} else if (!strcmp(cmd, "mkdirs") && argc == 3) {
		if (mkdirs(argv[2]) == 0)
			printf("ok\n");
		else
			printf("error: %s\n", strerror(errno));
	} else if (!strcmp(cmd, "oom")) {
		xmalloc(SIZE_MAX / 2);
		printf("allocated\n");
	} else {
		fprintf(stderr, "common_check: unknown command (see its source)\n");
		return 64;
	}
	return 0;
}
