# SPDX-License-Identifier: GPL-2.0
# pingd's lowest layer: small helpers every other folder may use (error log, sd_notify). It
# includes no other userspace/ folder.

LIB_SRCS := log.c sdnotify.c
LIB_OBJS := $(patsubst %.c,$(O)/userspace/lib/%.o,$(LIB_SRCS))

UNIT_LIB_OBJS += $(LIB_OBJS)
