// SPDX-License-Identifier: GPL-2.0
/* The rate_limits: section: parsing its scalar forms and checking items against each other,
 * the routes that name them and the limiter's own bounds (see ratelimit.h). */
#include "userspace/cfg/ratelimit.h"

#include <arpa/inet.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/cfg/cfg.h"
#include "userspace/cfg/keys.h"
#include "userspace/http/h1.h"
#include "userspace/lib/addr.h"
#include "userspace/limit/req.h"

/* Longest a burst may take to refill at the rate: a bucket that stays empty for days is a
 * mistake in the numbers, not a limit. */
#define BURST_REFILL_MAX_S 86400.0

int cfg_parse_rate(const char *s, double *rps)
{
	const char *slash;
	char *end;
	double n;

	if (!s || !*s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash || slash == s)
		return -EINVAL;
	/* strtod() alone would take "inf", "nan" and hex floats: digits and one dot only. */
	for (const char *p = s; p < slash; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
			    (*p == 'r' && p + 1 == slash)))
			return -EINVAL;
	errno = 0;
	n = strtod(s, &end);
	if (end == s || errno == ERANGE)
		return -EINVAL;
	if (*end == 'r')
		end++;
	if (end != slash)
		return -EINVAL;
	if (!strcmp(slash, "/s"))
		;
	else if (!strcmp(slash, "/m"))
		n /= 60.0;
	else
		return -EINVAL;
	if (!isfinite(n) || n <= 0)
		return -ERANGE;
	*rps = n;
	return 0;
}

int cfg_parse_limit_key(const char *s, enum cfg_limit_src *src, const char **name)
{
	*name = NULL;
	if (!strcmp(s, "client_addr"))
		*src = CFG_LIMIT_CLIENT_ADDR;
	else if (!strcmp(s, "route"))
		*src = CFG_LIMIT_ROUTE;
	else if (!strcmp(s, "host"))
		*src = CFG_LIMIT_HOST;
	else if (!strcmp(s, "hook"))
		*src = CFG_LIMIT_HOOK;
	else if (!strncmp(s, "header:", 7) && h1_is_token(s + 7)) {
		*src = CFG_LIMIT_HEADER;
		*name = s + 7;
	} else
		return -EINVAL;
	return 0;
}

int cfg_parse_limit_delay(const char *s, uint32_t *delay_after)
{
	unsigned long n;
	char *end;

	if (!strcmp(s, "off")) {
		*delay_after = LIMIT_REQ_NODELAY;
		return 0;
	}
	if (!strcmp(s, "on")) {
		*delay_after = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > LIMIT_REQ_BURST_MAX)
		return -EINVAL;
	*delay_after = (uint32_t)n;
	return 0;
}

int cfg_rate_limit_find(const struct cfg *c, const char *name)
{
	for (size_t i = 0; i < c->n_rate_limits; i++)
		if (c->rate_limits[i].name && !strcmp(c->rate_limits[i].name, name))
			return (int)i;
	return -1;
}

/* One rate_limits[] item on its own. */
static void check_item(struct cfg_ctx *ctx, struct cfg_rate_limit *rl)
{
	struct limit_req_conf rc = {0};
	bool addr_key = false;
	int err;

	if (rl->table_width & (rl->table_width - 1))
		cfg_msg_add(ctx, false, rl->line,
			"'rate_limits[].table_width': expected a power of two, got %u",
			rl->table_width);
	if (!rl->key.n) {
		/* Unset: the client's address, as --limit-rate and nginx's usual zone key. */
		rl->key.v = calloc(1, sizeof(*rl->key.v));
		if (rl->key.v)
			rl->key.v[0] = strdup("client_addr");
		if (!rl->key.v || !rl->key.v[0]) {
			cfg_msg_add(ctx, false, rl->line, "'rate_limits[].key': out of memory");
			return;
		}
		rl->key.n = 1;
	}
	for (size_t k = 0; k < rl->key.n; k++) {
		enum cfg_limit_src src;
		const char *name;

		if (cfg_parse_limit_key(rl->key.v[k], &src, &name) < 0) {
			cfg_msg_add(ctx, false, rl->line,
				"'rate_limits[].key': expected client_addr, header:NAME, route, "
				"host or hook, got '%s'",
				rl->key.v[k]);
			continue;
		}
		for (size_t j = 0; j < k; j++)
			if (!strcasecmp(rl->key.v[j], rl->key.v[k]))
				cfg_msg_add(ctx, false, rl->line,
					"'rate_limits[].key': '%s' given twice", rl->key.v[k]);
		addr_key |= src == CFG_LIMIT_CLIENT_ADDR;
	}
	if (!rl->delay || cfg_parse_limit_delay(rl->delay, &rl->delay_after) < 0)
		cfg_msg_add(ctx, false, rl->line,
			"'rate_limits[].delay': expected off, on or a count (0..%u), got '%s'",
			LIMIT_REQ_BURST_MAX, rl->delay);
	rl->rps = 0;
	if (rl->rate && *rl->rate) {
		err = cfg_parse_rate(rl->rate, &rl->rps);
		if (err == -ERANGE) {
			cfg_msg_add(ctx, false, rl->line,
				"'rate_limits[].rate': '%s': a rate must be above 0", rl->rate);
			return;
		}
		if (err) {
			cfg_msg_add(ctx, false, rl->line,
				"'rate_limits[].rate': expected N/s or N/m (N above 0), got '%s'",
				rl->rate);
			return;
		}
		rc.rate = rl->rps;
		rc.burst = rl->burst;
		rc.delay_after = rl->delay_after;
		rc.width = rl->table_width;
		err = limit_req_conf_check(&rc);
		if (!err && rl->burst / rl->rps > BURST_REFILL_MAX_S)
			cfg_msg_add(ctx, false, rl->line,
				"'rate_limits[].burst': %u requests at %s take %.0f s to refill, "
				"more than a day; lower the burst or raise the rate",
				rl->burst, rl->rate, rl->burst / rl->rps);
		else if (err == -ERANGE)
			cfg_msg_add(ctx, false, rl->line,
				"'rate_limits[].burst': %u requests at %s take too long to refill; "
				"lower the burst or raise the rate",
				rl->burst, rl->rate);
		else if (err)
			cfg_msg_add(ctx, false, rl->line,
				"'rate_limits[].rate': '%s' is outside %g..%g requests a second",
				rl->rate, LIMIT_REQ_RATE_MIN, LIMIT_REQ_RATE_MAX);
	} else {
		if (!rl->inflight)
			cfg_msg_add(ctx, false, rl->line,
				"'rate_limits[]': '%s' sets neither rate nor inflight",
				rl->name ? rl->name : "");
		if (rl->burst)
			cfg_msg_add(ctx, false, rl->line,
				"'rate_limits[].burst': a burst needs a rate");
	}
	if (rl->deny_after_ms && (!rl->rps || !addr_key || rl->key.n != 1))
		cfg_msg_add(ctx, false, rl->line,
			"'rate_limits[].deny_after': only a limit with a rate keyed on client_addr "
			"alone can push clients into the deny map");
}

/* The limits: list <l> of a route or virtual host at <line>: every name exists, once. */
static void check_refs(struct cfg_ctx *ctx, const struct cfg *c, const struct cfg_str_list *l,
	const char *what, int line)
{
	for (size_t i = 0; i < l->n; i++) {
		if (cfg_rate_limit_find(c, l->v[i]) < 0)
			cfg_msg_add(ctx, false, line, "'%s.limits': no rate limit named '%s'", what,
				l->v[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(l->v[i], l->v[j]))
				cfg_msg_add(ctx, false, line, "'%s.limits': '%s' given twice",
					what, l->v[i]);
	}
}

void cfg_rate_limits_validate(struct cfg_ctx *ctx, struct cfg *c)
{
	for (size_t i = 0; i < c->n_rate_limits; i++) {
		struct cfg_rate_limit *rl = &c->rate_limits[i];

		check_item(ctx, rl);
		for (size_t j = 0; j < i; j++)
			if (rl->name && c->rate_limits[j].name &&
				!strcmp(rl->name, c->rate_limits[j].name))
				cfg_msg_add(ctx, false, rl->line,
					"'rate_limits[].name': '%s' already used at line %d",
					rl->name, c->rate_limits[j].line);
	}
	for (size_t v = 0; v < c->n_vhosts; v++) {
		const struct cfg_vhost *vh = &c->vhosts[v];

		check_refs(ctx, c, &vh->limits, "virtual_hosts[]", vh->line);
		for (size_t r = 0; r < vh->n_routes; r++) {
			const struct cfg_route *rt = &vh->routes[r];

			check_refs(ctx, c, &rt->limits, "virtual_hosts[].routes[]", rt->line);
			for (size_t i = 0; i < rt->limits.n; i++)
				for (size_t j = 0; j < vh->limits.n; j++)
					if (!strcmp(rt->limits.v[i], vh->limits.v[j]))
						cfg_msg_add(ctx, false, rt->line,
							"'virtual_hosts[].routes[].limits': '%s' "
							"already applies through the virtual host",
							rt->limits.v[i]);
			if (vh->limits.n + rt->limits.n > CFG_ROUTE_LIMITS_MAX)
				cfg_msg_add(ctx, false, rt->line,
					"'virtual_hosts[].routes[].limits': %zu limits apply here; "
					"at most %u may",
					vh->limits.n + rt->limits.n, CFG_ROUTE_LIMITS_MAX);
		}
	}
	for (size_t i = 0; i < c->deny.allow.n; i++) {
		unsigned char ip[16];
		unsigned int plen;
		int af;

		if (addr_parse_prefix(c->deny.allow.v[i], &af, ip, &plen) < 0)
			cfg_msg_add(ctx, false, 0,
				"'deny.allow': expected ADDR or ADDR/LEN (IPv4 or IPv6), got '%s'",
				c->deny.allow.v[i]);
	}
}
