# SPDX-License-Identifier: GPL-2.0
# pingd's sk_lookup program (L7 steering) and its skeleton, built by the top Makefile's
# pattern rules; userspace/l4/l4.mk links it into pingd.

BPF_PROGS += steer
BPF_OBJS += $(O)/bpf/steer.bpf.o
BPF_SKELS += $(O)/bpf/steer.skel.h
BINS += $(O)/bpf/steer.bpf.o
