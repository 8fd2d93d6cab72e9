/* resultio: how stress and hunt write result files.  Each file appears whole
 * or not at all (a temporary name in the same directory, then rename), and a
 * write that fails says so: the tools report it as a harness error (exit 125)
 * instead of leaving a missing or truncated report behind a normal exit
 * status.  And the text they write is text: valid UTF-8 whatever bytes came
 * in, so that jansson and XML take it. */
#ifndef COMMON_RESULTIO_H
#define COMMON_RESULTIO_H

#include <stddef.h>

/* Write LEN bytes to PATH through PATH.tmp.<pid> and rename.  Returns 0, or
 * -1 with errno set (the temporary file removed, PATH untouched). */
int atomic_write(const char *path, const char *data, size_t len, int mode);

/* Strings from outside (command words, paths, site names, file names
 * from DWARF, option values, a program's output) can hold any bytes;
 * jansson refuses invalid UTF-8 (json_string and json_pack return NULL and a
 * key or the whole document silently goes missing), and XML forbids it. */

/* The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF) at the first AVAIL bytes of p, or 0
 * (also for a NUL byte, and for a sequence cut short by AVAIL). */
size_t utf8_seq(const unsigned char *p, size_t avail);

/* What utf8_fix replaces besides bytes that are not UTF-8. */
enum {
	UTF8_CTL = 1,     /* control characters: C0 but tab and newline, and DEL */
	UTF8_CTL_NL = 2,  /* the same and newline: one line of text */
	UTF8_QMARK = 4,   /* replace with '?' instead of U+FFFD (ASCII stays ASCII) */
};

/* A malloc'd, NUL-terminated copy of the LEN bytes at S in which each byte
 * that does not begin a well-formed sequence (a NUL byte too), and each
 * character FLAGS names, is replaced by U+FFFD (or '?').  NULL only when
 * out of memory. */
char *utf8_fix_n(const char *s, size_t len, unsigned flags);
/* The same for a NUL-terminated S. */
char *utf8_fix(const char *s, unsigned flags);

struct json_t;
/* A JSON string for s whatever its bytes (U+FFFD for bad ones); JSON null
 * for NULL.  NULL only when out of memory. */
struct json_t *json_str(const char *s);
/* A JSON array of the N strings V, each as json_str makes it.  NULL when
 * any element could not be built (out of memory): never an array with an
 * element silently left out. */
struct json_t *json_strv(char *const *v, int n);

#endif
