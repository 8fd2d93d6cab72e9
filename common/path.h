/* path: finding a command and making a directory, as the shell would. */
#ifndef COMMON_PATH_H
#define COMMON_PATH_H

#include <stddef.h>

/* Where execvp(3) would find CMD: CMD itself when it holds a slash, else
 * the first entry of PATH holding an executable file of that name (PATH
 * unset: glibc's default, /bin:/usr/bin; an empty entry: the current
 * directory, written "./CMD").  Directories and files without execute
 * permission are passed over, as execvp passes them over.  Writes the path
 * to OUT (LEN bytes); 0, or -1 when there is none or it does not fit.
 * Allocates nothing. */
int path_lookup(const char *cmd, char *out, size_t len);

/* path_lookup's answer, malloc'd (xalloc.h), made absolute when CMD holds
 * a slash (so a later chdir cannot change what it names); NULL when CMD is
 * not found. */
char *find_in_path(const char *cmd);

/* mkdir -p: PATH and its missing parents, mode 0755.  0, or -1 with errno. */
int mkdirs(const char *path);

#endif
