/* runtime2.c: the scheduler's shared globals, defined once (Go 1.14's
 * runtime2.go keeps sched, allm, allp, allpLock and gomaxprocs; proc.go keeps
 * m0, allgs, allglock and runtimeInitTime).  They live together here, below
 * every file that reads them, so that the dump (traceback.c) can read the
 * scheduler's state without depending on the scheduler (proc.c), which itself
 * throws through the dump.  runtime.h declares them and says what guards each.
 * The types are in runtime.h. */
#include "runtime.h"

schedt sched;
p **allp;
int32_t gomaxprocs;
m *_Atomic allm;
m *m0;
mutex allglock;
mutex allpLock;
g **allgs;
_Atomic int32_t allglen;
int32_t allgcap;
int64_t runtimeInitTime;
__thread m *g_m;

/* The model's own (not Go's): the driver sets it while it builds or frees an
 * iteration's state, so that a dump does not read that state meanwhile. */
_Atomic int schedFreeing = 1;
