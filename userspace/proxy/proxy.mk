# SPDX-License-Identifier: GPL-2.0
# pingd, the L7 reverse proxy: listener -> conn -> h1 -> stream -> backend -> server.

PROXY_LIB_SRCS := log.c cfg.c route.c backend.c
PROXY_LIB_OBJS := $(patsubst %.c,$(O)/userspace/proxy/%.o,$(PROXY_LIB_SRCS))
PROXY_LDLIBS := -lyaml

UNIT_LIB_OBJS += $(PROXY_LIB_OBJS)
UNIT_LDLIBS += $(PROXY_LDLIBS)
