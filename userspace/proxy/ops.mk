# SPDX-License-Identifier: GPL-2.0
# pingd operations modules: health checks, metrics registry and exposition, the admin listener,
# sd_notify. Linked into pingd and the unit tests; the ops harness drives them on loopback.
# This fragment is read before proxy.mk, so it adds its objects to pingd with a rule of its own
# ($^ of pingd's link rule then includes them) rather than through PROXY_* variables.

OPS_SRCS := health.c metrics.c stats.c admin.c sdnotify.c ops.c
OPS_OBJS := $(patsubst %.c,$(O)/userspace/proxy/%.o,$(OPS_SRCS))

$(O)/pingd: $(OPS_OBJS)

UNIT_LIB_OBJS += $(OPS_OBJS)

# The test driver of tests/l7/test-health.sh and test-metrics.sh.
OPS_HARNESS := $(O)/tests/l7/ops-harness
TEST_BINS += $(OPS_HARNESS)
$(OPS_HARNESS): $(O)/tests/l7/ops_harness.o $(OPS_OBJS) $(O)/userspace/proxy/cfg.o \
		$(O)/userspace/proxy/log.o $(H1_OBJS) $(LLHTTP_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -levent -lyaml -lpthread
