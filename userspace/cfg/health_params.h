/* SPDX-License-Identifier: GPL-2.0 */
/* Health-check parameters: defaults and the one check of their bounds. */
#ifndef USERSPACE_CFG_HEALTH_PARAMS_H
#define USERSPACE_CFG_HEALTH_PARAMS_H

#include <stddef.h>

#include "userspace/cfg/health_params-t.h"

/* Fill <p> with the defaults (TCP, HEALTH_DEF_*). */
void health_params_default(struct health_params *p);

/* Check <p>; on error write a one-line reason into <err> (<errlen> bytes; NULL accepted) and
 * return -EINVAL. Returns 0 when <p> is usable. */
int health_params_check(const struct health_params *p, char *err, size_t errlen);

#endif /* USERSPACE_CFG_HEALTH_PARAMS_H */
