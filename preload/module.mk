# preload/: libinject.so, the LD_PRELOAD shim.  It links the injector's policy
# (injector/policy*.c, injector/spec*.c) and exports only the interposed names
# (preload/libinject.map).
PRELOAD_SRCS := $(wildcard preload/*.c) $(wildcard injector/policy*.c) $(wildcard injector/spec*.c)
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(BUILD)/pic/%.o)
CFLAGS_preload := -fvisibility=hidden -ftls-model=initial-exec
ifneq ($(wildcard preload/*.c),)
LIBS += $(BUILD)/libinject.so
$(BUILD)/libinject.so: $(PRELOAD_OBJS) preload/libinject.map
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(BASE_LDFLAGS) $(LDFLAGS) -Wl,--version-script=preload/libinject.map -o $@ $(PRELOAD_OBJS) -ldl -lunwind -lm
endif
