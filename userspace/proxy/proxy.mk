# SPDX-License-Identifier: GPL-2.0
# pingd, the L7 reverse proxy: listener -> conn -> h1 -> stream -> backend -> server.
# The library objects, and the connection layer, are also linked into the unit tests.
# The engine is libpingx (.a and .so, with pingx.pc); pingd is its main() with the built-in
# hooks.

PROXY_LIB_SRCS := log.c cfg.c route.c backend.c
PROXY_ENGINE_SRCS := conn.c listener.c server.c stream.c worker.c gen.c upgrade.c main.c pingx.c \
	steer.c xdpstats.c
PROXY_LIB_OBJS := $(patsubst %.c,$(O)/userspace/proxy/%.o,$(PROXY_LIB_SRCS))
PROXY_ENGINE_OBJS := $(patsubst %.c,$(O)/userspace/proxy/%.o,$(PROXY_ENGINE_SRCS))
PROXY_LDLIBS := -levent -levent_pthreads -lyaml -lpthread -lz -lcrypto -lm
PINGD_BIN := $(O)/pingd
BINS += $(PINGD_BIN)

LIBPINGX := $(O)/libpingx.a
PINGX_PC := $(O)/pingx.pc
# Everything pingd links (the l4: section brings the control-plane library); a custom proxy
# links LIBPINGX_LDLIBS after the archive.
LIBPINGX_OBJS := $(PROXY_ENGINE_OBJS) $(PROXY_LIB_OBJS) $(OPS_OBJS) $(L4H_OBJS) $(H1_OBJS) \
	$(LLHTTP_OBJS) $(sort $(CTRL_ALL_OBJS) $(MAGLEV_OBJS) $(KETAMA_OBJS))
LIBPINGX_LDLIBS := $(PROXY_LDLIBS) $(CTRL_LDLIBS)

# Rebuilt when this fragment changes the member list.
$(LIBPINGX): $(LIBPINGX_OBJS) userspace/proxy/proxy.mk
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

# The shared library: the same sources built position-independent, exporting pingx_* only.
LIBPINGX_SO := $(O)/libpingx.so.0
LIBPINGX_PIC_OBJS := $(patsubst $(O)/%,$(O)/pic/%,$(filter-out $(LLHTTP_OBJS),$(LIBPINGX_OBJS)))
BINS_LIB := $(LIBPINGX) $(LIBPINGX_SO) $(PINGX_PC)
all: $(BINS_LIB)

# Some sources include the BPF skeletons (the control-plane library, the l4: section).
$(LIBPINGX_PIC_OBJS): | $(BPF_SKELS)

$(O)/pic/%.o: %.c
	$(call msg,CC-PIC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CFLAGS_$(firstword $(subst /, ,$<))) -fPIC -c $< -o $@

$(LIBPINGX_SO): $(LIBPINGX_PIC_OBJS) $(LLHTTP_OBJS) userspace/proxy/libpingx.map \
		userspace/proxy/proxy.mk
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libpingx.so.0 \
		-Wl,--version-script=userspace/proxy/libpingx.map -o $@ \
		$(filter %.o,$^) $(LIBPINGX_LDLIBS)

$(PINGX_PC): userspace/proxy/pingx.pc.in Makefile userspace/proxy/proxy.mk
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@LIBS@|$(LIBPINGX_LDLIBS)|' $< > $@

# pingd's link rule also receives the objects other fragments add to it ($^): the archive
# then supplies only what they leave undefined.
$(PINGD_BIN): $(O)/userspace/proxy/pingd.o $(LIBPINGX) | $(PINGX_PC)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter-out $(LIBPINGX),$^) $(LIBPINGX) $(PROXY_LDLIBS)

.PHONY: install-libpingx
install: install-libpingx
install-libpingx: $(BINS_LIB)
	install -d $(DESTDIR)$(INCLUDEDIR)/pingx $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0644 userspace/include/pingx/pingx.h $(DESTDIR)$(INCLUDEDIR)/pingx/
	install -m 0644 $(LIBPINGX) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIBPINGX_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libpingx.so.0 $(DESTDIR)$(LIBDIR)/libpingx.so
	install -m 0644 $(PINGX_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/

UNIT_LIB_OBJS += $(PROXY_LIB_OBJS) $(O)/userspace/proxy/conn.o
UNIT_LDLIBS += $(PROXY_LDLIBS)
