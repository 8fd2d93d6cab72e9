# common/: the helpers the tools share, one copy each (common/*.h say what
# each gives).  Included before the tools' modules.  The tools link the
# archive COMMON_LIB, so that each binary takes only the objects it calls.
# libinject.so compiles the one it may use, common/duration.c, with the
# shim's own flags (-fPIC): the others allocate or print.
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
COMMON_LIB := $(BUILD)/libcommon.a
$(COMMON_LIB): $(COMMON_OBJS)
	@[ "$(V)" = 1 ] || echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^
