# SPDX-License-Identifier: GPL-2.0
# pingx: one non-recursive Makefile; each folder adds its rules in <dir>/<dir>.mk.
# Everything is built out of tree under $(O).

O ?= build
# One spelling of the build directory, relative when it lies in the tree: dependency files
# name their targets as given, so a build with O=$(CURDIR)/build (the tests use absolute paths)
# would otherwise write rules that a plain `make` never matches, leaving stale objects.
override O := $(patsubst $(CURDIR)/%,%,$(abspath $(O)))
ARCH ?= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
PKG_CONFIG ?= pkg-config

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
BPF_DIR_MNT ?= /sys/fs/bpf
PIN_DIR ?= $(BPF_DIR_MNT)/pingx

LLHTTP_SRC ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp

ifeq ($(origin CC),default)
CC := gcc
endif

WERROR ?= $(if $(filter true,$(CI)),1,0)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

WARNFLAGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2
ifeq ($(WERROR),1)
WARNFLAGS += -Werror
endif
SAN ?=
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARNFLAGS) $(SAN) -D_GNU_SOURCE -I. -I$(O) \
	-Iuserspace/include -DPINGX_VERSION='"$(VERSION)"' -DPINGX_PIN_DIR='"$(PIN_DIR)"' \
	-DPINGX_BPF_DIR_MNT='"$(BPF_DIR_MNT)"' -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SAN)

BPF_CFLAGS := -g -O2 --target=bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I. -I$(O)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

# Fragments append to these.
BINS :=
TEST_BINS :=
BENCH_BINS :=
CLEAN_EXTRA :=

# Packages first, rules second. The rules below name files that packages install (llhttp's
# sources, headers found by pkg-config), so they are read only once the packages are there:
# on the first run $(DEPS_MK) is missing, make reads nothing past this point, runs its recipe
# (which installs what is missing) and then restarts, reading the whole Makefile with the
# packages in place. DEPS_SH is the install script (overridable for tests).
DEPS_SH ?= scripts/deps.sh
DEPS_MK := $(O)/.deps.mk
NODEPS_GOALS := clean help deps format
$(DEPS_MK): $(DEPS_SH)
	$(Q)mkdir -p $(@D)
	$(Q)if ! bash $(DEPS_SH) --check >/dev/null 2>&1; then bash $(DEPS_SH); fi
	$(Q)bash $(DEPS_SH) --check
	$(Q)echo '# $(DEPS_SH) --check passed; delete this file to check again' >$@

.PHONY: deps
deps:
	bash $(DEPS_SH)

.PHONY: clean
clean:
	rm -rf $(O) $(CLEAN_EXTRA)

ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(DEPS_MK)
endif
ifneq ($(wildcard $(DEPS_MK)),)

# Generic rules: C objects mirror the source tree under $(O).
$(O)/%.o: %.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CFLAGS_$(firstword $(subst /, ,$<))) -c $< -o $@

$(O)/%.bpf.o: %.bpf.c vmlinux.h
	$(call msg,BPF,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(O)/%.skel.h: $(O)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# llhttp: Debian ships the generated C sources; build them into a static library, in strict
# mode (loose mode accepts malformed chunk framing); rebuilt when the flags here change.
LLHTTP_OBJS := $(addprefix $(O)/llhttp/,llhttp.o api.o http.o)
LLHTTP_LIB := $(O)/llhttp/libllhttp.a
$(O)/llhttp/%.o: $(LLHTTP_SRC)/%.c Makefile
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -fPIC $(SAN) -DLLHTTP_STRICT_MODE=1 -I$(LLHTTP_INC) -c $< -o $@
$(LLHTTP_LIB): $(LLHTTP_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

# Libraries and programs first, then the tests and benchmarks that link them (prerequisite
# lists are expanded when a rule is read).
include $(wildcard maglev/*.mk ketama/*.mk bpf/*.mk userspace/ctrl/*.mk)
# pingd's layers, lowest first (docs/architecture.md): each fragment uses only those before it.
USERSPACE_LAYERS := lib cache limit http cfg net upstream ops proxy l4 pingd
include $(foreach l,$(USERSPACE_LAYERS),userspace/$(l)/$(l).mk)
include $(wildcard ctl/*.mk examples/*.mk examples/*/*.mk)
include $(wildcard tests/*/*.mk bench/*.mk)

.PHONY: all
all: $(BINS)

.PHONY: vmlinux
vmlinux:
	bash scripts/gen-vmlinux.sh > vmlinux.h

# Tests: tests/run.sh runs the suites named and prints one summary line.
.PHONY: test check check-bpf check-integration check-l7 check-asan asan-unit check-cache cache-tests
ASAN_O := $(O)/asan
ASAN_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test: all $(TEST_BINS) asan-unit cache-tests
	$(Q)O=$(O) bash tests/run.sh unit asan bpf integration l7 cache
check: $(TEST_BINS)
	$(Q)O=$(O) bash tests/run.sh unit
check-bpf: all $(TEST_BINS)
	$(Q)O=$(O) bash tests/run.sh bpf
check-integration: all $(TEST_BINS)
	$(Q)O=$(O) bash tests/run.sh integration
check-l7: all $(TEST_BINS)
	$(Q)O=$(O) bash tests/run.sh l7
check-asan: asan-unit
	$(Q)O=$(O) bash tests/run.sh asan
# The HTTP caching conformance suite (http-cache-tests, from npm) against pingd's cache.
check-cache: all cache-tests
	$(Q)O=$(O) bash tests/run.sh cache
cache-tests:
	$(Q)O=$(O) bash scripts/cache-tests.sh
asan-unit:
	$(Q)$(MAKE) --no-print-directory O=$(ASAN_O) CC=clang SAN='$(ASAN_SAN)' \
		$(ASAN_O)/tests/unit/pingx-unit

.PHONY: bench
bench: all $(BENCH_BINS)
	$(Q)for b in bench/*.sh; do O=$(O) bash $$b || exit 1; done

.PHONY: demo demo-down
demo: all
	$(Q)O=$(O) KEEP=$(KEEP) PIN_DIR=$(PIN_DIR) bash scripts/demo.sh
demo-down:
	$(Q)O=$(O) PIN_DIR=$(PIN_DIR) bash scripts/demo.sh down
# Three nodes behind an ECMP router (BIRD), one killed mid-run.
.PHONY: demo-multinode
demo-multinode: all
	$(Q)O=$(O) bash scripts/demo-multinode.sh

.PHONY: install
install: all
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)

.PHONY: format
format:
	clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^vmlinux.h$$')

endif # the packages are installed

.PHONY: help
help:
	@echo 'Targets:'
	@echo '  all (default)     build pingctl, pingd and the BPF objects into $$(O)'
	@echo '  deps              install the Debian packages pingx needs (scripts/deps.sh)'
	@echo '  demo [KEEP=1]     run the demo topology; demo-down removes a kept one'
	@echo '  demo-multinode    three nodes behind an ECMP router (BIRD); one dies mid-run'
	@echo '  test              every suite: unit, bpf, integration, l7, cache (root for bpf and after)'
	@echo '  check             unit tests (CUnit), no root needed'
	@echo '  check-bpf         BPF_PROG_TEST_RUN fixtures (root)'
	@echo '  check-integration network-namespace tests (root)'
	@echo '  check-l7          L7 proxy scenarios on loopback'
	@echo '  check-asan        unit tests under ASan and UBSan'
	@echo '  check-cache       the HTTP caching conformance suite (http-cache-tests) against pingd'
	@echo '  bench             benchmarks, printed as ratios against peers'
	@echo '  fuzz              libFuzzer on the HTTP/1 codec for FUZZ_SECONDS (default 60)'
	@echo '  vmlinux           regenerate vmlinux.h from the running kernel'
	@echo '  install           install binaries under $$(DESTDIR)$$(PREFIX)'
	@echo '  clean             remove $$(O)'
	@echo 'Variables: O=$(O) V=1 WERROR=1 CC CLANG BPFTOOL LLVM_STRIP ARCH PREFIX DESTDIR'

-include $(shell find $(O) -name '*.d' 2>/dev/null)
