/* resultio: how stress and hunt write result files.  Each file appears whole
 * or not at all (a temporary name in the same directory, then rename), and a
 * write that fails says so: the tools report it as a harness error (exit 125)
 * instead of leaving a missing or truncated report behind a normal exit
 * status. */
#ifndef COMMON_RESULTIO_H
#define COMMON_RESULTIO_H

#include <stddef.h>

/* Write LEN bytes to PATH through PATH.tmp.<pid> and rename.  Returns 0, or
 * -1 with errno set (the temporary file removed, PATH untouched). */
int atomic_write(const char *path, const char *data, size_t len, int mode);

/* Strings from outside (command words, paths, site names, file names
 * from DWARF, option values) can hold any bytes; jansson refuses invalid
 * UTF-8 (json_string and json_pack return NULL and a key or the whole
 * document silently goes missing), and XML forbids it. */

/* The length of the well-formed UTF-8 sequence at p (RFC 3629), or 0. */
size_t utf8_seq(const unsigned char *p);
/* A malloc'd copy of s with each byte that is not part of a well-formed
 * sequence replaced by U+FFFD; with ctl, control characters (but tab and
 * newline) too. */
char *utf8_fix(const char *s, int ctl);
struct json_t;
/* A JSON string for s whatever its bytes (U+FFFD for bad ones); JSON null
 * for NULL.  NULL only when out of memory. */
struct json_t *json_str(const char *s);

#endif
