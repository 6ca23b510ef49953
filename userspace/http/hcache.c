// SPDX-License-Identifier: GPL-2.0
/* HTTP caching rules of a shared cache (RFC 9111): directive and date parsing, storability,
 * freshness and age, Vary keys, preconditions, ranges and the stored object's layout. */
#include "userspace/http/hcache.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "userspace/http/h1.h"

#define VARY_NAMES_MAX	   16	 /* distinct field names in one Vary */
#define HEURISTIC_MAX	   86400 /* longest heuristic freshness, seconds (a day) */
#define HEURISTIC_PERCENT  10	 /* of the time since Last-Modified (RFC 9111 §4.2.2) */

/* ------------------------------------------------------------------ dates */

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const wdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wdays_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

static int month_index(const char *m)
{
	for (int i = 0; i < 12; i++)
		if (!strcmp(m, months[i]))
			return i;
	return -1;
}

static bool wday_ok(const char *w, bool long_form)
{
	for (int i = 0; i < 7; i++)
		if (!strcmp(w, long_form ? wdays_long[i] : wdays[i]))
			return true;
	return false;
}

/* Seconds since the epoch of a broken-down UTC time, or -EINVAL when out of range. */
static int make_time(int y, int mon, int d, int hh, int mm, int ss, int64_t *t)
{
	struct tm tm = {0};

	if (mon < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1900 || y > 9999)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*t = (int64_t)timegm(&tm);
	return 0;
}

int hc_date_parse(const char *p, size_t len, int64_t *t)
{
	char s[64], wd[16], mon[8];
	int d, y, hh, mm, ss, n = -1;

	if (!p || len < 20 || len >= sizeof(s))
		return -EINVAL;
	memcpy(s, p, len);
	s[len] = '\0';
	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wd, &d, mon, &y, &hh,
		    &mm, &ss, &n) == 7 && n == (int)len && len == 29 && wday_ok(wd, false))
		return make_time(y, month_index(mon), d, hh, mm, ss, t);
	/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
	n = -1;
	if (sscanf(s, "%9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wd, &d, mon, &y, &hh, &mm,
		    &ss, &n) == 7 && n == (int)len && wday_ok(wd, true))
		return make_time(y < 70 ? 2000 + y : 1900 + y, month_index(mon), d, hh, mm, ss, t);
	/* asctime: Sun Nov  6 08:49:37 1994 */
	n = -1;
	if (sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wd, mon, &d, &hh, &mm, &ss,
		    &y, &n) == 7 && n == (int)len && len == 24 && wday_ok(wd, false))
		return make_time(y, month_index(mon), d, hh, mm, ss, t);
	return -EINVAL;
}

size_t hc_date_format(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	return (size_t)snprintf(buf, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		wdays[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The date in field <name> of <h>, or -EINVAL when absent or unreadable. */
static int field_date(const struct h1_hdrs *h, const char *name, int64_t *t)
{
	const struct h1_str *v = h1_hdrs_get(h, name);

	return v ? hc_date_parse(v->p, v->len, t) : -EINVAL;
}

/* ------------------------------------------------------------------ Cache-Control */

static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Delta-seconds <v> (<len> bytes): a plain non-negative integer, capped; -1 when it is not. */
static int64_t delta_seconds(const char *v, size_t len)
{
	int64_t n = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (n < HC_DELTA_MAX)
			n = n * 10 + (v[i] - '0');
	}
	return n > HC_DELTA_MAX ? HC_DELTA_MAX : n;
}

/* Record directive value <v> in <*slot>: an unreadable value, or one that contradicts an
 * earlier occurrence, is 0 (stale). */
static void set_delta(int64_t *slot, int64_t v)
{
	if (v < 0)
		v = 0;
	if (*slot == HC_UNSET)
		*slot = v;
	else if (*slot != v)
		*slot = 0;
}

/* One directive: <name> (<nl> bytes), value <v> (<vl> bytes; NULL when none). */
static void cc_directive(struct hc_cc *cc, const char *name, size_t nl, const char *v, size_t vl)
{
	static const struct {
		const char *name;
		unsigned int flag;
	} flags[] = {
		{"no-store", HC_CC_NO_STORE},
		{"no-cache", HC_CC_NO_CACHE},
		{"private", HC_CC_PRIVATE},
		{"public", HC_CC_PUBLIC},
		{"must-revalidate", HC_CC_MUST_REVALIDATE},
		{"proxy-revalidate", HC_CC_PROXY_REVALIDATE},
		{"immutable", HC_CC_IMMUTABLE},
		{"must-understand", HC_CC_MUST_UNDERSTAND},
		{"only-if-cached", HC_CC_ONLY_IF_CACHED},
		{"no-transform", HC_CC_NO_TRANSFORM},
	};
	static const struct {
		const char *name;
		size_t off;
	} deltas[] = {
		{"max-age", offsetof(struct hc_cc, max_age)},
		{"s-maxage", offsetof(struct hc_cc, s_maxage)},
		{"max-stale", offsetof(struct hc_cc, max_stale)},
		{"min-fresh", offsetof(struct hc_cc, min_fresh)},
		{"stale-while-revalidate", offsetof(struct hc_cc, swr)},
		{"stale-if-error", offsetof(struct hc_cc, sie)},
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i].name) == nl && !strncasecmp(name, flags[i].name, nl)) {
			cc->flags |= flags[i].flag;
			return;
		}
	for (size_t i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		int64_t *slot = (int64_t *)((char *)cc + deltas[i].off);

		if (strlen(deltas[i].name) != nl || strncasecmp(name, deltas[i].name, nl))
			continue;
		if (!v && slot == &cc->max_stale)
			cc->flags |= HC_CC_MAX_STALE_ANY;
		else
			set_delta(slot, v ? delta_seconds(v, vl) : -1);
		if (slot == &cc->s_maxage)
			cc->flags |= HC_CC_S_MAXAGE;
		return;
	}
}

/* Parse one field value <p> (<len> bytes) of directives into <cc>. */
static void cc_parse_value(struct hc_cc *cc, const char *p, size_t len)
{
	const char *end = p + len;
	char qv[64];

	while (p < end) {
		const char *name, *v = NULL;
		size_t nl, vl = 0;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		name = p;
		while (p < end && is_tchar((unsigned char)*p))
			p++;
		nl = (size_t)(p - name);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p < end && *p == '"') {
				/* quoted-string: unescape into qv (longer values are not kept) */
				size_t n = 0;

				for (p++; p < end && *p != '"'; p++) {
					if (*p == '\\' && p + 1 < end)
						p++;
					if (n < sizeof(qv))
						qv[n++] = *p;
				}
				if (p < end)
					p++;
				v = qv;
				vl = n < sizeof(qv) ? n : sizeof(qv);
			} else {
				v = p;
				while (p < end && is_tchar((unsigned char)*p))
					p++;
				vl = (size_t)(p - v);
			}
		}
		if (nl)
			cc_directive(cc, name, nl, v, vl);
		/* Skip what is left of a malformed element up to the next comma. */
		while (p < end && *p != ',') {
			if (*p == '"') {
				for (p++; p < end && *p != '"'; p++)
					if (*p == '\\' && p + 1 < end)
						p++;
			}
			if (p < end)
				p++;
		}
	}
}

void hc_cc_parse(const struct h1_hdrs *h, struct hc_cc *cc)
{
	int i = -1;

	memset(cc, 0, sizeof(*cc));
	cc->max_age = cc->s_maxage = cc->max_stale = cc->min_fresh = HC_UNSET;
	cc->swr = cc->sie = HC_UNSET;
	while ((i = h1_hdrs_find(h, "Cache-Control", 13, (unsigned int)(i + 1))) >= 0)
		cc_parse_value(cc, h->v[i].value.p, h->v[i].value.len);
}

/* ------------------------------------------------------------------ storing */

bool hc_status_heuristic(int status)
{
	switch (status) {
	case 200: case 203: case 204: case 206: case 300: case 301: case 308: case 404:
	case 405: case 410: case 414: case 501:
		return true;
	default:
		return false;
	}
}

bool hc_status_understood(int status)
{
	return strcmp(h1_status_reason(status), "Unknown") != 0;
}

const char *hc_storable(enum h1_method method, const struct h1_hdrs *req, const struct hc_cc *rq,
	int status, const struct h1_hdrs *resp, const struct hc_cc *rs, int64_t default_ttl)
{
	bool understood = hc_status_understood(status);

	if (method != H1_METHOD_GET)
		return "method";
	if (status < 200 || status == 206 || status == 304)
		return "status";
	if (rs->flags & HC_CC_MUST_UNDERSTAND) {
		if (!understood)
			return "must-understand";
	} else if ((rs->flags & HC_CC_NO_STORE) || (rq->flags & HC_CC_NO_STORE)) {
		return "no-store";
	}
	if (rs->flags & HC_CC_PRIVATE)
		return "private";
	if (h1_hdrs_get(req, "Authorization") &&
		!(rs->flags & (HC_CC_MUST_REVALIDATE | HC_CC_PUBLIC | HC_CC_S_MAXAGE)))
		return "authorization";
	if (rs->flags & HC_CC_PUBLIC || rs->max_age != HC_UNSET || rs->s_maxage != HC_UNSET ||
		h1_hdrs_get(resp, "Expires") || hc_status_heuristic(status))
		return NULL;
	(void)default_ttl;
	return "no freshness";
}

int64_t hc_lifetime(int status, const struct h1_hdrs *resp, const struct hc_cc *rs,
	int64_t response_time, int64_t default_ttl)
{
	int64_t date, t, lm;

	if (rs->s_maxage != HC_UNSET)
		return rs->s_maxage;
	if (rs->max_age != HC_UNSET)
		return rs->max_age;
	if (field_date(resp, "Date", &date) < 0)
		date = response_time;
	if (h1_hdrs_get(resp, "Expires")) {
		/* An invalid Expires (such as "0") is a time in the past. */
		if (field_date(resp, "Expires", &t) < 0 || t <= date)
			return 0;
		return t - date;
	}
	if (!hc_status_heuristic(status) && !(rs->flags & HC_CC_PUBLIC))
		return 0;
	if (default_ttl > 0)
		return default_ttl;
	if (field_date(resp, "Last-Modified", &lm) == 0 && lm < date) {
		t = (date - lm) * HEURISTIC_PERCENT / 100;
		return t > HEURISTIC_MAX ? HEURISTIC_MAX : t;
	}
	return 0;
}

int64_t hc_initial_age(const struct h1_hdrs *resp, int64_t request_time, int64_t response_time)
{
	int i = h1_hdrs_find(resp, "Age", 3, 0);
	int64_t age = 0, date, apparent, corrected;

	if (i >= 0) {
		age = delta_seconds(resp->v[i].value.p, resp->v[i].value.len);
		if (age < 0 || h1_hdrs_find(resp, "Age", 3, (unsigned int)i + 1) >= 0)
			return HC_AGE_INVALID;
	}
	if (field_date(resp, "Date", &date) < 0)
		date = response_time;
	apparent = response_time > date ? response_time - date : 0;
	corrected = age + (response_time > request_time ? response_time - request_time : 0);
	return apparent > corrected ? apparent : corrected;
}

int64_t hc_current_age(const struct hc_meta *m, int64_t now)
{
	int64_t age;

	if (m->initial_age == HC_AGE_INVALID)
		return HC_AGE_INVALID;
	age = m->initial_age + (now > m->response_time ? now - m->response_time : 0);
	return age > HC_DELTA_MAX ? HC_DELTA_MAX : age;
}

bool hc_fresh(const struct hc_meta *m, const struct hc_cc *rq, int64_t now)
{
	int64_t age = hc_current_age(m, now);

	if (age == HC_AGE_INVALID || (m->cc_flags & HC_CC_NO_CACHE))
		return false;
	if (rq->max_age != HC_UNSET && age > rq->max_age)
		return false;
	if (rq->min_fresh != HC_UNSET && m->lifetime - age < rq->min_fresh)
		return false;
	return m->lifetime > age;
}

bool hc_stale_ok(const struct hc_meta *m, const struct hc_cc *rq, int64_t now, bool revalidating,
	bool error)
{
	int64_t age = hc_current_age(m, now), stale, sie;

	if (m->cc_flags & (HC_CC_MUST_REVALIDATE | HC_CC_PROXY_REVALIDATE | HC_CC_NO_CACHE |
			      HC_CC_S_MAXAGE))
		return false;
	if (age == HC_AGE_INVALID)
		return false;
	stale = age - m->lifetime;
	if (rq->flags & HC_CC_MAX_STALE_ANY)
		return true;
	if (rq->max_stale != HC_UNSET && stale <= rq->max_stale)
		return true;
	if (revalidating && m->swr != HC_UNSET && stale <= m->swr)
		return true;
	sie = rq->sie != HC_UNSET ? rq->sie : m->sie;
	return error && sie != HC_UNSET && stale <= sie;
}

/* ------------------------------------------------------------------ Vary */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int hc_vary_names(const struct h1_hdrs *resp, char *buf, size_t size)
{
	char store[VARY_NAMES_MAX][64];
	const char *names[VARY_NAMES_MAX];
	size_t n = 0, len = 0;
	int i = -1;

	while ((i = h1_hdrs_find(resp, "Vary", 4, (unsigned int)(i + 1))) >= 0) {
		const char *p = resp->v[i].value.p, *end = p + resp->v[i].value.len;

		while (p < end) {
			const char *s;
			size_t l;
			bool dup = false;

			while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
				p++;
			s = p;
			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			l = (size_t)(p - s);
			if (!l)
				continue;
			if (l == 1 && *s == '*')
				return -1;
			if (l >= sizeof(store[0]) || n == VARY_NAMES_MAX)
				return -ENOSPC;
			for (size_t k = 0; k < l; k++)
				store[n][k] = (char)tolower((unsigned char)s[k]);
			store[n][l] = '\0';
			for (size_t k = 0; k < n && !dup; k++)
				dup = !strcmp(names[k], store[n]);
			if (dup)
				continue;
			names[n] = store[n];
			n++;
		}
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(names[k]);

		if (len + l + 2 > size)
			return -ENOSPC;
		if (k)
			buf[len++] = ',';
		memcpy(buf + len, names[k], l);
		len += l;
	}
	if (size)
		buf[len] = '\0';
	return (int)len;
}

int hc_vary_key(const struct h1_hdrs *req, const char *names, struct h1_buf *out)
{
	const char *p = names;
	int err = 0;

	while (*p && !err) {
		const char *e = strchr(p, ',');
		size_t nl = e ? (size_t)(e - p) : strlen(p);
		int i = h1_hdrs_find(req, p, nl, 0);
		bool first = true;

		err = h1_buf_append(out, "\n", 1);
		if (!err)
			err = h1_buf_append(out, p, nl);
		if (!err)
			err = h1_buf_append(out, i < 0 ? "\x01" : ":", 1);
		for (; i >= 0 && !err; i = h1_hdrs_find(req, p, nl, (unsigned int)i + 1)) {
			const struct h1_str *v = &req->v[i].value;

			if (!first)
				err = h1_buf_append(out, ",", 1);
			first = false;
			for (size_t k = 0; k < v->len && !err; k++) {
				if ((v->p[k] == ' ' || v->p[k] == '\t') && k && v->p[k - 1] == ',')
					continue;
				err = h1_buf_append(out, &v->p[k], 1);
			}
		}
		p += nl;
		if (*p == ',')
			p++;
	}
	return err;
}

/* ------------------------------------------------------------------ stored objects */

static bool name_is(const char *name, size_t len, const char *s)
{
	return strlen(s) == len && !strncasecmp(name, s, len);
}

bool hc_field_stored(const char *name, size_t len)
{
	static const char *const skip[] = {"Connection", "Keep-Alive", "TE", "Trailer",
		"Transfer-Encoding", "Upgrade", "Proxy-Connection", "Proxy-Authenticate",
		"Proxy-Authentication-Info", "Proxy-Authorization", "Content-Length", "Age"};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (name_is(name, len, skip[i]))
			return false;
	return true;
}

bool hc_field_updatable(const char *name, size_t len)
{
	static const char *const keep[] = {
		"Content-Encoding", "Content-MD5", "Content-Range", "ETag"};

	if (!hc_field_stored(name, len))
		return false;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (name_is(name, len, keep[i]))
			return false;
	return true;
}

/* Whether field <i> of <h> is one its own Connection field names. */
static bool named_by_connection(const struct h1_hdrs *h, unsigned int i)
{
	char tok[64];
	int c = -1;
	size_t l = h->v[i].name.len;

	if (l >= sizeof(tok))
		return false;
	memcpy(tok, h->v[i].name.p, l);
	tok[l] = '\0';
	while ((c = h1_hdrs_find(h, "Connection", 10, (unsigned int)(c + 1))) >= 0)
		if (h1_value_has_token(&h->v[c].value, tok))
			return true;
	return false;
}

static int put_field(struct h1_buf *b, const struct h1_header *f, struct hc_meta *m)
{
	int err = h1_buf_append(b, f->name.p, f->name.len);

	if (!err)
		err = h1_buf_append(b, "", 1);
	if (!err)
		err = h1_buf_append(b, f->value.p, f->value.len);
	if (!err)
		err = h1_buf_append(b, "", 1);
	if (!err) {
		m->n_fields++;
		m->fields_len += (uint32_t)(f->name.len + f->value.len + 2);
	}
	return err;
}

int hc_obj_encode(struct h1_buf *b, const struct hc_meta *meta, const struct h1_hdrs *base,
	const struct h1_hdrs *update, const struct h1_str *reason, uint64_t body_len)
{
	size_t at = b->len;
	struct hc_meta m = *meta;
	int err;

	m.magic = HC_META_MAGIC;
	m.n_fields = 0;
	m.fields_len = 0;
	m.reason_len = reason ? (uint32_t)reason->len : 0;
	m.body_len = body_len;
	err = h1_buf_append(b, &m, sizeof(m));
	for (unsigned int i = 0; base && !err && i < base->n; i++) {
		const struct h1_header *f = &base->v[i];

		if (!hc_field_stored(f->name.p, f->name.len) || named_by_connection(base, i))
			continue;
		if (update && hc_field_updatable(f->name.p, f->name.len) &&
			h1_hdrs_find(update, f->name.p, f->name.len, 0) >= 0)
			continue;
		err = put_field(b, f, &m);
	}
	for (unsigned int i = 0; update && !err && i < update->n; i++) {
		const struct h1_header *f = &update->v[i];

		if (hc_field_updatable(f->name.p, f->name.len) && !named_by_connection(update, i))
			err = put_field(b, f, &m);
	}
	if (!err && reason && reason->len)
		err = h1_buf_append(b, reason->p, reason->len);
	if (!err)
		memcpy(b->p + at, &m, sizeof(m));
	return err;
}

int hc_obj_parse(const void *v, size_t len, struct hc_obj *o)
{
	const char *p = v;
	uint64_t need;

	if (!v || len < sizeof(o->meta))
		return -EINVAL;
	memcpy(&o->meta, p, sizeof(o->meta));
	need = sizeof(o->meta) + (uint64_t)o->meta.fields_len + o->meta.reason_len +
	       o->meta.body_len;
	if (o->meta.magic != HC_META_MAGIC || o->meta.kind >= HC_KIND_MAX || need != len)
		return -EINVAL;
	o->fields = p + sizeof(o->meta);
	o->reason = o->fields + o->meta.fields_len;
	o->body = o->reason + o->meta.reason_len;
	/* Every field is two NUL-terminated strings inside fields_len. */
	if (o->meta.fields_len && o->fields[o->meta.fields_len - 1] != '\0')
		return -EINVAL;
	return 0;
}

int hc_obj_fields(const struct hc_obj *o, struct h1_hdrs *h)
{
	const char *p = o->fields, *end = p + o->meta.fields_len;
	int err = 0;

	for (uint32_t i = 0; i < o->meta.n_fields && p < end && !err; i++) {
		size_t nl = strlen(p);
		const char *val = p + nl + 1;
		size_t vl;

		if (val >= end)
			return -EINVAL;
		vl = strlen(val);
		err = h1_hdrs_add(h, p, nl, val, vl);
		p = val + vl + 1;
	}
	return err;
}

const char *hc_obj_field(const struct hc_obj *o, const char *name)
{
	const char *p = o->fields, *end = p + o->meta.fields_len;

	for (uint32_t i = 0; i < o->meta.n_fields && p < end; i++) {
		const char *val = p + strlen(p) + 1;

		if (val >= end)
			return NULL;
		if (!strcasecmp(p, name))
			return val;
		p = val + strlen(val) + 1;
	}
	return NULL;
}

/* ------------------------------------------------------------------ preconditions */

/* Whether entity-tag list <list> (<len> bytes) has "*" or a tag matching <etag>: weakly (W/
 * prefixes ignored) or strongly (neither may be weak). */
static bool etag_match(const char *list, size_t len, const char *etag, bool weak)
{
	const char *p = list, *end = list + len;
	bool etag_weak;

	if (etag && !strncmp(etag, "W/", 2)) {
		etag_weak = true;
		etag += 2;
	} else {
		etag_weak = false;
	}
	while (p < end) {
		const char *s;
		bool w = false;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p >= end)
			break;
		if (*p == '*')
			return true;
		if (end - p > 2 && p[0] == 'W' && p[1] == '/') {
			w = true;
			p += 2;
		}
		s = p;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++)
				;
			if (p < end)
				p++;
		} else {
			while (p < end && *p != ',')
				p++;
		}
		if (etag && strlen(etag) == (size_t)(p - s) && !memcmp(etag, s, (size_t)(p - s)) &&
			(weak || (!w && !etag_weak)))
			return true;
	}
	return false;
}

enum hc_cond hc_cond_eval(enum h1_method method, const struct h1_hdrs *req, const struct hc_obj *o)
{
	const char *etag = hc_obj_field(o, "ETag"), *lms = hc_obj_field(o, "Last-Modified");
	const struct h1_str *v;
	int64_t lm = 0, t;
	bool has_lm = lms && hc_date_parse(lms, strlen(lms), &lm) == 0;
	bool get = method == H1_METHOD_GET || method == H1_METHOD_HEAD;

	v = h1_hdrs_get(req, "If-Match");
	if (v) {
		if (!etag_match(v->p, v->len, etag, false))
			return HC_COND_FAILED;
	} else if (field_date(req, "If-Unmodified-Since", &t) == 0) {
		if (!has_lm || lm > t)
			return HC_COND_FAILED;
	}
	v = h1_hdrs_get(req, "If-None-Match");
	if (v) {
		if (etag_match(v->p, v->len, etag, true))
			return get ? HC_COND_NOT_MODIFIED : HC_COND_FAILED;
		return HC_COND_NONE;
	}
	if (get && has_lm && field_date(req, "If-Modified-Since", &t) == 0 && lm <= t)
		return HC_COND_NOT_MODIFIED;
	return HC_COND_NONE;
}

/* ------------------------------------------------------------------ ranges */

/* Digits at <*p> (before <end>) into <*n>; false when there are none or too many. */
static bool read_num(const char **p, const char *end, uint64_t *n)
{
	const char *s = *p;

	*n = 0;
	while (*p < end && **p >= '0' && **p <= '9') {
		if (*n > UINT64_MAX / 10 - 10)
			return false;
		*n = *n * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	return *p > s;
}

enum hc_range hc_range_eval(
	const struct h1_hdrs *req, const struct hc_obj *o, uint64_t len, uint64_t *first, uint64_t *last)
{
	const struct h1_str *r = h1_hdrs_get(req, "Range"), *ir = h1_hdrs_get(req, "If-Range");
	const char *p, *end;
	uint64_t a = 0, b = 0;
	bool has_a, has_b;

	if (!r || r->len < 7 || strncasecmp(r->p, "bytes=", 6) || memchr(r->p, ',', r->len))
		return HC_RANGE_NONE;
	if (ir) {
		const char *etag = hc_obj_field(o, "ETag"), *lm = hc_obj_field(o, "Last-Modified");
		int64_t t1, t2;

		if (ir->len && (ir->p[0] == '"' || ir->p[0] == 'W')) {
			if (!etag_match(ir->p, ir->len, etag, false))
				return HC_RANGE_NONE;
		} else if (!lm || hc_date_parse(ir->p, ir->len, &t1) ||
			   hc_date_parse(lm, strlen(lm), &t2) || t1 != t2) {
			return HC_RANGE_NONE;
		}
	}
	p = r->p + 6;
	end = r->p + r->len;
	while (p < end && *p == ' ')
		p++;
	has_a = read_num(&p, end, &a);
	if (p >= end || *p != '-')
		return HC_RANGE_NONE;
	p++;
	has_b = read_num(&p, end, &b);
	while (p < end && *p == ' ')
		p++;
	if (p != end || (!has_a && !has_b) || (has_a && has_b && b < a))
		return HC_RANGE_NONE;
	if (!has_a) {
		if (!b || !len)
			return HC_RANGE_UNSATISFIABLE;
		*first = b >= len ? 0 : len - b;
		*last = len - 1;
		return HC_RANGE_OK;
	}
	if (a >= len)
		return HC_RANGE_UNSATISFIABLE;
	*first = a;
	*last = has_b && b < len ? b : len - 1;
	return HC_RANGE_OK;
}
