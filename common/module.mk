# common/: code that stress and hunt share (atomic result files, UTF-8-safe
# JSON strings).  Included before the tools' modules, which link COMMON_OBJS.
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
