/* sutil: the helpers hunt shares with stress, from common/ (linked in, not
 * copied), so that hunt reads a duration, splits an --inject string and
 * quotes a word exactly as stress does.  sutil.c checks at compile time that
 * these declarations still match common/'s, and holds parse_duration until
 * hunt calls common/duration.h itself. */
#ifndef HUNT_SUTIL_H
#define HUNT_SUTIL_H

#include <stddef.h>

int parse_duration(const char *s, double *out);
int split_words(const char *s, char ***argv, int *argc, char *err, size_t errsz);
char *shquote(const char *s);
char *find_in_path(const char *cmd);
int mkdirs(const char *path);
char *xstrdup(const char *s);
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
