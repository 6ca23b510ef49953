# SPDX-License-Identifier: GPL-2.0
# pingd, the L7 reverse proxy: listener -> conn -> h1 -> stream -> backend -> server.
# Objects without libevent types are also linked into the unit tests.

PROXY_LIB_SRCS := log.c cfg.c route.c backend.c
PROXY_ENGINE_SRCS := conn.c listener.c server.c stream.c worker.c gen.c upgrade.c main.c
PROXY_LIB_OBJS := $(patsubst %.c,$(O)/userspace/proxy/%.o,$(PROXY_LIB_SRCS))
PROXY_ENGINE_OBJS := $(patsubst %.c,$(O)/userspace/proxy/%.o,$(PROXY_ENGINE_SRCS))
PROXY_LDLIBS := -levent -levent_pthreads -lyaml -lpthread -lz -lcrypto -lm
PINGD_BIN := $(O)/pingd
BINS += $(PINGD_BIN)

$(PINGD_BIN): $(PROXY_ENGINE_OBJS) $(PROXY_LIB_OBJS) $(H1_OBJS) $(LLHTTP_LIB) $(MAGLEV_OBJS) \
		$(KETAMA_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PROXY_LDLIBS)

UNIT_LIB_OBJS += $(PROXY_LIB_OBJS)
UNIT_LDLIBS += $(PROXY_LDLIBS)
