# SPDX-License-Identifier: GPL-2.0
# The XDP programs and their skeletons. The pattern rules in the top Makefile build
# $(O)/bpf/%.bpf.o and $(O)/bpf/%.skel.h; this fragment names them.

BPF_PROGS := lb decap
BPF_OBJS := $(patsubst %,$(O)/bpf/%.bpf.o,$(BPF_PROGS))
BPF_SKELS := $(patsubst %,$(O)/bpf/%.skel.h,$(BPF_PROGS))
BINS += $(BPF_OBJS)

.PHONY: bpf
bpf: $(BPF_SKELS)
