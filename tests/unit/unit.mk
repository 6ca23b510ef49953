# SPDX-License-Identifier: GPL-2.0
# CUnit tests: one tests/unit/test_<module>.c per module, all linked into one runner.
# Module fragments append the objects under test to UNIT_LIB_OBJS and libraries to UNIT_LDLIBS.

UNIT_TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_OBJS := $(patsubst %.c,$(O)/%.o,tests/unit/main.c $(UNIT_TEST_SRCS))
UNIT_BIN := $(O)/tests/unit/pingx-unit
UNIT_SUITES_H := $(O)/tests/unit/suites.h
TEST_BINS += $(UNIT_BIN)

# suites.h holds one UNIT_SUITE(name) per test file; rewritten only when the list changes.
$(UNIT_SUITES_H): FORCE
	$(Q)mkdir -p $(@D)
	$(Q)printf '%s\n' $(patsubst tests/unit/test_%.c,'UNIT_SUITE(%)',$(UNIT_TEST_SRCS)) \
		> $@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(O)/tests/unit/main.o: $(UNIT_SUITES_H)

$(UNIT_BIN): $(UNIT_OBJS) $(UNIT_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(UNIT_LDLIBS) -lcunit

.PHONY: FORCE
FORCE:

# The layering of userspace/ (docs/architecture.md): no include of a higher layer, no circle.
.PHONY: check-layers
check: check-layers
check-layers:
	$(call msg,LAYERS,userspace)
	$(Q)python3 tests/unit/layers.py
