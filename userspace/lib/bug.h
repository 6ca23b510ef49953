/* SPDX-License-Identifier: GPL-2.0 */
/* BUG_ON(): an always-on check of an invariant. Never for input validation. */
#ifndef USERSPACE_LIB_BUG_H
#define USERSPACE_LIB_BUG_H

#include <stdlib.h>

#include "userspace/lib/log.h"

/* When <cond> holds, the program is wrong: log where, and abort for a core dump. */
#define BUG_ON(cond)                                                            \
	do {                                                                    \
		if (cond) {                                                     \
			log_err("BUG at %s:%d: %s", __FILE__, __LINE__, #cond); \
			abort();                                                \
		}                                                               \
	} while (0)

#endif /* USERSPACE_LIB_BUG_H */
