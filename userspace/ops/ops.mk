# SPDX-License-Identifier: GPL-2.0
# Operations: the metrics registry and its Prometheus exposition, pingd's request metrics, and
# the admin listener.

OPS_SRCS := metrics.c stats.c admin.c
OPS_OBJS := $(patsubst %.c,$(O)/userspace/ops/%.o,$(OPS_SRCS))

UNIT_LIB_OBJS += $(OPS_OBJS)
