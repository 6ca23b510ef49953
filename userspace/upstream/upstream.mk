# SPDX-License-Identifier: GPL-2.0
# Upstream servers: selection (rr, wrr, least_conn, ketama, maglev), the idle-connection pools,
# HTTP/2 connections to servers and the health checks.

UPSTREAM_SRCS := backend.c pool.c h2io.c h2up.c health.c
UPSTREAM_OBJS := $(patsubst %.c,$(O)/userspace/upstream/%.o,$(UPSTREAM_SRCS))

UNIT_LIB_OBJS += $(UPSTREAM_OBJS)
