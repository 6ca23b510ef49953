/* SPDX-License-Identifier: GPL-2.0 */
/* What the files of the proxy layer share about a session beyond its layout: the session of
 * a hook's context, the built-in hook table, and small rules used in more than one place. */
#ifndef USERSPACE_PROXY_SESSION_H
#define USERSPACE_PROXY_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "pingx/pingx.h"
#include "userspace/net/conn.h"
#include "userspace/proxy/session-t.h"
#include "userspace/proxy/worker-t.h"

struct timeval;

/* The session whose exchange <px> is. */
static inline struct session *px_session(const struct pingx_ctx *px)
{
	return ((const struct stream *)((const char *)px - offsetof(struct stream, px)))->s;
}

/* The client's address as text, written into the current exchange on first use (an idle
 * connection keeps none); s->x must be set. */
static inline const char *sess_client_text(struct session *s)
{
	if (!s->x->cli_text[0])
		(void)conn_peer_text(s->cli, s->x->cli_text, sizeof(s->x->cli_text));
	return s->x->cli_text;
}

/* The client's address as text for a log line, with or without an exchange: the exchange's
 * copy, or written into <buf> (CONN_PEER_TEXT_MAX bytes). */
static inline const char *sess_peer_log(struct session *s, char *buf)
{
	if (s->x)
		return sess_client_text(s);
	return conn_peer_text(s->cli, buf, CONN_PEER_TEXT_MAX);
}

/* sess_peer_log() into a buffer that lives as long as the enclosing block. */
#define SESS_PEER(s) sess_peer_log((s), (char[CONN_PEER_TEXT_MAX]){0})

/* Methods a client may expect to be repeated safely, so that a retry is allowed. */
static inline bool method_idempotent(enum h1_method m)
{
	return m == H1_METHOD_GET || m == H1_METHOD_HEAD || m == H1_METHOD_OPTIONS ||
	       m == H1_METHOD_TRACE || m == H1_METHOD_PUT || m == H1_METHOD_DELETE;
}

/* Make pool <idx> of the runtime the exchange's upstream (upstream_peer's choice). */
static inline void px_set_backend(struct session *s, size_t idx)
{
	s->x->be_idx = idx;
	s->x->be = s->w->rt->backends[idx];
	s->x->px.has_be = true;
}

/* pingd's config-driven hooks (builtin.c): routing, the route's pool, header rules. */
extern const struct pingx_proxy_ops builtin_hooks;

/* The built-in decisions, taken when a custom table leaves these hooks NULL: a failed connect
 * is retried; a failure after the request was sent is retried for idempotent methods only. */
enum pingx_verdict builtin_fail_to_connect(struct pingx_ctx *px, int err, void *user_data);
enum pingx_verdict builtin_error_while_proxy(
	struct pingx_ctx *px, const char *why, void *user_data);

/* For phases that answer without the upstream (the cache, stream.c): write response head <m>
 * (response_filter runs, framing and keep-alive as for an upstream's head), after taking the
 * end of a request without a body. Returns 0, or -1 when the head cannot be written. The
 * caller then stages the body in s->w->cstage and calls stream_local_done(). */
int stream_local_head(struct session *s, struct h1_msg *m);

/* End the exchange of a local answer: log it, then the next request or a close. */
void stream_local_done(struct session *s);

/* Answer with error <status> and close (nothing sent yet). */
void stream_local_error(struct session *s, int status);

/* Go on to the upstream: upstream_peer, upstream_request_filter, the connection. */
void stream_forward(struct session *s);

/* Arm the session timer (made on first use) for <tv>. Returns 0 or -ENOMEM. */
int sess_timer_set(struct session *s, const struct timeval *tv);

#endif /* USERSPACE_PROXY_SESSION_H */
