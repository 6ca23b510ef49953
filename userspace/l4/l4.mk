# SPDX-License-Identifier: GPL-2.0
# pingd's L4 glue, through the control-plane library: the l4: section reconciled into the maps
# and its backends' health checks, sk_lookup steering of L7 VIPs to pingd's sockets, and the
# XDP counters exported as metrics, and the announcement of the ready VIPs.

L4_SRCS := l4health.c steer.c xdpstats.c deny.c l4announce.c
L4_OBJS := $(patsubst %.c,$(O)/userspace/l4/%.o,$(L4_SRCS))

$(O)/userspace/l4/l4health.o $(O)/pic/userspace/l4/l4health.o: $(O)/bpf/lb.skel.h
$(O)/userspace/l4/steer.o $(O)/pic/userspace/l4/steer.o: $(O)/bpf/steer.skel.h
