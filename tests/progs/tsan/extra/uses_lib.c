/* uses_lib.c: a program, not instrumented, whose library lib.c is
 * (tests/test_tsan.py, libraries): prints the library's result. */
#include <stdio.h>

long lib_work(long n);

int main(void)
{
	printf("lib_work=%ld\n", lib_work(1000));
	return 0;
}
