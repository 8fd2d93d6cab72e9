/* Compile-time check: hunt's declarations of common/'s helpers must be the
 * ones the common/ headers give (a change there is a "conflicting types" error here,
 * not a silent mismatch at link time). */
#include "../common/duration.h"
#include "../common/path.h"
#include "../common/words.h"
#include "../common/xalloc.h"
#include "sutil.h"

#include <stdint.h>

/* A duration in the common grammar (docs/interfaces.md), as seconds; -1 if
 * bad or negative.  The caller applies its own range. */
int parse_duration(const char *s, double *out)
{
	return duration_seconds(s, 0, INT64_MAX, out);
}
