# SPDX-License-Identifier: GPL-2.0
# Benchmarks (not tests): the XDP balancer through BPF_PROG_TEST_RUN against a floor.

BENCH_BPF_BIN := $(O)/bench/pingx-bpf-bench
BENCH_BINS += $(BENCH_BPF_BIN)

$(O)/bench/bpf_bench.o: $(O)/bench/bench.skel.h $(O)/bpf/lb.skel.h

$(BENCH_BPF_BIN): $(O)/bench/bpf_bench.o $(O)/tests/bpf/pkt.o $(CTRL_ALL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CTRL_LDLIBS)
