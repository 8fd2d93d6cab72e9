# tests/progs/: small C programs the tests drive (one binary per .c file),
# built as build/tests/<name>.
TPROG_SRCS := $(wildcard tests/progs/*.c)
TEST_PROGS += $(TPROG_SRCS:tests/progs/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/%: $(BUILD)/obj/tests/progs/%.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -rdynamic -o $@ $< -lunwind

# A statically linked program (libc6-dev ships libc.a): the inject launcher
# must refuse it, since no dynamic loader will read LD_PRELOAD.
TEST_PROGS += $(BUILD)/tests/static_hello
$(BUILD)/tests/static_hello: tests/progs/static/static_hello.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@ (static)"
	$(Q)$(CC) -static -O2 -o $@ $<

# A C++ program (g++, in DEB_PACKAGES): stress names an uncaught exception by
# libstdc++'s "terminate called after throwing ..." line, not just SIGABRT.
TEST_PROGS += $(BUILD)/tests/st_throw
$(BUILD)/tests/st_throw: tests/progs/cxx/st_throw.cc
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CXX     $@"
	$(Q)$(CXX) -std=c++17 -O2 -Wall -Wextra -Werror -pthread -o $@ $<

# The helpers of common/ driven from the command line (tests/test_common.py).
TEST_PROGS += $(BUILD)/tests/common_check
$(BUILD)/tests/common_check: $(BUILD)/obj/tests/progs/common/common_check.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ -ljansson -lm

# Instrumented programs (preload/README.md, "Instrumented programs"): each
# tests/progs/tsan/NAME.c is built as build/tests/tsan/NAME (gcc
# -fsanitize=thread, its __tsan_* calls linked to the shim), as
# build/tests/tsan-clang/NAME (the same with clang) and as
# build/tests/tsan-plain/NAME (no instrumentation).
TSAN_PROG_NAMES := $(notdir $(basename $(wildcard tests/progs/tsan/*.c)))
TEST_PROGS += $(foreach d,tsan tsan-clang tsan-plain,$(TSAN_PROG_NAMES:%=$(BUILD)/tests/$(d)/%))
$(BUILD)/tests/tsan/%: $(BUILD)/obj-tsan/tests/progs/tsan/%.o $(BUILD)/libinject.so
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(TSAN_LDFLAGS)
$(BUILD)/tests/tsan-clang/%: $(BUILD)/obj-tsan-clang/tests/progs/tsan/%.o $(BUILD)/libinject.so
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CLANG) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(TSAN_LDFLAGS)
# -mcx16: gcc inlines the 16-byte __sync builtins only with it (instrumented,
# they are calls to the shim).
$(BUILD)/obj/tests/progs/tsan/%.o: CFLAGS += -mcx16
$(BUILD)/obj/tests/progs/tsan/atomics.o $(BUILD)/obj-tsan/tests/progs/tsan/atomics.o: \
	CFLAGS += -Wno-sync-nand
$(BUILD)/tests/tsan-plain/%: $(BUILD)/obj/tests/progs/tsan/%.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< -latomic

# What inject must refuse (tests/test_tsan.py): the order program linked the
# usual way with libtsan (gcc) and with clang's static runtime, and one
# calling an entry point the shim lacks: built against a copy of the shim
# with one more (tsan/extra/newer_entry.c), run against the real one.
TEST_PROGS += $(BUILD)/tests/tsan-libtsan/order $(BUILD)/tests/tsan-clangrt/order \
              $(BUILD)/tests/tsan/needs_newer
$(BUILD)/tests/tsan-libtsan/order: $(BUILD)/obj-tsan/tests/progs/tsan/order.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@ (libtsan)"
	$(Q)$(CC) -fsanitize=thread $(BASE_LDFLAGS) -o $@ $<
$(BUILD)/tests/tsan-clangrt/order: $(BUILD)/obj-tsan-clang/tests/progs/tsan/order.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@ (clang runtime)"
	$(Q)$(CLANG) -fsanitize=thread $(BASE_LDFLAGS) -o $@ $<
$(BUILD)/tests/tsan-newer/libinject.so: $(PRELOAD_OBJS) $(BUILD)/pic/tests/progs/tsan/extra/newer_entry.o preload/libinject.map
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(BASE_LDFLAGS) -Wl,--version-script=preload/libinject.map -o $@ $(filter %.o,$^) -ldl -lunwind -lm -latomic
$(BUILD)/tests/tsan/needs_newer: $(BUILD)/obj-tsan/tests/progs/tsan/extra/needs_newer.o $(BUILD)/tests/tsan-newer/libinject.so $(BUILD)/libinject.so
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) -o $@ $< -L$(abspath $(BUILD))/tests/tsan-newer -linject -Wl,-rpath,$(abspath $(BUILD)) -Wl,-z,now -latomic

# An instrumented library whose constructor runs before the shim's, and a
# program using it (tests/test_tsan.py: entry points on zero state).  The
# library does not need libinject.so itself (its __tsan_* calls bind to the
# program's), so under the launcher the preloaded shim is initialised after it.
TEST_PROGS += $(BUILD)/tests/tsan/uses_early
$(BUILD)/tests/tsan/libearly.so: tests/progs/tsan/extra/early.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) $(TSAN_CFLAGS) -fPIC -c -o $@.o $<
	$(Q)$(CC) -shared $(BASE_LDFLAGS) -o $@ $@.o
$(BUILD)/tests/tsan/uses_early: $(BUILD)/obj-tsan/tests/progs/tsan/extra/uses_early.o $(BUILD)/tests/tsan/libearly.so
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) -o $@ $< -L$(abspath $(BUILD))/tests/tsan -learly -Wl,-rpath,$(abspath $(BUILD))/tests/tsan $(TSAN_LDFLAGS)

# An instrumented library (tsan/extra/lib.c) under a plain program (uses_lib.c),
# linked four ways (tests/test_tsan.py, libraries): build/tests/tsan-lib/KIND/
# holds libtlib.so and uses_lib, KIND being ok (the library linked against the
# shim, as the corpus -tsan programs are: it runs), libtsan (linked with
# -fsanitize=thread), future (calling an entry point the shim lacks, linked
# against the copy of the shim that has it, -z now) and ownrt (carrying a
# ThreadSanitizer runtime of its own, own_rt.c, the other entry points left to
# whatever defines them): inject refuses the last three.  Their programs are
# linked allowing the library's undefined __tsan_* (the shim they will meet
# lacks some).
TSAN_LIB_KINDS := ok libtsan future ownrt
TSAN_LIB_UNDEF := -Wl,--allow-shlib-undefined
TEST_PROGS += $(TSAN_LIB_KINDS:%=$(BUILD)/tests/tsan-lib/%/uses_lib)
$(BUILD)/tests/tsan-lib/%/lib.o: tests/progs/tsan/extra/lib.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC tsan $< ($*)"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) $(TSAN_CFLAGS) -fPIC $(if $(filter future,$*),-DLIB_FUTURE) -c -o $@ $<
$(BUILD)/tests/tsan-lib/ok/libtlib.so: $(BUILD)/tests/tsan-lib/ok/lib.o $(BUILD)/libinject.so
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(BASE_LDFLAGS) -o $@ $< $(TSAN_LDFLAGS)
$(BUILD)/tests/tsan-lib/libtsan/libtlib.so: $(BUILD)/tests/tsan-lib/libtsan/lib.o
	@[ "$(V)" = 1 ] || echo "  LD      $@ (libtsan)"
	$(Q)$(CC) -shared -fsanitize=thread $(BASE_LDFLAGS) -o $@ $<
$(BUILD)/tests/tsan-lib/future/libtlib.so: $(BUILD)/tests/tsan-lib/future/lib.o $(BUILD)/tests/tsan-newer/libinject.so $(BUILD)/libinject.so
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(BASE_LDFLAGS) -o $@ $< -L$(abspath $(BUILD))/tests/tsan-newer -linject -Wl,-rpath,$(abspath $(BUILD)) -Wl,-z,now -latomic
$(BUILD)/tests/tsan-lib/ownrt/libtlib.so: $(BUILD)/tests/tsan-lib/ownrt/lib.o $(BUILD)/pic/tests/progs/tsan/extra/own_rt.o
	@[ "$(V)" = 1 ] || echo "  LD      $@ (own runtime)"
	$(Q)$(CC) -shared $(BASE_LDFLAGS) -o $@ $^
$(BUILD)/tests/tsan-lib/%/uses_lib: $(BUILD)/obj/tests/progs/tsan/extra/uses_lib.o $(BUILD)/tests/tsan-lib/%/libtlib.so
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< -L$(abspath $(BUILD))/tests/tsan-lib/$* -ltlib -Wl,-rpath,$(abspath $(BUILD))/tests/tsan-lib/$* \
		$(if $(filter future ownrt,$*),$(TSAN_LIB_UNDEF))
