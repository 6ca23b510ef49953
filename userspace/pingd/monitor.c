// SPDX-License-Identifier: GPL-2.0
/* pingd's monitor: one health engine, stats object and (optionally) admin listener per
 * runtime config, all on the control thread, handed from one config to the next on reload. */
#include "userspace/pingd/monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "userspace/cfg/cfg.h"
#include "userspace/lib/log.h"
#include "userspace/lib/sdnotify.h"
#include "userspace/ops/admin.h"
#include "userspace/ops/metrics.h"
#include "userspace/ops/stats.h"
#include "userspace/net/tlsclient.h"
#include "userspace/proxy/worker-t.h"
#include "userspace/upstream/health.h"

/* Which server a health target is. */
struct ops_peer {
	struct monitor *o;
	size_t upstream, server;
};

struct monitor {
	struct event_base *base;
	const struct pingd_rt *rt;
	struct stats *stats;
	struct health *health;
	struct ops_peer *peers; /* one per probed server */
	struct admin *admin;
	char admin_text[sizeof(((struct cfg_addr *)0)->text)]; /* address as configured */
	bool draining;
	int (*cache)(void *arg, bool purge, const char *query, size_t qlen, char **body,
		size_t *len); /* monitor_params.cache */
};

static void on_health(const struct health_event *ev, void *arg)
{
	const struct ops_peer *peer = ev->target_arg;
	struct monitor *o = peer->o;
	struct backend_server *srv = &o->rt->backends[peer->upstream]->servers[peer->server];

	/* Workers read the flag with relaxed loads in backend_select(): the next selection on
	 * every worker sees it, with no lock on their side. */
	__atomic_store_n(&srv->down, ev->up ? 0 : 1, __ATOMIC_RELAXED);
	stats_peer_state(o->stats, peer->upstream, peer->server, ev->up);
	log_notice("health: %s is %s (%s)%s%s", ev->name, ev->up ? "up" : "down", ev->reason,
		*srv->cfg->name ? ", from " : "", srv->cfg->name);
}

static int admin_metrics(void *arg, char **body, size_t *len)
{
	struct monitor *o = arg;

	return metrics_render(stats_metrics(o->stats), body, len);
}

static int admin_health(void *arg, const char **reason)
{
	struct monitor *o = arg;

	if (!o->draining)
		return 0;
	*reason = "draining";
	return 1;
}

/* Probe every server of every pool that has health params; carry states over from <prev>. */
static int add_checks(struct monitor *o, const struct monitor_params *p, struct monitor *prev)
{
	const struct pingd_rt *rt = o->rt;
	size_t n = 0, k = 0;

	if (!p->health)
		return 0;
	for (size_t u = 0; u < rt->n_backends; u++)
		if (p->health[u])
			n += rt->backends[u]->n;
	o->peers = calloc(n + 1, sizeof(*o->peers));
	if (!o->peers)
		return -ENOMEM;
	for (size_t u = 0; u < rt->n_backends; u++) {
		const struct backend *be = rt->backends[u];

		if (!p->health[u])
			continue;
		for (size_t i = 0; i < be->n; i++, k++) {
			const struct cfg_addr *a = &be->servers[i].cfg->address;
			struct health_params hp = *p->health[u];
			char name[HEALTH_NAME_MAX];
			int id, old;

			snprintf(name, sizeof(name), "%s/%s", be->cfg->name, a->text);
			/* A server written as a name is probed with that name as Host. */
			if (!hp.host && *be->servers[i].cfg->name)
				hp.host = be->servers[i].cfg->name;
			old = prev ? health_find(prev->health, name) : -ENOENT;
			if (old >= 0)
				hp.start_down = !health_is_up(prev->health, (unsigned int)old);
			o->peers[k] = (struct ops_peer){o, u, i};
			id = health_add(o->health, name, (const struct sockaddr *)&a->ss, a->len,
				&hp, &o->peers[k]);
			if (id < 0) {
				log_err("health: %s: %s", name, strerror(-id));
				return id;
			}
			/* An https:// server is probed over TLS, verified as requests are. */
			if (be->servers[i].cfg->tls && rt->up_peers && rt->up_peers[u] &&
				rt->up_peers[u][i])
				(void)health_set_transport(o->health, (unsigned int)id,
					tls_peer_transport(rt->up_peers[u][i]));
			/* An h2c or h2 pool's servers are asked in HTTP/2, as requests are. */
			if (be->cfg->protocol != CFG_PROTO_H1)
				(void)health_set_http2(o->health, (unsigned int)id,
					be->cfg->protocol == CFG_PROTO_H2);
			__atomic_store_n(
				&be->servers[i].down, hp.start_down ? 1 : 0, __ATOMIC_RELAXED);
			stats_peer_state(o->stats, u, i, !hp.start_down);
		}
	}
	return 0;
}

/* Open the admin listener, or take <prev>'s over when the address is the same. */
static int open_admin(struct monitor *o, const char *addr, struct monitor *prev)
{
	const struct admin_handlers h = {
		.metrics = admin_metrics, .health = admin_health, .cache = o->cache};
	struct cfg_addr a;
	int err;

	if (!addr || !*addr)
		return 0;
	snprintf(o->admin_text, sizeof(o->admin_text), "%s", addr);
	if (prev && prev->admin && !strcmp(prev->admin_text, addr)) {
		o->admin = prev->admin;
		prev->admin = NULL;
		admin_set_handlers(o->admin, &h, o);
		return 0;
	}
	err = cfg_parse_addr(addr, &a);
	if (err < 0) {
		log_err("admin: '%s': expected IPv4:PORT or [IPv6]:PORT", addr);
		return err;
	}
	o->admin = admin_new(o->base, (const struct sockaddr *)&a.ss, a.len, &h, o);
	if (!o->admin) {
		err = -errno;
		log_err("admin: cannot listen on %s: %s", addr, strerror(-err));
		return err;
	}
	log_notice("admin: listening on %s (/metrics, /healthz)", addr);
	return 0;
}

struct monitor *monitor_new(struct event_base *base, const struct pingd_rt *rt, unsigned int n_workers,
	const struct monitor_params *p, struct monitor *prev)
{
	struct monitor *o;
	int err;

	if (!base || !rt || !p) {
		errno = EINVAL;
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->base = base;
	o->rt = rt;
	o->stats = stats_new(rt->cfg, n_workers, prev ? prev->stats : NULL);
	if (!o->stats) {
		err = -errno;
		log_err("metrics: %s", strerror(-err));
		goto err;
	}
	o->health = health_new(base, on_health, o);
	if (!o->health) {
		err = -errno;
		goto err;
	}
	o->cache = p->cache;
	err = add_checks(o, p, prev);
	if (!err)
		err = open_admin(o, p->admin_address, prev);
	if (err < 0)
		goto err;
	return o;
err:
	monitor_free(o);
	errno = -err;
	return NULL;
}

void monitor_free(struct monitor *o)
{
	if (!o)
		return;
	admin_free(o->admin);
	health_free(o->health);
	stats_free(o->stats);
	free(o->peers);
	free(o);
}

struct stats *monitor_stats(struct monitor *o)
{
	return o->stats;
}

void monitor_ready(struct monitor *o)
{
	int err = sdnotify_ready();

	if (err < 0)
		log_warn("sd_notify READY=1: %s", strerror(-err));
}

void monitor_reloading(struct monitor *o)
{
	int err = sdnotify_reloading();

	if (err < 0)
		log_warn("sd_notify RELOADING=1: %s", strerror(-err));
}

void monitor_draining(struct monitor *o)
{
	int err;

	o->draining = true;
	err = sdnotify_stopping();
	if (err < 0)
		log_warn("sd_notify STOPPING=1: %s", strerror(-err));
}

unsigned int monitor_admin_port(const struct monitor *o)
{
	return o->admin ? admin_port(o->admin) : 0;
}
