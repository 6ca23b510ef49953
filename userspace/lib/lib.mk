# SPDX-License-Identifier: GPL-2.0
# pingd's lowest layer: small helpers every other folder may use (address text, clocks, BUG_ON,
# error log, sd_notify). It includes no other userspace/ folder.

LIB_SRCS := addr.c log.c sdnotify.c slab.c
LIB_OBJS := $(patsubst %.c,$(O)/userspace/lib/%.o,$(LIB_SRCS))

UNIT_LIB_OBJS += $(LIB_OBJS)
