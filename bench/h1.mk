# SPDX-License-Identifier: GPL-2.0
# HTTP/1.x codec throughput benchmark; bench/h1.sh runs it.

H1_BENCH := $(O)/bench/h1_bench
BENCH_BINS += $(H1_BENCH)
CFLAGS_bench += -I$(LLHTTP_INC)

$(H1_BENCH): $(O)/bench/h1_bench.o $(H1_OBJS) $(LLHTTP_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^
