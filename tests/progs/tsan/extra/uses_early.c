/* uses_early.c: main of early.c's library (extra/early.c): prints "early ok"
 * when the library's constructor computed right, then makes accesses of its
 * own. */
#include <stdio.h>

extern int early_ok;
int late;

int main(void)
{
	for (int i = 0; i < 100; i++)
		late += i;
	printf("early %s late=%d\n", early_ok ? "ok" : "WRONG", late);
	return !early_ok;
}
