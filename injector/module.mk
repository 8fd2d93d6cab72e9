# injector/: the policy (compiled into the shim, see preload/module.mk) and the
# `inject` launcher, which validates the same INJECT_* values before exec.  It
# links common/ (COMMON_LIB) for the duration grammar.
INJECT_SRCS := $(wildcard injector/inject*.c) $(wildcard injector/spec*.c)
INJECT_OBJS := $(INJECT_SRCS:%.c=$(BUILD)/obj/%.o)
ifneq ($(wildcard injector/inject*.c),)
BINS += $(BUILD)/inject
$(BUILD)/inject: $(INJECT_OBJS) $(COMMON_LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ -lelf
endif
# The policy objects go into the shim: keep their symbols hidden there too.
CFLAGS_injector := -fvisibility=hidden
