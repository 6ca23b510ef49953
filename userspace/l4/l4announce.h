/* SPDX-License-Identifier: GPL-2.0 */
/* pingd's VIP announcer: keeps the announcement table (a kernel routing table that the routing
 * daemon exports, see docs/scale-out.md) holding exactly the VIPs this node is ready to serve:
 * attached, not drained, a usable backend. It re-reads the maps every interval and at once
 * when kicked (a health verdict), so a change is announced or withdrawn within one interval.
 * Runs on the control thread's event base. Stopping it leaves the routes as they are: the
 * data plane goes on forwarding, and a successor (reload, upgrade) takes over. */
#ifndef USERSPACE_L4_L4ANNOUNCE_H
#define USERSPACE_L4_L4ANNOUNCE_H

#include <stdbool.h>

struct event_base;
struct l4announce;

/* Announce the VIPs of the maps pinned in <pin_dir> (copied) into kernel table <table> every
 * <interval_ms>, the first time at once. NULL with errno on failure (EINVAL: a kernel table
 * of its own is needed, not main, local or default). */
struct l4announce *l4announce_new(
	struct event_base *base, const char *pin_dir, unsigned int table, unsigned int interval_ms);

/* Hold back new announcements while <settled>(<arg>) says false (withdrawals still go
 * through, and routes already in the table stay): a starting pingd announces a VIP only once
 * its health checks have judged the backends. NULL <settled> for no gate. */
void l4announce_set_gate(struct l4announce *a, bool (*settled)(void *arg), void *arg);

/* Re-read the maps now (from the event loop, not within the caller). */
void l4announce_kick(void *l4announce);

/* Stop; the routes stay. NULL is accepted. */
void l4announce_free(struct l4announce *a);

#endif /* USERSPACE_L4_L4ANNOUNCE_H */
