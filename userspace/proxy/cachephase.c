// SPDX-License-Identifier: GPL-2.0
/* The stream's cache phase over the object store (userspace/cache/) and the caching rules
 * (userspace/http/hcache.c): lookup, stampede lock, serving, revalidation, storing, purge. */
#include "userspace/proxy/cachephase.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "userspace/cache/cache.h"
#include "userspace/cfg/scalar.h"
#include "userspace/http/h1.h"
#include "userspace/http/hcache.h"
#include "userspace/lib/addr.h"
#include "userspace/lib/clock.h"
#include "userspace/lib/hash.h"
#include "userspace/lib/log.h"
#include "userspace/net/conn.h"
#include "userspace/ops/metrics.h"
#include "userspace/proxy/session.h"
#include "userspace/upstream/backend.h"

#define LOCK_SHARDS	  64   /* lock table shards, each with its own mutex */
#define PASS_MS		  5000 /* a key found uncacheable is fetched without the lock this long */
#define POLL_FIRST_MS	  1    /* a waiter's first look, doubling ... */
#define POLL_MAX_MS	  32   /* ... up to this */
#define HEAD_ROOM	  65536 /* bytes of a stored object's head on top of max_object_size */
#define VARY_MARK	  "\x00vary" /* separates a primary key from a variant's key */
#define VARY_MARK_LEN	  5

/* One key being fetched (or, with pass_until set, found uncacheable lately). */
struct hc_lock {
	struct hc_lock *next;
	uint64_t hash;
	uint64_t expires_ms; /* a holder that never released (a bug) is ignored after this */
	uint64_t pass_until; /* monotonic ms; 0: a fetch in progress */
	size_t len;
	char key[];
};

struct hc_lockshard {
	pthread_mutex_t mu;
	struct hc_lock *head;
} __attribute__((aligned(64)));

/* Counters of a cache, atomics updated by every worker. */
enum hc_stat {
	HS_HIT = 0,	 /* served fresh from the store */
	HS_STALE,	 /* served stale (while another request or a background fetch refreshes,
			  * stale-if-error, max-stale) */
	HS_REVALIDATED,	 /* a stale response the upstream confirmed with 304 */
	HS_MISS,	 /* fetched: nothing stored, or a stored response was replaced */
	HS_PASS,	 /* not cacheable: a method, a request directive, a large body */
	HS_STORED,	 /* responses stored */
	HS_NOT_STORED,	 /* responses the rules or the store's admission kept out */
	HS_BYTES_HIT,	 /* body bytes sent from the store */
	HS_BYTES_STORED, /* object bytes stored */
	HS_LOCK_WAIT,	 /* requests that waited for another's fetch */
	HS_LOCK_TIMEOUT, /* ... and gave up waiting */
	HS_PURGED,	 /* objects purged or invalidated */
	HS_MAX		 /* must stay last */
};

static const char *const stat_names[HS_MAX] = {"hit", "stale", "revalidated", "miss", "pass",
	"stored", "not_stored", "bytes_hit", "bytes_stored", "lock_wait", "lock_timeout",
	"purged"};

/* One cache: the store, the lock table and the counters; shared by every worker and every
 * configuration generation that names it. */
struct hcache {
	struct hcache *next; /* registry */
	unsigned int refs;   /* under reg_mu */
	char name[128];
	uint64_t size, max_object;
	unsigned int shards;
	struct cache *store;
	uint64_t stats[HS_MAX]; /* atomic */
	struct hc_lockshard locks[LOCK_SHARDS];
};

/* The per-exchange state of a cached route (stream.cx). */
struct cache_x {
	struct hcache *hc;
	const struct cfg_cache *cfg;
	char *key; /* primary key: scheme://host/target */
	size_t key_len;
	uint64_t hash;
	struct h1_buf skey; /* the store key of the response: primary, or a variant's */
	uint64_t shash;
	struct cache_entry *ent; /* the stored response found, referenced */
	struct hc_obj obj;	 /* ... read */
	struct hc_cc rq;	 /* request directives */
	enum h1_method method;
	int64_t request_time; /* wall seconds */
	bool locked;	      /* this exchange holds the key's fetch lock */
	bool waiting;	      /* waits for another's fetch */
	bool revalidating;    /* the upstream request carries our validators */
	bool storing;	      /* the response is copied into fill */
	bool serving;	      /* a response from the store is being written */
	bool bypass;	      /* nothing to do with the cache (PURGE done, body, ...) */
	bool uncacheable;     /* the response was found uncacheable */
	uint64_t wait_until;  /* monotonic ms */
	unsigned int poll_ms;
	struct h1_hdrs cond; /* the client's preconditions and Range, when ours replaced them */
	bool has_cond;	     /* cond holds them */
	struct h1_buf fill; /* the stored object being built */
	char vary[512];	    /* Vary names of the response being stored */
	int vary_len;
};

static int bg_start(struct session *s);

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hcache *registry;

static void stat_add(struct hcache *hc, enum hc_stat st, uint64_t n)
{
	__atomic_add_fetch(&hc->stats[st], n, __ATOMIC_RELAXED);
}

/* FNV-1a over <len> bytes at <p>, mixed: the store's and the lock table's hash of a key. */
static uint64_t key_hash(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return hash_mix64(h);
}

/* ------------------------------------------------------------------ registry */

/* The largest object a cache of <c> stores: its max_object_size, or 8 MiB, at most what a
 * shard holds. */
static uint64_t max_object_of(const struct cfg_cache *c)
{
	uint64_t share = c->size / c->shards - CACHE_ENTRY_OVERHEAD;
	uint64_t m = c->max_object_size ? c->max_object_size : (8u << 20);

	return m < share ? m : share;
}

static struct hcache *hcache_take(const struct cfg_cache *c)
{
	uint64_t mo = max_object_of(c);
	struct hcache *hc;

	pthread_mutex_lock(&reg_mu);
	for (hc = registry; hc; hc = hc->next)
		if (!strcmp(hc->name, c->name) && hc->size == c->size && hc->max_object == mo &&
			hc->shards == c->shards)
			break;
	if (hc) {
		hc->refs++;
		goto out;
	}
	hc = calloc(1, sizeof(*hc));
	if (!hc)
		goto out;
	hc->store = cache_new(c->size, mo, c->shards);
	if (!hc->store) {
		free(hc);
		hc = NULL;
		goto out;
	}
	snprintf(hc->name, sizeof(hc->name), "%s", c->name);
	hc->size = c->size;
	hc->max_object = mo;
	hc->shards = c->shards;
	hc->refs = 1;
	for (size_t i = 0; i < LOCK_SHARDS; i++)
		pthread_mutex_init(&hc->locks[i].mu, NULL);
	hc->next = registry;
	registry = hc;
out:
	pthread_mutex_unlock(&reg_mu);
	return hc;
}

static void hcache_drop(struct hcache *hc)
{
	struct hcache **pp;

	if (!hc)
		return;
	pthread_mutex_lock(&reg_mu);
	if (--hc->refs) {
		pthread_mutex_unlock(&reg_mu);
		return;
	}
	for (pp = &registry; *pp; pp = &(*pp)->next)
		if (*pp == hc) {
			*pp = hc->next;
			break;
		}
	pthread_mutex_unlock(&reg_mu);
	for (size_t i = 0; i < LOCK_SHARDS; i++) {
		struct hc_lock *l = hc->locks[i].head, *n;

		for (; l; l = n) {
			n = l->next;
			free(l);
		}
		pthread_mutex_destroy(&hc->locks[i].mu);
	}
	cache_free(hc->store);
	free(hc);
}

int cachephase_rt_init(struct pingd_rt *rt)
{
	const struct cfg *c = rt->cfg;

	if (!c->n_caches)
		return 0;
	rt->caches = calloc(c->n_caches, sizeof(*rt->caches));
	if (!rt->caches)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_caches; i++) {
		rt->caches[i] = hcache_take(&c->caches[i]);
		if (!rt->caches[i]) {
			int err = errno ? -errno : -ENOMEM;

			log_err("cache '%s': %s", c->caches[i].name, strerror(-err));
			return err;
		}
	}
	return 0;
}

void cachephase_rt_free(struct pingd_rt *rt)
{
	for (size_t i = 0; rt->caches && i < rt->cfg->n_caches; i++)
		hcache_drop(rt->caches[i]);
	free(rt->caches);
	rt->caches = NULL;
}

/* ------------------------------------------------------------------ fetch locks */

enum lock_res {
	LOCK_TAKEN = 0, /* this request fetches */
	LOCK_BUSY,	/* another does */
	LOCK_PASS,	/* the key was uncacheable lately: fetch without the lock */
};

static struct hc_lockshard *lock_shard(struct hcache *hc, uint64_t hash)
{
	return &hc->locks[hash % LOCK_SHARDS];
}

/* The lock of <key> in <ls> (expired ones are removed on the way), or NULL. */
static struct hc_lock *lock_find(struct hc_lockshard *ls, uint64_t hash, const char *key,
	size_t len, uint64_t now)
{
	struct hc_lock **pp = &ls->head;

	while (*pp) {
		struct hc_lock *l = *pp;

		if ((l->pass_until && l->pass_until <= now) || l->expires_ms <= now) {
			*pp = l->next;
			free(l);
			continue;
		}
		if (l->hash == hash && l->len == len && !memcmp(l->key, key, len))
			return l;
		pp = &l->next;
	}
	return NULL;
}

static enum lock_res lock_try(struct cache_x *cx, uint64_t hold_ms)
{
	struct hc_lockshard *ls = lock_shard(cx->hc, cx->hash);
	uint64_t now = clock_mono_ms();
	enum lock_res r = LOCK_TAKEN;
	struct hc_lock *l;

	pthread_mutex_lock(&ls->mu);
	l = lock_find(ls, cx->hash, cx->key, cx->key_len, now);
	if (l) {
		r = l->pass_until ? LOCK_PASS : LOCK_BUSY;
	} else {
		l = malloc(sizeof(*l) + cx->key_len);
		if (!l) {
			r = LOCK_PASS;
		} else {
			l->hash = cx->hash;
			l->len = cx->key_len;
			l->pass_until = 0;
			l->expires_ms = now + hold_ms;
			memcpy(l->key, cx->key, cx->key_len);
			l->next = ls->head;
			ls->head = l;
		}
	}
	pthread_mutex_unlock(&ls->mu);
	cx->locked = r == LOCK_TAKEN;
	return r;
}

static bool lock_held(struct cache_x *cx)
{
	struct hc_lockshard *ls = lock_shard(cx->hc, cx->hash);
	struct hc_lock *l;

	pthread_mutex_lock(&ls->mu);
	l = lock_find(ls, cx->hash, cx->key, cx->key_len, clock_mono_ms());
	pthread_mutex_unlock(&ls->mu);
	return l && !l->pass_until;
}

/* Release the lock <cx> holds; with <pass>, the key is marked uncacheable for PASS_MS so that
 * the requests waiting for it, and the next ones, go to the upstream at once. */
static void lock_release(struct cache_x *cx, bool pass)
{
	struct hc_lockshard *ls;
	struct hc_lock **pp;
	uint64_t now = clock_mono_ms();

	if (!cx->locked)
		return;
	cx->locked = false;
	ls = lock_shard(cx->hc, cx->hash);
	pthread_mutex_lock(&ls->mu);
	for (pp = &ls->head; *pp; pp = &(*pp)->next) {
		struct hc_lock *l = *pp;

		if (l->hash != cx->hash || l->len != cx->key_len || memcmp(l->key, cx->key, l->len))
			continue;
		if (pass) {
			l->pass_until = now + PASS_MS;
			l->expires_ms = now + PASS_MS;
		} else {
			*pp = l->next;
			free(l);
		}
		break;
	}
	pthread_mutex_unlock(&ls->mu);
}

/* ------------------------------------------------------------------ keys */

/* "scheme://host<target>" with the host lower-cased, into a malloc()ed buffer. */
static char *make_key(struct session *s, size_t *len)
{
	const struct h1_msg *m = s->x->rq;
	const struct h1_str *host = h1_hdrs_get(&m->hdrs, "Host");
	const char *scheme = s->w->rt->tls[s->listener] ? "https://" : "http://";
	size_t sl = strlen(scheme), hl = host ? host->len : 0;
	char *k = malloc(sl + hl + m->target.len + 1);

	if (!k)
		return NULL;
	memcpy(k, scheme, sl);
	for (size_t i = 0; i < hl; i++)
		k[sl + i] = (char)(host->p[i] >= 'A' && host->p[i] <= 'Z' ? host->p[i] + 32 :
									     host->p[i]);
	memcpy(k + sl + hl, m->target.p, m->target.len);
	*len = sl + hl + m->target.len;
	k[*len] = '\0';
	return k;
}

/* The store key of the variant of request fields <req> for Vary <names> into cx->skey. */
static int variant_key_of(struct cache_x *cx, const struct h1_hdrs *req, const char *names)
{
	int err;

	cx->skey.len = 0;
	err = h1_buf_append(&cx->skey, cx->key, cx->key_len);
	if (!err && *names) {
		err = h1_buf_append(&cx->skey, VARY_MARK, VARY_MARK_LEN);
		if (!err)
			err = hc_vary_key(req, names, &cx->skey);
	}
	cx->shash = key_hash(cx->skey.p, cx->skey.len);
	return err;
}

static int variant_key(struct session *s, const char *names)
{
	return variant_key_of(s->x->cx, &s->x->rq->hdrs, names);
}


/* ------------------------------------------------------------------ lookup */

static void drop_entry(struct cache_x *cx)
{
	cache_entry_release(cx->ent);
	cx->ent = NULL;
}

/* Find the stored response for the request of <s>: the primary key's object, or through its
 * Vary marker the variant's. Leaves it in cx->ent/obj (NULL when none) and its key in skey. */
static void lookup(struct session *s)
{
	struct cache_x *cx = s->x->cx;
	struct cache_entry *e = NULL;

	drop_entry(cx);
	if (variant_key(s, "") < 0 || cache_get(cx->hc->store, cx->hash, cx->key, cx->key_len, &e))
		return;
	if (hc_obj_parse(cache_entry_value(e), cache_entry_value_len(e), &cx->obj) < 0) {
		cache_entry_release(e);
		return;
	}
	if (cx->obj.meta.kind == HC_KIND_VARY) {
		char names[sizeof(cx->vary)];
		size_t nl = cx->obj.meta.body_len < sizeof(names) - 1 ? cx->obj.meta.body_len :
									 sizeof(names) - 1;

		memcpy(names, cx->obj.body, nl);
		names[nl] = '\0';
		cache_entry_release(e);
		e = NULL;
		if (variant_key(s, names) < 0 ||
			cache_get(cx->hc->store, cx->shash, cx->skey.p, cx->skey.len, &e))
			return;
		if (hc_obj_parse(cache_entry_value(e), cache_entry_value_len(e), &cx->obj) < 0 ||
			cx->obj.meta.kind != HC_KIND_RESPONSE) {
			cache_entry_release(e);
			return;
		}
	}
	cx->ent = e;
}

/* ------------------------------------------------------------------ serving */

static void release_ref(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	cache_entry_release(arg);
}

/* Whether the stale cx->ent may stand in for a failing upstream: its stale-if-error (or the
 * request's), else the cache's stale_if_error. */
static bool stale_on_error(const struct cache_x *cx)
{
	struct hc_meta mt = cx->obj.meta;

	if (mt.sie == HC_UNSET && cx->cfg->stale_if_error_ms)
		mt.sie = cx->cfg->stale_if_error_ms / 1000;
	return hc_stale_ok(&mt, &cx->rq, time(NULL), false, true);
}

/* Answer the request of <s> from cx->ent: Age, Cache-Status with <status_detail>, the request's
 * preconditions (304, 412) and a single range (206, 416); the body is a reference into the
 * store, released once sent. Ends the exchange. */
static void serve(struct session *s, const char *detail)
{
	struct stream *x = s->x;
	struct cache_x *cx = x->cx;
	const struct hc_meta *mt = &cx->obj.meta;
	struct h1_msg m = {0};
	int64_t now = time(NULL), age = hc_current_age(mt, now);
	const char *body = cx->obj.body;
	uint64_t blen = mt->body_len, first = 0, last = 0, full = mt->body_len;
	char buf[160];
	enum hc_cond cond = HC_COND_NONE;
	enum hc_range range = HC_RANGE_NONE;
	bool head = cx->method == H1_METHOD_HEAD;
	const struct h1_hdrs *rqh = cx->has_cond ? &cx->cond : &x->rq->hdrs;
	int err;

	m.kind = H1_RESPONSE;
	m.method = cx->method;
	m.major = 1;
	m.minor = 1;
	m.status = mt->status;
	m.reason.p = cx->obj.reason;
	m.reason.len = mt->reason_len;
	h1_hdrs_init(&m.hdrs, s->cfg->limits.max_headers + H1_DEFAULT_EXTRA_FIELDS,
		s->cfg->limits.max_header_size + H1_DEFAULT_HEAD_EXTRA);
	err = hc_obj_fields(&cx->obj, &m.hdrs);
	if (age == HC_AGE_INVALID)
		age = now > mt->response_time ? now - mt->response_time : 0;
	if (!err) {
		int n = snprintf(buf, sizeof(buf), "%lld", (long long)age);

		err = h1_hdrs_set(&m.hdrs, "Age", 3, buf, (size_t)n);
	}
	if (mt->status >= 200 && mt->status < 300)
		cond = hc_cond_eval(cx->method, rqh, &cx->obj);
	if (cond == HC_COND_NOT_MODIFIED) {
		m.status = 304;
		m.reason.len = 0;
		blen = 0;
	} else if (cond == HC_COND_FAILED) {
		m.status = 412;
		m.reason.len = 0;
		blen = 0;
	} else if (mt->status == 200) {
		range = hc_range_eval(rqh, &cx->obj, full, &first, &last);
	}
	if (!err && range == HC_RANGE_OK) {
		int n = snprintf(buf, sizeof(buf), "bytes %llu-%llu/%llu", (unsigned long long)first,
			(unsigned long long)last, (unsigned long long)full);

		m.status = 206;
		m.reason.len = 0;
		body += first;
		blen = last - first + 1;
		err = h1_hdrs_set(&m.hdrs, "Content-Range", 13, buf, (size_t)n);
	} else if (!err && range == HC_RANGE_UNSATISFIABLE) {
		int n = snprintf(buf, sizeof(buf), "bytes */%llu", (unsigned long long)full);

		m.status = 416;
		m.reason.len = 0;
		blen = 0;
		err = h1_hdrs_set(&m.hdrs, "Content-Range", 13, buf, (size_t)n);
	}
	if (!err) {
		int n = snprintf(buf, sizeof(buf), "%s; %s", s->cfg->proxy.server_name, detail);

		err = h1_hdrs_set(&m.hdrs, "Cache-Status", 12, buf, (size_t)n);
	}
	if (m.status == 304 || m.status == 204) {
		m.framing = H1_BODY_NONE;
		blen = 0;
	} else {
		int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)blen);

		m.framing = H1_BODY_LENGTH;
		m.content_length = blen;
		if (!err)
			err = h1_hdrs_set(&m.hdrs, "Content-Length", 14, buf, (size_t)n);
	}
	if (head)
		blen = 0;
	cx->serving = true;
	if (err || stream_local_head(s, &m) < 0) {
		h1_hdrs_free(&m.hdrs);
		log_ratelimited(LOG_LVL_WARN, "client %s: cached response head too large",
			SESS_PEER(s));
		stream_local_error(s, 500);
		return;
	}
	h1_hdrs_free(&m.hdrs);
	if (blen) {
		/* The reference travels with the bytes: released when they are sent. */
		if (evbuffer_add_reference(s->w->cstage, body, blen, release_ref, cx->ent) == 0)
			cx->ent = NULL;
		else
			evbuffer_add(s->w->cstage, body, blen);
		x->bytes_out = blen;
		stat_add(cx->hc, HS_BYTES_HIT, blen);
	}
	stream_local_done(s);
}

/* Answer with an empty response of <status> (504 for only-if-cached, PURGE's answers). */
static void answer(struct session *s, int status, const char *detail)
{
	struct h1_msg m = {0};
	char buf[160];
	int n, err;

	m.kind = H1_RESPONSE;
	m.major = 1;
	m.minor = 1;
	m.status = (uint16_t)status;
	m.framing = H1_BODY_LENGTH;
	h1_hdrs_init(&m.hdrs, 8, 1024);
	n = snprintf(buf, sizeof(buf), "%s; %s", s->cfg->proxy.server_name, detail);
	err = h1_hdrs_add(&m.hdrs, "Cache-Status", 12, buf, (size_t)n);
	if (!err)
		err = h1_hdrs_add(&m.hdrs, "Content-Length", 14, "0", 1);
	s->x->cx->serving = true;
	if (err || stream_local_head(s, &m) < 0) {
		h1_hdrs_free(&m.hdrs);
		stream_local_error(s, 500);
		return;
	}
	h1_hdrs_free(&m.hdrs);
	stream_local_done(s);
}

/* ------------------------------------------------------------------ requests */

static bool method_safe(enum h1_method m)
{
	return m == H1_METHOD_GET || m == H1_METHOD_HEAD || m == H1_METHOD_OPTIONS ||
	       m == H1_METHOD_TRACE;
}

/* Whether the client of <s> may PURGE with <c>'s purge_allow. */
static bool purge_allowed(struct session *s, const struct cfg_cache *c)
{
	uint8_t a[16];
	int fam = addr_client(&s->cli->peer.sa, a);

	if (fam == AF_UNSPEC)
		return false;
	for (size_t i = 0; i < c->purge_allow.n; i++) {
		uint8_t p[16];
		unsigned int len;
		int pf;

		if (cfg_parse_prefix(c->purge_allow.v[i], &pf, p, &len) == 0 && pf == fam &&
			cfg_prefix_match(fam, a, p, len))
			return true;
	}
	return false;
}

/* Purge every object under the primary key of <cx> (its variants too). */
static size_t purge_key(struct hcache *hc, const char *key, size_t len)
{
	size_t n = cache_remove(hc->store, key_hash(key, len), key, len) == 0;
	char *pfx = malloc(len + VARY_MARK_LEN);

	if (pfx) {
		memcpy(pfx, key, len);
		memcpy(pfx + len, VARY_MARK, VARY_MARK_LEN);
		n += cache_remove_prefix(hc->store, pfx, len + VARY_MARK_LEN);
		free(pfx);
	}
	stat_add(hc, HS_PURGED, n);
	return n;
}

/* PURGE: 200 when something was purged, 404 when nothing was stored, 403 for a client not
 * in purge_allow. */
static void purge_request(struct session *s)
{
	struct cache_x *cx = s->x->cx;

	cx->bypass = true;
	if (!purge_allowed(s, cx->cfg)) {
		answer(s, 403, "detail=purge-denied");
		return;
	}
	answer(s, purge_key(cx->hc, cx->key, cx->key_len) ? 200 : 404, "detail=purged");
}

/* Request validators of the stored response, replacing the client's conditionals. Returns
 * true when the stored response has one. */
static bool add_validators(struct session *s)
{
	struct cache_x *cx = s->x->cx;
	struct h1_hdrs *h = &s->x->rq->hdrs;
	const char *etag = hc_obj_field(&cx->obj, "ETag");
	const char *lm = hc_obj_field(&cx->obj, "Last-Modified");

	static const char *const client[] = {"If-None-Match", "If-Modified-Since", "If-Match",
		"If-Unmodified-Since", "If-Range", "Range"};

	if (!etag && !lm)
		return false;
	/* The client's own preconditions are answered from the refreshed response. */
	h1_hdrs_init(&cx->cond, 16, 8192);
	cx->has_cond = true;
	for (size_t i = 0; i < sizeof(client) / sizeof(client[0]); i++) {
		const struct h1_str *v = h1_hdrs_get(h, client[i]);

		if (v && h1_hdrs_add(&cx->cond, client[i], strlen(client[i]), v->p, v->len) < 0)
			return false;
		h1_hdrs_remove(h, client[i], strlen(client[i]));
	}
	if (etag && h1_hdrs_add(h, "If-None-Match", 13, etag, strlen(etag)) < 0)
		return false;
	if (lm && h1_hdrs_add(h, "If-Modified-Since", 17, lm, strlen(lm)) < 0)
		return false;
	return true;
}

static void wait_arm(struct session *s)
{
	struct cache_x *cx = s->x->cx;
	struct timeval tv = clock_ms_tv(cx->poll_ms);

	if (sess_timer_set(s, &tv) < 0) {
		/* Nothing would wake it: answer rather than wait for ever. */
		cx->waiting = false;
		stream_local_error(s, 503);
		return;
	}
	if (cx->poll_ms < POLL_MAX_MS)
		cx->poll_ms *= 2;
}

/* Decide what the request of <s> gets once cx->ent is looked up: 0 to fetch, 1 answered or
 * waiting. */
static int decide(struct session *s)
{
	struct cache_x *cx = s->x->cx;
	int64_t now = time(NULL);
	bool cond_only = false;
	enum lock_res lr;

	if (cx->ent) {
		const struct hc_meta *mt = &cx->obj.meta;

		if (!(cx->rq.flags & HC_CC_NO_CACHE) && hc_fresh(mt, &cx->rq, now)) {
			stat_add(cx->hc, HS_HIT, 1);
			serve(s, "hit");
			return 1;
		}
		if (cx->rq.flags & HC_CC_ONLY_IF_CACHED) {
			if (hc_stale_ok(mt, &cx->rq, now, false, false)) {
				stat_add(cx->hc, HS_STALE, 1);
				serve(s, "hit; detail=stale");
				return 1;
			}
			answer(s, 504, "detail=only-if-cached");
			return 1;
		}
		if (!(cx->rq.flags & HC_CC_NO_CACHE) && hc_stale_ok(mt, &cx->rq, now, false, false)) {
			/* max-stale */
			stat_add(cx->hc, HS_STALE, 1);
			serve(s, "hit; detail=stale");
			return 1;
		}
	} else if (cx->rq.flags & HC_CC_ONLY_IF_CACHED) {
		answer(s, 504, "fwd=miss; detail=only-if-cached");
		return 1;
	}
	lr = lock_try(cx, (uint64_t)cx->cfg->lock_timeout_ms * 4 + 60000);
	if (lr == LOCK_BUSY) {
		/* Another request fetches this key: stale content when stale-while-revalidate
		 * allows, else wait for its response. */
		if (cx->ent && !(cx->rq.flags & HC_CC_NO_CACHE) &&
			hc_stale_ok(&cx->obj.meta, &cx->rq, now, true, false)) {
			stat_add(cx->hc, HS_STALE, 1);
			serve(s, "hit; detail=stale-while-revalidate");
			return 1;
		}
		if (!cx->waiting) {
			stat_add(cx->hc, HS_LOCK_WAIT, 1);
			cx->waiting = true;
			cx->wait_until = clock_mono_ms() + cx->cfg->lock_timeout_ms;
			cx->poll_ms = POLL_FIRST_MS;
		}
		drop_entry(cx);
		wait_arm(s);
		return 1;
	}
	cx->waiting = false;
	if (cx->ent && !(cx->rq.flags & HC_CC_NO_CACHE) &&
		hc_stale_ok(&cx->obj.meta, &cx->rq, now, true, false) && bg_start(s) == 0) {
		stat_add(cx->hc, HS_STALE, 1);
		serve(s, "hit; detail=stale-while-revalidate");
		return 1;
	}
	if (cx->ent)
		cond_only = add_validators(s);
	cx->revalidating = cond_only;
	if (!cx->ent)
		stat_add(cx->hc, HS_MISS, 1);
	return 0;
}

int cachephase_begin(struct session *s)
{
	struct stream *x = s->x;
	const struct cfg_route *r = x->route;
	struct cache_x *cx;
	const struct h1_str *pragma;

	cachephase_end(s);
	if (!r || r->cache_idx < 0 || !s->w->rt->caches)
		return 0;
	cx = calloc(1, sizeof(*cx));
	if (!cx)
		return 0;
	x->cx = cx;
	cx->hc = s->w->rt->caches[r->cache_idx];
	cx->cfg = &s->cfg->caches[r->cache_idx];
	cx->method = x->rq->method;
	h1_buf_init(&cx->skey, 1u << 20);
	cx->key = make_key(s, &cx->key_len);
	if (!cx->key) {
		cachephase_end(s);
		return 0;
	}
	cx->hash = key_hash(cx->key, cx->key_len);
	if (cx->method == H1_METHOD_PURGE && !x->req_body) {
		purge_request(s);
		return 1;
	}
	if ((cx->method != H1_METHOD_GET && cx->method != H1_METHOD_HEAD) || x->req_body) {
		/* Unsafe methods invalidate on their response; anything else passes. */
		cx->bypass = method_safe(cx->method);
		if (cx->bypass)
			stat_add(cx->hc, HS_PASS, 1);
		return 0;
	}
	hc_cc_parse(&x->rq->hdrs, &cx->rq);
	pragma = h1_hdrs_get(&x->rq->hdrs, "Pragma");
	if (!h1_hdrs_get(&x->rq->hdrs, "Cache-Control") && pragma &&
		h1_value_has_token(pragma, "no-cache"))
		cx->rq.flags |= HC_CC_NO_CACHE;
	cx->request_time = time(NULL);
	lookup(s);
	return decide(s);
}

bool cachephase_waiting(const struct session *s)
{
	return s->x->cx && s->x->cx->waiting;
}

void cachephase_poll(struct session *s)
{
	struct cache_x *cx = s->x->cx;

	if (lock_held(cx)) {
		if (clock_mono_ms() < cx->wait_until) {
			wait_arm(s);
			return;
		}
		/* The fetch takes too long: fetch too, without the lock. */
		stat_add(cx->hc, HS_LOCK_TIMEOUT, 1);
		cx->waiting = false;
		drop_entry(cx);
		stat_add(cx->hc, HS_MISS, 1);
		stream_forward(s);
		return;
	}
	lookup(s);
	if (decide(s) == 0)
		stream_forward(s);
}

/* ------------------------------------------------------------------ responses */

/* Whether <url> (<len> bytes: absolute, or a path) names the same origin as the primary key
 * <key>; writes its key into <out>. */
static bool same_origin_key(const struct cache_x *cx, const char *url, size_t len,
	struct h1_buf *out)
{
	const char *sep = strstr(cx->key, "://");
	const char *host = sep ? sep + 3 : cx->key;
	const char *path = strchr(host, '/');
	size_t origin = path ? (size_t)(path - cx->key) : cx->key_len;

	out->len = 0;
	if (len && url[0] == '/')
		return h1_buf_append(out, cx->key, origin) == 0 &&
		       h1_buf_append(out, url, len) == 0;
	if (len >= origin && !strncasecmp(url, cx->key, origin) &&
		(len == origin || url[origin] == '/'))
		return h1_buf_append(out, url, len) == 0;
	return false;
}

/* An unsafe method succeeded: its URL, and its Location and Content-Location of the same
 * origin, are no longer fresh (RFC 9111 §4.4). */
static void invalidate(struct session *s, const struct h1_msg *m)
{
	struct cache_x *cx = s->x->cx;
	static const char *const fields[] = {"Location", "Content-Location"};
	struct h1_buf k;

	purge_key(cx->hc, cx->key, cx->key_len);
	h1_buf_init(&k, 1u << 16);
	for (size_t i = 0; i < 2; i++) {
		const struct h1_str *v = h1_hdrs_get(&m->hdrs, fields[i]);

		if (v && same_origin_key(cx, v->p, v->len, &k))
			purge_key(cx->hc, k.p, k.len);
	}
	h1_buf_free(&k);
}

/* Store object <b> (a complete object) under cx->skey, with the Vary marker at the primary
 * key when the response varies. */
static void put_object(struct cache_x *cx, const struct h1_buf *b)
{
	int err = 0;

	if (cx->vary_len > 0) {
		struct h1_buf mk;
		struct hc_meta mm = {.kind = HC_KIND_VARY};

		h1_buf_init(&mk, 4096);
		err = hc_obj_encode(&mk, &mm, NULL, NULL, NULL, (uint64_t)cx->vary_len);
		if (!err)
			err = h1_buf_append(&mk, cx->vary, (size_t)cx->vary_len);
		if (!err)
			err = cache_put(cx->hc->store, cx->hash, cx->key, cx->key_len, mk.p, mk.len);
		h1_buf_free(&mk);
	}
	if (!err)
		err = cache_put(cx->hc->store, cx->shash, cx->skey.p, cx->skey.len, b->p, b->len);
	if (err) {
		stat_add(cx->hc, HS_NOT_STORED, 1);
		return;
	}
	stat_add(cx->hc, HS_STORED, 1);
	stat_add(cx->hc, HS_BYTES_STORED, b->len);
}

/* A 304 <m> answered the validators of cx->obj: store the response again with the new fields
 * and freshness. Returns 0 or a negative errno (nothing stored). */
static int merge_304(struct cache_x *cx, const struct h1_msg *m)
{
	struct h1_hdrs old;
	struct h1_buf b;
	struct hc_meta mt = cx->obj.meta;
	struct hc_cc rs;
	struct h1_str reason = {cx->obj.reason, cx->obj.meta.reason_len};
	int64_t now = time(NULL);
	int err;

	h1_hdrs_init(&old, cx->obj.meta.n_fields + H1_DEFAULT_EXTRA_FIELDS, 1u << 20);
	h1_buf_init(&b, cx->hc->max_object + HEAD_ROOM);
	err = hc_obj_fields(&cx->obj, &old);
	if (!err)
		err = hc_obj_encode(&b, &mt, &old, &m->hdrs, &reason, cx->obj.meta.body_len);
	if (!err)
		err = h1_buf_append(&b, cx->obj.body, cx->obj.meta.body_len);
	h1_hdrs_free(&old);
	if (!err) {
		struct hc_obj o;
		struct h1_hdrs merged;

		/* Freshness from the merged fields, as if the whole response had just come. */
		hc_obj_parse(b.p, b.len, &o);
		h1_hdrs_init(&merged, o.meta.n_fields + 1, 1u << 20);
		err = hc_obj_fields(&o, &merged);
		if (!err) {
			hc_cc_parse(&merged, &rs);
			mt = o.meta;
			mt.cc_flags = rs.flags;
			mt.request_time = cx->request_time;
			mt.response_time = now;
			mt.initial_age = hc_initial_age(&m->hdrs, cx->request_time, now);
			mt.lifetime = hc_lifetime(mt.status, &merged, &rs, now,
				(int64_t)cx->cfg->default_ttl_ms / 1000);
			mt.swr = rs.swr;
			mt.sie = rs.sie;
			memcpy(b.p, &mt, sizeof(mt));
		}
		h1_hdrs_free(&merged);
	}
	if (!err)
		put_object(cx, &b);
	h1_buf_free(&b);
	return err;
}

/* A 304 answered our validators: the refreshed response is stored and served. */
static int revalidated(struct session *s, struct h1_msg *m)
{
	struct cache_x *cx = s->x->cx;
	int err = merge_304(cx, m);

	if (!err) {
		drop_entry(cx);
		lookup(s);
	}
	lock_release(cx, false);
	if (err || !cx->ent)
		return 0; /* forward the 304 as it is */
	stat_add(cx->hc, HS_REVALIDATED, 1);
	serve(s, "fwd=stale; fwd-status=304");
	return 1;
}

/* Begin storing the response <m> to a request with fields <req> when the rules allow. */
static void store_begin_of(struct cache_x *cx, const struct h1_hdrs *req, struct h1_msg *m)
{
	struct hc_cc rs;
	struct hc_meta mt = {0};
	int64_t now = time(NULL);
	const char *why;

	hc_cc_parse(&m->hdrs, &rs);
	why = hc_storable(cx->method, req, &cx->rq, m->status, &m->hdrs, &rs,
		(int64_t)cx->cfg->default_ttl_ms / 1000);
	cx->vary_len = hc_vary_names(&m->hdrs, cx->vary, sizeof(cx->vary));
	if (!why && cx->vary_len < 0)
		why = "vary";
	if (!why && m->framing == H1_BODY_LENGTH && m->content_length > cx->hc->max_object)
		why = "size";
	if (!why && (m->framing == H1_BODY_TUNNEL))
		why = "tunnel";
	if (why) {
		cx->uncacheable = true;
		stat_add(cx->hc, HS_NOT_STORED, 1);
		return;
	}
	if (variant_key_of(cx, req, cx->vary) < 0)
		return;
	mt.kind = HC_KIND_RESPONSE;
	mt.status = m->status;
	mt.cc_flags = rs.flags;
	mt.request_time = cx->request_time;
	mt.response_time = now;
	mt.initial_age = hc_initial_age(&m->hdrs, cx->request_time, now);
	mt.lifetime = hc_lifetime(m->status, &m->hdrs, &rs, now,
		(int64_t)cx->cfg->default_ttl_ms / 1000);
	mt.swr = rs.swr;
	mt.sie = rs.sie;
	/* Stale at once, with nothing to revalidate it and no stale use: not worth the room. */
	if (mt.lifetime <= 0 && !h1_hdrs_get(&m->hdrs, "ETag") &&
		!h1_hdrs_get(&m->hdrs, "Last-Modified") && rs.swr == HC_UNSET &&
		rs.sie == HC_UNSET && !cx->cfg->stale_if_error_ms) {
		cx->uncacheable = true;
		stat_add(cx->hc, HS_NOT_STORED, 1);
		return;
	}
	h1_buf_init(&cx->fill, cx->hc->max_object + HEAD_ROOM);
	if (hc_obj_encode(&cx->fill, &mt, &m->hdrs, NULL, &m->reason, 0) < 0) {
		h1_buf_free(&cx->fill);
		return;
	}
	cx->storing = true;
}

int cachephase_response(struct session *s, struct h1_msg *m)
{
	struct cache_x *cx = s->x->cx;
	const char *detail;
	char buf[160];
	int n;

	if (!cx || cx->serving)
		return 0;
	if (cx->bypass)
		return 0;
	if (!method_safe(cx->method)) {
		if (m->status >= 200 && m->status < 400)
			invalidate(s, m);
		return 0;
	}
	if (cx->revalidating && cx->ent) {
		if (m->status == 304)
			return revalidated(s, m);
		if (m->status >= 500 && m->status <= 504 && stale_on_error(cx)) {
			lock_release(cx, false);
			stat_add(cx->hc, HS_STALE, 1);
			serve(s, "hit; detail=stale-if-error");
			return 1;
		}
	} else if (cx->ent && m->status >= 500 && m->status <= 504 && stale_on_error(cx)) {
		lock_release(cx, false);
		stat_add(cx->hc, HS_STALE, 1);
		serve(s, "hit; detail=stale-if-error");
		return 1;
	}
	drop_entry(cx);
	if (cx->method == H1_METHOD_GET)
		store_begin_of(cx, &s->x->rq->hdrs, m);
	if (!cx->storing)
		lock_release(cx, cx->uncacheable);
	detail = cx->revalidating ? "fwd=stale" : "fwd=miss";
	n = snprintf(buf, sizeof(buf), "%s; %s; fwd-status=%u%s", s->cfg->proxy.server_name,
		detail, m->status, cx->storing ? "; stored" : "");
	if (h1_hdrs_set(&m->hdrs, "Cache-Status", 12, buf, (size_t)n) < 0)
		return -1;
	return 0;
}

void cachephase_body(struct session *s, const char *p, size_t len)
{
	struct cache_x *cx = s->x->cx;

	if (!cx || !cx->storing)
		return;
	if (cx->fill.len + len > cx->hc->max_object + HEAD_ROOM ||
		h1_buf_append(&cx->fill, p, len) < 0) {
		/* Too large: the rest streams through; the waiters go upstream. */
		cx->storing = false;
		h1_buf_free(&cx->fill);
		stat_add(cx->hc, HS_NOT_STORED, 1);
		lock_release(cx, true);
	}
}

void cachephase_done(struct session *s)
{
	struct cache_x *cx = s->x->cx;
	struct hc_meta mt;

	if (!cx || !cx->storing)
		return;
	cx->storing = false;
	memcpy(&mt, cx->fill.p, sizeof(mt));
	mt.body_len = cx->fill.len - sizeof(mt) - mt.fields_len - mt.reason_len;
	memcpy(cx->fill.p, &mt, sizeof(mt));
	put_object(cx, &cx->fill);
	h1_buf_free(&cx->fill);
	lock_release(cx, false);
}

bool cachephase_on_error(struct session *s)
{
	struct cache_x *cx = s->x->cx;

	if (!cx || cx->serving || !cx->ent || s->x->resp_head_sent || !stale_on_error(cx))
		return false;
	lock_release(cx, false);
	stat_add(cx->hc, HS_STALE, 1);
	serve(s, "hit; detail=stale-if-error");
	return true;
}

void cachephase_end(struct session *s)
{
	struct cache_x *cx = s->x->cx;

	if (!cx)
		return;
	s->x->cx = NULL;
	if (cx->waiting && s->timer)
		evtimer_del(s->timer);
	lock_release(cx, false);
	drop_entry(cx);
	h1_buf_free(&cx->fill);
	h1_buf_free(&cx->skey);
	if (cx->has_cond)
		h1_hdrs_free(&cx->cond);
	free(cx->key);
	free(cx);
}

/* ------------------------------------------------------------------ background refresh */

/* A refresh of a stale response that stale-while-revalidate lets the clients have meanwhile:
 * its own upstream connection on the worker's loop, holding the key's fetch lock, storing
 * what comes back (a 304 refreshes the stored response). No client waits for it. */
struct hc_bg {
	struct cache_x cx;	    /* the key, the lock, the stale object, the copy being stored */
	struct cfg_cache cfg;	    /* the values of the cache's configuration it reads */
	struct h1_hdrs req;	    /* the request's fields, as sent */
	struct worker *w;
	const struct backend *be;
	struct backend_wstate *ws;
	int srv;
	struct conn *c;
	struct h1_parser *p;
	struct evbuffer *out; /* the request, until connected */
};

static void bg_end(struct hc_bg *bg)
{
	struct cache_x *cx = &bg->cx;

	lock_release(cx, cx->uncacheable);
	drop_entry(cx);
	h1_buf_free(&cx->fill);
	h1_buf_free(&cx->skey);
	if (cx->has_cond)
		h1_hdrs_free(&cx->cond);
	free(cx->key);
	if (bg->c)
		conn_free(bg->c);
	if (bg->srv >= 0)
		backend_done(bg->ws, bg->srv);
	h1_parser_free(bg->p);
	if (bg->out)
		evbuffer_free(bg->out);
	h1_hdrs_free(&bg->req);
	free(bg);
}

/* Parse what the upstream sent; returns true when the refresh is over. */
static bool bg_parse(struct hc_bg *bg, bool eof)
{
	struct cache_x *cx = &bg->cx;
	struct evbuffer *in = bg->c->in;
	struct h1_event ev;

	for (;;) {
		struct evbuffer_iovec v;
		size_t n, len = 0;
		const char *data = NULL;

		if (evbuffer_peek(in, -1, NULL, &v, 1) >= 1) {
			data = v.iov_base;
			len = v.iov_len;
		}
		if (eof && !len) {
			h1_parse_eof(bg->p, &ev);
			n = 0;
		} else {
			n = h1_parse(bg->p, data, len, &ev);
		}
		switch (ev.type) {
		case H1_EV_NONE:
			evbuffer_drain(in, n);
			if (!evbuffer_get_length(in))
				return eof;
			continue;
		case H1_EV_HEAD:
			evbuffer_drain(in, n);
			if (ev.msg->status < 200)
				continue;
			if (ev.msg->status == 304) {
				if (merge_304(cx, ev.msg) == 0)
					stat_add(cx->hc, HS_REVALIDATED, 1);
				return true;
			}
			drop_entry(cx);
			store_begin_of(cx, &bg->req, ev.msg);
			if (!cx->storing)
				return true;
			continue;
		case H1_EV_BODY:
			if (cx->storing && (cx->fill.len + ev.data.len > cx->hc->max_object + HEAD_ROOM ||
						   h1_buf_append(&cx->fill, ev.data.p, ev.data.len) < 0)) {
				stat_add(cx->hc, HS_NOT_STORED, 1);
				cx->storing = false;
				cx->uncacheable = true;
				return true;
			}
			evbuffer_drain(in, n);
			continue;
		case H1_EV_DONE:
			if (h1_parser_msg(bg->p) && h1_parser_msg(bg->p)->status < 200) {
				evbuffer_drain(in, n);
				continue;
			}
			if (cx->storing) {
				struct hc_meta mt;

				cx->storing = false;
				memcpy(&mt, cx->fill.p, sizeof(mt));
				mt.body_len = cx->fill.len - sizeof(mt) - mt.fields_len - mt.reason_len;
				memcpy(cx->fill.p, &mt, sizeof(mt));
				put_object(cx, &cx->fill);
			}
			return true;
		default:
			log_ratelimited(LOG_LVL_INFO, "cache '%s': background refresh: %s",
				cx->hc->name, ev.type == H1_EV_ERROR ? ev.reason : "unexpected");
			return true;
		}
	}
}

static void bg_read(struct conn *c, void *arg)
{
	struct hc_bg *bg = arg;

	(void)c;
	if (bg_parse(bg, false))
		bg_end(bg);
}

static void bg_event(struct conn *c, short what, void *arg)
{
	struct hc_bg *bg = arg;

	if (what & CONN_CONNECTED) {
		conn_set_timeouts(c, bg->w->t_upread, bg->w->t_send);
		conn_send(c, bg->out);
		return;
	}
	if ((what & CONN_EOF) && !(what & CONN_TIMEOUT) && bg_parse(bg, true)) {
		bg_end(bg);
		return;
	}
	log_ratelimited(LOG_LVL_INFO, "cache '%s': background refresh from %s: %s",
		bg->cx.hc->name, bg->be->servers[bg->srv].cfg->address.text,
		(what & CONN_TIMEOUT) ? "timed out" : "failed");
	bg_end(bg);
}

/* Start refreshing the stale cx->obj of <s> in the background, taking over the fetch lock.
 * Returns 0, or a negative errno when it could not start (the lock stays with <s>). */
static int bg_start(struct session *s)
{
	static const char *const drop[] = {"If-None-Match", "If-Modified-Since", "If-Match",
		"If-Unmodified-Since", "If-Range", "Range", "Expect"};
	struct cache_x *cx = s->x->cx;
	const struct cfg_route *r = s->x->route;
	const struct h1_hdrs *h = &s->x->rq->hdrs;
	struct h1_msg m = {0};
	struct h1_buf hb;
	struct hc_bg *bg;
	const char *etag, *lm;
	int err = 0;

	if (!r || r->upstream_idx < 0)
		return -EINVAL;
	bg = calloc(1, sizeof(*bg));
	if (!bg)
		return -ENOMEM;
	bg->srv = -1;
	bg->w = s->w;
	bg->cfg = *cx->cfg;
	bg->cx.hc = cx->hc;
	bg->cx.cfg = &bg->cfg;
	bg->cx.method = H1_METHOD_GET;
	bg->cx.rq = cx->rq;
	bg->cx.request_time = time(NULL);
	bg->cx.hash = cx->hash;
	bg->cx.key_len = cx->key_len;
	bg->cx.key = malloc(cx->key_len + 1);
	h1_buf_init(&bg->cx.skey, 1u << 20);
	h1_hdrs_init(&bg->req, s->cfg->limits.max_headers + H1_DEFAULT_EXTRA_FIELDS,
		s->cfg->limits.max_header_size + H1_DEFAULT_HEAD_EXTRA);
	bg->out = evbuffer_new();
	bg->p = h1_parser_new(H1_RESPONSE, NULL);
	if (!bg->cx.key || !bg->out || !bg->p) {
		err = -ENOMEM;
		goto fail;
	}
	memcpy(bg->cx.key, cx->key, cx->key_len + 1);
	/* Its own reference to the stale object, for a 304. */
	if (cache_get(cx->hc->store, cx->shash, cx->skey.p, cx->skey.len, &bg->cx.ent) ||
		hc_obj_parse(cache_entry_value(bg->cx.ent), cache_entry_value_len(bg->cx.ent),
			&bg->cx.obj) < 0 || h1_buf_append(&bg->cx.skey, cx->skey.p, cx->skey.len)) {
		err = -ENOENT;
		goto fail;
	}
	bg->cx.shash = cx->shash;
	/* The client's fields without its preconditions, hop-by-hop fields or a Host the route
	 * replaces, and the stored validators. */
	for (unsigned int i = 0; i < h->n && !err; i++) {
		bool skip = false;

		for (size_t k = 0; k < sizeof(drop) / sizeof(drop[0]); k++)
			skip |= h->v[i].name.len == strlen(drop[k]) &&
				!strncasecmp(h->v[i].name.p, drop[k], h->v[i].name.len);
		if (!skip)
			err = h1_hdrs_add(&bg->req, h->v[i].name.p, h->v[i].name.len,
				h->v[i].value.p, h->v[i].value.len);
	}
	if (!err && h1_hdrs_strip_hop(&bg->req, 0) < 0)
		err = -ENOSPC;
	if (!err && r->host)
		err = h1_hdrs_set(&bg->req, "Host", 4, r->host, strlen(r->host));
	etag = hc_obj_field(&bg->cx.obj, "ETag");
	lm = hc_obj_field(&bg->cx.obj, "Last-Modified");
	if (!err && etag)
		err = h1_hdrs_add(&bg->req, "If-None-Match", 13, etag, strlen(etag));
	if (!err && lm)
		err = h1_hdrs_add(&bg->req, "If-Modified-Since", 17, lm, strlen(lm));
	if (err)
		goto fail;
	m.kind = H1_REQUEST;
	m.method = H1_METHOD_GET;
	m.method_name.p = "GET";
	m.method_name.len = 3;
	m.target = s->x->rq->target;
	m.major = 1;
	m.minor = 1;
	m.hdrs = bg->req;
	h1_buf_init(&hb, 0);
	err = h1_buf_write_head(&hb, &m, H1_W_CLOSE);
	if (!err)
		err = evbuffer_add(bg->out, hb.p, hb.len) ? -ENOMEM : 0;
	h1_buf_free(&hb);
	if (err)
		goto fail;
	h1_parser_set_method(bg->p, H1_METHOD_GET);
	bg->be = s->w->rt->backends[r->upstream_idx];
	bg->ws = &s->w->bws[r->upstream_idx];
	bg->srv = backend_select(bg->be, bg->ws, 0, 0);
	if (bg->srv < 0) {
		err = -EHOSTUNREACH;
		goto fail;
	}
	bg->c = conn_connect(s->w->base, &conn_tcp, &bg->be->servers[bg->srv].cfg->address);
	if (!bg->c) {
		err = -errno;
		goto fail;
	}
	conn_set_cbs(bg->c, bg_read, NULL, bg_event, bg);
	conn_set_read_high(bg->c, s->cfg->limits.buffer_size);
	conn_set_timeouts(bg->c, NULL, s->w->t_connect);
	/* The lock is the refresh's now. */
	cx->locked = false;
	bg->cx.locked = true;
	return 0;
fail:
	bg_end(bg);
	return err;
}


/* ------------------------------------------------------------------ operations */

size_t cachephase_purge(const char *cache, const char *url, bool prefix)
{
	size_t n = 0, len = strlen(url);

	pthread_mutex_lock(&reg_mu);
	for (struct hcache *hc = registry; hc; hc = hc->next) {
		if (cache && strcmp(cache, hc->name))
			continue;
		if (prefix) {
			size_t k = cache_remove_prefix(hc->store, url, len);

			stat_add(hc, HS_PURGED, k);
			n += k;
		} else {
			n += purge_key(hc, url, len);
		}
	}
	pthread_mutex_unlock(&reg_mu);
	return n;
}

int cachephase_stats_json(char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	bool first = true;

	if (!f)
		return -ENOMEM;
	fprintf(f, "{\"caches\":[");
	pthread_mutex_lock(&reg_mu);
	for (struct hcache *hc = registry; hc; hc = hc->next) {
		struct cache_stats st;

		cache_stats_get(hc->store, &st);
		fprintf(f, "%s{\"name\":\"%s\",\"capacity\":%llu,\"max_object_size\":%llu,"
			   "\"bytes\":%llu,\"items\":%llu,\"evicted\":%llu,\"rejected\":%llu",
			first ? "" : ",", hc->name, (unsigned long long)st.capacity,
			(unsigned long long)hc->max_object, (unsigned long long)st.bytes,
			(unsigned long long)st.items, (unsigned long long)st.evicted,
			(unsigned long long)st.rejected);
		for (int i = 0; i < HS_MAX; i++)
			fprintf(f, ",\"%s\":%llu", stat_names[i],
				(unsigned long long)__atomic_load_n(&hc->stats[i], __ATOMIC_RELAXED));
		fprintf(f, "}");
		first = false;
	}
	pthread_mutex_unlock(&reg_mu);
	fprintf(f, "]}\n");
	return fclose(f) ? -ENOMEM : 0;
}

int cachephase_collect(struct metrics_writer *w, void *arg)
{
	static const char *const ln[] = {"cache", "result"};
	static const char *const l1[] = {"cache"};
	static const enum hc_stat results[] = {HS_HIT, HS_STALE, HS_REVALIDATED, HS_MISS, HS_PASS};
	int err = 0;

	(void)arg;
	pthread_mutex_lock(&reg_mu);
	if (!registry)
		goto out;
	err = metrics_write_family(w, "pingd_cache_requests_total",
		"requests of cached routes by outcome: hit, stale (served stale), revalidated "
		"(stale, confirmed by a 304), miss (fetched), pass (not cacheable)",
		METRICS_COUNTER);
	for (struct hcache *hc = registry; hc && !err; hc = hc->next)
		for (size_t i = 0; i < sizeof(results) / sizeof(results[0]) && !err; i++) {
			const char *v[] = {hc->name, stat_names[results[i]]};

			err = metrics_write_sample(w, ln, v, 2,
				(double)__atomic_load_n(&hc->stats[results[i]], __ATOMIC_RELAXED));
		}
#define ONE(fam, help, type, expr)                                                        \
	do {                                                                              \
		if (!err)                                                                 \
			err = metrics_write_family(w, fam, help, type);                   \
		for (struct hcache *hc = registry; hc && !err; hc = hc->next) {           \
			struct cache_stats st;                                            \
			const char *v[] = {hc->name};                                     \
                                                                                          \
			cache_stats_get(hc->store, &st);                                  \
			(void)st;                                                         \
			err = metrics_write_sample(w, l1, v, 1, (double)(expr));          \
		}                                                                         \
	} while (0)
#define STAT(i) __atomic_load_n(&hc->stats[i], __ATOMIC_RELAXED)
	ONE("pingd_cache_hit_bytes_total", "response body bytes served from the cache",
		METRICS_COUNTER, STAT(HS_BYTES_HIT));
	ONE("pingd_cache_stored_total", "responses stored", METRICS_COUNTER, STAT(HS_STORED));
	ONE("pingd_cache_not_stored_total",
		"responses not stored: the caching rules, the size, or admission said no",
		METRICS_COUNTER, STAT(HS_NOT_STORED));
	ONE("pingd_cache_stored_bytes_total", "object bytes stored", METRICS_COUNTER,
		STAT(HS_BYTES_STORED));
	ONE("pingd_cache_lock_waits_total", "requests that waited for another's fetch of their key",
		METRICS_COUNTER, STAT(HS_LOCK_WAIT));
	ONE("pingd_cache_lock_timeouts_total", "waits that timed out (the request went upstream)",
		METRICS_COUNTER, STAT(HS_LOCK_TIMEOUT));
	ONE("pingd_cache_purged_total", "objects purged or invalidated", METRICS_COUNTER,
		STAT(HS_PURGED));
	ONE("pingd_cache_evicted_total", "objects evicted to make room", METRICS_COUNTER,
		st.evicted);
	ONE("pingd_cache_bytes", "bytes the cache holds (entries with their overhead)",
		METRICS_GAUGE, st.bytes);
	ONE("pingd_cache_capacity_bytes", "the cache's bound in bytes", METRICS_GAUGE,
		st.capacity);
	ONE("pingd_cache_objects", "objects the cache holds", METRICS_GAUGE, st.items);
#undef STAT
#undef ONE
out:
	pthread_mutex_unlock(&reg_mu);
	return err;
}
