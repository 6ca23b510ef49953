/* SPDX-License-Identifier: GPL-2.0 */
/* The l4: section in pingd: reconcile the pinned maps to it at start-up and probe every L4
 * backend with the health engine, writing up/down into lb_backends (ctrl_health_set(), which
 * rebuilds the services' tables). Runs on the control thread's event base. */
#ifndef USERSPACE_L4_L4HEALTH_H
#define USERSPACE_L4_L4HEALTH_H

#include <stdbool.h>
#include <stddef.h>

struct cfg;
struct event_base;
struct l4health;

/* Apply <c>->l4 to the maps pinned in <c>->l4_pin_dir (only the differences are written, so
 * running flows stay) and start probing its backends on <base> (not owned) as
 * <c>->l4_health says (<c> is not used afterwards). A backend the section says is up but
 * the maps hold down (marked so by health checks before a reload or restart) stays down and
 * is probed from down, so that neither revives a dead backend. On failure writes one line into
 * <err>
 * (<errlen> bytes) and returns NULL with errno: ENOENT (no maps pinned there: the data plane
 * is not set up), EINVAL (an l4_health item names no l4 service), or the failing call's. */
struct l4health *l4health_new(
	struct event_base *base, const struct cfg *c, char *err, size_t errlen);

/* Call <fn>(<arg>) after each verdict has been written into the maps (the announcer reads
 * them again); NULL <fn> for none. */
void l4health_set_notify(struct l4health *l, void (*fn)(void *arg), void *arg);

/* Whether every probed backend has been judged: probed at least <fall> times when up (a
 * failing one would be down by then) or <rise> times when down (a healthy one would be up).
 * <arg> is a struct l4health; true with nothing to probe. */
bool l4health_settled(void *arg);

/* Stop probing and close the maps; the backends keep their last state. NULL is accepted. */
void l4health_free(struct l4health *l);

#endif /* USERSPACE_L4_L4HEALTH_H */
