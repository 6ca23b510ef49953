// SPDX-License-Identifier: GPL-2.0
/* pingd's VIP announcer: readiness read from the maps (ctrl_vip_list()), routes written into
 * the announcement table (ctrl_announce_sync()), each change logged once. */
#include "userspace/l4/l4announce.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "userspace/ctrl/announce.h"
#include "userspace/ctrl/ctrl.h"
#include "userspace/lib/log.h"

struct l4announce {
	struct event *tick;
	struct event *now; /* kicked */
	char *pin_dir;
	unsigned int table;
	struct ctrl_vip *last; /* the previous pass's view, for logging changes */
	size_t n_last;
	int last_err;		    /* the previous pass's error, logged once */
	bool (*settled)(void *arg); /* the health checks' first verdicts are in */
	void *settled_arg;
};

static const struct ctrl_vip *find(const struct ctrl_vip *v, size_t n, const struct ctrl_vip *x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == x->family && !memcmp(&v[i].addr, &x->addr, sizeof(x->addr)))
			return &v[i];
	return NULL;
}

/* Log what changed since the previous pass. */
static void log_changes(struct l4announce *a, const struct ctrl_vip *v, size_t n)
{
	char s[CTRL_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		const struct ctrl_vip *p = find(a->last, a->n_last, &v[i]);

		if (p && p->announced == v[i].announced && p->state == v[i].state)
			continue;
		if (!p && !v[i].announced && v[i].state == CTRL_VIP_READY)
			continue;
		ctrl_format_addr(v[i].family, &v[i].addr, 0, s, sizeof(s));
		log_notice("announce: %s %s (%s, %u of %u services serving)", s,
			v[i].announced	  ? "announced" :
			p && p->announced ? "withdrawn" :
					    "not announced",
			ctrl_vip_state_name(v[i].state), v[i].serving, v[i].services);
	}
	for (size_t i = 0; i < a->n_last; i++)
		if (a->last[i].announced && !find(v, n, &a->last[i]))
			log_notice("announce: %s withdrawn (no longer a service)",
				ctrl_format_addr(
					a->last[i].family, &a->last[i].addr, 0, s, sizeof(s)));
}

static void pass(struct l4announce *a)
{
	struct ctrl_announce_changes ch;
	struct ctrl_vip *v = NULL;
	struct ctrl *c;
	size_t n = 0;
	int err;

	c = ctrl_open(a->pin_dir, 0);
	if (c) {
		err = ctrl_vip_list(c, &v, &n);
		ctrl_close(c);
	} else {
		/* No data plane: nothing to serve, nothing to announce. */
		err = errno == ENOENT ? 0 : -errno;
	}
	/* Until the checks have judged the backends, hold back what is not announced yet. */
	if (!err && a->settled && !a->settled(a->settled_arg)) {
		err = ctrl_announce_read(a->table, v, n);
		for (size_t i = 0; !err && i < n; i++)
			if (v[i].state == CTRL_VIP_READY && !v[i].announced)
				v[i].state = CTRL_VIP_CHECKING;
	}
	if (!err)
		err = ctrl_announce_sync(a->table, v, n, &ch);
	if (err) {
		if (err != a->last_err)
			log_err("announce: table %u: %s", a->table, strerror(-err));
		a->last_err = err;
		free(v);
		return;
	}
	if (a->last_err)
		log_notice("announce: table %u: writing again", a->table);
	a->last_err = 0;
	log_changes(a, v, n);
	free(a->last);
	a->last = v;
	a->n_last = n;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pass(arg);
}

struct l4announce *l4announce_new(
	struct event_base *base, const char *pin_dir, unsigned int table, unsigned int interval_ms)
{
	struct timeval iv = {
		.tv_sec = interval_ms / 1000, .tv_usec = (suseconds_t)(interval_ms % 1000) * 1000};
	struct l4announce *a;

	if (!table || (table >= 253 && table <= 255) || !interval_ms) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->table = table;
	a->pin_dir = strdup(pin_dir);
	a->tick = event_new(base, -1, EV_PERSIST, on_tick, a);
	a->now = event_new(base, -1, 0, on_tick, a);
	if (!a->pin_dir || !a->tick || !a->now || event_add(a->tick, &iv)) {
		l4announce_free(a);
		errno = ENOMEM;
		return NULL;
	}
	log_notice("announce: the ready VIPs of %s into table %u, every %u ms", pin_dir, table,
		interval_ms);
	event_active(a->now, 0, 0);
	return a;
}

void l4announce_set_gate(struct l4announce *a, bool (*settled)(void *arg), void *arg)
{
	a->settled = settled;
	a->settled_arg = arg;
	event_active(a->now, 0, 0);
}

void l4announce_kick(void *arg)
{
	struct l4announce *a = arg;

	/* An event already active stays active once: kicks in one loop pass merge. */
	if (a)
		event_active(a->now, 0, 0);
}

void l4announce_free(struct l4announce *a)
{
	if (!a)
		return;
	if (a->tick)
		event_free(a->tick);
	if (a->now)
		event_free(a->now);
	free(a->pin_dir);
	free(a->last);
	free(a);
}
