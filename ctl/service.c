// SPDX-License-Identifier: GPL-2.0
/* pingctl service: add, set, delete, list and show the services of the data plane. */
#include "ctl/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/lb.h"
#include "maglev/maglev.h"

static int do_help(int argc, char **argv)
{
	printf("Usage: %s service add VIP:PORT[/tcp|/udp] [OPTIONS]\n"
	       "       %s service set VIP:PORT[/tcp|/udp] [OPTIONS]\n"
	       "       %s service del VIP:PORT[/tcp|/udp]\n"
	       "       %s service show VIP:PORT[/tcp|/udp]\n"
	       "       %s service list\n"
	       "       %s service flush          (delete every service and its backends)\n"
	       "\n"
	       "OPTIONS := { --algo maglev|ketama  --mode l4|l7  --fwd ipip|gue|l2\n"
	       "             --table-size M (add only; a prime)  --hash 5tuple|src\n"
	       "             --syn-rate RATE[:BURST]|off }\n"
	       "Port 0 is the all-ports service of the address. --syn-rate bounds the new flows\n"
	       "(TCP SYNs, UDP flows) each source address may open: RATE per second, BURST more at\n"
	       "once (default 0); the rest are dropped in XDP (drop_src_rate). Established flows\n"
	       "never count.\n",
		bin_name, bin_name, bin_name, bin_name, bin_name, bin_name);
	return 0;
}

/* Parse "RATE[:BURST]" or "off" into <r>. Prints the error: -CTL_EUSAGE. */
static int parse_syn_rate(const char *val, struct lb_src_rate *r)
{
	char buf[64];
	char *colon;

	memset(r, 0, sizeof(*r));
	if (!strcmp(val, "off"))
		return 0;
	if (strlen(val) >= sizeof(buf))
		return usage_err("service help", "--syn-rate: '%s' is too long", val);
	strcpy(buf, val);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (lb_parse_u32(buf, "--syn-rate rate", 1, LB_SRC_RATE_MAX, &r->rate) ||
		(colon && lb_parse_u32(colon + 1, "--syn-rate burst", 0, LB_SRC_BURST_MAX, &r->burst)))
		return -CTL_EUSAGE;
	return 0;
}

/* Parse the options of add/set from argv[1..] into <v> and, when --syn-rate is given, <sr>
 * (with *<sr_set>). Returns 0, 1 when help was printed, or -CTL_EUSAGE. */
static int parse_opts(int argc, char **argv, struct lb_svc *v, bool add, struct lb_src_rate *sr,
	bool *sr_set)
{
	const char *val;
	int i, n;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return do_help(0, NULL) + 1; /* help printed: stop with success */
		val = lb_optarg(argc, argv, &i, "service help");
		if (!val)
			return -CTL_EUSAGE;
		if (!strcmp(argv[i - 1], "--algo")) {
			n = lb_lookup_name(lb_algo_names, val);
			if (n < 0)
				return usage_err("service help",
					"--algo: '%s' is not maglev or ketama", val);
			v->algo = (__u8)n;
		} else if (!strcmp(argv[i - 1], "--mode")) {
			n = lb_lookup_name(lb_mode_names, val);
			if (n < 0)
				return usage_err(
					"service help", "--mode: '%s' is not l4 or l7", val);
			v->mode = (__u8)n;
		} else if (!strcmp(argv[i - 1], "--fwd")) {
			n = lb_lookup_name(lb_fwd_names, val);
			if (n < 0)
				return usage_err(
					"service help", "--fwd: '%s' is not ipip, gue or l2", val);
			v->fwd = (__u8)n;
		} else if (!strcmp(argv[i - 1], "--hash")) {
			if (!strcmp(val, "src"))
				v->flags |= LB_SVC_F_HASH_SRC;
			else if (!strcmp(val, "5tuple"))
				v->flags &= (__u8)~LB_SVC_F_HASH_SRC;
			else
				return usage_err(
					"service help", "--hash: '%s' is not 5tuple or src", val);
		} else if (!strcmp(argv[i - 1], "--syn-rate")) {
			if (parse_syn_rate(val, sr))
				return -CTL_EUSAGE;
			*sr_set = true;
		} else if (add && !strcmp(argv[i - 1], "--table-size")) {
			if (lb_parse_u32(val, "table size", 251, LB_MAX_TABLE_SIZE, &v->table_size))
				return -CTL_EUSAGE;
			if (!maglev_is_prime(v->table_size))
				return usage_err("service help",
					"invalid table size '%s': expected a prime", val);
		} else {
			return usage_err("service help", "unknown option '%s'", argv[i - 1]);
		}
	}
	return 0;
}

static void print_svc_json(
	const struct lb_svc_key *k, const struct lb_svc *v, const struct lb_src_rate *sr)
{
	char a[CTRL_ADDRSTRLEN];

	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "vip", ctrl_format_addr(k->family, &k->addr, 0, a, sizeof(a)));
	jsonw_uint_field(json_wtr, "port", ntohs(k->port));
	jsonw_string_field(json_wtr, "proto", k->proto == IPPROTO_UDP ? "udp" : "tcp");
	jsonw_uint_field(json_wtr, "id", v->id);
	jsonw_string_field(json_wtr, "mode", lb_mode_names[v->mode % LB_MODE_MAX]);
	jsonw_string_field(json_wtr, "algo", lb_algo_names[v->algo % LB_ALGO_MAX]);
	jsonw_string_field(json_wtr, "fwd", lb_fwd_names[v->fwd % LB_FWD_MAX]);
	jsonw_string_field(json_wtr, "hash", v->flags & LB_SVC_F_HASH_SRC ? "src" : "5tuple");
	jsonw_uint_field(json_wtr, "table_size", v->table_size);
	if (sr->rate) {
		jsonw_uint_field(json_wtr, "syn_rate", sr->rate);
		jsonw_uint_field(json_wtr, "syn_burst", sr->burst);
	} else {
		jsonw_string_field(json_wtr, "syn_rate", "off");
	}
	jsonw_end_object(json_wtr);
}

static void print_svc_row(
	const struct lb_svc_key *k, const struct lb_svc *v, const struct lb_src_rate *sr)
{
	char a[CTRL_ADDRSTRLEN], svc[CTRL_ADDRSTRLEN + 8], syn[32];

	snprintf(svc, sizeof(svc), "%s/%s",
		ctrl_format_addr(k->family, &k->addr, ntohs(k->port), a, sizeof(a)),
		k->proto == IPPROTO_UDP ? "udp" : "tcp");
	if (!ntohs(k->port)) /* the all-ports service */
		snprintf(svc, sizeof(svc), "%s:0/%s",
			ctrl_format_addr(k->family, &k->addr, 0, a, sizeof(a)),
			k->proto == IPPROTO_UDP ? "udp" : "tcp");
	if (sr->rate)
		snprintf(syn, sizeof(syn), "%u:%u", sr->rate, sr->burst);
	else
		snprintf(syn, sizeof(syn), "off");
	printf("%-32s %4u  %-4s %-7s %-5s %-7s %-7u %s\n", svc, v->id,
		lb_mode_names[v->mode % LB_MODE_MAX], lb_algo_names[v->algo % LB_ALGO_MAX],
		lb_fwd_names[v->fwd % LB_FWD_MAX], v->flags & LB_SVC_F_HASH_SRC ? "src" : "5tuple",
		v->table_size, syn);
}

static void print_header(void)
{
	printf("%-32s %4s  %-4s %-7s %-5s %-7s %-7s %s\n", "SERVICE", "ID", "MODE", "ALGO", "FWD",
		"HASH", "TABLE", "SYN_RATE");
}

static int do_add_set(int argc, char **argv, bool add)
{
	struct lb_svc_key key;
	struct lb_svc v = {};
	struct lb_src_rate sr = {};
	bool sr_set = false;
	struct ctrl *c;
	int err;
	__u32 id;

	if (argc < 1)
		return usage_err("service help", "missing VIP:PORT");
	err = lb_parse_service(argv[0], &key);
	if (err)
		return err;
	if (!add) {
		c = lb_open(false, &err);
		if (!c)
			return err;
		err = ctrl_svc_get(c, &key, &v);
		ctrl_close(c);
		if (err) {
			p_err("service %s does not exist", argv[0]);
			return err;
		}
	}
	err = parse_opts(argc, argv, &v, add, &sr, &sr_set);
	if (err)
		return err > 0 ? 0 : err;
	c = lb_open(add, &err);
	if (!c)
		return err;
	if (add)
		err = ctrl_svc_add(c, &key, &v, &id);
	else
		err = ctrl_svc_update(c, &key, &v);
	if (err == -EEXIST)
		p_err("service %s exists", argv[0]);
	else if (err == -ENOENT)
		p_err("service %s does not exist", argv[0]);
	else if (err == -EINVAL)
		p_err("service %s: invalid settings (table size must be a prime)", argv[0]);
	else if (err)
		lb_fail(err, argv[0]);
	if (!err && sr_set) {
		err = ctrl_src_rate_set(c, &key, &sr);
		if (err)
			lb_fail(err, "--syn-rate");
	}
	ctrl_close(c);
	return err;
}

static int do_add(int argc, char **argv)
{
	return do_add_set(argc, argv, true);
}

static int do_set(int argc, char **argv)
{
	return do_add_set(argc, argv, false);
}

static int do_del(int argc, char **argv)
{
	struct lb_svc_key key;
	struct ctrl *c;
	int err;

	if (argc != 1)
		return usage_err("service help", "expected VIP:PORT");
	err = lb_parse_service(argv[0], &key);
	if (err)
		return err;
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_svc_del(c, &key);
	if (err == -ENOENT)
		p_err("service %s does not exist", argv[0]);
	else if (err)
		lb_fail(err, argv[0]);
	ctrl_close(c);
	return err;
}

static int do_show(int argc, char **argv)
{
	struct lb_src_rate sr = {};
	struct lb_svc_key key;
	struct lb_svc v;
	struct ctrl *c;
	int err;

	if (argc != 1)
		return usage_err("service help", "expected VIP:PORT");
	err = lb_parse_service(argv[0], &key);
	if (err)
		return err;
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_svc_get(c, &key, &v);
	if (!err)
		err = ctrl_src_rate_get(c, &key, &sr);
	ctrl_close(c);
	if (err) {
		p_err("service %s does not exist", argv[0]);
		return err;
	}
	if (json_wtr) {
		print_svc_json(&key, &v, &sr);
	} else {
		print_header();
		print_svc_row(&key, &v, &sr);
	}
	return 0;
}

static int do_list(int argc, char **argv)
{
	struct ctrl_service *list = NULL;
	struct lb_src_rate *sr = NULL;
	struct ctrl *c;
	size_t n = 0, i;
	int err;

	if (argc)
		return usage_err("service help", "'service list' takes no argument");
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_svc_list(c, &list, &n);
	if (!err) {
		sr = calloc(n + 1, sizeof(*sr));
		err = sr ? 0 : -ENOMEM;
	}
	for (i = 0; !err && i < n; i++)
		err = ctrl_src_rate_get(c, &list[i].key, &sr[i]);
	ctrl_close(c);
	if (err) {
		free(list);
		free(sr);
		return lb_fail(err, "service list");
	}
	if (json_wtr) {
		jsonw_start_array(json_wtr);
		for (i = 0; i < n; i++)
			print_svc_json(&list[i].key, &list[i].val, &sr[i]);
		jsonw_end_array(json_wtr);
	} else {
		print_header();
		for (i = 0; i < n; i++)
			print_svc_row(&list[i].key, &list[i].val, &sr[i]);
	}
	free(list);
	free(sr);
	return 0;
}

static int do_flush(int argc, char **argv)
{
	struct ctrl_service *list = NULL;
	struct ctrl *c;
	size_t n = 0, i;
	int err;

	if (argc)
		return usage_err("service help", "'service flush' takes no argument");
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_lock(c);
	if (!err) {
		err = ctrl_svc_list(c, &list, &n);
		for (i = 0; !err && i < n; i++)
			err = ctrl_svc_del(c, &list[i].key);
		ctrl_unlock(c);
	}
	ctrl_close(c);
	free(list);
	return err ? lb_fail(err, "service flush") : 0;
}

int do_service(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{"add", do_add},
		{"set", do_set},
		{"del", do_del},
		{"show", do_show},
		{"list", do_list},
		{"flush", do_flush},
		{"help", do_help},
		{NULL, NULL},
	};

	return cmd_select(cmds, argc, argv, do_help);
}
