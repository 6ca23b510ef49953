# SPDX-License-Identifier: GPL-2.0
# The Maglev library: MAGLEV_OBJS for the programs that link it, and the unit tests.

MAGLEV_OBJS := $(O)/maglev/maglev.o
UNIT_LIB_OBJS += $(MAGLEV_OBJS)
