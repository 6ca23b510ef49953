# SPDX-License-Identifier: GPL-2.0
# Object store hit ratio (Zipf) and lookup cost benchmark; bench/cache.sh runs it.

CACHE_BENCH := $(O)/bench/cache_bench
BENCH_BINS += $(CACHE_BENCH)

$(CACHE_BENCH): $(O)/bench/cache_bench.o $(CACHE_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CACHE_LDLIBS) -lm
