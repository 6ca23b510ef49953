// SPDX-License-Identifier: GPL-2.0
/* pingd's metric families. Every series a config can produce is created up front, so the
 * request path only indexes arrays of series ids and updates its own shard. */
#include "userspace/proxy/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/proxy/metrics.h"

#define N_CLASSES 6 /* 1xx..5xx, other */

static const char *const classes[N_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};

struct stats {
	const struct cfg *cfg;
	struct metrics *m;
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
	stats_xdp_fn xdp_fn;
	void *xdp_arg;
};

const char *stats_code_class(int status)
{
	return classes[status >= 100 && status <= 599 ? status / 100 - 1 : N_CLASSES - 1];
}

static int fam(struct stats *st, const char *name, const char *help, enum metrics_type t,
	const char *const *labels, size_t n, const double *b, size_t nb)
{
	return metrics_family(st->m, name, help, t, labels, n, b, nb);
}

/* The pool reuse ratio is derived from the request counters at scrape time. */
static int collect_pool(struct metrics_writer *w, void *arg)
{
	struct stats *st = arg;
	static const char *const ln[] = {"upstream"};
	int err;

	err = metrics_write_family(w, "pingd_upstream_pool_reuse_ratio",
		"Share of upstream requests sent on a reused keep-alive connection", METRICS_GAUGE);
	for (size_t u = 0; u < st->cfg->n_upstreams && !err; u++) {
		double reused = metrics_value(st->m, st->up_req[u * 2 + 1]);
		double fresh = metrics_value(st->m, st->up_req[u * 2]);
		const char *lv[] = {st->cfg->upstreams[u].name};

		err = metrics_write_sample(
			w, ln, lv, 1, reused + fresh > 0 ? reused / (reused + fresh) : 0);
	}
	return err;
}

static int collect_xdp(struct metrics_writer *w, void *arg)
{
	static const char *const svc_l[] = {"service"}, *const be_l[] = {"service", "backend"},
				 *const rs_l[] = {"reason"};
	struct stats_xdp_snapshot snap = {0};
	struct stats *st = arg;
	int err, ok = 0;

	if (st->xdp_fn && !st->xdp_fn(&snap, st->xdp_arg))
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
		err = metrics_write_family(w, "pingx_xdp_reason_packets_total",
			"Packets the XDP layer dropped or passed, by reason", METRICS_COUNTER);
	for (unsigned int i = 0; i < snap.n_reasons && !err; i++) {
		const char *lv[] = {snap.reasons[i].reason};

		err = metrics_write_sample(w, rs_l, lv, 1, (double)snap.reasons[i].packets);
	}
	return err;
}

/* Register the families and series; returns 0 or a negative errno. */
static int build(struct stats *st)
{
	static const char *const
		l_route[] = {"vhost", "route", "code"},
		*const l_lat[] = {"vhost", "route"}, *const l_up[] = {"upstream", "connection"},
		*const l_pool[] = {"upstream"}, *const l_srv[] = {"upstream", "server"};
	static const double lat_b[] = {STATS_LATENCY_BUCKETS};
	const struct cfg *c = st->cfg;
	int f_req, f_lat, f_up, f_retry, f_err, f_peer, f_cool, f_act, f_acc, id;
	size_t r = 0, s = 0;

	f_req = fam(st, "pingd_requests_total", "Requests answered, by route and status class",
		METRICS_COUNTER, l_route, 3, NULL, 0);
	f_lat = fam(st, "pingd_request_duration_seconds",
		"Time from request start to the last response byte sent", METRICS_HISTOGRAM, l_lat,
		2, lat_b, sizeof(lat_b) / sizeof(lat_b[0]));
	f_act = fam(st, "pingd_connections_active", "Client connections open", METRICS_GAUGE, NULL,
		0, NULL, 0);
	f_acc = fam(st, "pingd_connections_accepted_total", "Client connections accepted",
		METRICS_COUNTER, NULL, 0, NULL, 0);
	f_up = fam(st, "pingd_upstream_requests_total",
		"Requests sent upstream, on a new or a reused connection", METRICS_COUNTER, l_up, 2,
		NULL, 0);
	f_retry = fam(st, "pingd_upstream_retries_total", "Requests retried on another peer",
		METRICS_COUNTER, l_pool, 1, NULL, 0);
	f_err = fam(st, "pingd_upstream_connect_errors_total", "Failed upstream connects",
		METRICS_COUNTER, l_srv, 2, NULL, 0);
	f_peer = fam(st, "pingd_upstream_peer_up",
		"1 when active health checks consider the peer up, else 0", METRICS_GAUGE, l_srv, 2,
		NULL, 0);
	f_cool = fam(st, "pingd_upstream_peer_cooldowns_total",
		"Times consecutive failed requests took the peer out (passive health)",
		METRICS_COUNTER, l_srv, 2, NULL, 0);
	if (f_req < 0 || f_lat < 0 || f_act < 0 || f_acc < 0 || f_up < 0 || f_retry < 0 ||
		f_err < 0 || f_peer < 0 || f_cool < 0)
		return -ENOMEM;
	st->conn_active = metrics_series0(st->m, f_act);
	st->conn_total = metrics_series0(st->m, f_acc);

	for (size_t v = 0; v <= c->n_vhosts; v++) {
		size_t n = v < c->n_vhosts ? c->vhosts[v].n_routes : 1;

		if (v < c->n_vhosts)
			st->route_base[v] = r;
		for (size_t i = 0; i < n; i++, r++) {
			const char *vh = v < c->n_vhosts ? c->vhosts[v].name : "";
			const char *rp = v < c->n_vhosts ? c->vhosts[v].routes[i].path : "";

			for (int k = 0; k < N_CLASSES; k++) {
				const char *lv[] = {vh ? vh : "", rp ? rp : "", classes[k]};

				id = metrics_series(st->m, f_req, lv);
				if (id < 0)
					return id;
				st->req[r * N_CLASSES + (size_t)k] = id;
			}
			const char *lv[] = {vh ? vh : "", rp ? rp : ""};

			id = metrics_series(st->m, f_lat, lv);
			if (id < 0)
				return id;
			st->lat[r] = id;
		}
	}
	for (size_t u = 0; u < c->n_upstreams; u++) {
		const struct cfg_upstream *up = &c->upstreams[u];
		const char *lv_new[] = {up->name, "new"}, *lv_re[] = {up->name, "reused"},
			   *lv_p[] = {up->name};

		if ((id = metrics_series(st->m, f_up, lv_new)) < 0)
			return id;
		st->up_req[u * 2] = id;
		if ((id = metrics_series(st->m, f_up, lv_re)) < 0)
			return id;
		st->up_req[u * 2 + 1] = id;
		if ((id = metrics_series(st->m, f_retry, lv_p)) < 0)
			return id;
		st->retries[u] = id;
		st->srv_base[u] = s;
		for (size_t i = 0; i < up->n_servers; i++, s++) {
			const char *lv[] = {up->name, up->servers[i].address.text};

			if ((id = metrics_series(st->m, f_err, lv)) < 0)
				return id;
			st->conn_err[s] = id;
			if ((id = metrics_series(st->m, f_peer, lv)) < 0)
				return id;
			st->peer_up[s] = id;
			/* Peers count as up until a health check says otherwise. */
			metrics_gauge_set(st->m, st->n_workers, id, 1);
			if ((id = metrics_series(st->m, f_cool, lv)) < 0)
				return id;
			st->cooldowns[s] = id;
		}
	}
	if (metrics_collector(st->m, collect_pool, st) < 0 ||
		metrics_collector(st->m, collect_xdp, st) < 0)
		return -ENOMEM;
	return 0;
}

struct stats *stats_new(const struct cfg *c, unsigned int n_workers)
{
	size_t n_routes = 1, n_servers = 0, slots;
	struct stats *st;
	int err;

	if (!c || !n_workers) {
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
	/* Slots: per route 6 counters + a histogram (buckets + 2), per upstream 3, per server 3,
	 * 2 unlabelled; plus room for families other modules add. */
	slots = n_routes * (N_CLASSES + 14 + 2) + c->n_upstreams * 3 + n_servers * 3 + 2 + 1024;
	st->m = metrics_new(n_workers + 1, (unsigned int)slots);
	st->route_base = calloc(c->n_vhosts + 1, sizeof(*st->route_base));
	st->req = calloc(n_routes * N_CLASSES, sizeof(*st->req));
	st->lat = calloc(n_routes, sizeof(*st->lat));
	st->up_req = calloc(c->n_upstreams * 2 + 1, sizeof(*st->up_req));
	st->retries = calloc(c->n_upstreams + 1, sizeof(*st->retries));
	st->srv_base = calloc(c->n_upstreams + 1, sizeof(*st->srv_base));
	st->conn_err = calloc(n_servers + 1, sizeof(*st->conn_err));
	st->peer_up = calloc(n_servers + 1, sizeof(*st->peer_up));
	st->cooldowns = calloc(n_servers + 1, sizeof(*st->cooldowns));
	if (!st->m || !st->route_base || !st->req || !st->lat || !st->up_req || !st->retries ||
		!st->srv_base || !st->conn_err || !st->peer_up || !st->cooldowns) {
		err = -ENOMEM;
		goto err;
	}
	err = build(st);
	if (err < 0)
		goto err;
	return st;
err:
	stats_free(st);
	errno = -err;
	return NULL;
}

void stats_free(struct stats *st)
{
	if (!st)
		return;
	metrics_free(st->m);
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
	st->xdp_fn = fn;
	st->xdp_arg = arg;
}
