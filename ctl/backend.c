// SPDX-License-Identifier: GPL-2.0
/* pingctl backend: add, delete, change and list the backends of a service. Every change
 * rebuilds the service's table. */
#include "ctl/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/lb.h"

static int do_help(int argc, char **argv)
{
	printf("Usage: %s backend add VIP:PORT[/PROTO] ADDR[:PORT] [--weight W] [--mac MAC]\n"
	       "       %s backend del VIP:PORT[/PROTO] ADDR\n"
	       "       %s backend set VIP:PORT[/PROTO] ADDR { --weight W | --drain | --up | --down }\n"
	       "       %s backend list [VIP:PORT[/PROTO]]\n"
	       "\n"
	       "--mac is the backend's MAC address, needed by services with --fwd l2.\n"
	       "Drained backends keep their established flows and get no new ones; down ones\n"
	       "lose them to the other backends.\n",
		bin_name, bin_name, bin_name, bin_name);
	return 0;
}

static const char *const marker_names[] = {[LB_MARK_NONE] = "-",
	[LB_MARK_PINGCTL] = "pingctl",
	[LB_MARK_HEALTH] = "health",
	[LB_MARK_RESTORE] = "restore"};

/* <t> (unix seconds) as ISO-8601 UTC into <buf>, or "-" when 0 (never marked). */
static const char *format_marked_at(__u64 t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
	return buf;
}

static int parse_backend(const char *text, struct lb_backend *b)
{
	char err[128];
	__u16 port;
	__u8 proto;

	if (ctrl_parse_endpoint(
		    text, false, &b->family, &b->addr, &port, &proto, err, sizeof(err))) {
		p_err("invalid backend %s", err);
		return -CTL_EUSAGE;
	}
	b->port = htons(port);
	return 0;
}

static int do_add(int argc, char **argv)
{
	struct lb_backend b = {.weight = 1, .state = LB_BE_UP};
	struct lb_svc_key key;
	struct ctrl *c;
	const char *val;
	int i, err;

	if (argc < 2)
		return usage_err("backend help", "expected VIP:PORT ADDR[:PORT]");
	err = lb_parse_service(argv[0], &key);
	if (!err)
		err = parse_backend(argv[1], &b);
	for (i = 2; !err && i < argc; i++) {
		val = lb_optarg(argc, argv, &i, "backend help");
		if (!val)
			return -CTL_EUSAGE;
		if (!strcmp(argv[i - 1], "--weight"))
			err = lb_parse_u32(val, "weight", 0, 65535, &b.weight);
		else if (!strcmp(argv[i - 1], "--mac"))
			err = lb_parse_mac(val, b.mac);
		else
			return usage_err("backend help", "unknown option '%s'", argv[i - 1]);
	}
	if (err)
		return err;
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_be_add(c, &key, &b, NULL);
	if (err == -ENOENT)
		p_err("service %s does not exist", argv[0]);
	else if (err == -EEXIST)
		p_err("backend %s exists in service %s", argv[1], argv[0]);
	else if (err == -EINVAL)
		p_err("backend %s: an IPv6 service needs IPv6 backends (or --fwd l2)", argv[1]);
	else if (err == -ENOSPC)
		p_err("backend %s: no free backend slot (LB_MAX_REALS %d)", argv[1], LB_MAX_REALS);
	else if (err)
		lb_fail(err, argv[1]);
	ctrl_close(c);
	return err;
}

static int do_del(int argc, char **argv)
{
	struct lb_backend b = {};
	struct lb_svc_key key;
	struct ctrl *c;
	int err;

	if (argc != 2)
		return usage_err("backend help", "expected VIP:PORT ADDR");
	err = lb_parse_service(argv[0], &key);
	if (!err)
		err = parse_backend(argv[1], &b);
	if (err)
		return err;
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_be_del(c, &key, b.family, &b.addr);
	if (err == -ENOENT)
		p_err("no backend %s in service %s", argv[1], argv[0]);
	else if (err)
		lb_fail(err, argv[1]);
	ctrl_close(c);
	return err;
}

static int do_set(int argc, char **argv)
{
	struct lb_backend b = {};
	struct lb_svc_key key;
	struct ctrl *c;
	long weight = -1;
	int i, err, state = -1;
	__u32 w;

	if (argc < 3)
		return usage_err("backend help", "expected VIP:PORT ADDR and a change");
	err = lb_parse_service(argv[0], &key);
	if (!err)
		err = parse_backend(argv[1], &b);
	for (i = 2; !err && i < argc; i++) {
		if (!strcmp(argv[i], "--drain")) {
			state = LB_BE_DRAIN;
		} else if (!strcmp(argv[i], "--up")) {
			state = LB_BE_UP;
		} else if (!strcmp(argv[i], "--down")) {
			state = LB_BE_DOWN;
		} else if (!strcmp(argv[i], "--weight")) {
			const char *val = lb_optarg(argc, argv, &i, "backend help");

			if (!val)
				return -CTL_EUSAGE;
			err = lb_parse_u32(val, "weight", 0, 65535, &w);
			weight = w;
		} else {
			return usage_err("backend help", "unknown option '%s'", argv[i]);
		}
	}
	if (err)
		return err;
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_be_set(c, &key, b.family, &b.addr, weight, state);
	if (err == -ENOENT)
		p_err("no backend %s in service %s", argv[1], argv[0]);
	else if (err)
		lb_fail(err, argv[1]);
	ctrl_close(c);
	return err;
}

static int do_list(int argc, char **argv)
{
	struct ctrl_service *svcs = NULL;
	struct ctrl_backend *list = NULL;
	struct lb_svc_key key;
	char a[CTRL_ADDRSTRLEN], v[CTRL_ADDRSTRLEN];
	struct ctrl *c;
	size_t n = 0, ns = 0, i, j;
	int err;

	if (argc > 1)
		return usage_err("backend help", "expected at most VIP:PORT");
	if (argc == 1) {
		err = lb_parse_service(argv[0], &key);
		if (err)
			return err;
	}
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_be_list(c, argc ? &key : NULL, &list, &n);
	if (!err)
		err = ctrl_svc_list(c, &svcs, &ns);
	ctrl_close(c);
	if (err == -ENOENT)
		return p_err("service %s does not exist", argv[0]), err;
	if (err)
		return lb_fail(err, "backend list");
	if (json_wtr)
		jsonw_start_array(json_wtr);
	else
		printf("%-28s %-28s %5s %6s  %-5s %-17s  %-9s %s\n", "SERVICE", "BACKEND", "ID",
			"WEIGHT", "STATE", "MAC", "MARKED_BY", "MARKED_AT");
	for (i = 0; i < n; i++) {
		const struct lb_backend *b = &list[i].be;
		const char *by = marker_names[b->marked_by < LB_MARK_MAX ? b->marked_by : 0];
		char at[32];

		v[0] = '\0';
		for (j = 0; j < ns; j++)
			if (svcs[j].val.id == b->svc)
				ctrl_format_addr(svcs[j].key.family, &svcs[j].key.addr,
					ntohs(svcs[j].key.port), v, sizeof(v));
		ctrl_format_addr(b->family, &b->addr, ntohs(b->port), a, sizeof(a));
		if (json_wtr) {
			char mac[18];

			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b->mac[0],
				b->mac[1], b->mac[2], b->mac[3], b->mac[4], b->mac[5]);
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "service", v);
			jsonw_uint_field(json_wtr, "service_id", b->svc);
			jsonw_uint_field(json_wtr, "id", list[i].id);
			jsonw_string_field(json_wtr, "address",
				ctrl_format_addr(b->family, &b->addr, 0, a, sizeof(a)));
			jsonw_uint_field(json_wtr, "port", ntohs(b->port));
			jsonw_uint_field(json_wtr, "weight", b->weight);
			jsonw_string_field(
				json_wtr, "state", lb_state_names[b->state % LB_BE_STATE_MAX]);
			jsonw_string_field(json_wtr, "mac", mac);
			jsonw_string_field(json_wtr, "marked_by", by);
			jsonw_uint_field(json_wtr, "marked_at", b->marked_at);
			jsonw_end_object(json_wtr);
		} else {
			printf("%-28s %-28s %5u %6u  %-5s %02x:%02x:%02x:%02x:%02x:%02x  %-9s %s\n",
				v, a, list[i].id, b->weight,
				lb_state_names[b->state % LB_BE_STATE_MAX], b->mac[0], b->mac[1],
				b->mac[2], b->mac[3], b->mac[4], b->mac[5], by,
				format_marked_at(b->marked_at, at, sizeof(at)));
		}
	}
	if (json_wtr)
		jsonw_end_array(json_wtr);
	free(list);
	free(svcs);
	return 0;
}

int do_backend(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{"add", do_add},
		{"del", do_del},
		{"set", do_set},
		{"list", do_list},
		{"help", do_help},
		{NULL, NULL},
	};

	return cmd_select(cmds, argc, argv, do_help);
}
