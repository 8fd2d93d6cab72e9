# hunt/: `hunt`, which finds the lock-release site whose delay makes a
# program fail (blind screening through stress, ranking, confirmation).
# It links common/ (COMMON_LIB) for the duration grammar, the --inject word
# splitter and the shell quoting, so that it reads options as stress does.
HUNT_SRCS := $(wildcard hunt/*.c)
HUNT_OBJS := $(HUNT_SRCS:%.c=$(BUILD)/obj/%.o)
ifneq ($(HUNT_SRCS),)
BINS += $(BUILD)/hunt
$(BUILD)/hunt: $(HUNT_OBJS) $(COMMON_LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ -ljansson -ldw -lelf -lm
endif
