// SPDX-License-Identifier: GPL-2.0
/* pingctl's scale-out commands: node drain, node ready and node vips (the node's VIPs, their
 * readiness and announcement), and table digest (compare nodes' tables). */
#include "ctl/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/lb.h"
#include "userspace/ctrl/announce.h"

/* --table N: the kernel routing table of the announcements. Returns the index of the first
 * argument that is not an option, or -CTL_EUSAGE. */
static int parse_table(int argc, char **argv, const char *help_cmd, __u32 *table)
{
	const char *val;
	int i, err;

	*table = CTRL_ANNOUNCE_TABLE;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--table"))
			return usage_err(help_cmd, "unknown argument '%s'", argv[i]);
		val = lb_optarg(argc, argv, &i, help_cmd);
		if (!val)
			return -CTL_EUSAGE;
		err = lb_parse_u32(val, "table", 1, 0xffffffffu, table);
		if (err)
			return err;
		if (*table >= 253 && *table <= 255)
			return usage_err(help_cmd,
				"--table: %u is one of the kernel's own tables (default, main, "
				"local)",
				*table);
	}
	return 0;
}

static void print_vips(const struct ctrl_vip *v, size_t n, __u32 table, bool draining)
{
	char a[CTRL_ADDRSTRLEN];

	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_bool_field(json_wtr, "draining", draining);
		jsonw_uint_field(json_wtr, "table", table);
		jsonw_name(json_wtr, "vips");
		jsonw_start_array(json_wtr);
		for (size_t i = 0; i < n; i++) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "vip",
				ctrl_format_addr(v[i].family, &v[i].addr, 0, a, sizeof(a)));
			jsonw_string_field(json_wtr, "state", ctrl_vip_state_name(v[i].state));
			jsonw_uint_field(json_wtr, "services", v[i].services);
			jsonw_uint_field(json_wtr, "serving", v[i].serving);
			jsonw_bool_field(json_wtr, "announced", v[i].announced);
			jsonw_end_object(json_wtr);
		}
		jsonw_end_array(json_wtr);
		jsonw_end_object(json_wtr);
		return;
	}
	printf("node %s, announcements in table %u\n", draining ? "draining" : "not drained",
		table);
	printf("%-40s %-11s %-9s %s\n", "VIP", "STATE", "SERVING", "ANNOUNCED");
	for (size_t i = 0; i < n; i++) {
		char serving[24];

		snprintf(serving, sizeof(serving), "%u/%u", v[i].serving, v[i].services);
		printf("%-40s %-11s %-9s %s\n",
			ctrl_format_addr(v[i].family, &v[i].addr, 0, a, sizeof(a)),
			ctrl_vip_state_name(v[i].state), serving, v[i].announced ? "yes" : "no");
	}
}

/* drain (<on>) or ready, then announce what is ready now; with <on> < 0 only report. */
static int node_announce(int argc, char **argv, int on, const char *help_cmd)
{
	struct ctrl_announce_changes ch = {0};
	struct ctrl_vip *v = NULL;
	bool draining = false;
	struct ctrl *c;
	size_t n = 0;
	__u32 table;
	int err;

	err = parse_table(argc, argv, help_cmd, &table);
	if (err)
		return err;
	c = lb_open(false, &err);
	if (!c)
		return err;
	if (on >= 0) {
		err = ctrl_node_drain(c, on);
		if (err) {
			lb_fail(err, on ? "node drain" : "node ready");
			goto out;
		}
	}
	err = ctrl_node_draining(c, &draining);
	if (!err)
		err = ctrl_vip_list(c, &v, &n);
	if (err) {
		lb_fail(err, "node: reading the services");
		goto out;
	}
	err = on >= 0 ? ctrl_announce_sync(table, v, n, &ch) : ctrl_announce_read(table, v, n);
	if (err) {
		lb_fail(err, on >= 0 ? "node: announcing the VIPs" : "node: reading the routes");
		goto out;
	}
	if (on >= 0)
		p_info("node %s: %u announcement%s added, %u withdrawn (table %u)",
			on ? "drained" : "ready", ch.added, ch.added == 1 ? "" : "s", ch.removed,
			table);
	print_vips(v, n, table, draining);
out:
	free(v);
	ctrl_close(c);
	return err;
}

int node_drain(int argc, char **argv)
{
	return node_announce(argc, argv, 1, "node help");
}

int node_ready(int argc, char **argv)
{
	return node_announce(argc, argv, 0, "node help");
}

int node_vips(int argc, char **argv)
{
	return node_announce(argc, argv, -1, "node help");
}

static int do_help(int argc, char **argv)
{
	printf("Usage: %s table digest [VIP:PORT[/tcp|/udp]]\n"
	       "\n"
	       "digest prints a short digest of each service's published table (all services\n"
	       "without an argument): the algorithm, table size, hash seed and every slot named\n"
	       "by its backend's address. Nodes with equal digests send every new flow of the\n"
	       "service to the same backend. \"none\" means the service has no usable backend.\n",
		bin_name);
	return 0;
}

static int do_digest(int argc, char **argv)
{
	struct ctrl_service *svcs = NULL, one;
	struct ctrl *c;
	size_t n = 0;
	int err;

	if (argc > 1)
		return usage_err("table help", "unexpected argument '%s'", argv[1]);
	if (argc == 1) {
		err = lb_parse_service(argv[0], &one.key);
		if (err)
			return err;
	}
	c = lb_open(false, &err);
	if (!c)
		return err;
	if (argc == 1) {
		err = ctrl_svc_get(c, &one.key, &one.val);
		if (err == -ENOENT) {
			p_err("no service %s", argv[0]);
			goto out;
		}
		svcs = &one;
		n = 1;
	} else {
		err = ctrl_svc_list(c, &svcs, &n);
	}
	if (err) {
		lb_fail(err, "table digest");
		goto out;
	}
	if (json_wtr)
		jsonw_start_array(json_wtr);
	for (size_t i = 0; i < n && !err; i++) {
		const struct lb_svc_key *k = &svcs[i].key;
		char a[CTRL_ADDRSTRLEN], d[CTRL_DIGEST_LEN], name[CTRL_ADDRSTRLEN + 8];

		err = ctrl_table_digest(c, k, d);
		if (err) {
			lb_fail(err, "table digest");
			break;
		}
		snprintf(name, sizeof(name), "%s/%s",
			ctrl_format_addr(k->family, &k->addr, ntohs(k->port), a, sizeof(a)),
			k->proto == IPPROTO_UDP ? "udp" : "tcp");
		if (json_wtr) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "service", name);
			jsonw_string_field(json_wtr, "algo", lb_algo_names[svcs[i].val.algo]);
			jsonw_string_field(json_wtr, "digest", d);
			jsonw_end_object(json_wtr);
		} else {
			printf("%-48s %-7s %s\n", name, lb_algo_names[svcs[i].val.algo], d);
		}
	}
	if (json_wtr)
		jsonw_end_array(json_wtr);
out:
	if (svcs != &one)
		free(svcs);
	ctrl_close(c);
	return err;
}

int do_table(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{"digest", do_digest},
		{"help", do_help},
		{NULL, NULL},
	};

	return cmd_select(cmds, argc, argv, do_help);
}
