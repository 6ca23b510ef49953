# SPDX-License-Identifier: GPL-2.0
# The pingd process: command line, signals, configuration generations, reload and upgrade.
# Every layer below is libpingx (.a and .so, with pingx.pc); pingd is its main() with the
# built-in hooks. Read last: it links the objects of every folder before it.

PINGD_SRCS := pingd.c gen.c upgrade.c monitor.c pingx.c
PINGD_OBJS := $(patsubst %.c,$(O)/userspace/pingd/%.o,$(PINGD_SRCS))
PINGD_BIN := $(O)/pingd
BINS += $(PINGD_BIN)

LIBPINGX := $(O)/libpingx.a
PINGX_PC := $(O)/pingx.pc
# Every layer, lowest first, with the control-plane library the l4 layer brings; a custom
# proxy links LIBPINGX_LDLIBS after the archive.
LIBPINGX_OBJS := $(LIB_OBJS) $(LIMIT_OBJS) $(CACHE_OBJS) $(HTTP_OBJS) $(CFG_OBJS) $(NET_OBJS) $(UPSTREAM_OBJS) $(OPS_OBJS) \
	$(PROXY_OBJS) $(L4_OBJS) $(PINGD_OBJS) $(LLHTTP_OBJS) \
	$(sort $(filter-out $(LIB_OBJS),$(CTRL_ALL_OBJS)) $(MAGLEV_OBJS) $(KETAMA_OBJS))
LIBPINGX_LDLIBS := $(PROXY_LDLIBS) $(CTRL_LDLIBS)
USERSPACE_MKS := $(foreach l,$(USERSPACE_LAYERS),userspace/$(l)/$(l).mk)

# Rebuilt when a fragment changes the member list.
$(LIBPINGX): $(LIBPINGX_OBJS) $(USERSPACE_MKS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

# The shared library: the same sources built position-independent, exporting pingx_* only.
LIBPINGX_SO := $(O)/libpingx.so.0
LIBPINGX_PIC_OBJS := $(patsubst $(O)/%,$(O)/pic/%,$(filter-out $(LLHTTP_OBJS),$(LIBPINGX_OBJS)))
BINS_LIB := $(LIBPINGX) $(LIBPINGX_SO) $(PINGX_PC)
all: $(BINS_LIB)

# Some sources include the BPF skeletons (the control-plane library, the l4 layer).
$(LIBPINGX_PIC_OBJS): | $(BPF_SKELS)

$(O)/pic/%.o: %.c
	$(call msg,CC-PIC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CFLAGS_$(firstword $(subst /, ,$<))) -fPIC -c $< -o $@

$(LIBPINGX_SO): $(LIBPINGX_PIC_OBJS) $(LLHTTP_OBJS) userspace/pingd/libpingx.map $(USERSPACE_MKS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libpingx.so.0 \
		-Wl,--version-script=userspace/pingd/libpingx.map -o $@ \
		$(filter %.o,$^) $(LIBPINGX_LDLIBS)

$(PINGX_PC): userspace/pingd/pingx.pc.in Makefile userspace/pingd/pingd.mk
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@LIBS@|$(LIBPINGX_LDLIBS)|' $< > $@

$(PINGD_BIN): $(O)/userspace/pingd/main.o $(LIBPINGX) | $(PINGX_PC)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBPINGX) $(LIBPINGX_LDLIBS)

.PHONY: install-libpingx
install: install-libpingx
install-libpingx: $(BINS_LIB)
	install -d $(DESTDIR)$(INCLUDEDIR)/pingx $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0644 userspace/include/pingx/pingx.h $(DESTDIR)$(INCLUDEDIR)/pingx/
	install -m 0644 $(LIBPINGX) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIBPINGX_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libpingx.so.0 $(DESTDIR)$(LIBDIR)/libpingx.so
	install -m 0644 $(PINGX_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/

# The unit tests run generations and the monitor; the process itself (pingd.c, upgrade.c,
# pingx.c) and the l4 layer stay out.
UNIT_LIB_OBJS += $(O)/userspace/pingd/gen.o $(O)/userspace/pingd/monitor.o
