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
	       "pingd's configuration (YAML). restore makes the maps hold exactly what FILE\n"
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

/* Single-quoted YAML scalars: addresses with ':' and MACs must stay strings for any reader
 * (YAML 1.1 reads 02:00:00 as a base-60 number). None of ours contains a quote. */
static void save_node(const struct lb_node *n)
{
	char a[CTRL_ADDRSTRLEN], m[18], ifn[IF_NAMESIZE];

	printf("  node:\n");
	printf("    src4: '%s'\n", ctrl_format_addr(LB_AF_INET, &n->src4, 0, a, sizeof(a)));
	printf("    src6: '%s'\n", ctrl_format_addr(LB_AF_INET6, &n->src6, 0, a, sizeof(a)));
	printf("    gateway_mac: '%s'\n",
		n->flags & LB_NODE_F_GW_MAC ? mac_str(n->gw_mac, m) : "fib");
	if (!mac_zero(n->src_mac))
		printf("    src_mac: '%s'\n", mac_str(n->src_mac, m));
	if (n->egress_ifindex) {
		if (!if_indextoname(n->egress_ifindex, ifn))
			snprintf(ifn, sizeof(ifn), "none");
		printf("    egress: %s\n", ifn);
	}
	printf("    mtu: %u\n", n->mtu ? n->mtu : LB_DEFAULT_MTU);
	printf("    gue_port: %u\n", n->gue_port ? ntohs(n->gue_port) : LB_DEFAULT_GUE_PORT);
	printf("    seed: %u\n", n->hash_seed);
	printf("    udp_timeout: %u\n", n->udp_timeout ? n->udp_timeout : LB_DEFAULT_UDP_TIMEOUT);
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
	char a[CTRL_ADDRSTRLEN], m[18];
	size_t ns = 0, nb = 0, i, j;
	struct lb_node node;
	struct ctrl *c;
	int err;

	if (argc)
		return is_help(argv[0]) ? save_help(0, NULL) :
					  usage_err("save help", "'save' takes no argument");
	if (json_output)
		return usage_err("save help", "save prints YAML; -j does not apply");
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
		ctrl_unlock(c);
	}
	ctrl_close(c);
	if (err) {
		lb_fail(err, "save");
		goto out;
	}
	/* In id order: restored into empty maps, services and backends get the same ids. */
	qsort(svcs, ns, sizeof(*svcs), cmp_svc_id);
	qsort(bes, nb, sizeof(*bes), cmp_be_id);
	printf("# pingx L4 configuration (pingctl save); pingctl restore FILE applies it.\n");
	printf("l4:\n");
	save_node(&node);
	printf("  services:%s\n", ns ? "" : " []");
	for (i = 0; i < ns; i++) {
		const struct lb_svc_key *k = &svcs[i].key;
		const struct lb_svc *v = &svcs[i].val;

		/* ctrl_format_addr() leaves out port 0 (all ports): written here. */
		ctrl_format_addr(k->family, &k->addr, 0, a, sizeof(a));
		printf(k->family == LB_AF_INET6 ? "    - address: '[%s]:%u'\n" :
						  "    - address: '%s:%u'\n",
			a, ntohs(k->port));
		printf("      proto: %s\n", k->proto == IPPROTO_UDP ? "udp" : "tcp");
		printf("      mode: %s\n", lb_mode_names[v->mode % LB_MODE_MAX]);
		printf("      algo: %s\n", lb_algo_names[v->algo % LB_ALGO_MAX]);
		printf("      fwd: %s\n", lb_fwd_names[v->fwd % LB_FWD_MAX]);
		printf("      hash: %s\n", v->flags & LB_SVC_F_HASH_SRC ? "src" : "5tuple");
		printf("      table_size: %u\n", v->table_size);
		for (j = 0; j < nb; j++)
			if (bes[j].be.svc == v->id)
				break;
		printf("      backends:%s\n", j < nb ? "" : " []");
		for (; j < nb; j++) {
			const struct lb_backend *b = &bes[j].be;

			if (b->svc != v->id)
				continue;
			printf("        - address: '%s'\n", ctrl_format_addr(b->family, &b->addr,
								    ntohs(b->port), a, sizeof(a)));
			printf("          weight: %u\n", b->weight);
			printf("          state: %s\n", lb_state_names[b->state % LB_BE_STATE_MAX]);
			if (!mac_zero(b->mac))
				printf("          mac: '%s'\n", mac_str(b->mac, m));
		}
	}
out:
	free(svcs);
	free(bes);
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
