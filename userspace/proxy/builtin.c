// SPDX-License-Identifier: GPL-2.0
/* pingd's built-in hooks: what its configuration asks of each request (routing by virtual host
 * and path, the route's pool, Host, X-Forwarded-*, Forwarded, Via and the header rules),
 * written against the same hook table a custom proxy fills. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pingx/pingx.h"
#include "userspace/http/h1.h"
#include "userspace/lib/log.h"
#include "userspace/net/conn.h"
#include "userspace/net/tls.h"
#include "userspace/proxy/route.h"
#include "userspace/proxy/session.h"
#include "userspace/proxy/tlsinfo.h"

#define HDR_JOIN_MAX 4096 /* longest X-Forwarded-For / Forwarded value we build */

/* "1.<minor> <name>" into <buf> of <size> bytes (truncating <name>); returns the length. On
 * every request, so no printf. */
static size_t via_value(char *buf, size_t size, unsigned int minor, const char *name)
{
	size_t nl = strlen(name);

	if (nl > size - 5)
		nl = size - 5;
	buf[0] = '1';
	buf[1] = '.';
	buf[2] = (char)('0' + (minor % 10));
	buf[3] = ' ';
	memcpy(buf + 4, name, nl);
	buf[4 + nl] = '\0';
	return 4 + nl;
}

/* Append <val> to the list-valued field <name>, merging existing fields into one. */
static int hdr_append_list(struct h1_hdrs *h, const char *name, const char *val)
{
	char buf[HDR_JOIN_MAX];
	size_t n = 0, nl = strlen(name), vl = strlen(val);
	unsigned int from = 0;
	int idx;

	while ((idx = h1_hdrs_find(h, name, nl, from)) >= 0) {
		const struct h1_str *v = &h->v[idx].value;

		if (n + v->len + 2 > sizeof(buf))
			return -ENOSPC;
		memcpy(buf + n, v->p, v->len);
		n += v->len;
		memcpy(buf + n, ", ", 2);
		n += 2;
		from = (unsigned int)idx + 1;
	}
	if (n + vl > sizeof(buf))
		return -ENOSPC;
	memcpy(buf + n, val, vl);
	n += vl;
	return h1_hdrs_set(h, name, nl, buf, n);
}

/* A route's header rewrites, in order. Returns 0 or the first h1_hdrs_* error. */
static int apply_hdr_ops(struct h1_hdrs *h, const struct cfg_hdr_ops *ops)
{
	int err = 0;

	for (size_t i = 0; i < ops->n && err >= 0; i++) {
		const struct cfg_hdr_op *op = &ops->ops[i];
		size_t nl = strlen(op->name);

		switch (op->action) {
		case CFG_HDR_ADD:
			err = h1_hdrs_add(h, op->name, nl, op->value, strlen(op->value));
			break;
		case CFG_HDR_SET:
			err = h1_hdrs_set(h, op->name, nl, op->value, strlen(op->value));
			break;
		default:
			h1_hdrs_remove(h, op->name, nl);
			break;
		}
	}
	return err < 0 ? err : 0;
}

/* The built-in upstream_request_filter: the route's Host, X-Forwarded-*, Forwarded, Via and
 * the route's header rules. 431 when the head outgrows its limits. */
static int builtin_upstream_request_filter(struct pingx_ctx *px, void *user_data)
{
	struct session *s = px_session(px);
	const struct cfg_proxy *pc = &s->cfg->proxy;
	struct stream *x = s->x;
	struct h1_msg *m = x->rq;
	struct h1_hdrs *h = &m->hdrs;
	const char *ip = sess_client_text(s);
	bool tls = s->w->rt->tls[s->listener] != NULL;
	char via[96], fwd[256];
	int err = 0;

	if (x->route && x->route->host)
		err = h1_hdrs_set(h, "Host", 4, x->route->host, strlen(x->route->host));
	if (!err && pc->x_forwarded_for)
		err = hdr_append_list(h, "X-Forwarded-For", ip);
	if (!err && pc->x_forwarded_proto)
		err = h1_hdrs_set(h, "X-Forwarded-Proto", 17, tls ? "https" : "http", tls ? 5 : 4);
	if (!err && pc->forwarded) {
		const struct h1_str *host = h1_hdrs_get(h, "Host");
		bool v6 = strchr(ip, ':') != NULL;
		int n = snprintf(fwd, sizeof(fwd), "for=%s%s%s%s;proto=%s", v6 ? "\"[" : "", ip,
			v6 ? "]" : "", v6 ? "\"" : "", tls ? "https" : "http");

		if (host && n > 0 && (size_t)n + host->len + 10 < sizeof(fwd))
			snprintf(fwd + n, sizeof(fwd) - (size_t)n, ";host=\"%.*s\"", (int)host->len,
				host->p);
		err = hdr_append_list(h, "Forwarded", fwd);
	}
	if (!err && pc->via) {
		size_t vl = via_value(via, sizeof(via), x->cli_minor, pc->server_name);

		err = h1_hdrs_add(h, "Via", 3, via, vl);
	}
	if (!err)
		err = tlsinfo_headers(s, h);
	if (!err && x->route)
		err = apply_hdr_ops(h, &x->route->request_headers);
	if (err) {
		log_ratelimited(
			LOG_LVL_WARN, "client %s: request head too large after rewriting", ip);
		return 431;
	}
	return 0;
}

/* The built-in response_filter: Via and the route's response header rules. */
static int builtin_response_filter(struct pingx_ctx *px, void *user_data)
{
	struct session *s = px_session(px);
	const struct cfg_proxy *pc = &s->cfg->proxy;
	struct h1_msg *m = px->resp;
	char via[96];
	int err = 0;

	if (pc->via) {
		size_t vl = via_value(via, sizeof(via), m->minor, pc->server_name);

		err = h1_hdrs_add(&m->hdrs, "Via", 3, via, vl);
	}
	if (!err && s->x->route)
		err = apply_hdr_ops(&m->hdrs, &s->x->route->response_headers);
	return err;
}

/* Routing: the listener's virtual host and route for Host and the path; 404 without one. A
 * CONNECT takes the virtual host's CONNECT route, if any (the engine answers 405 without). */
static int builtin_request_filter(struct pingx_ctx *px, void *user_data)
{
	struct session *s = px_session(px);
	struct h1_msg *m = s->x->rq;
	const struct h1_str *host = h1_hdrs_get(&m->hdrs, "Host");

	if (m->method == H1_METHOD_CONNECT) {
		const struct cfg_vhost *vh = route_vhost(s->w->rt->routes, s->listener,
			host ? host->p : NULL, host ? host->len : 0);

		s->x->route = vh ? route_connect(vh) : NULL;
		return 0;
	}
	s->x->route = route_match(s->w->rt->routes, s->listener, host ? host->p : NULL,
		host ? host->len : 0, m->target.p, m->target.len);
	if (s->x->route && s->x->route->client_cert && !tls_peer_verified(s->tls_cli))
		return 403;
	return s->x->route ? 0 : 404;
}

/* The route's pool; a table without the built-in request_filter has no route. */
static int builtin_upstream_peer(struct pingx_ctx *px, void *user_data)
{
	struct session *s = px_session(px);

	if (!s->x->route)
		return -EINVAL;
	px_set_backend(s, (size_t)s->x->route->upstream_idx);
	return 0;
}

/* A failed connect never delivered the request: always worth another server. */
enum pingx_verdict builtin_fail_to_connect(struct pingx_ctx *px, int err, void *user_data)
{
	return PINGX_RETRY;
}

/* Only methods a client expects to be repeated safely (RFC 9110 §9.2.2) are replayed. */
enum pingx_verdict builtin_error_while_proxy(struct pingx_ctx *px, const char *why, void *user_data)
{
	return px_session(px)->x->idempotent ? PINGX_RETRY : PINGX_GIVE_UP;
}

const struct pingx_proxy_ops builtin_hooks = {
	.request_filter = builtin_request_filter,
	.upstream_peer = builtin_upstream_peer,
	.upstream_request_filter = builtin_upstream_request_filter,
	.response_filter = builtin_response_filter,
	.fail_to_connect = builtin_fail_to_connect,
	.error_while_proxy = builtin_error_while_proxy,
};

const struct pingx_proxy_ops *pingx_builtin_ops(void)
{
	return &builtin_hooks;
}
