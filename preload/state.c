/* state.c: the shared state of the shim (see state.h). */
#include "state.h"

__thread struct tstate inj_t TLS_IE;
struct inject_config inj_cfg;
int inj_stop;
uint64_t inj_t0;
pid_t inj_pid;
