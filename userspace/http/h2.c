// SPDX-License-Identifier: GPL-2.0
/* HTTP/2 <-> HTTP/1.1 translation of message heads (RFC 9113 §8.3, RFC 9110 §7.6.1). */
#include "userspace/http/h2.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "userspace/http/h1.h"

#define FIELD_OVERHEAD 32 /* bytes RFC 9113 §6.5.2 adds to each field of a list's size */

int h2_preface_match(const char *data, size_t len)
{
	size_t n = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;

	if (memcmp(data, H2_PREFACE, n))
		return -1;
	return len >= H2_PREFACE_LEN ? 1 : 0;
}

void h2_req_init(struct h2_req *r, unsigned int max_fields, size_t max_bytes)
{
	memset(r, 0, sizeof(*r));
	/* Room for Host and Cookie beyond the client's fields. */
	h1_hdrs_init(&r->hdrs, max_fields + 2, max_bytes + 512);
	h1_buf_init(&r->pseudo, max_bytes + 64);
	h1_buf_init(&r->cookie, max_bytes + 64);
	r->max_bytes = max_bytes;
	r->max_fields = max_fields;
}

void h2_req_reset(struct h2_req *r)
{
	struct h1_hdrs hdrs = r->hdrs;
	struct h1_buf pseudo = r->pseudo, cookie = r->cookie;
	size_t max_bytes = r->max_bytes;
	unsigned int max_fields = r->max_fields;

	memset(r, 0, sizeof(*r));
	h1_hdrs_clear(&hdrs);
	pseudo.len = 0;
	cookie.len = 0;
	r->hdrs = hdrs;
	r->pseudo = pseudo;
	r->cookie = cookie;
	r->max_bytes = max_bytes;
	r->max_fields = max_fields;
}

void h2_req_free(struct h2_req *r)
{
	h1_hdrs_free(&r->hdrs);
	h1_buf_free(&r->pseudo);
	h1_buf_free(&r->cookie);
}

static bool name_is(const uint8_t *n, size_t nl, const char *lit)
{
	return nl == strlen(lit) && !memcmp(n, lit, nl);
}

int h2_req_field(struct h2_req *r, const uint8_t *name, size_t nl, const uint8_t *value, size_t vl)
{
	int err;

	r->bytes += nl + vl + FIELD_OVERHEAD;
	if (r->bytes > r->max_bytes)
		return -ENOSPC;
	if (nl && name[0] == ':') {
		/* nghttp2 refuses duplicates and empty values; be safe all the same. */
		if (name_is(name, nl, ":method")) {
			if (r->method_len || !vl || vl >= sizeof(r->method))
				return -EINVAL;
			memcpy(r->method, value, vl);
			r->method_len = vl;
			return 0;
		}
		if (name_is(name, nl, ":path")) {
			if (r->path_len || !vl)
				return -EINVAL;
			r->path_len = vl;
			return h1_buf_append(&r->pseudo, value, vl) < 0 ? -ENOSPC : 0;
		}
		if (name_is(name, nl, ":authority")) {
			if (r->authority_len || vl >= sizeof(r->authority))
				return vl >= sizeof(r->authority) ? -ENOSPC : -EINVAL;
			memcpy(r->authority, value, vl);
			r->authority_len = vl;
			return 0;
		}
		if (name_is(name, nl, ":scheme")) {
			r->scheme_len = vl;
			return 0;
		}
		/* :protocol (RFC 8441) and anything else: not taken. */
		return -EINVAL;
	}
	if (name_is(name, nl, "cookie")) {
		if (r->cookie.len && h1_buf_append(&r->cookie, "; ", 2) < 0)
			return -ENOSPC;
		return h1_buf_append(&r->cookie, value, vl) < 0 ? -ENOSPC : 0;
	}
	if (name_is(name, nl, "host")) {
		/* :authority wins over Host when both came (RFC 9113 §8.3.1); Host alone is
		 * the authority. */
		if (!r->authority_len && vl < sizeof(r->authority)) {
			memcpy(r->authority, value, vl);
			r->authority_len = vl;
		}
		return 0;
	}
	if (name_is(name, nl, "content-length"))
		r->has_cl = true;
	if (r->hdrs.n >= r->max_fields)
		return -ENOSPC;
	err = h1_hdrs_add(&r->hdrs, (const char *)name, nl, (const char *)value, vl);
	return err == -EINVAL ? -EINVAL : err < 0 ? -ENOSPC : 0;
}

bool h2_req_is_connect(const struct h2_req *r)
{
	return r->method_len == 7 && !memcmp(r->method, "CONNECT", 7);
}

int h2_req_write(
	struct h2_req *r, bool end_stream, unsigned int flags, struct h1_buf *out, bool *chunked)
{
	struct h1_msg m = {0};
	bool connect = h2_req_is_connect(r);

	*chunked = false;
	if (!r->method_len || (connect ? !r->authority_len : !r->path_len))
		return -EINVAL;
	if (r->authority_len &&
		h1_hdrs_set(&r->hdrs, "Host", 4, r->authority, r->authority_len) < 0)
		return -ENOSPC;
	if (r->cookie.len && h1_hdrs_add(&r->hdrs, "Cookie", 6, r->cookie.p, r->cookie.len) < 0)
		return -ENOSPC;
	m.kind = H1_REQUEST;
	m.method_name.p = r->method;
	m.method_name.len = r->method_len;
	if (connect) {
		m.target.p = r->authority;
		m.target.len = r->authority_len;
	} else {
		m.target.p = r->pseudo.p;
		m.target.len = r->path_len;
	}
	m.major = 1;
	m.minor = 1;
	m.hdrs = r->hdrs;
	if (!connect && !end_stream && !r->has_cl) {
		flags |= H1_W_CHUNKED;
		*chunked = true;
	}
	return h1_buf_write_head(out, &m, flags) < 0 ? -ENOSPC : 0;
}

/* Connection-specific fields by name, never sent in HTTP/2 (RFC 9113 §8.2.2). */
static bool conn_specific_name(const struct h1_str *n)
{
	switch (n->len) {
	case 2:
		return !strncasecmp(n->p, "te", 2);
	case 7:
		return !strncasecmp(n->p, "upgrade", 7);
	case 10:
		return !strncasecmp(n->p, "connection", 10) || !strncasecmp(n->p, "keep-alive", 10);
	case 16:
		return !strncasecmp(n->p, "proxy-connection", 16);
	case 17:
		return !strncasecmp(n->p, "transfer-encoding", 17);
	default:
		return false;
	}
}

/* The tokens the Connection fields of <h> name, remembered once per head (close and
 * keep-alive left out: the first names no field, the second is dropped by name). */
#define NAMED_MAX 8

struct conn_named {
	struct h1_str tok[NAMED_MAX];
	unsigned int n;
	bool many; /* more than NAMED_MAX: each field is checked against the values */
	int ci;	   /* the first Connection field, -1 for none */
};

static void conn_named_init(struct conn_named *cn, const struct h1_hdrs *h)
{
	cn->n = 0;
	cn->many = false;
	cn->ci = h1_hdrs_find(h, "Connection", 10, 0);
	for (int ci = cn->ci; ci >= 0; ci = h1_hdrs_find(h, "Connection", 10, (unsigned)ci + 1)) {
		const char *p = h->v[ci].value.p, *end = p + h->v[ci].value.len;

		while (p < end) {
			const char *t, *e;

			while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
				p++;
			for (t = p; p < end && *p != ','; p++)
				;
			for (e = p; e > t && (e[-1] == ' ' || e[-1] == '\t'); e--)
				;
			if (e == t || (e - t == 5 && !strncasecmp(t, "close", 5)) ||
				(e - t == 10 && !strncasecmp(t, "keep-alive", 10)))
				continue;
			if (cn->n == NAMED_MAX) {
				cn->many = true;
				return;
			}
			cn->tok[cn->n++] = (struct h1_str){t, (size_t)(e - t)};
		}
	}
}

/* Whether a Connection field of <h> names <n>. */
static bool conn_named(const struct h1_str *n, const struct h1_hdrs *h, const struct conn_named *cn)
{
	char tok[64];

	if (!cn->many) {
		for (unsigned int i = 0; i < cn->n; i++)
			if (cn->tok[i].len == n->len && !strncasecmp(cn->tok[i].p, n->p, n->len))
				return true;
		return false;
	}
	if (n->len >= sizeof(tok))
		return false;
	memcpy(tok, n->p, n->len);
	tok[n->len] = '\0';
	for (int ci = cn->ci; ci >= 0; ci = h1_hdrs_find(h, "Connection", 10, (unsigned)ci + 1))
		if (h1_value_has_token(&h->v[ci].value, tok))
			return true;
	return false;
}

/* Append the fields of <h> to <nva> from index <k>; names lower-cased into <names>; Host
 * too unless <no_host>. */
static int fields_nva(const struct h1_hdrs *h, nghttp2_nv *nva, size_t k, size_t cap, char *names,
	size_t nsize, bool no_host)
{
	struct conn_named cn;
	size_t used = 0;

	conn_named_init(&cn, h);
	for (unsigned i = 0; i < h->n; i++) {
		const struct h1_header *f = &h->v[i];

		if (conn_specific_name(&f->name) ||
			((cn.n || cn.many) && conn_named(&f->name, h, &cn)) ||
			(no_host && f->name.len == 4 && !strncasecmp(f->name.p, "host", 4)))
			continue;
		if (k >= cap || used + f->name.len > nsize)
			return -ENOSPC;
		for (size_t j = 0; j < f->name.len; j++) {
			char ch = f->name.p[j];

			names[used + j] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
		}
		nva[k].name = (uint8_t *)names + used;
		nva[k].namelen = f->name.len;
		nva[k].value = (uint8_t *)f->value.p;
		nva[k].valuelen = f->value.len;
		nva[k].flags = NGHTTP2_NV_FLAG_NONE;
		used += f->name.len;
		k++;
	}
	return (int)k;
}

int h2_resp_nva(const struct h1_msg *m, nghttp2_nv *nva, size_t cap, char *names, size_t nsize,
	char *status)
{
	if (!cap || m->status < 100 || m->status > 999)
		return -ENOSPC;
	status[0] = (char)('0' + m->status / 100);
	status[1] = (char)('0' + m->status / 10 % 10);
	status[2] = (char)('0' + m->status % 10);
	status[3] = '\0';
	nva[0].name = (uint8_t *)":status";
	nva[0].namelen = 7;
	nva[0].value = (uint8_t *)status;
	nva[0].valuelen = 3;
	nva[0].flags = NGHTTP2_NV_FLAG_NONE;
	return fields_nva(&m->hdrs, nva, 1, cap, names, nsize, false);
}

static void nv_set(nghttp2_nv *nv, const char *name, const char *value, size_t vl)
{
	nv->name = (uint8_t *)name;
	nv->namelen = strlen(name);
	nv->value = (uint8_t *)value;
	nv->valuelen = vl;
	nv->flags = NGHTTP2_NV_FLAG_NONE;
}

bool h2_is_grpc(const struct h1_hdrs *h)
{
	const struct h1_str *ct = h1_hdrs_get(h, "Content-Type");

	return ct && ct->len >= 16 && !strncasecmp(ct->p, "application/grpc", 16) &&
	       (ct->len == 16 || ct->p[16] == '+' || ct->p[16] == ';');
}

int h2_req_nva(const struct h1_msg *m, const char *scheme, nghttp2_nv *nva, size_t cap, char *names,
	size_t nsize)
{
	const struct h1_str *host = h1_hdrs_get(&m->hdrs, "Host");
	const char *path = m->target.p;
	size_t plen = m->target.len;
	size_t k;
	int n;

	if (cap < 5 || m->method == H1_METHOD_CONNECT || !host || !host->len || !plen ||
		path[0] == '*')
		return -EINVAL;
	if (path[0] != '/') {
		/* absolute-form: the path after "scheme://authority" */
		const char *a = memchr(path, '/', plen);

		if (!a || a + 1 >= path + plen || a[1] != '/')
			return -EINVAL;
		a = memchr(a + 2, '/', plen - (size_t)(a + 2 - path));
		if (!a) {
			path = "/";
			plen = 1;
		} else {
			plen -= (size_t)(a - path);
			path = a;
		}
	}
	nv_set(&nva[0], ":method", m->method_name.p, m->method_name.len);
	nv_set(&nva[1], ":scheme", scheme, strlen(scheme));
	nv_set(&nva[2], ":authority", host->p, host->len);
	nv_set(&nva[3], ":path", path, plen);
	n = fields_nva(&m->hdrs, nva, 4, cap, names, nsize, true);
	if (n < 0)
		return n;
	k = (size_t)n;
	if (h2_is_grpc(&m->hdrs)) {
		if (k >= cap)
			return -ENOSPC;
		nv_set(&nva[k++], "te", "trailers", 8);
	}
	return (int)k;
}

int h2_trailer_nva(const struct h1_hdrs *t, nghttp2_nv *nva, size_t cap, char *names, size_t nsize)
{
	return fields_nva(t, nva, 0, cap, names, nsize, false);
}

int h2_grpc_status(int status, bool deadline)
{
	switch (status) {
	case 400:
	case 500:
		return H2_GRPC_INTERNAL;
	case 401:
		return H2_GRPC_UNAUTHENTICATED;
	case 403:
		return H2_GRPC_PERMISSION_DENIED;
	case 404:
	case 405:
		return H2_GRPC_UNIMPLEMENTED;
	case 413:
	case 431:
		return H2_GRPC_RESOURCE_EXHAUSTED;
	case 504:
		return deadline ? H2_GRPC_DEADLINE_EXCEEDED : H2_GRPC_UNAVAILABLE;
	case 408:
		return H2_GRPC_DEADLINE_EXCEEDED;
	case 429:
	case 502:
	case 503:
		return H2_GRPC_UNAVAILABLE;
	default:
		return H2_GRPC_UNKNOWN;
	}
}

size_t h2_grpc_answer(char *buf, size_t size, int status, bool deadline)
{
	int n = snprintf(buf, size,
		"HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ngrpc-status: %d\r\n"
		"grpc-message: pingd: %d %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
		h2_grpc_status(status, deadline), status,
		deadline && status == 504 ? "deadline exceeded" : h1_status_reason(status));

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

uint64_t h2_grpc_timeout_ms(const struct h1_str *v)
{
	uint64_t n = 0;
	size_t i;

	if (!v || v->len < 2 || v->len > 9)
		return 0;
	for (i = 0; i + 1 < v->len; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			return 0;
		n = n * 10 + (uint64_t)(v->p[i] - '0');
	}
	switch (v->p[i]) {
	case 'H':
		n *= 3600000;
		break;
	case 'M':
		n *= 60000;
		break;
	case 'S':
		n *= 1000;
		break;
	case 'm':
		break;
	case 'u':
		n = (n + 999) / 1000;
		break;
	case 'n':
		n = (n + 999999) / 1000000;
		break;
	default:
		return 0;
	}
	return n ? n : 1;
}
