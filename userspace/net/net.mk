# SPDX-License-Identifier: GPL-2.0
# Transport: listeners (accepting sockets) and connections (bytes over a socket, nothing about
# HTTP), over plain TCP or TLS (OpenSSL; the proxy layer links -lssl).

NET_SRCS := conn.c ktls.c listener.c tls.c tlsbio.c tlsclient.c tlskeys.c uring.c
NET_OBJS := $(patsubst %.c,$(O)/userspace/net/%.o,$(NET_SRCS))

UNIT_LIB_OBJS += $(NET_OBJS)
