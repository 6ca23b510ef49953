# SPDX-License-Identifier: GPL-2.0
# BPF_PROG_TEST_RUN fixtures: packets built in C, run through the real programs.

BPFT_SRCS := tests/bpf/main.c tests/bpf/pkt.c tests/bpf/fixtures.c tests/bpf/ctrl_fixtures.c
BPFT_OBJS := $(patsubst %.c,$(O)/%.o,$(BPFT_SRCS))
BPFT_BIN := $(O)/tests/bpf/pingx-bpf-test
TEST_BINS += $(BPFT_BIN)

$(O)/tests/bpf/main.o: $(O)/bpf/lb.skel.h $(O)/bpf/decap.skel.h

$(BPFT_BIN): $(BPFT_OBJS) $(CTRL_ALL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CTRL_LDLIBS) -lpthread
