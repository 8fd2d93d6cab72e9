/* inject_needed.h: the objects the loader maps for a program (inject_needed.c). */
#ifndef INJECT_NEEDED_H
#define INJECT_NEEDED_H

#include <libelf.h>

/* Call visit(path, e, arg) for the program at prog (a path) and for each
 * shared object the dynamic loader will map before it runs: the preloads
 * (preload: LD_PRELOAD's syntax, then /etc/ld.so.preload) and the DT_NEEDED
 * closure, found as glibc's ld.so finds them and in its order.  The object
 * at path skip (the shim) and the loader itself are followed but not
 * visited; an object not found is left out (the loader will say so).  Stops
 * at the first non-zero return of visit and returns it; 0 otherwise. */
int needed_each(const char *prog, const char *preload, const char *skip,
		int (*visit)(const char *path, Elf *e, void *arg), void *arg);

#endif
