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

# make install also installs the manual page and the bash completion.
.PHONY: install-pingctl
install: install-pingctl
install-pingctl: $(CTL_BIN)
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/bash-completion/completions
	install -m 0644 docs/pingctl.8 $(DESTDIR)$(MANDIR)/man8/pingctl.8
	install -m 0644 scripts/pingctl-completion.bash \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/pingctl
