# SPDX-License-Identifier: GPL-2.0
# The deny check inline in lb_xdp against a program of its own in front of it
# (BPF_PROG_TEST_RUN, same run): bench/deny-bench.sh.

BENCH_DENY_BIN := $(O)/bench/pingx-deny-bench
BENCH_BINS += $(BENCH_DENY_BIN)

$(O)/bench/deny_bench.o: $(O)/bench/deny_bench.skel.h $(O)/bpf/lb.skel.h

$(BENCH_DENY_BIN): $(O)/bench/deny_bench.o $(O)/tests/bpf/pkt.o $(CTRL_ALL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CTRL_LDLIBS)
