/* io: how hunt writes its result files.  Each file appears whole or not at
 * all (a temporary name in the same directory, then rename), and a write
 * that fails says so: hunt reports it as a harness error (exit 125) instead
 * of leaving a missing or truncated report behind a normal exit status. */
#ifndef HUNT_IO_H
#define HUNT_IO_H

#include <stddef.h>

/* Write LEN bytes to PATH through PATH.tmp.<pid> and rename.  Returns 0, or
 * -1 with errno set (the temporary file removed, PATH untouched). */
int atomic_write(const char *path, const char *data, size_t len, int mode);

#endif
