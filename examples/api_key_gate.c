// SPDX-License-Identifier: GPL-2.0
/* api-key-gate: pingd's config-driven routing behind an API key check. A request without a
 * key listed in $PINGX_API_KEYS (comma-separated) in its X-Api-Key header gets 401; a valid
 * key is removed before the request goes upstream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pingx/pingx.h>

#define KEY_HEADER "X-Api-Key"

struct gate {
	const char *keys; /* "k1,k2,..." */
};

/* True when <key> (<len> bytes) is one of the comma-separated <keys>. */
static int key_valid(const char *keys, const char *key, size_t len)
{
	const char *p = keys;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == len && n && !memcmp(p, key, len))
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* The gate, then pingd's own routing (virtual hosts and routes of the config). */
static int gate_request_filter(struct pingx_ctx *ctx, void *user_data)
{
	const struct gate *g = user_data;
	size_t len;
	const char *key = pingx_header_get(ctx, PINGX_REQUEST, KEY_HEADER, &len);

	if (!key || !key_valid(g->keys, key, len))
		return 401;
	return pingx_builtin_ops()->request_filter(ctx, user_data);
}

/* The key is a secret between the client and the gate: the upstream never sees it. */
static int gate_upstream_request_filter(struct pingx_ctx *ctx, void *user_data)
{
	pingx_header_remove(ctx, PINGX_REQUEST, KEY_HEADER);
	return pingx_builtin_ops()->upstream_request_filter(ctx, user_data);
}

int main(int argc, char **argv)
{
	struct pingx_proxy_ops ops = *pingx_builtin_ops();
	struct gate g = {.keys = getenv("PINGX_API_KEYS")};

	if (!g.keys || !*g.keys) {
		fprintf(stderr,
			"api-key-gate: set PINGX_API_KEYS to the accepted keys (k1,k2,...)\n");
		return 2;
	}
	ops.request_filter = gate_request_filter;
	ops.upstream_request_filter = gate_upstream_request_filter;
	return pingx_run(argc, argv, &ops, &g);
}
