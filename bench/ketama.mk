# SPDX-License-Identifier: GPL-2.0
# ketama ring build and lookup benchmark; bench/ketama.sh runs it.

KETAMA_BENCH := $(O)/bench/ketama_bench
BENCH_BINS += $(KETAMA_BENCH)

$(KETAMA_BENCH): $(O)/bench/ketama_bench.o $(KETAMA_OBJS) $(MAGLEV_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(KETAMA_LDLIBS) -lm
