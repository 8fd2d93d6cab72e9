# runtime/: gosched, the model of Go 1.14's scheduler (the system under test).
# Go's function names must survive into symbols and stacks: no inlining, no
# sibling-call elimination, frame pointers kept.
RUNTIME_SRCS := $(wildcard runtime/*.c)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/obj/%.o)
CFLAGS_runtime := -fno-inline -fno-optimize-sibling-calls
ifneq ($(RUNTIME_SRCS),)
BINS += $(BUILD)/gosched
$(BUILD)/gosched: $(RUNTIME_OBJS)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -rdynamic -o $@ $^ -lunwind -ldw -lelf
endif
