/* inject_target.h: whether LD_PRELOAD can reach a program (inject_target.c). */
#ifndef INJECT_TARGET_H
#define INJECT_TARGET_H

#include <stddef.h>

/* NULL if the shim can enter prog (or we cannot tell); else one line saying
 * why not, written into why. */
const char *inject_unreachable(const char *prog, char *why, size_t len);

#endif
