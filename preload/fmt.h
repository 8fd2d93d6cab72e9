/* fmt.h: async-signal-safe output for the shim: numbers and strings into a
 * caller's buffer, and one line on stderr.  No malloc, no stdio, no locks,
 * no state: every file of the shim may use these, from a hook, a signal
 * handler or the ending, and they use nothing of the shim's. */
#ifndef INJECT_FMT_H
#define INJECT_FMT_H

#include <stdint.h>

#include "shim.h"

/* Each writes at p and returns the end of what it wrote (no NUL).  u64 and
 * hex need room for 20 and 16 characters; str stops at end. */
char *inj_fmt_u64(char *p, uint64_t v) HIDDEN;
char *inj_fmt_hex(char *p, uint64_t v) HIDDEN;
char *inj_fmt_str(char *p, const char *s, char *end) HIDDEN;

/* msg and a newline on stderr, with raw write(2)s (not a cancellation
 * point); errno is kept. */
void inj_write_err(const char *msg) HIDDEN;

#endif
