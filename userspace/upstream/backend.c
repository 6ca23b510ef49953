// SPDX-License-Identifier: GPL-2.0
/* Server selection. The shared part (servers, Maglev table, ketama ring) is read-only; the
 * per-worker state is touched by one thread only, so nothing here locks. */
#include "userspace/upstream/backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ketama/ketama.h"
#include "maglev/maglev.h"
#include "userspace/cfg/cfg-t.h"
#include "userspace/upstream/health.h"

struct backend *backend_new(const struct cfg *c, size_t idx)
{
	const struct cfg_upstream *u = &c->upstreams[idx];
	struct backend *be = calloc(1, sizeof(*be));
	int err = ENOMEM;

	if (!be)
		return NULL;
	be->cfg = u;
	be->idx = idx;
	be->n = u->n_servers;
	be->servers = calloc(be->n, sizeof(*be->servers));
	if (!be->servers)
		goto err;
	for (size_t i = 0; i < be->n; i++) {
		be->servers[i].cfg = &u->servers[i];
		be->total_weight += u->servers[i].weight;
	}
	if (u->selection == CFG_SEL_MAGLEV) {
		struct maglev_backend *mb = calloc(be->n, sizeof(*mb));
		uint8_t(*keys)[MAGLEV_KEY_MAX] = calloc(be->n, MAGLEV_KEY_MAX);
		struct maglev *mg = maglev_new(MAGLEV_DEFAULT_SIZE);

		if (!mb || !keys || !mg) {
			err = errno ? errno : ENOMEM;
			goto maglev_out;
		}
		be->maglev_len = maglev_size(mg);
		be->maglev = calloc(be->maglev_len, sizeof(*be->maglev));
		if (!be->maglev)
			goto maglev_out;
		for (size_t i = 0; i < be->n; i++) {
			const struct cfg_addr *a = &u->servers[i].address;
			const void *ip;
			uint16_t port;

			if (a->ss.ss_family == AF_INET6) {
				const struct sockaddr_in6 *s6 = (const void *)&a->ss;

				ip = &s6->sin6_addr;
				port = ntohs(s6->sin6_port);
			} else {
				const struct sockaddr_in *s4 = (const void *)&a->ss;

				ip = &s4->sin_addr;
				port = ntohs(s4->sin_port);
			}
			mb[i].key = keys[i];
			mb[i].key_len = maglev_addr_key(keys[i], a->ss.ss_family, ip, port);
			mb[i].weight = u->servers[i].weight;
		}
		err = -maglev_build(mg, mb, be->n, be->maglev);
	maglev_out:
		maglev_free(mg);
		free(keys);
		free(mb);
		if (err || !be->maglev) {
			err = err ? err : ENOMEM;
			goto err;
		}
	} else if (u->selection == CFG_SEL_KETAMA) {
		struct ketama_server *ks = calloc(be->n, sizeof(*ks));

		if (!ks)
			goto err;
		for (size_t i = 0; i < be->n; i++) {
			ks[i].name = u->servers[i].address.text;
			ks[i].weight = u->servers[i].weight;
		}
		be->ring = ketama_new(KETAMA_NGINX, ks, be->n);
		err = errno;
		free(ks);
		if (!be->ring)
			goto err;
	}
	(void)c;
	return be;
err:
	backend_free(be);
	errno = err;
	return NULL;
}

void backend_free(struct backend *be)
{
	if (!be)
		return;
	ketama_free(be->ring);
	free(be->maglev);
	free(be->servers);
	free(be);
}

bool backend_passive_on(const struct backend *be)
{
	/* Active checks, where configured, decide instead of request outcomes. */
	return be->cfg->passive.max_fails && be->cfg->health.check == CFG_HC_OFF;
}

int backend_wstate_init(struct backend_wstate *ws, const struct backend *be)
{
	memset(ws, 0, sizeof(*ws));
	ws->wrr_current = calloc(be->n, sizeof(*ws->wrr_current));
	ws->active = calloc(be->n, sizeof(*ws->active));
	if (backend_passive_on(be)) {
		ws->passive = calloc(be->n, sizeof(*ws->passive));
		for (size_t i = 0; ws->passive && i < be->n; i++)
			health_passive_init(&ws->passive[i], be->cfg->passive.max_fails,
				be->cfg->passive.cooldown_ms, be->cfg->passive.cooldown_max_ms);
	}
	if (!ws->wrr_current || !ws->active || (backend_passive_on(be) && !ws->passive)) {
		backend_wstate_release(ws);
		return -ENOMEM;
	}
	return 0;
}

void backend_wstate_release(struct backend_wstate *ws)
{
	free(ws->wrr_current);
	free(ws->active);
	free(ws->passive);
	memset(ws, 0, sizeof(*ws));
}

/* A 64-bit FNV-1a followed by a murmur3 finaliser, so that short keys spread over the whole
 * range before the modulo of the Maglev table. */
static uint64_t hash64(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t backend_hash(const struct backend *be, const void *key, size_t len)
{
	switch (be->cfg->selection) {
	case CFG_SEL_KETAMA:
		return ketama_hash(be->ring, key, len);
	case CFG_SEL_MAGLEV:
		return hash64(key, len);
	default:
		return 0;
	}
}

/* Server <i> is not tried by this request and, unless <any>, not marked down by health
 * checks. */
static bool usable(const struct backend *be, size_t i, uint64_t tried, bool any)
{
	return !(tried & (1ull << (i % 64))) &&
	       (any || !__atomic_load_n(&be->servers[i].down, __ATOMIC_RELAXED));
}

/* Round robin from the worker's position; each worker keeps its own, so with N workers
 * the spread is even per worker, not a global rotation. */
static int pick_rr(const struct backend *be, struct backend_wstate *ws, uint64_t tried, bool any)
{
	for (size_t k = 0; k < be->n; k++) {
		size_t i = (size_t)((ws->rr + k) % be->n);

		if (usable(be, i, tried, any)) {
			ws->rr = i + 1;
			return (int)i;
		}
	}
	return -ENOENT;
}

/* nginx's smooth weighted round robin: every usable peer gains its weight, the largest
 * current weight wins and pays back the total. Spreads a 5:1:1 pool as a a b a c a a. */
static int pick_wrr(const struct backend *be, struct backend_wstate *ws, uint64_t tried, bool any)
{
	int64_t total = 0;
	int best = -1;

	for (size_t i = 0; i < be->n; i++) {
		if (!usable(be, i, tried, any))
			continue;
		ws->wrr_current[i] += be->servers[i].cfg->weight;
		total += be->servers[i].cfg->weight;
		if (best < 0 || ws->wrr_current[i] > ws->wrr_current[best])
			best = (int)i;
	}
	if (best >= 0)
		ws->wrr_current[best] -= total;
	return best >= 0 ? best : -ENOENT;
}

/* Fewest in flight per unit of weight (compared as a/wa < b/wb without division), ties
 * broken round robin so that an idle pool still spreads. */
static int pick_least(const struct backend *be, struct backend_wstate *ws, uint64_t tried, bool any)
{
	int best = -1;

	for (size_t k = 0; k < be->n; k++) {
		size_t i = (size_t)((ws->rr + k) % be->n);

		if (!usable(be, i, tried, any))
			continue;
		if (best < 0 || (uint64_t)ws->active[i] * be->servers[best].cfg->weight <
					(uint64_t)ws->active[best] * be->servers[i].cfg->weight)
			best = (int)i;
	}
	if (best >= 0)
		ws->rr = (uint64_t)best + 1;
	return best >= 0 ? best : -ENOENT;
}

static int pick_ketama(const struct backend *be, uint64_t hash, uint64_t tried, bool any)
{
	/* Walk the ring clockwise to the next distinct server, as nginx does on failure. */
	for (unsigned int nth = 0; nth < be->n; nth++) {
		int i = ketama_next(be->ring, (uint32_t)hash, nth);

		if (i < 0)
			break;
		if (usable(be, (size_t)i, tried, any))
			return i;
	}
	return -ENOENT;
}

static int pick_maglev(const struct backend *be, uint64_t hash, uint64_t tried, bool any)
{
	uint32_t slot = (uint32_t)(hash % be->maglev_len);

	/* The next slots of the table hold the other servers in proportion to their weights,
	 * so walking on from the key's slot fails over evenly and deterministically. */
	for (uint32_t k = 0; k < be->maglev_len; k++) {
		uint32_t i = be->maglev[(slot + k) % be->maglev_len];

		if (usable(be, i, tried, any))
			return (int)i;
	}
	return -ENOENT;
}

/* A server of <be> by its policy among the untried ones that are up (or all, with <any>). */
static int pick(const struct backend *be, struct backend_wstate *ws, uint64_t hash, uint64_t tried,
	bool any)
{
	switch (be->cfg->selection) {
	case CFG_SEL_WRR:
		return pick_wrr(be, ws, tried, any);
	case CFG_SEL_LEAST_CONN:
		return pick_least(be, ws, tried, any);
	case CFG_SEL_KETAMA:
		return pick_ketama(be, hash, tried, any);
	case CFG_SEL_MAGLEV:
		return pick_maglev(be, hash, tried, any);
	default:
		return pick_rr(be, ws, tried, any);
	}
}

int backend_select(
	const struct backend *be, struct backend_wstate *ws, uint64_t hash, uint64_t tried)
{
	int i = pick(be, ws, hash, tried, false);

	/* Every untried server is marked down: fail open. A probe also fails a live server
	 * that is merely slow (a timeout under load), and trying the servers, with retries
	 * behind each attempt, beats answering 502 to every request. */
	if (i < 0)
		i = pick(be, ws, hash, tried, true);
	if (i >= 0)
		ws->active[i]++;
	return i;
}

void backend_done(struct backend_wstate *ws, int srv)
{
	if (srv >= 0 && ws->active[srv])
		ws->active[srv]--;
}

/* Start a new budget window when the current one is over, keeping the last one's totals
 * (or none, after a quiet spell of two windows). */
static void budget_roll(struct backend_wstate *ws, uint64_t now_ms)
{
	if (now_ms - ws->window_start_ms < BACKEND_BUDGET_WINDOW_MS)
		return;
	if (now_ms - ws->window_start_ms < 2 * BACKEND_BUDGET_WINDOW_MS) {
		ws->prev_requests = ws->window_requests;
		ws->prev_retries = ws->window_retries;
	} else {
		ws->prev_requests = 0;
		ws->prev_retries = 0;
	}
	ws->window_requests = 0;
	ws->window_retries = 0;
	ws->window_start_ms = now_ms;
}

void backend_note_request(struct backend_wstate *ws, uint64_t now_ms)
{
	budget_roll(ws, now_ms);
	ws->window_requests++;
}

bool backend_retry_take(const struct backend *be, struct backend_wstate *ws, uint64_t now_ms)
{
	uint64_t reqs, retries, allowed;

	budget_roll(ws, now_ms);
	/* Both windows count, so the budget covers the last 10 to 20 seconds. */
	reqs = (uint64_t)ws->window_requests + ws->prev_requests;
	retries = (uint64_t)ws->window_retries + ws->prev_retries;
	allowed = reqs * be->cfg->retry_budget / 100 + be->cfg->retry_budget_min;
	if (retries >= allowed)
		return false;
	ws->window_retries++;
	return true;
}

bool backend_cookie_value(
	const char *hdr, size_t len, const char *name, const char **val, size_t *val_len)
{
	size_t nl = strlen(name), i = 0;

	while (i < len) {
		size_t start, eq, end;

		while (i < len && (hdr[i] == ' ' || hdr[i] == '\t' || hdr[i] == ';'))
			i++;
		start = i;
		while (i < len && hdr[i] != ';')
			i++;
		end = i;
		for (eq = start; eq < end && hdr[eq] != '='; eq++)
			;
		if (eq < end && eq - start == nl && !memcmp(hdr + start, name, nl)) {
			const char *v = hdr + eq + 1;
			size_t vl = end - eq - 1;

			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			*val = v;
			*val_len = vl;
			return true;
		}
	}
	return false;
}
