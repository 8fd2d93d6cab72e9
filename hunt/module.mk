# hunt/: `hunt`, which finds the lock-release site whose delay makes a
# program fail (blind screening through stress, ranking, confirmation).
# It links common/ (COMMON_LIB): the duration grammar, word splitting and
# shell quoting that stress uses too (so hunt reads options as stress does),
# the Wilson interval, PATH lookup, mkdirs, allocation, atomic result files
# and UTF-8-safe JSON strings.
HUNT_SRCS := $(wildcard hunt/*.c)
HUNT_OBJS := $(HUNT_SRCS:%.c=$(BUILD)/obj/%.o)
ifneq ($(HUNT_SRCS),)
BINS += $(BUILD)/hunt
$(BUILD)/hunt: $(HUNT_OBJS) $(COMMON_LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ -ljansson -ldw -lelf -lm
endif
