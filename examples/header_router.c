// SPDX-License-Identifier: GPL-2.0
/* header-router: a custom proxy that sends each request to the upstream pool named by its
 * X-Backend header (pool "default" without one, 404 for an unknown pool), strips the header
 * before forwarding, and logs one line per request from its own per-request state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pingx/pingx.h>

#define ROUTE_HEADER "X-Backend"

/* Per-request state: what new_ctx allocates and logging frees. */
struct req {
	char pool[64];
};

static int router_new_ctx(struct pingx_ctx *ctx, void *user_data)
{
	struct req *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	pingx_set_user(ctx, r);
	return 0;
}

static int router_upstream_peer(struct pingx_ctx *ctx, void *user_data)
{
	struct req *r = pingx_get_user(ctx);
	size_t len;
	const char *v = pingx_header_get(ctx, PINGX_REQUEST, ROUTE_HEADER, &len);

	if (!v) {
		v = "default";
		len = strlen(v);
	}
	if (len >= sizeof(r->pool))
		return 400;
	memcpy(r->pool, v, len);
	r->pool[len] = '\0';
	return pingx_set_upstream(ctx, r->pool) ? 404 : 0;
}

/* The routing header is ours: drop it, then add what pingd adds (X-Forwarded-For, Via). */
static int router_upstream_request_filter(struct pingx_ctx *ctx, void *user_data)
{
	pingx_header_remove(ctx, PINGX_REQUEST, ROUTE_HEADER);
	return pingx_builtin_ops()->upstream_request_filter(ctx, user_data);
}

static int router_response_filter(struct pingx_ctx *ctx, void *user_data)
{
	return pingx_header_set(ctx, PINGX_RESPONSE, "X-Routed-To", pingx_upstream(ctx));
}

static void router_logging(struct pingx_ctx *ctx, void *user_data)
{
	struct req *r = pingx_get_user(ctx);
	const char *peer = pingx_peer(ctx);
	size_t plen;
	const char *path = pingx_path(ctx, &plen);

	fprintf(stderr, "header-router: %s %.*s pool=%s peer=%s status=%d\n",
		pingx_client_addr(ctx), (int)plen, path ? path : "", r ? r->pool : "-",
		peer ? peer : "-", pingx_status(ctx));
	free(r);
}

int main(int argc, char **argv)
{
	static const struct pingx_proxy_ops ops = {
		.new_ctx = router_new_ctx,
		.upstream_peer = router_upstream_peer,
		.upstream_request_filter = router_upstream_request_filter,
		.response_filter = router_response_filter,
		.logging = router_logging,
	};

	return pingx_run(argc, argv, &ops, NULL);
}
