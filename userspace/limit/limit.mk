# SPDX-License-Identifier: GPL-2.0
# Rate limiting without I/O: a two-window rate estimator and an inflight limiter over count-min
# sketches, a request-rate limiter (token bucket per key in a fixed table), client address keys.
# It includes no other userspace/ folder.

LIMIT_SRCS := cms.c rate.c inflight.c req.c key.c
LIMIT_OBJS := $(patsubst %.c,$(O)/userspace/limit/%.o,$(LIMIT_SRCS))

UNIT_LIB_OBJS += $(LIMIT_OBJS)
