// SPDX-License-Identifier: GPL-2.0
/* pingctl deny: source prefixes the data plane drops before any service lookup (lb_deny),
 * added by hand or pushed by pingd's rate limits, each with an optional expiry. */
#include "ctl/main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/lb.h"

static int deny_help(int argc, char **argv)
{
	printf("Usage: %s deny add PREFIX [--ttl DURATION]\n"
	       "       %s deny del PREFIX\n"
	       "       %s deny list\n"
	       "       %s deny flush\n"
	       "\n"
	       "PREFIX is an IPv4 or IPv6 address (one host) or ADDR/LEN. Packets from a denied\n"
	       "prefix are dropped by the XDP program before any service lookup and counted as\n"
	       "drop_deny_admin (added here) or drop_deny_limit (pushed by pingd's rate_limits).\n"
	       "DURATION is a number with ms, s, m, h or d (a bare number is seconds); without\n"
	       "--ttl the entry stays until removed. An entry expires by itself, measured on the\n"
	       "monotonic clock. At most %d prefix lengths per family may be in use at once, and\n"
	       "%d entries in all: when full, the least recently matched entry makes room.\n",
		bin_name, bin_name, bin_name, bin_name, LB_DENY_MAX_PLENS, LB_MAX_DENY);
	return 0;
}

/* Parse a duration ("30s", "5m", "250ms", "2h", "1d"; bare = seconds) into *<ms>. Prints the
 * error and returns -CTL_EUSAGE. */
static int parse_ttl(const char *s, __u64 *ms)
{
	unsigned long long n, mul;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno)
		goto bad;
	if (!*end || !strcmp(end, "s"))
		mul = 1000;
	else if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else if (!strcmp(end, "d"))
		mul = 86400000;
	else
		goto bad;
	/* A year at most: longer is "until removed", which is no --ttl. */
	if (!n || n > 365ull * 86400000ull / mul)
		goto bad;
	*ms = n * mul;
	return 0;
bad:
	return usage_err("deny help",
		"--ttl: expected a duration from 1ms to 365d (30s, 5m, 1h), got '%s'", s);
}

/* "ADDR/LEN" of <k> into <buf>. */
static const char *key_text(const struct lb_deny_key *k, char *buf, size_t size)
{
	char a[CTRL_ADDRSTRLEN];

	ctrl_format_addr(k->family, &k->addr, 0, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, k->plen);
	return buf;
}

static const char *reason_text(__u8 r)
{
	return r == LB_DENY_LIMIT ? "limit" : r == LB_DENY_ADMIN ? "admin" : "unknown";
}

/* Parse PREFIX or print the error: -CTL_EUSAGE. */
static int parse_prefix(const char *text, struct lb_deny_key *key)
{
	char why[160];

	if (ctrl_deny_key(text, key, why, sizeof(why)) < 0)
		return usage_err("deny help", "%s", why);
	return 0;
}

static int deny_add(int argc, char **argv)
{
	struct lb_deny_key key;
	struct ctrl *c;
	__u64 ttl = 0;
	char t[96];
	int err, i;

	if (argc < 1)
		return usage_err("deny help", "'deny add' needs a PREFIX");
	err = parse_prefix(argv[0], &key);
	for (i = 1; !err && i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "--ttl"))
			return usage_err("deny help", "unknown argument '%s'", argv[i]);
		v = lb_optarg(argc, argv, &i, "deny help");
		if (!v)
			return -CTL_EUSAGE;
		err = parse_ttl(v, &ttl);
	}
	if (err)
		return err;
	c = lb_open(true, &err);
	if (!c)
		return err;
	err = ctrl_deny_add(c, &key, ttl, LB_DENY_ADMIN);
	ctrl_close(c);
	if (err == -ENOSPC) {
		p_err("deny add %s: %d prefix lengths of this family are in use already; remove "
		      "some entries or use one of those lengths",
			argv[0], LB_DENY_MAX_PLENS);
		return err;
	}
	if (err)
		return lb_fail(err, "deny add");
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "prefix", key_text(&key, t, sizeof(t)));
		if (ttl)
			jsonw_uint_field(json_wtr, "ttl_ms", ttl);
		else {
			jsonw_name(json_wtr, "ttl_ms");
			jsonw_null(json_wtr);
		}
		jsonw_end_object(json_wtr);
	}
	return 0;
}

static int deny_del(int argc, char **argv)
{
	struct lb_deny_key key;
	struct ctrl *c;
	int err;

	if (argc != 1)
		return usage_err("deny help", "'deny del' takes one PREFIX");
	err = parse_prefix(argv[0], &key);
	if (err)
		return err;
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_deny_del(c, &key);
	ctrl_close(c);
	if (err == -ENOENT) {
		p_err("deny del %s: not in the deny map", argv[0]);
		return err;
	}
	return err ? lb_fail(err, "deny del") : 0;
}

static int deny_list(int argc, char **argv)
{
	struct ctrl_deny *v = NULL;
	__u64 reasons[LB_REASON_MAX];
	struct ctrl *c;
	size_t n = 0, held = 0;
	bool full = false;
	char t[96];
	int err;

	if (argc)
		return usage_err("deny help", "'deny list' takes no argument");
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_deny_list(c, &v, &n);
	if (!err)
		err = ctrl_deny_count(c, &held, &full);
	if (!err)
		err = ctrl_stats_reasons(c, reasons);
	ctrl_close(c);
	if (err)
		return lb_fail(err, "deny list");
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_uint_field(json_wtr, "capacity", LB_MAX_DENY);
		jsonw_uint_field(json_wtr, "held", held);
		jsonw_bool_field(json_wtr, "full", full);
		jsonw_uint_field(json_wtr, "drop_deny_admin", reasons[LB_DROP_DENY_ADMIN]);
		jsonw_uint_field(json_wtr, "drop_deny_limit", reasons[LB_DROP_DENY_LIMIT]);
		jsonw_name(json_wtr, "entries");
		jsonw_start_array(json_wtr);
		for (size_t i = 0; i < n; i++) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "prefix", key_text(&v[i].key, t, sizeof(t)));
			jsonw_string_field(json_wtr, "reason", reason_text(v[i].val.reason));
			if (v[i].val.expires)
				jsonw_uint_field(json_wtr, "ttl_ms", v[i].ttl_ms);
			else {
				jsonw_name(json_wtr, "ttl_ms");
				jsonw_null(json_wtr);
			}
			jsonw_uint_field(json_wtr, "packets", v[i].val.packets);
			jsonw_end_object(json_wtr);
		}
		jsonw_end_array(json_wtr);
		jsonw_end_object(json_wtr);
	} else {
		printf("%-44s %-7s %12s %14s\n", "PREFIX", "REASON", "TTL_S", "PACKETS");
		for (size_t i = 0; i < n; i++) {
			char ttl[32];

			if (v[i].val.expires)
				snprintf(ttl, sizeof(ttl), "%.1f", (double)v[i].ttl_ms / 1000.0);
			else
				snprintf(ttl, sizeof(ttl), "-");
			printf("%-44s %-7s %12s %14llu\n", key_text(&v[i].key, t, sizeof(t)),
				reason_text(v[i].val.reason), ttl,
				(unsigned long long)v[i].val.packets);
		}
		printf("%zu of %d entries; dropped: %llu admin, %llu limit\n", n, LB_MAX_DENY,
			(unsigned long long)reasons[LB_DROP_DENY_ADMIN],
			(unsigned long long)reasons[LB_DROP_DENY_LIMIT]);
		if (full)
			printf("full (%zu held, expired ones included): each new entry replaces the "
			       "least recently matched one\n",
				held);
	}
	free(v);
	return 0;
}

static int deny_flush(int argc, char **argv)
{
	struct ctrl *c;
	size_t n = 0;
	int err;

	if (argc)
		return usage_err("deny help", "'deny flush' takes no argument");
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_deny_flush(c, &n);
	ctrl_close(c);
	if (err)
		return lb_fail(err, "deny flush");
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_uint_field(json_wtr, "removed", n);
		jsonw_end_object(json_wtr);
	} else {
		p_info("%zu entr%s removed", n, n == 1 ? "y" : "ies");
	}
	return 0;
}

int do_deny(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{"add", deny_add},
		{"del", deny_del},
		{"list", deny_list},
		{"flush", deny_flush},
		{"help", deny_help},
		{NULL, NULL},
	};

	return cmd_select(cmds, argc, argv, deny_help);
}
