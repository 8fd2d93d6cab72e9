/* words: command lines as text, both ways.  split_words reads a flag string
 * the way a shell splits words (stress --inject "FLAGS", the campaign keys
 * command and inject, hunt --inject-flags) without expanding anything;
 * shquote writes a word so that a POSIX shell reads it back unchanged
 * (replay.sh, the commands hunt prints).  Both allocate through xalloc.h. */
#ifndef COMMON_WORDS_H
#define COMMON_WORDS_H

#include <stddef.h>

/* Split S into words: blanks (space, tab, newline) separate, '...' is
 * literal, "..." allows the escapes \" \\ \$ \`, and a backslash outside
 * quotes takes the next character literally.  No globs, no $VAR, no $(...).
 * Sets *argv (NULL-terminated, each word and the array malloc'd) and *argc;
 * returns 0, or -1 with a one-line reason in err (an unterminated quote). */
int split_words(const char *s, char ***argv, int *argc, char *err, size_t errsz);

/* S quoted for a POSIX shell (malloc'd): a plain word (letters, digits and
 * -_./=:,+@%) as it is, anything else in single quotes. */
char *shquote(const char *s);

#endif
