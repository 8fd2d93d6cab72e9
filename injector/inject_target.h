/* inject_target.h: whether LD_PRELOAD can reach a program (inject_target.c). */
#ifndef INJECT_TARGET_H
#define INJECT_TARGET_H

#include <stddef.h>

/* NULL if the shim can enter prog (or we cannot tell); else one line saying
 * why not, written into why. */
const char *inject_unreachable(const char *prog, char *why, size_t len);

/* For a program compiled with -fsanitize=thread: NULL if every __tsan_*
 * function prog calls is exported by the shim at path shim, else one line
 * naming the first that is not, in why; also refused: prog needs libtsan or
 * defines __tsan_* itself.  The same for every library prog will load (the
 * shim preloaded before LD_PRELOAD's objects, inject_needed.c): the line
 * names the first refused one.  *instrumented: prog or one of them calls
 * some __tsan_*. */
const char *inject_tsan_unserved(const char *prog, const char *shim, int *instrumented,
				 char *why, size_t len);

#endif
