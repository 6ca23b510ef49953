# SPDX-License-Identifier: GPL-2.0
# Maglev build-time benchmark; bench/maglev.sh runs it.

MAGLEV_BENCH := $(O)/bench/maglev_bench
BENCH_BINS += $(MAGLEV_BENCH)

$(MAGLEV_BENCH): $(O)/bench/maglev_bench.o $(MAGLEV_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^
