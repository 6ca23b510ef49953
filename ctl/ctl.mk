# SPDX-License-Identifier: GPL-2.0
# pingctl, the command-line tool.

CTL_SRCS := $(wildcard ctl/*.c)
CTL_OBJS := $(patsubst %.c,$(O)/%.o,$(CTL_SRCS))
CTL_BIN := $(O)/pingctl
CTL_LIB_OBJS += $(MAGLEV_OBJS) $(KETAMA_OBJS)
CTL_LDLIBS += $(KETAMA_LDLIBS)
BINS += $(CTL_BIN)

# The argument parser of "pingctl hash" is unit-tested on its own (tests/unit/test_ctl.c).
UNIT_LIB_OBJS += $(O)/ctl/hash_args.o

$(CTL_BIN): $(CTL_OBJS) $(CTL_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CTL_LDLIBS) -lm
