// SPDX-License-Identifier: GPL-2.0
/* pingctl node: the per-node settings of the data plane (outer source addresses, next hop,
 * MTU, GUE port, hash seed, UDP timeout, flow guard). */
#include "ctl/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "ctl/lb.h"
#include "userspace/ctrl/announce.h"

static int do_help(int argc, char **argv)
{
	printf("Usage: %s node set [OPTIONS]\n"
	       "       %s node show\n"
	       "       %s node drain [--table N]\n"
	       "       %s node ready [--table N]\n"
	       "       %s node vips [--table N]\n"
	       "\n"
	       "OPTIONS := { --src4 ADDR[/PLEN]  --src6 ADDR[/PLEN]  --gateway-mac MAC|fib\n"
	       "             --src-mac MAC  --egress IFACE|none  --mtu BYTES  --gue-port PORT\n"
	       "             --seed N  --udp-timeout SECONDS  --flow-rate N|off }\n"
	       "--src4/--src6 are the outer source addresses of encapsulated packets; with /PLEN\n"
	       "each flow gets its own source in that prefix (the bits past PLEN, at most the\n"
	       "last 32, from the flow hash). Without a gateway MAC the next hop comes from the\n"
	       "kernel's routing and neighbour tables. --flow-rate caps the new flows recorded\n"
	       "per second per CPU (default %u); past it they are forwarded by hash only.\n"
	       "drain withdraws the announcement of every VIP of the node (routers then send its\n"
	       "flows to the other nodes, which give them the same backends) and keeps them\n"
	       "withdrawn until ready; both then announce the VIPs that are ready (attached, a\n"
	       "usable backend, not drained) as routes in kernel table N (default %u), which the\n"
	       "routing daemon exports. vips shows each VIP's readiness and announcement.\n",
		bin_name, bin_name, bin_name, bin_name, bin_name, LB_DEFAULT_FLOW_RATE,
		CTRL_ANNOUNCE_TABLE);
	return 0;
}

static int parse_src(const char *text, int af, union lb_addr *a, __u8 *plen)
{
	char msg[160];

	if (ctrl_parse_src_prefix(text, af, a, plen, msg, sizeof(msg))) {
		p_err("%s", msg);
		return -CTL_EUSAGE;
	}
	return 0;
}

/* "N" (1..2^32-2 new flows per second per CPU) or "off". */
static int parse_flow_rate(const char *text, __u32 *out)
{
	if (!strcmp(text, "off")) {
		*out = LB_FLOW_RATE_OFF;
		return 0;
	}
	return lb_parse_u32(text, "flow rate", 1, LB_FLOW_RATE_OFF - 1, out);
}

static int do_set(int argc, char **argv)
{
	struct lb_node n;
	struct ctrl *c;
	const char *opt, *val;
	__u32 v;
	int i, err;

	c = lb_open(true, &err);
	if (!c)
		return err;
	err = ctrl_node_get(c, &n);
	for (i = 0; !err && i < argc; i++) {
		opt = argv[i];
		val = lb_optarg(argc, argv, &i, "node help");
		if (!val) {
			err = -CTL_EUSAGE;
		} else if (!strcmp(opt, "--src4")) {
			err = parse_src(val, AF_INET, &n.src4, &n.src4_plen);
		} else if (!strcmp(opt, "--src6")) {
			err = parse_src(val, AF_INET6, &n.src6, &n.src6_plen);
		} else if (!strcmp(opt, "--gateway-mac")) {
			if (!strcmp(val, "fib")) {
				n.flags &= (__u8)~LB_NODE_F_GW_MAC;
				memset(n.gw_mac, 0, sizeof(n.gw_mac));
			} else {
				err = lb_parse_mac(val, n.gw_mac);
				n.flags |= LB_NODE_F_GW_MAC;
			}
		} else if (!strcmp(opt, "--src-mac")) {
			err = lb_parse_mac(val, n.src_mac);
		} else if (!strcmp(opt, "--egress")) {
			n.egress_ifindex = strcmp(val, "none") ? if_nametoindex(val) : 0;
			if (strcmp(val, "none") && !n.egress_ifindex) {
				p_err("unknown interface '%s'", val);
				err = -CTL_EUSAGE;
			}
		} else if (!strcmp(opt, "--mtu")) {
			err = lb_parse_u32(val, "MTU", 68, 65535, &n.mtu);
		} else if (!strcmp(opt, "--gue-port")) {
			err = lb_parse_u32(val, "GUE port", 1, 65535, &v);
			n.gue_port = htons((__u16)v);
		} else if (!strcmp(opt, "--seed")) {
			err = lb_parse_u32(val, "seed", 0, UINT32_MAX, &n.hash_seed);
		} else if (!strcmp(opt, "--udp-timeout")) {
			err = lb_parse_u32(val, "UDP timeout", 1, 86400, &n.udp_timeout);
		} else if (!strcmp(opt, "--flow-rate")) {
			err = parse_flow_rate(val, &n.flow_rate);
		} else {
			err = usage_err("node help", "unknown option '%s'", opt);
		}
	}
	if (!err)
		err = ctrl_node_set(c, &n);
	if (err && err != -CTL_EUSAGE)
		lb_fail(err, "node set");
	ctrl_close(c);
	return err;
}

static int do_show(int argc, char **argv)
{
	char s4[CTRL_ADDRSTRLEN + 4], s6[CTRL_ADDRSTRLEN + 4], gw[18], sm[18],
		ifn[IF_NAMESIZE] = "", rate[16];
	size_t l;
	struct lb_node n;
	struct ctrl *c;
	bool draining = false;
	int err;

	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_node_get(c, &n);
	if (!err)
		err = ctrl_node_draining(c, &draining);
	ctrl_close(c);
	if (err)
		return lb_fail(err, "node show");
	ctrl_format_addr(LB_AF_INET, &n.src4, 0, s4, sizeof(s4));
	ctrl_format_addr(LB_AF_INET6, &n.src6, 0, s6, sizeof(s6));
	l = strlen(s4);
	if (n.src4_plen && n.src4_plen < 32)
		snprintf(s4 + l, sizeof(s4) - l, "/%u", n.src4_plen);
	l = strlen(s6);
	if (n.src6_plen && n.src6_plen < 128)
		snprintf(s6 + l, sizeof(s6) - l, "/%u", n.src6_plen);
	if (n.flow_rate == LB_FLOW_RATE_OFF)
		snprintf(rate, sizeof(rate), "off");
	else
		snprintf(rate, sizeof(rate), "%u", n.flow_rate ? n.flow_rate : LB_DEFAULT_FLOW_RATE);
	snprintf(gw, sizeof(gw), "%02x:%02x:%02x:%02x:%02x:%02x", n.gw_mac[0], n.gw_mac[1],
		n.gw_mac[2], n.gw_mac[3], n.gw_mac[4], n.gw_mac[5]);
	snprintf(sm, sizeof(sm), "%02x:%02x:%02x:%02x:%02x:%02x", n.src_mac[0], n.src_mac[1],
		n.src_mac[2], n.src_mac[3], n.src_mac[4], n.src_mac[5]);
	if (n.egress_ifindex && !if_indextoname(n.egress_ifindex, ifn))
		snprintf(ifn, sizeof(ifn), "#%u", n.egress_ifindex);
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "src4", s4);
		jsonw_string_field(json_wtr, "src6", s6);
		jsonw_string_field(
			json_wtr, "gateway_mac", n.flags & LB_NODE_F_GW_MAC ? gw : "fib");
		jsonw_string_field(json_wtr, "src_mac", sm);
		jsonw_string_field(json_wtr, "egress", ifn);
		jsonw_uint_field(json_wtr, "mtu", n.mtu ? n.mtu : LB_DEFAULT_MTU);
		jsonw_uint_field(
			json_wtr, "gue_port", n.gue_port ? ntohs(n.gue_port) : LB_DEFAULT_GUE_PORT);
		jsonw_uint_field(json_wtr, "seed", n.hash_seed);
		jsonw_uint_field(json_wtr, "udp_timeout",
			n.udp_timeout ? n.udp_timeout : LB_DEFAULT_UDP_TIMEOUT);
		if (n.flow_rate == LB_FLOW_RATE_OFF)
			jsonw_string_field(json_wtr, "flow_rate", "off");
		else
			jsonw_uint_field(json_wtr, "flow_rate",
				n.flow_rate ? n.flow_rate : LB_DEFAULT_FLOW_RATE);
		jsonw_bool_field(json_wtr, "draining", draining);
		jsonw_end_object(json_wtr);
		return 0;
	}
	printf("src4         %s\nsrc6         %s\ngateway_mac  %s\nsrc_mac      %s\n"
	       "egress       %s\nmtu          %u\ngue_port     %u\nseed         %u\n"
	       "udp_timeout  %u\nflow_rate    %s\ndraining     %s\n",
		s4, s6, n.flags & LB_NODE_F_GW_MAC ? gw : "fib", sm, ifn[0] ? ifn : "(receiving)",
		n.mtu ? n.mtu : LB_DEFAULT_MTU,
		n.gue_port ? ntohs(n.gue_port) : LB_DEFAULT_GUE_PORT, n.hash_seed,
		n.udp_timeout ? n.udp_timeout : LB_DEFAULT_UDP_TIMEOUT, rate,
		draining ? "yes" : "no");
	return 0;
}

int do_node(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{"set", do_set},
		{"show", do_show},
		{"drain", node_drain},
		{"ready", node_ready},
		{"vips", node_vips},
		{"help", do_help},
		{NULL, NULL},
	};

	return cmd_select(cmds, argc, argv, do_help);
}
