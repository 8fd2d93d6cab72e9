/* Compile-time check: hunt's declarations of stress/util.c's helpers must be
 * the ones stress.h gives (a change there is a "conflicting types" error
 * here, not a silent mismatch at link time). */
#include "../stress/stress.h"
#include "sutil.h"
