# SPDX-License-Identifier: GPL-2.0
# The control-plane library, linked into pingctl, pingd and the BPF tests. It embeds the BPF
# objects through their skeletons and builds tables with maglev/ and ketama/.

CTRL_SRCS := $(wildcard userspace/ctrl/*.c)
CTRL_OBJS := $(patsubst %.c,$(O)/%.o,$(CTRL_SRCS))
# ctrl_format_addr() writes addresses with pingd's lowest helpers (userspace/lib/addr.c).
CTRL_ALL_OBJS := $(CTRL_OBJS) $(O)/userspace/lib/addr.o $(MAGLEV_OBJS) $(KETAMA_OBJS)
CTRL_LDLIBS := -lxdp -lbpf -lelf -lz $(KETAMA_LDLIBS) -lm -lyaml

$(CTRL_OBJS): $(O)/bpf/lb.skel.h $(O)/bpf/decap.skel.h

CTL_LIB_OBJS += $(CTRL_ALL_OBJS)
CTL_LDLIBS += $(CTRL_LDLIBS)

# Address parsing has no BPF dependency: the unit tests link it alone.
UNIT_LIB_OBJS += $(O)/userspace/ctrl/addr.o
# So has the parser of the l4: configuration section (applying it is in l4apply.c).
UNIT_LIB_OBJS += $(O)/userspace/ctrl/l4cfg.o
UNIT_LDLIBS += -lyaml
