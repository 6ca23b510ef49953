// SPDX-License-Identifier: GPL-2.0
/* The framework's accessors (pingx/pingx.h): what a hook reads and changes of the exchange its
 * context belongs to. */
#include "pingx/pingx.h"

#include <errno.h>
#include <string.h>

#include "userspace/http/h1.h"
#include "userspace/net/conn.h"
#include "userspace/proxy/session.h"
#include "userspace/upstream/backend.h"

const char *pingx_method(const struct pingx_ctx *px, size_t *len)
{
	const struct h1_msg *m = px_session(px)->x->rq;

	if (!m) {
		*len = 0;
		return NULL;
	}
	*len = m->method_name.len;
	return m->method_name.p;
}

const char *pingx_path(const struct pingx_ctx *px, size_t *len)
{
	const struct h1_msg *m = px_session(px)->x->rq;

	if (!m) {
		*len = 0;
		return NULL;
	}
	*len = m->target.len;
	return m->target.p;
}

const char *pingx_client_addr(const struct pingx_ctx *px)
{
	return sess_client_text(px_session(px));
}

bool pingx_idempotent(const struct pingx_ctx *px)
{
	const struct h1_msg *m = px_session(px)->x->rq;

	return m && method_idempotent(m->method);
}

/* The header list <which> names, or NULL when that message is not at hand: the request can
 * be read until logging and changed until it is sent, the response only in response_filter. */
static struct h1_hdrs *px_hdrs(const struct pingx_ctx *px, enum pingx_msg which, bool write)
{
	struct session *s = px_session(px);

	if (which == PINGX_REQUEST)
		return s->x->rq && (!write || s->st == SS_CONNECT) ? &s->x->rq->hdrs : NULL;
	if (which == PINGX_RESPONSE)
		return px->resp ? &px->resp->hdrs : NULL;
	return NULL;
}

const char *pingx_header_get(
	const struct pingx_ctx *px, enum pingx_msg which, const char *name, size_t *len)
{
	const struct h1_hdrs *h = px_hdrs(px, which, false);
	const struct h1_str *v = h && name ? h1_hdrs_get(h, name) : NULL;

	*len = v ? v->len : 0;
	return v ? (v->p ? v->p : "") : NULL;
}

int pingx_header_set(
	struct pingx_ctx *px, enum pingx_msg which, const char *name, const char *value)
{
	struct h1_hdrs *h = px_hdrs(px, which, true);

	if (!h)
		return -ENOENT;
	if (!name || !value)
		return -EINVAL;
	return h1_hdrs_set(h, name, strlen(name), value, strlen(value));
}

int pingx_header_add(
	struct pingx_ctx *px, enum pingx_msg which, const char *name, const char *value)
{
	struct h1_hdrs *h = px_hdrs(px, which, true);

	if (!h)
		return -ENOENT;
	if (!name || !value)
		return -EINVAL;
	return h1_hdrs_add(h, name, strlen(name), value, strlen(value));
}

int pingx_header_remove(struct pingx_ctx *px, enum pingx_msg which, const char *name)
{
	struct h1_hdrs *h = px_hdrs(px, which, true);

	if (!h)
		return -ENOENT;
	if (!name)
		return -EINVAL;
	return (int)h1_hdrs_remove(h, name, strlen(name));
}

int pingx_set_upstream(struct pingx_ctx *px, const char *name)
{
	struct session *s = px_session(px);
	const struct pingd_rt *rt = s->w->rt;

	if (!name || s->st != SS_CONNECT || s->x->srv >= 0)
		return -EINVAL;
	for (size_t i = 0; i < rt->n_backends; i++) {
		if (!strcmp(rt->backends[i]->cfg->name, name)) {
			px_set_backend(s, i);
			return 0;
		}
	}
	return -ENOENT;
}

const char *pingx_upstream(const struct pingx_ctx *px)
{
	const struct stream *x = px_session(px)->x;

	return px->has_be ? x->be->cfg->name : NULL;
}

const char *pingx_peer(const struct pingx_ctx *px)
{
	return px_session(px)->x->upstream;
}

int pingx_status(const struct pingx_ctx *px)
{
	return px_session(px)->x->status;
}

int pingx_set_limit_key(struct pingx_ctx *px, const void *key, size_t len)
{
	if (!px || (!key && len))
		return -EINVAL;
	if (len > sizeof(px->limit_key))
		len = sizeof(px->limit_key);
	memcpy(px->limit_key, key, len);
	px->limit_key_len = (uint8_t)len;
	return 0;
}

void pingx_set_user(struct pingx_ctx *px, void *p)
{
	px->user = p;
}

void *pingx_get_user(const struct pingx_ctx *px)
{
	return px->user;
}
