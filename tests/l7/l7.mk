# SPDX-License-Identifier: GPL-2.0
# The driver of tests/l7/test-health.sh and test-metrics.sh: pingd's operations modules on
# loopback, without the proxy.

OPS_HARNESS := $(O)/tests/l7/ops-harness
TEST_BINS += $(OPS_HARNESS)
$(OPS_HARNESS): $(O)/tests/l7/ops_harness.o $(LIB_OBJS) $(LIMIT_OBJS) $(H1_OBJS) $(CFG_OBJS) \
		$(O)/userspace/upstream/health.o $(O)/userspace/upstream/h2io.o $(O)/userspace/net/conn.o $(O)/userspace/net/tls.o $(O)/userspace/net/tlsclient.o $(O)/userspace/net/ktls.o \
		$(O)/userspace/net/tlskeys.o $(O)/userspace/net/tlsbio.o $(O)/userspace/net/uring.o \
		$(OPS_OBJS) \
		$(O)/userspace/pingd/monitor.o \
		$(O)/userspace/ctrl/l4cfg.o $(O)/userspace/ctrl/addr.o $(MAGLEV_OBJS) $(LLHTTP_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -luring -levent -lnghttp2 -lyaml -lpthread -lssl -lcrypto -lm
