# runtime/: gosched, the model of Go 1.14's scheduler (the system under test).
# Go's function names must survive into symbols and stacks: no inlining, no
# sibling-call elimination, frame pointers kept.
RUNTIME_SRCS := $(wildcard runtime/*.c)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/obj/%.o)
CFLAGS_runtime := -fno-inline -fno-optimize-sibling-calls
ifneq ($(RUNTIME_SRCS),)
BINS += $(BUILD)/gosched
$(BUILD)/gosched: $(RUNTIME_OBJS) $(COMMON_LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -rdynamic -o $@ $^ -lunwind -ldw -lelf
endif

# Test-only programs built from the same runtime sources (never part of gosched;
# tests/test_runtime.py runs them):
#  - gosched-throwcases: runtime/test/throwcases.c compiles proc.c in (for its
#    static functions), links the other runtime files but main.c, and builds,
#    case by case, the state in which each Go throw fires.
#  - gosched-tsan: gosched under ThreadSanitizer, to show the model has no data
#    races (the racy reads Go makes are relaxed atomics here).
THROWCASES_OBJS := $(BUILD)/obj/runtime/test/throwcases.o \
                   $(filter-out %/main.o %/proc.o,$(RUNTIME_OBJS))
TEST_PROGS += $(BUILD)/tests/gosched-throwcases $(BUILD)/tests/gosched-tsan
$(BUILD)/tests/gosched-throwcases: $(THROWCASES_OBJS)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -rdynamic -Wl,--wrap=calloc -o $@ $^ -lunwind -ldw -lelf

$(BUILD)/tsan/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC tsan $<"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) $(CFLAGS_runtime) -fsanitize=thread -c $< -o $@

$(BUILD)/tests/gosched-tsan: $(RUNTIME_SRCS:%.c=$(BUILD)/tsan/%.o) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -fsanitize=thread -rdynamic -o $@ $^ -lunwind -ldw -lelf
