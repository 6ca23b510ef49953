# SPDX-License-Identifier: GPL-2.0
# HTTP codecs: bytes in, events out, no libevent (userspace/http/h1.c, on llhttp). Objects for
# pingd and the unit tests, and the libFuzzer target. Link users take $(H1_OBJS) $(LLHTTP_LIB).

HTTP_SRCS := h1.c h1_scan.c h1_hdrs.c h1_write.c hcache.c h2.c
HTTP_OBJS := $(patsubst %.c,$(O)/userspace/http/%.o,$(HTTP_SRCS))
H1_OBJS := $(HTTP_OBJS)
CFLAGS_userspace += -I$(LLHTTP_INC)
UNIT_LIB_OBJS += $(H1_OBJS) $(LLHTTP_LIB)

# `make fuzz`: build tests/fuzz/fuzz_h1.c with clang's libFuzzer, ASan and UBSan (codec and
# llhttp instrumented alike) and run it for FUZZ_SECONDS on the seeds in tests/fuzz/h1-corpus.
# New inputs go to $(O)/fuzz/h1-corpus, crashes to $(O)/fuzz/. FUZZ_JOBS > 1 runs that many
# fuzzing processes (each logging to $(O)/fuzz/fuzz-N.log).
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_H1 := $(O)/fuzz/fuzz_h1
FUZZ_H1_SRCS := tests/fuzz/fuzz_h1.c $(addprefix userspace/http/,$(HTTP_SRCS)) \
	$(addprefix $(LLHTTP_SRC)/,llhttp.c api.c http.c)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -D_GNU_SOURCE -DLLHTTP_STRICT_MODE=1 \
	-I. -I$(LLHTTP_INC)

$(FUZZ_H1): $(FUZZ_H1_SRCS) $(wildcard userspace/http/*.h)
	$(call msg,FUZZ-LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_H1_SRCS) -o $@

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_H1)
fuzz: $(FUZZ_H1)
	$(Q)mkdir -p $(O)/fuzz/h1-corpus
	$(Q)cd $(O)/fuzz && ./fuzz_h1 -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		$(if $(filter-out 1,$(FUZZ_JOBS)),-jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS)) \
		-print_final_stats=1 \
		h1-corpus $(CURDIR)/tests/fuzz/h1-corpus
