// SPDX-License-Identifier: GPL-2.0
/* pingctl save and restore: the running configuration as the l4: section of pingd's config
 * file (YAML), and applying such a file with only the differences touching the maps. */
#include "ctl/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/lb.h"
#include "userspace/ctrl/l4cfg.h"

static int save_help(int argc, char **argv)
{
	printf("Usage: %s save\n"
	       "       %s restore FILE\n"
	       "\n"
	       "save prints the node settings, services and backends as the l4: section of\n"
	       "pingd's configuration (YAML; with -j, JSON with the same keys). restore makes the maps hold exactly what FILE\n"
	       "says (a saved file, or a pingd config with an l4: section): services and\n"
	       "backends it lacks are deleted, and only what differs is touched, so restoring\n"
	       "the running configuration changes nothing. A bad file changes nothing.\n",
		bin_name, bin_name);
	return 0;
}

static const char *mac_str(const __u8 *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static bool mac_zero(const __u8 *m)
{
	static const __u8 zero[6];

	return !memcmp(m, zero, sizeof(zero));
}

/* The saved document, as YAML or (with -j) as JSON with the same keys: YAML readers take
 * both, so restore reads either. */
static int ind;		/* YAML: indentation of the next key */
static bool item_start; /* YAML: the next key opens a list item ("- ") */

static void y_key(const char *key)
{
	if (item_start)
		printf("%*s- %s:", ind - 2, "", key);
	else
		printf("%*s%s:", ind, "", key);
	item_start = false;
}

/* A string member; YAML single-quotes it when <quote>: addresses and MACs must stay strings
 * for any reader (YAML 1.1 reads 02:00:00 as a base-60 number). None holds a quote. */
static void o_str(const char *key, const char *v, bool quote)
{
	if (json_wtr) {
		jsonw_string_field(json_wtr, key, v);
		return;
	}
	y_key(key);
	printf(quote ? " '%s'\n" : " %s\n", v);
}

static void o_uint(const char *key, unsigned long v)
{
	if (json_wtr) {
		jsonw_uint_field(json_wtr, key, v);
		return;
	}
	y_key(key);
	printf(" %lu\n", v);
}

static void o_map(const char *key)
{
	if (json_wtr) {
		jsonw_name(json_wtr, key);
		jsonw_start_object(json_wtr);
		return;
	}
	y_key(key);
	printf("\n");
	ind += 2;
}

static void o_map_end(void)
{
	if (json_wtr)
		jsonw_end_object(json_wtr);
	else
		ind -= 2;
}

static void o_list(const char *key, bool empty)
{
	if (json_wtr) {
		jsonw_name(json_wtr, key);
		jsonw_start_array(json_wtr);
		return;
	}
	y_key(key);
	printf(empty ? " []\n" : "\n");
	ind += 4;
}

static void o_list_end(void)
{
	if (json_wtr)
		jsonw_end_array(json_wtr);
	else
		ind -= 4;
}

static void o_item(void)
{
	if (json_wtr)
		jsonw_start_object(json_wtr);
	else
		item_start = true;
}

static void o_item_end(void)
{
	if (json_wtr)
		jsonw_end_object(json_wtr);
}

static void save_node(const struct lb_node *n)
{
	char a[CTRL_ADDRSTRLEN], p[CTRL_ADDRSTRLEN + 4], m[18], ifn[IF_NAMESIZE];

	o_map("node");
	ctrl_format_addr(LB_AF_INET, &n->src4, 0, a, sizeof(a));
	/* Any stored length (even /32) prints, so that restore writes back the same bytes. */
	if (n->src4_plen)
		snprintf(p, sizeof(p), "%s/%u", a, n->src4_plen);
	else
		snprintf(p, sizeof(p), "%s", a);
	o_str("src4", p, true);
	ctrl_format_addr(LB_AF_INET6, &n->src6, 0, a, sizeof(a));
	if (n->src6_plen)
		snprintf(p, sizeof(p), "%s/%u", a, n->src6_plen);
	else
		snprintf(p, sizeof(p), "%s", a);
	o_str("src6", p, true);
	o_str("gateway_mac", n->flags & LB_NODE_F_GW_MAC ? mac_str(n->gw_mac, m) : "fib", true);
	if (!mac_zero(n->src_mac))
		o_str("src_mac", mac_str(n->src_mac, m), true);
	if (n->egress_ifindex) {
		if (!if_indextoname(n->egress_ifindex, ifn))
			snprintf(ifn, sizeof(ifn), "none");
		o_str("egress", ifn, false);
	}
	o_uint("mtu", n->mtu ? n->mtu : LB_DEFAULT_MTU);
	o_uint("gue_port", n->gue_port ? ntohs(n->gue_port) : LB_DEFAULT_GUE_PORT);
	o_uint("seed", n->hash_seed);
	o_uint("udp_timeout", n->udp_timeout ? n->udp_timeout : LB_DEFAULT_UDP_TIMEOUT);
	/* Absent when never set: the default then follows the data plane's. */
	if (n->flow_rate == LB_FLOW_RATE_OFF)
		o_str("flow_rate", "off", false);
	else if (n->flow_rate)
		o_uint("flow_rate", n->flow_rate);
	o_map_end();
}

static int cmp_svc_id(const void *a, const void *b)
{
	const struct ctrl_service *x = a, *y = b;

	return (x->val.id > y->val.id) - (x->val.id < y->val.id);
}

static int cmp_be_id(const void *a, const void *b)
{
	const struct ctrl_backend *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

int do_save(int argc, char **argv)
{
	struct ctrl_service *svcs = NULL;
	struct ctrl_backend *bes = NULL;
	struct lb_src_rate *srs = NULL;
	char a[CTRL_ADDRSTRLEN], m[18];
	size_t ns = 0, nb = 0, i, j;
	struct lb_node node;
	struct ctrl *c;
	int err;

	if (argc)
		return is_help(argv[0]) ? save_help(0, NULL) :
					  usage_err("save help", "'save' takes no argument");
	c = lb_open(false, &err);
	if (!c)
		return err;
	/* One consistent picture: no change lands between the reads. */
	err = ctrl_lock(c);
	if (!err) {
		err = ctrl_node_get(c, &node);
		if (!err)
			err = ctrl_svc_list(c, &svcs, &ns);
		if (!err)
			err = ctrl_be_list(c, NULL, &bes, &nb);
		/* In id order: restored into empty maps, services and backends get the same
		 * ids. */
		if (!err) {
			qsort(svcs, ns, sizeof(*svcs), cmp_svc_id);
			qsort(bes, nb, sizeof(*bes), cmp_be_id);
			srs = calloc(ns ? ns : 1, sizeof(*srs));
			err = srs ? 0 : -ENOMEM;
		}
		for (i = 0; !err && i < ns; i++)
			err = ctrl_src_rate_get(c, &svcs[i].key, &srs[i]);
		ctrl_unlock(c);
	}
	ctrl_close(c);
	if (err) {
		lb_fail(err, "save");
		goto out;
	}
	if (json_wtr)
		jsonw_start_object(json_wtr);
	else
		printf("# pingx L4 configuration (pingctl save); pingctl restore FILE applies it.\n");
	o_map("l4");
	save_node(&node);
	o_list("services", !ns);
	for (i = 0; i < ns; i++) {
		const struct lb_svc_key *k = &svcs[i].key;
		const struct lb_svc *v = &svcs[i].val;
		char svc[CTRL_ADDRSTRLEN + 8];

		/* ctrl_format_addr() leaves out port 0 (all ports): written here. */
		ctrl_format_addr(k->family, &k->addr, 0, a, sizeof(a));
		snprintf(svc, sizeof(svc), k->family == LB_AF_INET6 ? "[%s]:%u" : "%s:%u", a,
			ntohs(k->port));
		o_item();
		o_str("address", svc, true);
		o_str("proto", k->proto == IPPROTO_UDP ? "udp" : "tcp", false);
		o_str("mode", lb_mode_names[v->mode % LB_MODE_MAX], false);
		o_str("algo", lb_algo_names[v->algo % LB_ALGO_MAX], false);
		o_str("fwd", lb_fwd_names[v->fwd % LB_FWD_MAX], false);
		o_str("hash", v->flags & LB_SVC_F_HASH_SRC ? "src" : "5tuple", false);
		o_uint("table_size", v->table_size);
		if (srs[i].rate) {
			o_uint("syn_rate", srs[i].rate);
			o_uint("syn_burst", srs[i].burst);
		}
		for (j = 0; j < nb; j++)
			if (bes[j].be.svc == v->id)
				break;
		o_list("backends", j == nb);
		for (; j < nb; j++) {
			const struct lb_backend *b = &bes[j].be;

			if (b->svc != v->id)
				continue;
			o_item();
			o_str("address",
				ctrl_format_addr(b->family, &b->addr, ntohs(b->port), a, sizeof(a)),
				true);
			o_uint("weight", b->weight);
			o_str("state", lb_state_names[b->state % LB_BE_STATE_MAX], false);
			if (!mac_zero(b->mac))
				o_str("mac", mac_str(b->mac, m), true);
			o_item_end();
		}
		o_list_end();
		o_item_end();
	}
	o_list_end();
	o_map_end();
	if (json_wtr)
		jsonw_end_object(json_wtr);
out:
	free(svcs);
	free(bes);
	free(srs);
	return err;
}

int do_restore(int argc, char **argv)
{
	struct ctrl_l4cfg_changes ch;
	struct ctrl_l4cfg cfg;
	char msg[512];
	struct ctrl *c;
	int err;

	if (argc != 1)
		return usage_err("save help", "expected FILE");
	if (is_help(argv[0]))
		return save_help(0, NULL);
	err = ctrl_l4cfg_parse_file(argv[0], &cfg, msg, sizeof(msg));
	if (err) {
		p_err("%s", msg);
		ctrl_l4cfg_free(&cfg);
		return err;
	}
	c = lb_open(true, &err);
	if (!c) {
		ctrl_l4cfg_free(&cfg);
		return err;
	}
	err = ctrl_l4cfg_apply(c, &cfg, &ch, msg, sizeof(msg));
	ctrl_close(c);
	ctrl_l4cfg_free(&cfg);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			return lb_fail(err, "restore");
		p_err("%s", msg);
		return err;
	}
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_uint_field(json_wtr, "node", ch.node);
		jsonw_uint_field(json_wtr, "services_added", ch.svc_add);
		jsonw_uint_field(json_wtr, "services_changed", ch.svc_set);
		jsonw_uint_field(json_wtr, "services_deleted", ch.svc_del);
		jsonw_uint_field(json_wtr, "syn_rates_changed", ch.syn_set);
		jsonw_uint_field(json_wtr, "backends_added", ch.be_add);
		jsonw_uint_field(json_wtr, "backends_changed", ch.be_set);
		jsonw_uint_field(json_wtr, "backends_deleted", ch.be_del);
		jsonw_end_object(json_wtr);
	} else {
		printf("node %s; services: %u added, %u changed, %u deleted; backends: %u added, "
		       "%u changed, %u deleted\n",
			ch.node ? "changed" : "unchanged", ch.svc_add, ch.svc_set, ch.svc_del,
			ch.be_add, ch.be_set, ch.be_del);
	}
	return 0;
}
