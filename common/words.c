/* words: shell-like word splitting and shell quoting (see words.h). */
#include "words.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Split a flag string into words: blanks separate, '...' is literal,
 * "..." allows \" \\ \$ \` escapes, a backslash outside quotes escapes the
 * next character.  No expansion of any kind (no globs, no $VAR, no $(...)). */
int split_words(const char *s, char ***argvp, int *argcp, char *err, size_t errsz)
{
	char **argv = NULL;
	int argc = 0;
	size_t len = strlen(s);
	char *w = xmalloc(len + 1);
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		size_t n = 0;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');
				if (!q) {
					snprintf(err, errsz, "unterminated ' in \"%s\"", s);
					goto fail;
				}
				memcpy(w + n, p + 1, (size_t)(q - p - 1));
				n += (size_t)(q - p - 1);
				p = q + 1;
			} else if (*p == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
						p++;
					w[n++] = *p++;
				}
				if (!*p) {
					snprintf(err, errsz, "unterminated \" in \"%s\"", s);
					goto fail;
				}
				p++;
			} else if (*p == '\\' && p[1]) {
				w[n++] = p[1];
				p += 2;
			} else {
				w[n++] = *p++;
			}
		}
		w[n] = 0;
		argv = xrealloc(argv, sizeof *argv * (size_t)(argc + 2));
		argv[argc++] = xstrdup(w);
		argv[argc] = NULL;
	}
	free(w);
	if (!argv) {
		argv = xmalloc(sizeof *argv);
		argv[0] = NULL;
	}
	*argvp = argv;
	*argcp = argc;
	return 0;
fail:
	free(w);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return -1;
}

/* Quote s for a POSIX shell; plain words stay as they are. */
char *shquote(const char *s)
{
	bool plain = *s != 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_./=:,+@%", *p))
			plain = false;
	if (plain)
		return xstrdup(s);
	size_t n = 3;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *o = xmalloc(n), *q = o;
	*q++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else {
			*q++ = *p;
		}
	}
	*q++ = '\'';
	*q = 0;
	return o;
}
