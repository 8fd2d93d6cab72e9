/* inj_jit: more distinct unlock sites than the shim's site table holds, for
 * the test that a full table is counted, never silent.
 *
 *   inj_jit SITES PASSES
 *
 * Writes x86-64 code into an anonymous mapping: one function that calls
 * pthread_mutex_unlock SITES times, each call its own site (its own return
 * address), on an error-checking mutex that is never locked (each call
 * returns EPERM and changes nothing).  Calls it PASSES times.  Prints "ok",
 * or "unsupported" (exit 0) on other machines. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__)
static void put(unsigned char **p, const void *b, size_t n)
{
	memcpy(*p, b, n);
	*p += n;
}

int main(int argc, char **argv)
{
	long sites = argc > 1 ? atol(argv[1]) : 0;
	int passes = argc > 2 ? atoi(argv[2]) : 1;
	if (sites < 1 || sites > 10000000) {
		fputs("usage: inj_jit SITES PASSES\n", stderr);
		return 1;
	}
	static pthread_mutex_t mu;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&mu, &a);
	size_t size = 64 + 5 * (size_t)sites;
	unsigned char *code = mmap(NULL, size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED) {
		perror("inj_jit: mmap");
		return 1;
	}
	int (*unlock)(pthread_mutex_t *) = pthread_mutex_unlock;
	uint64_t fn = (uint64_t)(uintptr_t)unlock, arg = (uint64_t)(uintptr_t)&mu;
	unsigned char *p = code;
	put(&p, "\x53\x41\x54\x48\x83\xec\x08", 7);        /* push rbx; push r12; sub rsp,8 */
	put(&p, "\x48\xbb", 2);                             /* movabs rbx, fn */
	put(&p, &fn, 8);
	put(&p, "\x49\xbc", 2);                             /* movabs r12, &mu */
	put(&p, &arg, 8);
	for (long i = 0; i < sites; i++)
		put(&p, "\x4c\x89\xe7\xff\xd3", 5);         /* mov rdi, r12; call rbx */
	put(&p, "\x48\x83\xc4\x08\x41\x5c\x5b\xc3", 8);    /* add rsp,8; pop r12; pop rbx; ret */
	if (mprotect(code, size, PROT_READ | PROT_EXEC)) {
		perror("inj_jit: mprotect");
		return 1;
	}
	void (*run)(void) = (void (*)(void))(uintptr_t)code;
	for (int i = 0; i < passes; i++)
		run();
	puts("ok");
	return 0;
}
#else
int main(void)
{
	puts("unsupported");
	return 0;
}
#endif
