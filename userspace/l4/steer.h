/* SPDX-License-Identifier: GPL-2.0 */
/* L7 steering: an sk_lookup program, fed by the data plane's pinned lb_services, hands every
 * connection to an l7 service's VIP:port to pingd's steering listeners; no per-VIP bind. */
#ifndef USERSPACE_L4_STEER_H
#define USERSPACE_L4_STEER_H

#include "userspace/cfg/cfg-t.h"
#include "userspace/proxy/worker-t.h"

struct steer;

/* When some listener of <c> has `steer: true`: load the steering program on the pinned
 * lb_services under c->steer_pin_dir (refusing another LB_ABI_VERSION), put <w>'s socket of
 * each steering listener into its map and attach it to the calling thread's network
 * namespace. The steering belongs to the returned handle (*<out>; NULL when no listener
 * steers) and ends with steer_stop(). <w>'s sockets must outlive it. Logs its own errors.
 * Returns 0 or a negative errno. */
int steer_start(const struct cfg *c, const struct worker *w, struct steer **out);

/* After a reload to <c> served by <w>: point the socket map at <w>'s steering listeners, or
 * (steering newly on, off, another pin directory, or lb_services re-created) replace *<s> by a
 * fresh steer_start(), attached before the old one is detached. On error *<s> is unchanged. Logs
 * its own errors. Returns 0 or a negative errno. */
int steer_reload(struct steer **s, const struct cfg *c, const struct worker *w);

/* Detach the program and free <s>; NULL is accepted. */
void steer_stop(struct steer *s);

#endif /* USERSPACE_L4_STEER_H */
