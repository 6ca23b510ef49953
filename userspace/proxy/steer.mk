# SPDX-License-Identifier: GPL-2.0
# L7 steering (userspace/proxy/steer.c, part of the engine in proxy.mk): it loads
# bpf/steer.bpf.c through its skeleton; its libraries come with the control plane's.

$(O)/userspace/proxy/steer.o $(O)/pic/userspace/proxy/steer.o: $(O)/bpf/steer.skel.h
