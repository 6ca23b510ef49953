// SPDX-License-Identifier: GPL-2.0
/* The limits phase (limits.h): one set of limiters per rate_limits[] item, shared by every
 * worker and every route that names it (as an nginx limit_req_zone), over the fixed-memory
 * structures of userspace/limit/. */
#include "userspace/proxy/limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "userspace/cfg/ratelimit.h"
#include "userspace/http/h1.h"
#include "userspace/lib/addr.h"
#include "userspace/lib/clock.h"
#include "userspace/lib/log.h"
#include "userspace/limit/hash.h"
#include "userspace/limit/inflight.h"
#include "userspace/limit/key.h"
#include "userspace/limit/rate.h"
#include "userspace/limit/req.h"
#include "userspace/net/conn.h"
#include "userspace/ops/metrics.h"
#include "userspace/proxy/session.h"

#define KEY_MAX	    512	 /* longest key built from its parts, bytes */
#define KEY_PARTS   8	 /* parts of one key */
#define SLOTS	    1024 /* per limit: crossing-log and deny slots, by key hash */
#define LOG_GAP_MS  10000 /* a key's crossing is logged again after this long */
#define ROWS	    4	  /* rows of every key table */

/* What a reload keeps of a limit whose settings did not change: the clients' buckets, their
 * rates and deny history. Shared by the generations that run at once, counted. */
struct limit_state {
	atomic_uint refs;
	struct limit_req *req;		 /* NULL without a rate */
	struct limit_rate *est;		 /* request rate over deny_after; NULL without deny */
	_Atomic uint64_t deny_at[SLOTS]; /* last push per key slot, ms */
};

/* One rate_limits[] item at run time. */
struct limit_one {
	const struct cfg_rate_limit *cfg;
	enum cfg_limit_src src[KEY_PARTS];
	const char *hdr[KEY_PARTS]; /* header names of CFG_LIMIT_HEADER parts (config storage) */
	size_t n_parts;
	struct limit_state *st;	     /* buckets and rates, maybe shared with another generation */
	struct limit_req *req;	     /* st->req */
	struct limit_rate *est;	     /* st->est */
	struct limit_inflight *infl; /* NULL without inflight; never shared: a stream releases
				      * into its own generation's table */
	_Atomic uint64_t passed;     /* requests let through at once */
	_Atomic uint64_t delayed;    /* requests held, then let through */
	_Atomic uint64_t rejected;   /* requests over the rate */
	_Atomic uint64_t busy;	     /* requests over the in-flight bound */
	_Atomic uint64_t pushed;     /* clients pushed into the deny map */
	_Atomic uint64_t logged[SLOTS]; /* last crossing log per key slot, ms (coarse clock) */
};

/* Limits applied to one route: its virtual host's, then its own. */
struct route_limits {
	const struct cfg_route *route;
	uint8_t idx[CFG_ROUTE_LIMITS_MAX];
	uint8_t n;
};

struct limits_rt {
	const struct cfg *cfg;
	struct limit_one *lim;
	size_t n_lim;
	struct route_limits *routes; /* open-addressed by route pointer; NULL route = empty */
	size_t routes_mask;	     /* slots - 1; 0 with no route under a limit */
	limits_deny_fn deny_fn;
	void *deny_arg;
	struct {
		int af;
		unsigned char net[16];
		unsigned int plen;
	} *allow; /* deny.allow parsed */
	size_t n_allow;
};

/* The collector's object: the running generation's limits (control thread only). */
static struct limits_rt *published;
static struct metrics *published_on;

/* ------------------------------------------------------------------ building */

static uint64_t random_seed(void)
{
	uint64_t s = 0;

	/* getrandom() of 8 bytes does not fail once the pool is initialised; without it the
	 * monotonic clock still keeps the seed unknown to clients. */
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = clock_mono_us() * 0x9e3779b97f4a7c15ull;
	return s;
}

static size_t route_slot(const struct limits_rt *l, const struct cfg_route *r)
{
	return (size_t)(((uintptr_t)r >> 4) * 0x9e3779b97f4a7c15ull >> 20) & l->routes_mask;
}

/* Add route <r> with the limits named by <vh_names> then <r_names>. */
static int add_route(struct limits_rt *l, const struct cfg_route *r)
{
	struct route_limits *rl;
	size_t i = route_slot(l, r);

	while (l->routes[i].route)
		i = (i + 1) & l->routes_mask;
	rl = &l->routes[i];
	rl->route = r;
	return 0;
}

static void state_put(struct limit_state *st)
{
	if (!st || atomic_fetch_sub(&st->refs, 1) != 1)
		return;
	limit_req_free(st->req);
	limit_rate_free(st->est);
	free(st);
}

static int build_one(struct limit_one *o, const struct cfg_rate_limit *rl)
{
	o->cfg = rl;
	o->st = calloc(1, sizeof(*o->st));
	if (!o->st)
		return -ENOMEM;
	atomic_init(&o->st->refs, 1);
	if (rl->key.n > KEY_PARTS || !rl->key.n)
		return -EINVAL;
	for (size_t k = 0; k < rl->key.n; k++)
		if (cfg_parse_limit_key(rl->key.v[k], &o->src[k], &o->hdr[k]) < 0)
			return -EINVAL;
	o->n_parts = rl->key.n;
	if (rl->rps > 0) {
		struct limit_req_conf rc = {
			.rate = rl->rps,
			.burst = rl->burst,
			.delay_after = rl->delay_after,
			.rows = ROWS,
			.width = rl->table_width,
			.seed = random_seed(),
		};

		o->req = o->st->req = limit_req_new(&rc);
		if (!o->req)
			return -errno;
	}
	if (rl->inflight) {
		o->infl = limit_inflight_new(ROWS, rl->table_width, random_seed());
		if (!o->infl)
			return -errno;
	}
	if (rl->deny_after_ms && rl->rps > 0) {
		uint64_t iv = (uint64_t)rl->deny_after_ms * 1000;

		if (iv < LIMIT_RATE_INTERVAL_MIN_US)
			iv = LIMIT_RATE_INTERVAL_MIN_US;
		if (iv > LIMIT_RATE_INTERVAL_MAX_US)
			iv = LIMIT_RATE_INTERVAL_MAX_US;
		o->est = o->st->est = limit_rate_new(iv, ROWS, rl->table_width / 4 ? rl->table_width / 4 : 64,
			random_seed());
		if (!o->est)
			return -errno;
	}
	return 0;
}

struct limits_rt *limits_rt_new(const struct cfg *c)
{
	struct limits_rt *l = calloc(1, sizeof(*l));
	size_t n_routes = 0, slots = 1;
	int err = -ENOMEM;

	if (!l)
		return NULL;
	l->cfg = c;
	if (c->n_rate_limits) {
		l->lim = calloc(c->n_rate_limits, sizeof(*l->lim));
		if (!l->lim)
			goto err;
	}
	for (size_t i = 0; i < c->n_rate_limits; i++) {
		err = build_one(&l->lim[i], &c->rate_limits[i]);
		l->n_lim = i + 1;
		if (err)
			goto err;
	}
	for (size_t v = 0; v < c->n_vhosts; v++)
		for (size_t r = 0; r < c->vhosts[v].n_routes; r++)
			if (c->vhosts[v].limits.n || c->vhosts[v].routes[r].limits.n)
				n_routes++;
	if (n_routes) {
		while (slots < 2 * n_routes)
			slots <<= 1;
		l->routes = calloc(slots, sizeof(*l->routes));
		err = -ENOMEM;
		if (!l->routes)
			goto err;
		l->routes_mask = slots - 1;
	}
	for (size_t v = 0; n_routes && v < c->n_vhosts; v++) {
		const struct cfg_vhost *vh = &c->vhosts[v];

		for (size_t r = 0; r < vh->n_routes; r++) {
			const struct cfg_route *rt = &vh->routes[r];
			const struct cfg_str_list *lists[2] = {&vh->limits, &rt->limits};
			struct route_limits *rl;
			size_t i;

			if (!vh->limits.n && !rt->limits.n)
				continue;
			add_route(l, rt);
			for (i = route_slot(l, rt); l->routes[i].route != rt;)
				i = (i + 1) & l->routes_mask;
			rl = &l->routes[i];
			for (size_t k = 0; k < 2; k++)
				for (size_t j = 0; j < lists[k]->n; j++) {
					int idx = cfg_rate_limit_find(c, lists[k]->v[j]);

					err = -EINVAL;
					if (idx < 0 || rl->n >= CFG_ROUTE_LIMITS_MAX)
						goto err;
					rl->idx[rl->n++] = (uint8_t)idx;
				}
		}
	}
	if (c->deny.allow.n) {
		l->allow = calloc(c->deny.allow.n, sizeof(*l->allow));
		err = -ENOMEM;
		if (!l->allow)
			goto err;
		for (size_t i = 0; i < c->deny.allow.n; i++) {
			err = -EINVAL;
			if (addr_parse_prefix(c->deny.allow.v[i], &l->allow[i].af, l->allow[i].net,
				    &l->allow[i].plen) < 0)
				goto err;
			l->n_allow++;
		}
	}
	return l;
err:
	limits_rt_free(l);
	errno = -err;
	return NULL;
}

void limits_rt_free(struct limits_rt *l)
{
	if (!l)
		return;
	if (published == l)
		published = NULL;
	for (size_t i = 0; i < l->n_lim; i++) {
		state_put(l->lim[i].st);
		limit_inflight_free(l->lim[i].infl);
	}
	free(l->lim);
	free(l->routes);
	free(l->allow);
	free(l);
}

/* Whether limits <a> and <b> count the same thing the same way, so state can move. */
static bool same_limit(const struct cfg_rate_limit *a, const struct cfg_rate_limit *b)
{
	if (strcmp(a->name, b->name) || a->rps != b->rps || a->burst != b->burst ||
		a->delay_after != b->delay_after || a->inflight != b->inflight ||
		a->table_width != b->table_width || a->v4_prefix != b->v4_prefix ||
		a->v6_prefix != b->v6_prefix || a->key.n != b->key.n ||
		a->deny_after_ms != b->deny_after_ms)
		return false;
	for (size_t i = 0; i < a->key.n; i++)
		if (strcmp(a->key.v[i], b->key.v[i]))
			return false;
	return true;
}

void limits_rt_inherit(struct limits_rt *l, struct limits_rt *prev)
{
	if (!l || !prev)
		return;
	for (size_t i = 0; i < l->n_lim; i++) {
		struct limit_one *o = &l->lim[i];

		for (size_t j = 0; j < prev->n_lim; j++) {
			struct limit_one *p = &prev->lim[j];

			if (!same_limit(o->cfg, p->cfg))
				continue;
			/* Both generations count into the same buckets while the old one
			 * drains; in-flight counts stay in each generation's own table. */
			state_put(o->st);
			atomic_fetch_add(&p->st->refs, 1);
			o->st = p->st;
			o->req = p->st->req;
			o->est = p->st->est;
			break;
		}
	}
}

void limits_rt_set_deny(struct limits_rt *l, limits_deny_fn fn, void *arg)
{
	if (!l)
		return;
	l->deny_fn = fn;
	l->deny_arg = arg;
}

/* ------------------------------------------------------------------ metrics */

/* One family of per-limit values: <name>, <help>, <type>, and the value of each limit. */
static int collect_family(struct metrics_writer *w, const struct limits_rt *l, const char *name,
	const char *help, enum metrics_type type, const char *result,
	uint64_t (*get)(const struct limit_one *, uint64_t))
{
	static const char *const lbl[] = {"limit", "result"};
	uint64_t now = clock_mono_us();
	int err = metrics_write_family(w, name, help, type);

	for (size_t i = 0; !err && i < l->n_lim; i++) {
		const char *v[] = {l->lim[i].cfg->name, result};

		err = metrics_write_sample(w, lbl, v, result ? 2 : 1, (double)get(&l->lim[i], now));
	}
	return err;
}

static uint64_t get_passed(const struct limit_one *o, uint64_t now)
{
	return atomic_load_explicit(&o->passed, memory_order_relaxed);
}

static uint64_t get_delayed(const struct limit_one *o, uint64_t now)
{
	return atomic_load_explicit(&o->delayed, memory_order_relaxed);
}

static uint64_t get_rejected(const struct limit_one *o, uint64_t now)
{
	return atomic_load_explicit(&o->rejected, memory_order_relaxed);
}

static uint64_t get_busy(const struct limit_one *o, uint64_t now)
{
	return atomic_load_explicit(&o->busy, memory_order_relaxed);
}

static uint64_t get_pushed(const struct limit_one *o, uint64_t now)
{
	return atomic_load_explicit(&o->pushed, memory_order_relaxed);
}

static uint64_t get_keys(const struct limit_one *o, uint64_t now)
{
	return limit_req_active(o->req, now);
}

/* The metrics collector: the published generation's counters at each scrape. */
static int collect(struct metrics_writer *w, void *arg)
{
	const struct limits_rt *l = published;
	static const char *const lbl[] = {"limit", "result"};
	int err;

	(void)arg;
	if (!l || !l->n_lim)
		return 0;
	err = metrics_write_family(w, "pingd_limit_requests_total",
		"Requests under a rate limit, by limit and outcome (passed, delayed, rejected, "
		"inflight: over the in-flight bound)",
		METRICS_COUNTER);
	for (size_t i = 0; !err && i < l->n_lim; i++) {
		const struct limit_one *o = &l->lim[i];
		const char *res[] = {"passed", "delayed", "rejected", "inflight"};
		uint64_t (*get[])(const struct limit_one *, uint64_t) = {
			get_passed, get_delayed, get_rejected, get_busy};

		for (size_t k = 0; !err && k < 4; k++) {
			const char *v[] = {o->cfg->name, res[k]};

			err = metrics_write_sample(w, lbl, v, 2, (double)get[k](o, 0));
		}
	}
	if (!err)
		err = collect_family(w, l, "pingd_limit_keys",
			"Keys a rate limit is tracking (sent a request within (burst + 1) / rate)",
			METRICS_GAUGE, NULL, get_keys);
	if (!err)
		err = collect_family(w, l, "pingd_limit_denied_total",
			"Clients pushed into the XDP deny map, by limit", METRICS_COUNTER, NULL,
			get_pushed);
	return err;
}

int limits_rt_publish(struct limits_rt *l, struct metrics *m)
{
	int err = 0;

	if (m && m != published_on) {
		err = metrics_collector(m, collect, NULL);
		if (err)
			return err;
		published_on = m;
	}
	published = l;
	return 0;
}

/* ------------------------------------------------------------------ deciding */

/* The limits of route <r>, or NULL. */
static const struct route_limits *route_find(const struct limits_rt *l, const struct cfg_route *r)
{
	if (!l->routes_mask || !r)
		return NULL;
	for (size_t i = route_slot(l, r); l->routes[i].route; i = (i + 1) & l->routes_mask)
		if (l->routes[i].route == r)
			return &l->routes[i];
	return NULL;
}

/* Append <len> bytes at <p> to key <buf> (<*n> used), each part length-prefixed so that
 * ("ab", "c") and ("a", "bc") differ. Returns false when the key would not fit. */
static bool key_put(char *buf, size_t *n, const void *p, size_t len)
{
	uint16_t l16 = (uint16_t)len;

	if (len > KEY_MAX || *n + sizeof(l16) + len > KEY_MAX)
		return false;
	memcpy(buf + *n, &l16, sizeof(l16));
	memcpy(buf + *n + sizeof(l16), p, len);
	*n += sizeof(l16) + len;
	return true;
}

/* Build the key of <o> for the request of <s> into <buf> (KEY_MAX bytes). Returns its
 * length, or -ENOENT when a part is missing (the limit does not apply, as nginx's empty
 * key), or -ENOSPC when the parts do not fit (the limit applies to the truncated key). */
static int build_key(const struct limit_one *o, struct session *s, char *buf)
{
	const struct stream *x = s->x;
	size_t n = 0;

	for (size_t k = 0; k < o->n_parts; k++) {
		char ak[LIMIT_KEY_ADDR_MAX];
		const struct h1_str *v;
		int r;

		switch (o->src[k]) {
		case CFG_LIMIT_CLIENT_ADDR:
			r = limit_key_sockaddr(ak, sizeof(ak),
				(const struct sockaddr *)&s->cli->peer, o->cfg->v4_prefix,
				o->cfg->v6_prefix);
			if (r < 0)
				return -ENOENT;
			if (!key_put(buf, &n, ak, (size_t)r))
				return -ENOSPC;
			break;
		case CFG_LIMIT_HEADER:
			v = h1_hdrs_get(&x->rq->hdrs, o->hdr[k]);
			if (!v || !v->len)
				return -ENOENT;
			if (!key_put(buf, &n, v->p, v->len < 256 ? v->len : 256))
				return -ENOSPC;
			break;
		case CFG_LIMIT_ROUTE:
			if (!key_put(buf, &n, &x->route, sizeof(x->route)))
				return -ENOSPC;
			break;
		case CFG_LIMIT_HOST:
			v = h1_hdrs_get(&x->rq->hdrs, "Host");
			if (!key_put(buf, &n, v ? v->p : "", v ? (v->len < 256 ? v->len : 256) : 0))
				return -ENOSPC;
			break;
		default:
			if (!x->px.limit_key_len)
				return -ENOENT;
			if (!key_put(buf, &n, x->px.limit_key, x->px.limit_key_len))
				return -ENOSPC;
			break;
		}
	}
	return (int)n;
}

/* Whether client <sa> is inside deny.allow. */
static bool allowed(const struct limits_rt *l, int af, const void *a)
{
	for (size_t i = 0; i < l->n_allow; i++)
		if (addr_prefix_contains(l->allow[i].af, l->allow[i].net, l->allow[i].plen, af, a))
			return true;
	return false;
}

/* The client address of <s>: family and 16 bytes (an IPv4-mapped IPv6 address as IPv4). */
static int client_addr(const struct session *s, unsigned char a[16])
{
	return addr_client(&s->cli->peer.sa, a);
}

/* A key of <o> crossed its limit: log once per key slot per LOG_GAP_MS (the shared rate
 * limit of the log bounds the total). */
static void log_crossing(struct limit_one *o, struct session *s, uint64_t h, const char *what)
{
	_Atomic uint64_t *slot = &o->logged[h % SLOTS];
	uint64_t now = clock_coarse_ms(), last = atomic_load_explicit(slot, memory_order_relaxed);

	if (last && now - last < LOG_GAP_MS)
		return;
	if (!atomic_compare_exchange_strong_explicit(
		    slot, &last, now ? now : 1, memory_order_relaxed, memory_order_relaxed))
		return;
	log_ratelimited(LOG_LVL_NOTICE, "limit '%s': client %s over %s, answering %u",
		o->cfg->name, SESS_PEER(s), what, o->cfg->status);
}

/* A rejected request of <o> from <s>: push the client into the deny map when its rate over
 * deny_after is at least deny_factor times the limit. */
static void maybe_deny(struct limits_rt *l, struct limit_one *o, struct session *s,
	const char *key, size_t len, uint64_t h, uint64_t now_us)
{
	_Atomic uint64_t *slot = &o->st->deny_at[h % SLOTS];
	uint64_t now = clock_coarse_ms(), last = atomic_load_explicit(slot, memory_order_relaxed);
	const struct cfg_rate_limit *rl = o->cfg;
	unsigned char a[16];
	unsigned int plen;
	double rate;
	int af, err;

	if (!o->est || !l->deny_fn)
		return;
	rate = limit_rate_rate(o->est, key, len, now_us);
	if (rate < rl->rps * rl->deny_factor)
		return;
	/* One push per key slot while the last one lasts: the data plane holds the entry. */
	if (last && now - last < rl->deny_ttl_ms / 2)
		return;
	af = client_addr(s, a);
	if (af == AF_UNSPEC || allowed(l, af, a))
		return;
	if (!atomic_compare_exchange_strong_explicit(
		    slot, &last, now ? now : 1, memory_order_relaxed, memory_order_relaxed))
		return;
	plen = af == AF_INET ? rl->v4_prefix : rl->v6_prefix;
	/* Clear the host bits: the entry names the prefix the limit counted. */
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int keep = plen > i * 8 ? plen - i * 8 : 0;

		if (keep < 8)
			a[i] &= (unsigned char)(0xff00u >> keep);
	}
	err = l->deny_fn(l->deny_arg, af, a, plen, rl->deny_ttl_ms, rl->name);
	if (err) {
		log_ratelimited(LOG_LVL_WARN, "limit '%s': cannot deny client %s: %s", rl->name,
			SESS_PEER(s), strerror(-err));
		return;
	}
	atomic_fetch_add_explicit(&o->pushed, 1, memory_order_relaxed);
	log_notice("limit '%s': client %s/%u at %.0f requests/s (%u x the limit over %u ms), "
		   "denied in XDP for %u ms",
		rl->name, SESS_PEER(s), plen, rate, rl->deny_factor, rl->deny_after_ms,
		rl->deny_ttl_ms);
}

enum limits_verdict limits_check(
	struct session *s, uint64_t *wait_ms, int *status, uint64_t *retry_s)
{
	struct limits_rt *l = s->w->rt->limits;
	struct stream *x = s->x;
	const struct route_limits *rl;
	enum limits_verdict v = LIMITS_PASS;
	uint64_t now_us = clock_mono_us(), wait = 0;
	char key[KEY_MAX];

	if (!l || !(rl = route_find(l, x->route)))
		return LIMITS_PASS;
	for (size_t i = 0; i < rl->n; i++) {
		struct limit_one *o = &l->lim[rl->idx[i]];
		struct limit_decision d = {0};
		int len = build_key(o, s, key);
		uint64_t h;

		if (len == -ENOENT)
			continue;
		if (len < 0)
			len = KEY_MAX;
		h = limit_hash(key, (size_t)len, 0x6c696d6974ull);
		if (o->est)
			(void)limit_rate_observe(o->est, key, (size_t)len, 1, now_us);
		if (o->req && limit_req_decide(o->req, key, (size_t)len, now_us, &d) < 0)
			d.verdict = LIMIT_PASS; /* a clock past 146 years: let it through */
		if (d.verdict == LIMIT_REJECT) {
			atomic_fetch_add_explicit(&o->rejected, 1, memory_order_relaxed);
			log_crossing(o, s, h, o->cfg->rate);
			maybe_deny(l, o, s, key, (size_t)len, h, now_us);
			*status = (int)o->cfg->status;
			*retry_s = limit_retry_after_sec(d.wait_ms);
			v = LIMITS_REJECT;
			break;
		}
		if (o->infl) {
			struct limit_inflight_guard *g = &x->lim_guard[x->n_lim_guard];

			if (limit_inflight_try_acquire(
				    o->infl, key, (size_t)len, o->cfg->inflight, g) < 0) {
				atomic_fetch_add_explicit(&o->busy, 1, memory_order_relaxed);
				log_crossing(o, s, h, "its in-flight bound");
				*status = (int)o->cfg->status;
				*retry_s = 1;
				v = LIMITS_REJECT;
				break;
			}
			x->n_lim_guard++;
		}
		if (d.verdict == LIMIT_DELAY) {
			atomic_fetch_add_explicit(&o->delayed, 1, memory_order_relaxed);
			if (d.wait_ms > wait)
				wait = d.wait_ms;
		} else {
			atomic_fetch_add_explicit(&o->passed, 1, memory_order_relaxed);
		}
	}
	if (v == LIMITS_REJECT) {
		limits_release(x);
		return v;
	}
	if (wait) {
		*wait_ms = wait;
		return LIMITS_DELAY;
	}
	return LIMITS_PASS;
}

void limits_release(struct stream *x)
{
	for (unsigned int i = 0; i < x->n_lim_guard; i++)
		limit_inflight_release(&x->lim_guard[i]);
	x->n_lim_guard = 0;
}

void limits_answer(struct session *s, int status, uint64_t retry_s)
{
	const char *reason = h1_status_reason(status);
	size_t blen = strlen(reason) + 1;
	struct h1_msg m = {0};
	char ra[24], cl[24];
	int err;

	m.kind = H1_RESPONSE;
	m.major = 1;
	m.minor = 1;
	m.status = (uint16_t)status;
	m.framing = H1_BODY_LENGTH;
	m.content_length = blen;
	h1_hdrs_init(&m.hdrs, 8, 512);
	snprintf(cl, sizeof(cl), "%zu", blen);
	snprintf(ra, sizeof(ra), "%" PRIu64, retry_s);
	err = h1_hdrs_add(&m.hdrs, "Content-Type", 12, "text/plain", 10);
	if (!err)
		err = h1_hdrs_add(&m.hdrs, "Content-Length", 14, cl, strlen(cl));
	if (!err)
		err = h1_hdrs_add(&m.hdrs, "Retry-After", 11, ra, strlen(ra));
	/* As an upstream's answer: keep-alive when the request has no body left to read. */
	if (err || stream_local_head(s, &m) < 0) {
		h1_hdrs_free(&m.hdrs);
		stream_local_error(s, 500);
		return;
	}
	h1_hdrs_free(&m.hdrs);
	if (!s->x->rq || s->x->rq->method != H1_METHOD_HEAD) {
		evbuffer_add(s->w->cstage, reason, blen - 1);
		evbuffer_add(s->w->cstage, "\n", 1);
		s->x->bytes_out = blen;
	}
	stream_local_done(s);
}
