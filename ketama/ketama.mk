# SPDX-License-Identifier: GPL-2.0
# ketama consistent-hash rings (nginx and libketama compatible); linked into pingctl, pingd and the
# unit tests. Needs zlib (crc32) and libcrypto (MD5).

KETAMA_OBJS := $(O)/ketama/ketama.o
KETAMA_LDLIBS := -lz -lcrypto -lm
UNIT_LIB_OBJS += $(KETAMA_OBJS)
UNIT_LDLIBS += $(KETAMA_LDLIBS)
