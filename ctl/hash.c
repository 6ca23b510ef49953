// SPDX-License-Identifier: GPL-2.0
/* pingctl hash: where does a key go? */
#include "ctl/main.h"

int do_hash(int argc, char **argv)
{
	return usage_err("hash help", "hash: not built yet");
}
