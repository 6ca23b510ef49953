/* SPDX-License-Identifier: GPL-2.0 */
/* libpingx: write a custom HTTP/1.1 reverse proxy as a set of hooks over pingd's engine.
 * The hooks are listed in the order a request meets them; pingd's own config-driven
 * routing, peer selection and header rules are the built-in table, pingx_builtin_ops(). */
#ifndef PINGX_PINGX_H
#define PINGX_PINGX_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One request/response exchange, valid from new_ctx to logging. Opaque: use the accessors. */
struct pingx_ctx;

/* Which message a header helper works on. */
enum pingx_msg {
	PINGX_REQUEST = 0, /* the client's request (forwarded upstream) */
	PINGX_RESPONSE,	   /* the upstream's final response head (response_filter only) */
	PINGX_MSG_MAX	   /* must stay last */
};

/* What an error hook asks for. */
enum pingx_verdict {
	PINGX_GIVE_UP = 0, /* answer 502/504 (or close when the response started) */
	PINGX_RETRY,	   /* try another server of the pool, within its retry budget */
	PINGX_VERDICT_MAX  /* must stay last */
};

/*
 * Hooks. Each gets the request's context and the user_data given to pingx_run(). Filters
 * return 0 to go on, an HTTP status (400-599) to answer with that status and close, or a
 * negative errno (-ENOSPC answers 431, others 500). A NULL filter does nothing, except
 * upstream_peer which is required; a NULL error hook takes the built-in decision.
 */

/* First, once per request head: allocate per-request state (pingx_set_user()). */
typedef int pingx_new_ctx_fn(struct pingx_ctx *ctx, void *user_data);
/* Look at the request: reject it, route it, rewrite its headers. */
typedef int pingx_request_filter_fn(struct pingx_ctx *ctx, void *user_data);
/* Choose the upstream pool (pingx_set_upstream()); the engine picks a server in it. */
typedef int pingx_upstream_peer_fn(struct pingx_ctx *ctx, void *user_data);
/* Last change to the request head before it is sent (after hop-by-hop fields went). */
typedef int pingx_upstream_request_filter_fn(struct pingx_ctx *ctx, void *user_data);
/* The upstream's final response head, before it goes to the client. A non-zero return
 * makes the response unusable (502). */
typedef int pingx_response_filter_fn(struct pingx_ctx *ctx, void *user_data);
/* Once per request that reached new_ctx, last, whatever happened (status 499 when the client
 * went away): release what new_ctx allocated. Requests the parser rejected (400, 408, 431 on
 * the head) never reach the hooks. */
typedef void pingx_logging_fn(struct pingx_ctx *ctx, void *user_data);
/* A connect to the chosen server failed (<err> a positive errno, or ETIMEDOUT). */
typedef enum pingx_verdict pingx_fail_to_connect_fn(
	struct pingx_ctx *ctx, int err, void *user_data);
/* The server failed after the connection was made. Only called while a retry is possible
 * at all: no response byte received and no request body. */
typedef enum pingx_verdict pingx_error_while_proxy_fn(
	struct pingx_ctx *ctx, const char *why, void *user_data);

struct pingx_proxy_ops {
	pingx_new_ctx_fn *new_ctx;
	pingx_request_filter_fn *request_filter;
	pingx_upstream_peer_fn *upstream_peer; /* required */
	pingx_upstream_request_filter_fn *upstream_request_filter;
	pingx_response_filter_fn *response_filter;
	pingx_logging_fn *logging;
	pingx_fail_to_connect_fn *fail_to_connect;
	pingx_error_while_proxy_fn *error_while_proxy;
};

/* pingd's behaviour from its config file: route matching (404 without a route), the route's
 * pool, X-Forwarded-For / Forwarded / Via and the route's header rules, retries of
 * idempotent requests. Its hooks may be called from a custom table's hooks. */
const struct pingx_proxy_ops *pingx_builtin_ops(void);

/* Run a proxy: parse pingd's command line (argv: -c FILE, or --listen/--upstream, -t, ...),
 * start the workers and serve until SIGTERM, calling <ops> (NULL: pingx_builtin_ops()) with
 * <user_data>. Listeners, upstream pools, timeouts and limits come from the config; routes
 * are used only by the built-in hooks. Returns the process exit code (0, 1, or 2 for a
 * usage error or an ops table without upstream_peer). Call once. */
int pingx_run(int argc, char **argv, const struct pingx_proxy_ops *ops, void *user_data);

/* Request line, as pointer and length (not NUL-terminated). */
const char *pingx_method(const struct pingx_ctx *ctx, size_t *len);
const char *pingx_path(const struct pingx_ctx *ctx, size_t *len);
/* Client address as text ("127.0.0.1", "::1"). */
const char *pingx_client_addr(const struct pingx_ctx *ctx);
/* True for GET, HEAD, OPTIONS, TRACE, PUT, DELETE. */
bool pingx_idempotent(const struct pingx_ctx *ctx);
/* The client's TLS certificate, when its listener asked for one (tls.client_verify) and it
 * verified: whether there is one; its subject (RFC 2253), its subject alternative names
 * ("DNS:a, email:b, URI:c") and its SHA-256 fingerprint ("AB:CD:..."), written into <buf>
 * (<len> bytes, 512, 1024 and 96 are enough). NULL when there is none. */
bool pingx_client_cert_verified(const struct pingx_ctx *ctx);
const char *pingx_client_cert_subject(const struct pingx_ctx *ctx, char *buf, size_t len);
const char *pingx_client_cert_san(const struct pingx_ctx *ctx, char *buf, size_t len);
const char *pingx_client_cert_fingerprint(const struct pingx_ctx *ctx, char *buf, size_t len);

/* Value of header <name> (case-insensitive) of <which>, length in <*len>; NULL when absent
 * or when that message is not available in this hook. The pointer is valid until the next
 * change to the same message. */
const char *pingx_header_get(
	const struct pingx_ctx *ctx, enum pingx_msg which, const char *name, size_t *len);
/* Replace every <name> field by one <name>: <value>, append one, or remove them all. Values
 * are copied. 0, -EINVAL (bad name or value), -ENOSPC (over the head limits), -ENOENT (the
 * message is not available in this hook). header_remove returns how many went. */
int pingx_header_set(
	struct pingx_ctx *ctx, enum pingx_msg which, const char *name, const char *value);
int pingx_header_add(
	struct pingx_ctx *ctx, enum pingx_msg which, const char *name, const char *value);
int pingx_header_remove(struct pingx_ctx *ctx, enum pingx_msg which, const char *name);

/* Route the request to the config's upstream pool <name>. 0 or -ENOENT. */
int pingx_set_upstream(struct pingx_ctx *ctx, const char *name);
/* The chosen pool's name (NULL before upstream_peer), the server address last tried (NULL
 * before the first connect). */
const char *pingx_upstream(const struct pingx_ctx *ctx);
const char *pingx_peer(const struct pingx_ctx *ctx);
/* Status sent to the client, 0 before one is known. */
int pingx_status(const struct pingx_ctx *ctx);

/* The key of this request for the rate limits whose key has the "hook" part
 * (rate_limits[].key: hook), set in new_ctx or request_filter: <len> bytes at <key>, at most
 * 64 (longer keys are cut there). Until set, or with <len> 0, such limits do not apply to
 * the request. 0 or -EINVAL. */
int pingx_set_limit_key(struct pingx_ctx *ctx, const void *key, size_t len);

/* The per-request pointer of the custom proxy (NULL until set). */
void pingx_set_user(struct pingx_ctx *ctx, void *p);
void *pingx_get_user(const struct pingx_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* PINGX_PINGX_H */
