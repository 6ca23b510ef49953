# SPDX-License-Identifier: GPL-2.0
# The string-key hash for Maglev lookups, shared by pingctl and the L7 proxy.

MAGLEV_KEY_OBJS := $(O)/maglev/maglev_key.o
UNIT_LIB_OBJS += $(MAGLEV_KEY_OBJS)
