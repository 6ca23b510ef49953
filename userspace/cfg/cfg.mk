# SPDX-License-Identifier: GPL-2.0
# pingd's configuration: the key table, the YAML walk, checks, name resolution and the dump.
# The l4: section is handed to the control plane's parser (userspace/ctrl/l4cfg.c).

CFG_SRCS := scalar.c keys.c types.c cfg.c health_params.c ratelimit.c
CFG_OBJS := $(patsubst %.c,$(O)/userspace/cfg/%.o,$(CFG_SRCS))

UNIT_LIB_OBJS += $(CFG_OBJS)
