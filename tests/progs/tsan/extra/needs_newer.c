/* needs_newer.c: an instrumented program that calls an entry point the shim
 * it runs with lacks (newer_entry.c): inject must refuse it, naming the
 * entry point, before it runs. */
#include <stdio.h>

void __tsan_future_entry(void *a);

int shared;

int main(void)
{
	shared++;
	__tsan_future_entry(&shared);
	printf("needs_newer ran\n");
	return 0;
}
