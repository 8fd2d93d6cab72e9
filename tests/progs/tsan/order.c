/* order.c: issue 13's order violation between two plain stores.  set()
 * stores a = 1 then b = -1; check() reads a then b and must see both stores
 * or neither.  The window is a few instructions, and no lock is near, so a
 * delay at a lock release can never split it; under -fsanitize=thread every
 * access is a point where the shim can hold a thread back.
 *
 *   order            one setter, one checker (the program)
 * Exit 1 with "order violation: a=A b=B" on stderr when check() saw one store
 * without the other, else 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int a, b;

static void *set(void *arg)
{
	(void)arg;
	a = 1;
	b = -1;
	return NULL;
}

static void *check(void *arg)
{
	(void)arg;
	int x = a, y = b;
	if (!((x == 0 && y == 0) || (x == 1 && y == -1))) {
		fprintf(stderr, "order violation: a=%d b=%d\n", x, y);
		exit(1);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	if (pthread_create(&t[0], NULL, set, NULL) || pthread_create(&t[1], NULL, check, NULL)) {
		fprintf(stderr, "order: pthread_create failed\n");
		return 125;
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	return 0;
}
