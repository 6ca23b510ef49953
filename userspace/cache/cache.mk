# SPDX-License-Identifier: GPL-2.0
# The HTTP cache's storage core: a byte-bounded, sharded object store with TinyLFU admission
# and S3-FIFO eviction. Pure C on libc and pthreads; it includes only userspace/lib.

CACHE_SRCS := cache.c sketch.c
CACHE_OBJS := $(patsubst %.c,$(O)/userspace/cache/%.o,$(CACHE_SRCS))
CACHE_LDLIBS := -lpthread

UNIT_LIB_OBJS += $(CACHE_OBJS)
UNIT_LDLIBS += $(CACHE_LDLIBS)
