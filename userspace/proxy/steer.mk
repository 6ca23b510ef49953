# SPDX-License-Identifier: GPL-2.0
# L7 steering (userspace/proxy/steer.c): loads bpf/steer.bpf.c through its skeleton. Read after
# proxy.mk, so it adds its object and libraries to pingd's existing link rule.

STEER_OBJS := $(O)/userspace/proxy/steer.o
$(STEER_OBJS): $(O)/bpf/steer.skel.h
$(O)/pingd: $(STEER_OBJS)
PROXY_LDLIBS += -lbpf -lelf -lz
