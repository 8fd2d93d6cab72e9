/* own_rt.c: a ThreadSanitizer runtime of a library's own (tests/test_tsan.py):
 * the entry points lib.c's library calls first, defined in the library.  The
 * preloaded shim's would be bound in their place for every other object, so
 * the launcher refuses the program. */
void __tsan_init(void);
void __tsan_func_entry(void *pc);
void __tsan_func_exit(void);

static long own_calls;

void __tsan_init(void)
{
	own_calls++;
}

void __tsan_func_entry(void *pc)
{
	(void)pc;
	own_calls++;
}

void __tsan_func_exit(void)
{
	own_calls++;
}
