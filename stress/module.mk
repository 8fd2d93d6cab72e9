# stress/: the parallel stress driver and campaign runner.
STRESS_SRCS := $(wildcard stress/*.c)
STRESS_OBJS := $(STRESS_SRCS:%.c=$(BUILD)/obj/%.o)
ifneq ($(STRESS_SRCS),)
BINS += $(BUILD)/stress
$(BUILD)/stress: $(STRESS_OBJS) $(COMMON_LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ -ljansson -linih -ldw -lelf -lm
endif
