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
