# preload/: libinject.so, the LD_PRELOAD shim.  It links the injector's policy
# (injector/policy*.c, injector/spec*.c) and the duration grammar spec.c reads
# (common/duration.c: pure, so it may run in the shim; compiled here -fPIC,
# not taken from libcommon.a), and exports only the interposed names and the
# __tsan_* entry points (preload/libinject.map); libatomic carries the 16-byte
# atomics of those.
PRELOAD_SRCS := $(wildcard preload/*.c) $(wildcard injector/policy*.c) $(wildcard injector/spec*.c) $(wildcard injector/plan*.c) \
                common/duration.c
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(BUILD)/pic/%.o)
CFLAGS_preload := -fvisibility=hidden -ftls-model=initial-exec
ifneq ($(wildcard preload/*.c),)
LIBS += $(BUILD)/libinject.so
$(BUILD)/libinject.so: $(PRELOAD_OBJS) preload/libinject.map
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(BASE_LDFLAGS) $(LDFLAGS) -Wl,--version-script=preload/libinject.map -o $@ $(PRELOAD_OBJS) -ldl -lunwind -lm -latomic
endif

# Programs compiled with -fsanitize=thread whose __tsan_* calls go to the shim
# (preload/README.md, "Instrumented programs"): compile with TSAN_CFLAGS, link
# WITHOUT -fsanitize=thread (else libtsan takes every call) and with
# TSAN_LDFLAGS after the objects.  -Wno-tsan: gcc warns that libtsan does not
# support atomic_thread_fence; we do.  -z now: a program needing an entry
# point the shim lacks fails at load, naming it, not at its first call.
# $(BUILD)/obj-tsan/X.o (gcc) and $(BUILD)/obj-tsan-clang/X.o (clang; -mcx16
# so that its 16-byte atomics reach us) are X.c so compiled, for any X.
CLANG ?= clang
TSAN_CFLAGS := -fsanitize=thread -Wno-tsan --param tsan-distinguish-volatile=1
TSAN_CLANG_CFLAGS := -fsanitize=thread -mcx16 -mllvm -tsan-distinguish-volatile=1
TSAN_LDFLAGS = -L$(abspath $(BUILD)) -linject -Wl,-rpath,$(abspath $(BUILD)) -Wl,-z,now -latomic

$(BUILD)/obj-tsan/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC tsan $<"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) $(TSAN_CFLAGS) -c $< -o $@

$(BUILD)/obj-tsan-clang/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CLANG tsan $<"
	$(Q)$(CLANG) $(CFLAGS) $(BASE_CFLAGS) $(TSAN_CLANG_CFLAGS) -c $< -o $@
