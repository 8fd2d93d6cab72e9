/* newer_entry.c: one __tsan_* entry point that build/libinject.so does not
 * have, linked into a copy of the shim (build/tests/tsan-newer/): a program
 * built against that copy and run with the real shim stands for a program
 * built against a newer shim than the one it runs with. */
void __tsan_future_entry(void *a);

void __tsan_future_entry(void *a)
{
	(void)a;
}
