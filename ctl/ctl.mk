# SPDX-License-Identifier: GPL-2.0
# pingctl, the command-line tool.

CTL_SRCS := $(wildcard ctl/*.c)
CTL_OBJS := $(patsubst %.c,$(O)/%.o,$(CTL_SRCS))
CTL_BIN := $(O)/pingctl
CTL_LDLIBS ?=
BINS += $(CTL_BIN)

$(CTL_BIN): $(CTL_OBJS) $(CTL_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CTL_LDLIBS) -lm
