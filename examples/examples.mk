# SPDX-License-Identifier: GPL-2.0
# Custom proxies built on libpingx, as a user would build them: <pingx/pingx.h> and the
# archive only. Tested by tests/l7/test-examples.sh.

EXAMPLE_BINS := $(O)/examples/header-router $(O)/examples/api-key-gate
TEST_BINS += $(EXAMPLE_BINS)

all: $(EXAMPLE_BINS)

$(O)/examples/header-router: $(O)/examples/header_router.o $(LIBPINGX)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBPINGX_LDLIBS)

$(O)/examples/api-key-gate: $(O)/examples/api_key_gate.o $(LIBPINGX)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBPINGX_LDLIBS)
