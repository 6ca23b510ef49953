# SPDX-License-Identifier: GPL-2.0
# The proxy: client sessions and their streams (one exchange: the phases, the timeouts, the
# framework's hooks), routing, and the worker threads that run them.

PROXY_SRCS := worker.c route.c stream.c builtin.c pingx_ctx.c tlsinfo.c limits.c upqueue.c cachephase.c tunnel.c h2conn.c
PROXY_OBJS := $(patsubst %.c,$(O)/userspace/proxy/%.o,$(PROXY_SRCS))
PROXY_LDLIBS := -luring -levent -levent_pthreads -lnghttp2 -lyaml -lpthread -lz -lssl -lcrypto -lm

UNIT_LIB_OBJS += $(PROXY_OBJS)
UNIT_LDLIBS += $(PROXY_LDLIBS)
