# SPDX-License-Identifier: GPL-2.0
# pingd's l4: section: the maps reconciled at start-up and the L4 backends' health checks,
# through the control-plane library. Read before proxy.mk, hence the literal target names.

L4H_OBJS := $(O)/userspace/proxy/l4health.o

$(O)/pingd: $(L4H_OBJS) $(CTRL_ALL_OBJS)
$(O)/pingd: PROXY_LDLIBS += $(CTRL_LDLIBS)
$(O)/userspace/proxy/l4health.o: $(O)/bpf/lb.skel.h

# cfg.c hands the l4: node to the control plane's parser.
$(O)/tests/l7/ops-harness: $(O)/userspace/ctrl/l4cfg.o $(O)/userspace/ctrl/addr.o $(MAGLEV_OBJS)
