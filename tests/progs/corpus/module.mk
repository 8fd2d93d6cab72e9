# tests/progs/corpus/: one small program per concurrency bug class (README.md), built
# twice:
#   build/tests/corpus/NAME       plain, like tests/progs/
#   build/tests/corpus/NAME-tsan  compiled with -fsanitize=thread and linked,
#                                 without libtsan, against build/libinject.so,
#                                 whose __tsan_* entry points make every access
#                                 and atomic an injection point (issue 13)
CORPUS_SRCS := $(wildcard tests/progs/corpus/*.c)
CORPUS_NAMES := $(CORPUS_SRCS:tests/progs/corpus/%.c=%)
CORPUS_PLAIN := $(CORPUS_NAMES:%=$(BUILD)/tests/corpus/%)
CORPUS_TSAN := $(CORPUS_NAMES:%=$(BUILD)/tests/corpus/%-tsan)
CORPUS_TSAN_OBJS := $(CORPUS_NAMES:%=$(BUILD)/tsan/tests/progs/corpus/%.o)
TEST_PROGS += $(CORPUS_PLAIN) $(CORPUS_TSAN)

# The instrumented compile: the recipe's TSAN_CFLAGS (preload/module.mk,
# KCSAN's flags with function entry/exit kept) and no sibling calls, so that
# a site's caller stays on the stack.  The link: no -fsanitize=thread (it would put
# libtsan first, and libtsan would win every binding), the shim by -l with an
# rpath relative to the binary, and -z now, so that an entry point the shim
# lacks stops the program at load with one line naming it.
CORPUS_TSAN_CFLAGS := $(TSAN_CFLAGS) -fno-optimize-sibling-calls
CORPUS_TSAN_LDFLAGS := -L$(BUILD) -linject -Wl,-rpath,'$$ORIGIN/../..' -Wl,-z,now

# Both builds bind every symbol at load (-z now): with lazy binding the first
# call of pthread_mutex_unlock runs the dynamic linker's lookup, microseconds
# inside a window that is otherwise ~0.1 us wide (lazy_init failed 4 times in
# 3,000 plain runs that way), and only in the plain build.
$(BUILD)/tests/corpus/%: $(BUILD)/obj/tests/progs/corpus/%.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< -Wl,-z,now

$(BUILD)/tsan/tests/progs/corpus/%.o: tests/progs/corpus/%.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC tsan $<"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) $(CORPUS_TSAN_CFLAGS) -c $< -o $@

$(BUILD)/tests/corpus/%-tsan: $(BUILD)/tsan/tests/progs/corpus/%.o $(BUILD)/libinject.so
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD tsan $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(CORPUS_TSAN_LDFLAGS)

