# injector/: the policy (compiled into the shim, see preload/module.mk) and the
# `inject` launcher, which validates the same INJECT_* values before exec.  It
# links common/ (COMMON_LIB) for the duration grammar.
INJECT_SRCS := $(wildcard injector/inject*.c) $(wildcard injector/spec*.c) $(wildcard injector/plan*.c)
INJECT_OBJS := $(INJECT_SRCS:%.c=$(BUILD)/obj/%.o)
ifneq ($(wildcard injector/inject*.c),)
BINS += $(BUILD)/inject
$(BUILD)/inject: $(INJECT_OBJS) $(COMMON_LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ -lelf
endif
# The policy objects go into the shim: keep their symbols hidden there too.
CFLAGS_injector := -fvisibility=hidden

# The launcher looks for a program's libraries as the system's dynamic loader
# does (injector/inject_needed.c): its system search path (`ld.so --help`),
# the capability subdirectories it tries in each directory and its $LIB,
# both read from what it searches for LD_LIBRARY_PATH=/@/$LIB (LD_DEBUG=libs).
# Read when inject_needed.o is built; the build fails if they cannot be.
LDSO = $(shell readelf -lW /bin/true | sed -n 's/.*program interpreter: \([^]]*\)\]/\1/p')
LDSO_DIRS = $(shell $(LDSO) --help | sed -n 's/^  *\([^ ]*\) (system search path)$$/\1/p' | paste -sd:)
LDSO_SEARCH = $(shell LD_LIBRARY_PATH='/@/$$LIB' LD_DEBUG=libs /bin/true 2>&1 | sed -n 's/.*search path=\([^	]*\)	*(LD_LIBRARY_PATH).*/\1/p' | head -n 1)
LDSO_LIB = $(shell printf '%s' '$(LDSO_SEARCH)' | tr : '\n' | tail -n 1 | sed 's,^/@/,,')
LDSO_SUBDIRS = $(shell printf '%s' '$(LDSO_SEARCH)' | tr : '\n' | sed -n 's,^/@/$(LDSO_LIB)/,,p' | paste -sd:)
$(BUILD)/obj/injector/inject_needed.o: CFLAGS += $(if $(LDSO_DIRS),,$(error cannot read the dynamic loader's search path from $(LDSO) --help)) \
	-DLDSO_DIRS='"$(LDSO_DIRS)"' -DLDSO_SUBDIRS='"$(LDSO_SUBDIRS)"' -DLDSO_LIB='"$(LDSO_LIB)"'
