# preload/: libinject.so, the LD_PRELOAD shim.  It links the injector's policy
# (injector/policy*.c, injector/spec*.c) and the duration grammar spec.c reads
# (common/duration.c: pure, so it may run in the shim; compiled here -fPIC,
# not taken from libcommon.a), and exports only the interposed names
# (preload/libinject.map).
PRELOAD_SRCS := $(wildcard preload/*.c) $(wildcard injector/policy*.c) $(wildcard injector/spec*.c) \
                common/duration.c
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(BUILD)/pic/%.o)
CFLAGS_preload := -fvisibility=hidden -ftls-model=initial-exec
ifneq ($(wildcard preload/*.c),)
LIBS += $(BUILD)/libinject.so
$(BUILD)/libinject.so: $(PRELOAD_OBJS) preload/libinject.map
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(BASE_LDFLAGS) $(LDFLAGS) -Wl,--version-script=preload/libinject.map -o $@ $(PRELOAD_OBJS) -ldl -lunwind -lm
endif
