# tests/progs/: small C programs the tests drive (one binary per .c file),
# built as build/tests/<name>.
TPROG_SRCS := $(wildcard tests/progs/*.c)
TEST_PROGS += $(TPROG_SRCS:tests/progs/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/%: $(BUILD)/obj/tests/progs/%.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -rdynamic -o $@ $< -lunwind
