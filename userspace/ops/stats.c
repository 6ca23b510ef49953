// SPDX-License-Identifier: GPL-2.0
/* pingd's metric families. Every series a config can produce is created up front, so the
 * request path only indexes arrays of series ids and updates its own shard. */
#include "userspace/ops/stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/net/ktls.h"
#include "userspace/net/tls.h"
#include "userspace/net/tlsclient.h"
#include "userspace/ops/metrics.h"

#define N_CLASSES 6 /* 1xx..5xx, other */

static const char *const classes[N_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};

enum stats_fam {
	F_REQ = 0, /* pingd_requests_total */
	F_LAT,	   /* pingd_request_duration_seconds */
	F_ACT,	   /* pingd_connections_active */
	F_ACC,	   /* pingd_connections_accepted_total */
	F_UP,	   /* pingd_upstream_requests_total */
	F_RETRY,   /* pingd_upstream_retries_total */
	F_ERR,	   /* pingd_upstream_connect_errors_total */
	F_PEER,	   /* pingd_upstream_peer_up */
	F_COOL,	   /* pingd_upstream_peer_cooldowns_total */
	F_MAX	   /* must stay last */
};

/* The registry and what outlives a reload: every stats object built from one config shares
 * it, so counters keep counting across reloads. */
struct stats_shared {
	struct metrics *m;
	unsigned int n_workers;
	int fam[F_MAX];
	pthread_mutex_t lock;  /* the fields below */
	struct stats *current; /* newest stats object: what the collectors describe */
	unsigned int refs;     /* stats objects sharing this */
	stats_xdp_fn xdp_fn;
	void *xdp_arg;
};

struct stats {
	const struct cfg *cfg;
	struct stats_shared *sh;
	struct metrics *m; /* sh->m */
	unsigned int n_workers;
	size_t n_routes;    /* over all virtual hosts, plus one for "no route" */
	size_t *route_base; /* per vhost: index of its first route */
	int *req;	    /* [route][class] pingd_requests_total */
	int *lat;	    /* [route] pingd_request_duration_seconds */
	int conn_active;    /* pingd_connections_active */
	int conn_total;	    /* pingd_connections_accepted_total */
	int *up_req;	    /* [upstream][reused] pingd_upstream_requests_total */
	int *retries;	    /* [upstream] pingd_upstream_retries_total */
	size_t *srv_base;   /* per upstream: index of its first server */
	int *conn_err;	    /* [server] pingd_upstream_connect_errors_total */
	int *peer_up;	    /* [server] pingd_upstream_peer_up */
	int *cooldowns;	    /* [server] pingd_upstream_peer_cooldowns_total */
};

const char *stats_code_class(int status)
{
	return classes[status >= 100 && status <= 599 ? status / 100 - 1 : N_CLASSES - 1];
}

/* The pool reuse ratio is derived from the request counters at scrape time. */
static int collect_pool(struct metrics_writer *w, void *arg)
{
	struct stats_shared *sh = arg;
	static const char *const ln[] = {"upstream"};
	struct stats *st;
	int err;

	pthread_mutex_lock(&sh->lock);
	st = sh->current;
	err = metrics_write_family(w, "pingd_upstream_pool_reuse_ratio",
		"Share of upstream requests sent on a reused keep-alive connection", METRICS_GAUGE);
	for (size_t u = 0; st && u < st->cfg->n_upstreams && !err; u++) {
		double reused = metrics_value(st->m, st->up_req[u * 2 + 1]);
		double fresh = metrics_value(st->m, st->up_req[u * 2]);
		const char *lv[] = {st->cfg->upstreams[u].name};

		err = metrics_write_sample(
			w, ln, lv, 1, reused + fresh > 0 ? reused / (reused + fresh) : 0);
	}
	pthread_mutex_unlock(&sh->lock);
	return err;
}

/* Servers written as a name: which address came from which name, in the current config only,
 * so that a reload after a DNS change does not leave the old mapping behind. */
static int collect_names(struct metrics_writer *w, void *arg)
{
	static const char *const ln[] = {"upstream", "server", "name"};
	struct stats_shared *sh = arg;
	struct stats *st;
	int err;

	pthread_mutex_lock(&sh->lock);
	st = sh->current;
	err = metrics_write_family(w, "pingd_upstream_peer_info",
		"1 for each address an upstream server name resolved to when the config loaded",
		METRICS_GAUGE);
	for (size_t u = 0; st && u < st->cfg->n_upstreams && !err; u++) {
		const struct cfg_upstream *up = &st->cfg->upstreams[u];

		for (size_t i = 0; i < up->n_servers && !err; i++) {
			const char *lv[] = {
				up->name, up->servers[i].address.text, up->servers[i].name};

			if (*up->servers[i].name)
				err = metrics_write_sample(w, ln, lv, 3, 1);
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return err;
}

/* One listener's kTLS mode and counters. */
static int ktls_mode_sample(const struct ktls_listener *l, void *arg)
{
	static const char *const ln[] = {"listener", "mode"};
	const char *lv[] = {l->id, ktls_mode_name((enum ktls_mode)atomic_load(&l->mode))};

	return metrics_write_sample(arg, ln, lv, 2, 1);
}

static int ktls_conn_sample(const struct ktls_listener *l, void *arg)
{
	static const char *const ln[] = {"listener", "direction"};
	const char *s[] = {l->id, "send"}, *r[] = {l->id, "receive"};
	int err;

	err = metrics_write_sample(arg, ln, s, 2, (double)atomic_load(&l->send));
	return err ? err : metrics_write_sample(arg, ln, r, 2, (double)atomic_load(&l->recv));
}

/* How each TLS listener seals its records, and the connections the kernel took over. */
static int collect_ktls(struct metrics_writer *w)
{
	int err;

	err = metrics_write_family(w, "pingd_tls_ktls_info",
		"How each TLS listener seals its records: kernel (kTLS), userspace (no kernel "
		"support) or off",
		METRICS_GAUGE);
	if (!err)
		err = ktls_each(ktls_mode_sample, w);
	if (!err)
		err = metrics_write_family(w, "pingd_tls_ktls_connections_total",
			"TLS connections whose records the kernel sends or receives, per listener",
			METRICS_COUNTER);
	return err ? err : ktls_each(ktls_conn_sample, w);
}

/* TLS handshakes with upstream servers since the process started. */
static int collect_tls_upstream(struct metrics_writer *w)
{
	static const char *const kn[] = {"kind"}, *const rn[] = {"reason"};
	static const char *const full[] = {"full"}, *const resumed[] = {"resumed"};
	static const char *const verify[] = {"verify"}, *const other[] = {"other"};
	struct tls_client_stats t;
	int err;

	tls_client_stats_total(&t);
	err = metrics_write_family(w, "pingd_tls_upstream_handshakes_total",
		"TLS handshakes completed with upstream servers: full, or resuming a session",
		METRICS_COUNTER);
	if (!err)
		err = metrics_write_sample(w, kn, full, 1, (double)(t.handshakes - t.resumed));
	if (!err)
		err = metrics_write_sample(w, kn, resumed, 1, (double)t.resumed);
	if (!err)
		err = metrics_write_family(w, "pingd_tls_upstream_handshake_failures_total",
			"TLS handshakes with upstream servers that failed: the server's certificate "
			"refused, or another reason",
			METRICS_COUNTER);
	if (!err)
		err = metrics_write_sample(w, rn, verify, 1, (double)t.verify);
	if (!err)
		err = metrics_write_sample(w, rn, other, 1, (double)(t.failed - t.verify));
	return err;
}

/* TLS handshakes of every listener since the process started. */
static int collect_tls(struct metrics_writer *w, void *arg)
{
	static const char *const ln[] = {"reason"}, *const kn[] = {"kind"};
	static const char *const full[] = {"full"}, *const resumed[] = {"resumed"};
	struct tls_stats t;
	int err;

	(void)arg;
	tls_stats_total(&t);
	err = metrics_write_family(w, "pingd_tls_handshakes_total",
		"TLS handshakes completed by the listeners: full, or resuming a session",
		METRICS_COUNTER);
	if (!err)
		err = metrics_write_sample(w, kn, full, 1, (double)(t.handshakes - t.resumed));
	if (!err)
		err = metrics_write_sample(w, kn, resumed, 1, (double)t.resumed);
	if (!err)
		err = metrics_write_family(w, "pingd_tls_handshake_failures_total",
			"TLS handshakes that failed or were given up, by reason", METRICS_COUNTER);
	for (int i = 0; i < TLS_FAIL_MAX && !err; i++) {
		const char *lv[] = {tls_fail_name((enum tls_fail)i)};

		err = metrics_write_sample(w, ln, lv, 1, (double)t.failed[i]);
	}
	if (!err)
		err = collect_ktls(w);
	return err ? err : collect_tls_upstream(w);
}

static int collect_xdp(struct metrics_writer *w, void *arg)
{
	static const char *const svc_l[] = {"service"}, *const be_l[] = {"service", "backend"},
				 *const rs_l[] = {"reason"};
	struct stats_xdp_snapshot snap = {0};
	struct stats_shared *sh = arg;
	stats_xdp_fn fn;
	void *fn_arg;
	int err, ok = 0;

	pthread_mutex_lock(&sh->lock);
	fn = sh->xdp_fn;
	fn_arg = sh->xdp_arg;
	pthread_mutex_unlock(&sh->lock);
	if (fn && !fn(&snap, fn_arg))
		ok = 1;
	err = metrics_write_family(w, "pingx_xdp_up",
		"1 when the XDP counters could be read at this scrape", METRICS_GAUGE);
	if (!err)
		err = metrics_write_sample(w, NULL, NULL, 0, ok);
	if (err || !ok)
		return err;

	static const struct {
		const char *name, *help;
		size_t off;
	} svc[] =
		{
			{"pingx_xdp_service_packets_total",
				"Packets the XDP layer forwarded per L4 service",
				offsetof(struct stats_xdp_service, packets)},
			{"pingx_xdp_service_bytes_total",
				"Bytes the XDP layer forwarded per L4 service",
				offsetof(struct stats_xdp_service, bytes)},
			{"pingx_xdp_service_new_flows_total",
				"Flows the XDP layer scheduled per L4 service",
				offsetof(struct stats_xdp_service, new_flows)},
		},
	  be[] = {
		  {"pingx_xdp_backend_packets_total",
			  "Packets the XDP layer forwarded per L4 backend",
			  offsetof(struct stats_xdp_backend, packets)},
		  {"pingx_xdp_backend_bytes_total", "Bytes the XDP layer forwarded per L4 backend",
			  offsetof(struct stats_xdp_backend, bytes)},
		  {"pingx_xdp_backend_new_flows_total",
			  "Flows the XDP layer scheduled per L4 backend",
			  offsetof(struct stats_xdp_backend, new_flows)},
	  };

	for (size_t k = 0; k < sizeof(svc) / sizeof(svc[0]) && !err; k++) {
		err = metrics_write_family(w, svc[k].name, svc[k].help, METRICS_COUNTER);
		for (unsigned int i = 0; i < snap.n_services && !err; i++) {
			const char *lv[] = {snap.services[i].service};
			uint64_t v;

			memcpy(&v, (const char *)&snap.services[i] + svc[k].off, sizeof(v));
			err = metrics_write_sample(w, svc_l, lv, 1, (double)v);
		}
	}
	for (size_t k = 0; k < sizeof(be) / sizeof(be[0]) && !err; k++) {
		err = metrics_write_family(w, be[k].name, be[k].help, METRICS_COUNTER);
		for (unsigned int i = 0; i < snap.n_backends && !err; i++) {
			const char *lv[] = {snap.backends[i].service, snap.backends[i].backend};
			uint64_t v;

			memcpy(&v, (const char *)&snap.backends[i] + be[k].off, sizeof(v));
			err = metrics_write_sample(w, be_l, lv, 2, (double)v);
		}
	}
	if (!err)
		err = metrics_write_family(w, "pingx_l4_backend_up",
			"1 when an L4 backend is up, 0 when down, -1 unknown", METRICS_GAUGE);
	for (unsigned int i = 0; i < snap.n_backends && !err; i++) {
		const char *lv[] = {snap.backends[i].service, snap.backends[i].backend};

		err = metrics_write_sample(w, be_l, lv, 2, snap.backends[i].up);
	}
	if (!err)
		err = metrics_write_family(w, "pingx_xdp_table_digest",
			"Always 1; the digest label names the service's published table (pingctl "
			"table digest): equal on nodes that give its flows the same backends",
			METRICS_GAUGE);
	for (unsigned int i = 0; i < snap.n_services && !err; i++) {
		static const char *const dg_l[] = {"service", "digest"};
		const char *lv[] = {snap.services[i].service, snap.services[i].digest};

		if (snap.services[i].digest)
			err = metrics_write_sample(w, dg_l, lv, 2, 1);
	}
	if (!err)
		err = metrics_write_family(w, "pingx_node_draining",
			"1 when the node is drained (pingctl node drain): its VIPs are withdrawn",
			METRICS_GAUGE);
	if (!err)
		err = metrics_write_sample(w, NULL, NULL, 0, snap.draining);
	if (!err)
		err = metrics_write_family(w, "pingx_xdp_deny_entries",
			"Entries in the XDP deny map (pingctl deny list), expired ones not yet removed "
			"included",
			METRICS_GAUGE);
	if (!err)
		err = metrics_write_sample(w, NULL, NULL, 0, snap.deny_entries);
	if (!err)
		err = metrics_write_family(w, "pingx_xdp_deny_capacity",
			"Size of the XDP deny map: when it is full each new entry evicts the least "
			"recently matched one",
			METRICS_GAUGE);
	if (!err)
		err = metrics_write_sample(w, NULL, NULL, 0, snap.deny_capacity);
	if (!err)
		err = metrics_write_family(w, "pingx_xdp_deny_full",
			"1 when the XDP deny map is full and new entries evict old ones",
			METRICS_GAUGE);
	if (!err)
		err = metrics_write_sample(w, NULL, NULL, 0, snap.deny_full);
	if (!err)
		err = metrics_write_family(w, "pingx_vip_ready",
			"1 when the node is ready to serve the VIP (announced by l4_announce); the "
			"state label says why not",
			METRICS_GAUGE);
	for (unsigned int i = 0; i < snap.n_vips && !err; i++) {
		static const char *const vp_l[] = {"vip", "state"};
		const char *lv[] = {snap.vips[i].vip, snap.vips[i].state};

		err = metrics_write_sample(w, vp_l, lv, 2, !strcmp(snap.vips[i].state, "ready"));
	}
	if (!err)
		err = metrics_write_family(w, "pingx_xdp_reason_packets_total",
			"Packets the XDP layer dropped or passed, by reason", METRICS_COUNTER);
	for (unsigned int i = 0; i < snap.n_reasons && !err; i++) {
		const char *lv[] = {snap.reasons[i].reason};

		err = metrics_write_sample(w, rs_l, lv, 1, (double)snap.reasons[i].packets);
	}
	return err;
}

/* A registry with pingd's families and collectors for <n_workers> workers and <slots> value
 * slots, or NULL with errno. */
static struct stats_shared *shared_new(unsigned int n_workers, size_t slots)
{
	static const char *const
		l_route[] = {"vhost", "route", "code"},
		*const l_lat[] = {"vhost", "route"}, *const l_up[] = {"upstream", "connection"},
		*const l_pool[] = {"upstream"}, *const l_srv[] = {"upstream", "server"};
	static const double lat_b[] = {STATS_LATENCY_BUCKETS};
	static const struct {
		const char *name, *help;
		enum metrics_type type;
		const char *const *labels;
		size_t n_labels;
	} fams[F_MAX] = {
		[F_REQ] = {"pingd_requests_total", "Requests answered, by route and status class",
			METRICS_COUNTER, l_route, 3},
		[F_LAT] = {"pingd_request_duration_seconds",
			"Time from request start to the last response byte sent", METRICS_HISTOGRAM,
			l_lat, 2},
		[F_ACT] = {"pingd_connections_active", "Client connections open", METRICS_GAUGE,
			NULL, 0},
		[F_ACC] = {"pingd_connections_accepted_total", "Client connections accepted",
			METRICS_COUNTER, NULL, 0},
		[F_UP] = {"pingd_upstream_requests_total",
			"Requests sent upstream, on a new or a reused connection", METRICS_COUNTER,
			l_up, 2},
		[F_RETRY] = {"pingd_upstream_retries_total", "Requests retried on another peer",
			METRICS_COUNTER, l_pool, 1},
		[F_ERR] = {"pingd_upstream_connect_errors_total", "Failed upstream connects",
			METRICS_COUNTER, l_srv, 2},
		[F_PEER] = {"pingd_upstream_peer_up",
			"1 when active health checks consider the peer up, else 0", METRICS_GAUGE,
			l_srv, 2},
		[F_COOL] = {"pingd_upstream_peer_cooldowns_total",
			"Times consecutive failed requests took the peer out (passive health)",
			METRICS_COUNTER, l_srv, 2},
	};
	struct stats_shared *sh = calloc(1, sizeof(*sh));
	int err = -ENOMEM;

	if (!sh)
		return NULL;
	pthread_mutex_init(&sh->lock, NULL);
	sh->n_workers = n_workers;
	sh->m = metrics_new(n_workers + 1, (unsigned int)slots);
	if (!sh->m)
		goto err;
	for (int f = 0; f < F_MAX; f++) {
		bool hist = fams[f].type == METRICS_HISTOGRAM;

		sh->fam[f] = metrics_family(sh->m, fams[f].name, fams[f].help, fams[f].type,
			fams[f].labels, fams[f].n_labels, hist ? lat_b : NULL,
			hist ? sizeof(lat_b) / sizeof(lat_b[0]) : 0);
		if (sh->fam[f] < 0) {
			err = sh->fam[f];
			goto err;
		}
	}
	if (metrics_collector(sh->m, collect_pool, sh) < 0 ||
		metrics_collector(sh->m, collect_names, sh) < 0 ||
		metrics_collector(sh->m, collect_xdp, sh) < 0 ||
		metrics_collector(sh->m, collect_tls, sh) < 0)
		goto err;
	return sh;
err:
	metrics_free(sh->m);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
	errno = -err;
	return NULL;
}

/* True when <c> has server <addr> in a pool named <name>. */
static bool has_peer(const struct cfg *c, const char *name, const char *addr)
{
	for (size_t u = 0; u < c->n_upstreams; u++) {
		if (strcmp(c->upstreams[u].name, name))
			continue;
		for (size_t i = 0; i < c->upstreams[u].n_servers; i++)
			if (!strcmp(c->upstreams[u].servers[i].address.text, addr))
				return true;
	}
	return false;
}

/* Find or create the series of <st>'s config (<prev>: the config reloaded from, or NULL);
 * returns 0 or a negative errno. */
static int build(struct stats *st, const struct cfg *prev)
{
	const struct cfg *c = st->cfg;
	const int *fam = st->sh->fam;
	size_t r = 0, s = 0;
	int id;

	st->conn_active = metrics_series0(st->m, fam[F_ACT]);
	st->conn_total = metrics_series0(st->m, fam[F_ACC]);
	for (size_t v = 0; v <= c->n_vhosts; v++) {
		size_t n = v < c->n_vhosts ? c->vhosts[v].n_routes : 1;

		if (v < c->n_vhosts)
			st->route_base[v] = r;
		for (size_t i = 0; i < n; i++, r++) {
			const char *vh = v < c->n_vhosts ? c->vhosts[v].name : "";
			const char *rp = v < c->n_vhosts ? c->vhosts[v].routes[i].path : "";
			const char *lv[] = {vh ? vh : "", rp ? rp : "", NULL};

			for (int k = 0; k < N_CLASSES; k++) {
				lv[2] = classes[k];
				id = metrics_series(st->m, fam[F_REQ], lv);
				if (id < 0)
					return id;
				st->req[r * N_CLASSES + (size_t)k] = id;
			}
			id = metrics_series(st->m, fam[F_LAT], lv);
			if (id < 0)
				return id;
			st->lat[r] = id;
		}
	}
	for (size_t u = 0; u < c->n_upstreams; u++) {
		const struct cfg_upstream *up = &c->upstreams[u];
		const char *lv_new[] = {up->name, "new"}, *lv_re[] = {up->name, "reused"},
			   *lv_p[] = {up->name};

		if ((id = metrics_series(st->m, fam[F_UP], lv_new)) < 0)
			return id;
		st->up_req[u * 2] = id;
		if ((id = metrics_series(st->m, fam[F_UP], lv_re)) < 0)
			return id;
		st->up_req[u * 2 + 1] = id;
		if ((id = metrics_series(st->m, fam[F_RETRY], lv_p)) < 0)
			return id;
		st->retries[u] = id;
		st->srv_base[u] = s;
		for (size_t i = 0; i < up->n_servers; i++, s++) {
			const char *lv[] = {up->name, up->servers[i].address.text};

			if ((id = metrics_series(st->m, fam[F_ERR], lv)) < 0)
				return id;
			st->conn_err[s] = id;
			if ((id = metrics_series(st->m, fam[F_PEER], lv)) < 0)
				return id;
			st->peer_up[s] = id;
			/* Peers count as up until a health check says otherwise; one that was
			 * in the config before a reload keeps its state. */
			if (!prev || !has_peer(prev, up->name, up->servers[i].address.text))
				metrics_gauge_set(st->m, st->n_workers, id, 1);
			if ((id = metrics_series(st->m, fam[F_COOL], lv)) < 0)
				return id;
			st->cooldowns[s] = id;
		}
	}
	return 0;
}

struct stats *stats_new(const struct cfg *c, unsigned int n_workers, struct stats *prev)
{
	size_t n_routes = 1, n_servers = 0, slots;
	struct stats *st;
	int err;

	if (!c || !n_workers || (prev && prev->n_workers != n_workers)) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t v = 0; v < c->n_vhosts; v++)
		n_routes += c->vhosts[v].n_routes;
	for (size_t u = 0; u < c->n_upstreams; u++)
		n_servers += c->upstreams[u].n_servers;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->cfg = c;
	st->n_workers = n_workers;
	st->n_routes = n_routes;
	if (prev) {
		st->sh = prev->sh;
		pthread_mutex_lock(&st->sh->lock);
		st->sh->refs++;
		pthread_mutex_unlock(&st->sh->lock);
	} else {
		/* Slots: per route 6 counters and a histogram (buckets + 2), per upstream 3, per
		 * server 3, 2 unlabelled; twice that plus STATS_SPARE_SLOTS, so that reloads can
		 * add routes and servers and other modules families. */
		slots = n_routes * (N_CLASSES + 14 + 2) + c->n_upstreams * 3 + n_servers * 3 + 2;
		st->sh = shared_new(n_workers, 2 * slots + STATS_SPARE_SLOTS);
		if (!st->sh) {
			free(st);
			return NULL;
		}
		st->sh->refs = 1;
	}
	st->m = st->sh->m;
	st->route_base = calloc(c->n_vhosts + 1, sizeof(*st->route_base));
	st->req = calloc(n_routes * N_CLASSES, sizeof(*st->req));
	st->lat = calloc(n_routes, sizeof(*st->lat));
	st->up_req = calloc(c->n_upstreams * 2 + 1, sizeof(*st->up_req));
	st->retries = calloc(c->n_upstreams + 1, sizeof(*st->retries));
	st->srv_base = calloc(c->n_upstreams + 1, sizeof(*st->srv_base));
	st->conn_err = calloc(n_servers + 1, sizeof(*st->conn_err));
	st->peer_up = calloc(n_servers + 1, sizeof(*st->peer_up));
	st->cooldowns = calloc(n_servers + 1, sizeof(*st->cooldowns));
	if (!st->route_base || !st->req || !st->lat || !st->up_req || !st->retries ||
		!st->srv_base || !st->conn_err || !st->peer_up || !st->cooldowns) {
		err = -ENOMEM;
		goto err;
	}
	err = build(st, prev ? prev->cfg : NULL);
	if (err < 0)
		goto err;
	pthread_mutex_lock(&st->sh->lock);
	st->sh->current = st;
	pthread_mutex_unlock(&st->sh->lock);
	return st;
err:
	stats_free(st);
	errno = -err;
	return NULL;
}

void stats_free(struct stats *st)
{
	struct stats_shared *sh;
	bool last;

	if (!st)
		return;
	sh = st->sh;
	pthread_mutex_lock(&sh->lock);
	if (sh->current == st)
		sh->current = NULL;
	last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->lock);
	if (last) {
		metrics_free(sh->m);
		pthread_mutex_destroy(&sh->lock);
		free(sh);
	}
	free(st->route_base);
	free(st->req);
	free(st->lat);
	free(st->up_req);
	free(st->retries);
	free(st->srv_base);
	free(st->conn_err);
	free(st->peer_up);
	free(st->cooldowns);
	free(st);
}

struct metrics *stats_metrics(struct stats *st)
{
	return st->m;
}

unsigned int stats_ctl_shard(const struct stats *st)
{
	return st->n_workers;
}

/* Flat index of route <r>, or the "no route" index for NULL and routes of another config. */
static size_t route_index(const struct stats *st, const struct cfg_route *r)
{
	const struct cfg *c = st->cfg;

	if (r)
		for (size_t v = 0; v < c->n_vhosts; v++) {
			const struct cfg_vhost *vh = &c->vhosts[v];

			if (r >= vh->routes && r < vh->routes + vh->n_routes)
				return st->route_base[v] + (size_t)(r - vh->routes);
		}
	return st->n_routes - 1;
}

void stats_request(struct stats *st, unsigned int w, const struct cfg_route *r, int status,
	uint64_t duration_us)
{
	size_t ri = route_index(st, r);
	int k = status >= 100 && status <= 599 ? status / 100 - 1 : N_CLASSES - 1;

	metrics_add(st->m, w, st->req[ri * N_CLASSES + (size_t)k], 1);
	metrics_observe(st->m, w, st->lat[ri], (double)duration_us / 1e6);
}

void stats_conn_open(struct stats *st, unsigned int w)
{
	metrics_gauge_add(st->m, w, st->conn_active, 1);
	metrics_add(st->m, w, st->conn_total, 1);
}

void stats_conn_close(struct stats *st, unsigned int w)
{
	metrics_gauge_add(st->m, w, st->conn_active, -1);
}

void stats_upstream_request(struct stats *st, unsigned int w, size_t upstream, bool reused)
{
	if (upstream < st->cfg->n_upstreams)
		metrics_add(st->m, w, st->up_req[upstream * 2 + (reused ? 1 : 0)], 1);
}

/* Flat server index, or -1 when out of range. */
static int server_index(const struct stats *st, size_t upstream, size_t server)
{
	if (upstream >= st->cfg->n_upstreams || server >= st->cfg->upstreams[upstream].n_servers)
		return -1;
	return (int)(st->srv_base[upstream] + server);
}

void stats_upstream_connect_error(struct stats *st, unsigned int w, size_t upstream, size_t server)
{
	int s = server_index(st, upstream, server);

	if (s >= 0)
		metrics_add(st->m, w, st->conn_err[s], 1);
}

void stats_upstream_retry(struct stats *st, unsigned int w, size_t upstream)
{
	if (upstream < st->cfg->n_upstreams)
		metrics_add(st->m, w, st->retries[upstream], 1);
}

void stats_peer_state(struct stats *st, size_t upstream, size_t server, bool up)
{
	int s = server_index(st, upstream, server);

	if (s >= 0)
		metrics_gauge_set(st->m, st->n_workers, st->peer_up[s], up ? 1 : 0);
}

void stats_peer_cooldown(struct stats *st, unsigned int w, size_t upstream, size_t server)
{
	int s = server_index(st, upstream, server);

	if (s >= 0)
		metrics_add(st->m, w, st->cooldowns[s], 1);
}

void stats_set_xdp_source(struct stats *st, stats_xdp_fn fn, void *arg)
{
	pthread_mutex_lock(&st->sh->lock);
	st->sh->xdp_fn = fn;
	st->sh->xdp_arg = arg;
	pthread_mutex_unlock(&st->sh->lock);
}
