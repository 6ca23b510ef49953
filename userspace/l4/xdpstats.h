/* SPDX-License-Identifier: GPL-2.0 */
/* The data plane's counters for /metrics: a stats_xdp_fn source that reads the pinned maps
 * through the control-plane library at each scrape. */
#ifndef USERSPACE_L4_XDPSTATS_H
#define USERSPACE_L4_XDPSTATS_H

#include "userspace/ops/stats-t.h"

struct xdpstats;

/* A source reading the maps pinned in <pin_dir> (copied). NULL with errno on failure. */
struct xdpstats *xdpstats_new(const char *pin_dir);
/* Release <x>; NULL is accepted. */
void xdpstats_free(struct xdpstats *x);
/* The stats_xdp_fn: fills <snap> from the maps; <arg> is a struct xdpstats. Returns 0, or a
 * negative errno when the maps cannot be read (no data plane: -ENOENT). */
int xdpstats_read(struct stats_xdp_snapshot *snap, void *arg);

#endif /* USERSPACE_L4_XDPSTATS_H */
