# SPDX-License-Identifier: GPL-2.0
# Rate-limiter cost per operation (sketch add, rate observe, limiter decision); bench/limit.sh
# runs it.

LIMIT_BENCH := $(O)/bench/limit_bench
BENCH_BINS += $(LIMIT_BENCH)

$(LIMIT_BENCH): $(O)/bench/limit_bench.o $(LIMIT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread -lm
