// SPDX-License-Identifier: GPL-2.0
/* pingctl hash: where does a key go? Builds the Maglev table or ketama ring of a backend list,
 * offline, and prints the backend each key selects. */
#include "ctl/main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "ctl/hash_args.h"
#include "ctl/lb.h"
#include "ketama/ketama.h"
#include "maglev/maglev.h"

/* What a built selector needs to answer for a key. */
struct selector {
	const struct hash_args *args;
	struct ketama *ring; /* --algo ketama */
	uint32_t *table;     /* --algo maglev: M backend indexes */
	int name_width;	     /* widest backend name, for the human columns */
	unsigned long nprinted;
};

static int do_help(int argc, char **argv)
{
	printf("Usage: %s hash --algo maglev|ketama [--ketama-compat nginx|libketama]\n"
	       "                  [--table-size M] --backends ADDR:PORT[=WEIGHT],... KEY...\n"
	       "       %s hash --service VIP:PORT[/PROTO] [--dport PORT] [--new]\n"
	       "                  --flow CLIENT:PORT[/PROTO] [--flow ...]\n"
	       "       %s hash help\n"
	       "\n"
	       "Print the backend each KEY selects. KEY '-' reads keys from standard input, one\n"
	       "per line (the newline is not part of the key); keys starting with '-' go after\n"
	       "'--'. Nothing is read from or written to the running data plane.\n"
	       "\n"
	       "  --algo ketama     the ring of nginx's 'hash $key consistent': backends hashed\n"
	       "                    as written (ADDR:PORT), 160 points per unit of weight, keys\n"
	       "                    hashed with CRC32; --ketama-compat libketama uses\n"
	       "                    libketama's MD5 ring instead\n"
	       "  --algo maglev     a Maglev table of M slots (--table-size, a prime from %u\n"
	       "                    to %u, default %u); backend identity is its address and\n"
	       "                    port; a key's slot is maglev_key_hash(KEY) %% M\n"
	       "  ADDR              an IPv4 address, or an IPv6 address in brackets\n"
	       "  WEIGHT            1 to 4294967295, default 1\n"
	       "\n"
	       "Columns: BACKEND, then HASH (ketama: the key's 32-bit hash) or SLOT (maglev),\n"
	       "then KEY. With -j: an array of {key, backend, index, hash|slot}.\n"
	       "\n"
	       "With --service, the running data plane answers instead: the backend it gives\n"
	       "each client flow to the service, from the flow table when the flow is tracked\n"
	       "(unless --new: as for a SYN), else from the service's published table, hashed\n"
	       "as the XDP program hashes. --dport is the destination port for an all-ports\n"
	       "service (port 0). With -j: an array of {flow, backend, backend_id, from}.\n",
		bin_name, bin_name, bin_name, MAGLEV_MIN_SIZE, MAGLEV_MAX_SIZE, MAGLEV_DEFAULT_SIZE);
	return 0;
}

static int build_ketama(struct selector *sel)
{
	const struct hash_args *a = sel->args;
	struct ketama_server *s = calloc(a->nbackends, sizeof(*s));
	int err = 0;

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < a->nbackends; i++) {
		s[i].name = a->backends[i].name;
		s[i].weight = a->backends[i].weight;
	}
	sel->ring = ketama_new(a->compat, s, a->nbackends);
	if (!sel->ring) {
		err = -errno;
		if (err == -E2BIG)
			err = usage_err("hash help",
				"hash: weights too large: a ketama ring holds at most %u points "
				"(160 per unit of weight)",
				KETAMA_MAX_POINTS);
		else
			p_err("hash: building the ketama ring: %s", strerror(-err));
	}
	free(s);
	return err;
}

static int build_maglev(struct selector *sel)
{
	const struct hash_args *a = sel->args;
	struct maglev_backend *mb = calloc(a->nbackends, sizeof(*mb));
	uint8_t(*keys)[MAGLEV_KEY_MAX] = calloc(a->nbackends, sizeof(*keys));
	struct maglev *mg = NULL;
	int err = 0;

	sel->table = calloc(a->table_size, sizeof(*sel->table));
	if (!mb || !keys || !sel->table) {
		err = -ENOMEM;
		p_err("hash: building the Maglev table: %s", strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < a->nbackends; i++) {
		const struct hash_backend *b = &a->backends[i];

		mb[i].key = keys[i];
		mb[i].key_len = maglev_addr_key(keys[i], b->family, b->addr, b->port);
		mb[i].weight = b->weight;
	}
	mg = maglev_new(a->table_size);
	if (!mg) {
		err = -errno;
		p_err("hash: table size %u: %s", a->table_size, strerror(-err));
		goto out;
	}
	err = maglev_build(mg, mb, a->nbackends, sel->table);
	if (err == -E2BIG)
		err = usage_err("hash help", "hash: %zu backends do not fit a table of %u slots",
			a->nbackends, a->table_size);
	else if (err == -EINVAL)
		err = usage_err("hash help", "hash: backends rejected by the Maglev builder");
	else if (err)
		p_err("hash: building the Maglev table: %s", strerror(-err));
out:
	maglev_free(mg);
	free(keys);
	free(mb);
	return err;
}

/* Print where the <len> bytes of <key> go. */
static void answer(struct selector *sel, const char *key, size_t len)
{
	const struct hash_args *a = sel->args;
	const char *col = a->algo == HASH_ALGO_KETAMA ? "hash" : "slot";
	uint32_t idx, v;

	if (a->algo == HASH_ALGO_KETAMA) {
		v = ketama_hash(sel->ring, key, len);
		idx = ketama_pick(sel->ring, v);
	} else {
		v = maglev_key_slot(key, len, a->table_size);
		idx = sel->table[v];
	}
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		/* Keys are shown as text; invalid UTF-8 is the writer's concern. */
		jsonw_string_field(json_wtr, "key", key);
		jsonw_string_field(json_wtr, "backend", a->backends[idx].name);
		jsonw_uint_field(json_wtr, "index", idx);
		jsonw_uint_field(json_wtr, col, v);
		jsonw_end_object(json_wtr);
	} else {
		if (!sel->nprinted)
			printf("%-*s  %-10s  %s\n", sel->name_width, "BACKEND",
				a->algo == HASH_ALGO_KETAMA ? "HASH" : "SLOT", "KEY");
		printf("%-*s  %-10u  %.*s\n", sel->name_width, a->backends[idx].name, v, (int)len,
			key);
	}
	sel->nprinted++;
}

/* Answer every line of standard input. Returns 0 or a negative errno. */
static int answer_stdin(struct selector *sel)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = 0;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		answer(sel, line, (size_t)n);
	}
	if (ferror(stdin)) {
		err = -EIO;
		p_err("hash: reading keys from standard input: %s", strerror(EIO));
	}
	free(line);
	return err;
}

/* pingctl hash --service VIP:PORT --flow CLIENT:PORT...: the running data plane's choice. */
static int hash_service(int argc, char **argv)
{
	struct ctrl_backend *bes = NULL;
	const char *svc_text = NULL, *val;
	char why[128], be[CTRL_ADDRSTRLEN];
	struct lb_flow_key *flows = NULL;
	struct lb_svc_key key;
	__u32 dport = 0, id;
	bool use_ct = true, from_ct;
	size_t nflows = 0, nb = 0, i, j;
	struct ctrl *c = NULL;
	int a, err = 0;

	flows = calloc((size_t)argc, sizeof(*flows));
	if (!flows)
		return lb_fail(-ENOMEM, "hash");
	for (a = 0; a < argc && !err; a++) {
		if (!strcmp(argv[a], "--new")) {
			use_ct = false;
			continue;
		}
		if (strcmp(argv[a], "--service") && strcmp(argv[a], "--flow") &&
			strcmp(argv[a], "--dport")) {
			err = usage_err("hash help", "hash: unknown argument '%s' with --service",
				argv[a]);
			break;
		}
		val = lb_optarg(argc, argv, &a, "hash help");
		if (!val) {
			err = -CTL_EUSAGE;
		} else if (!strcmp(argv[a - 1], "--service")) {
			svc_text = val;
			err = lb_parse_service(val, &key);
		} else if (!strcmp(argv[a - 1], "--dport")) {
			err = lb_parse_u32(val, "port", 1, 65535, &dport);
		} else {
			struct lb_flow_key *f = &flows[nflows++];
			__u16 port;

			if (ctrl_parse_endpoint(val, true, &f->family, &f->src, &port, &f->proto, why,
				    sizeof(why))) {
				err = usage_err("hash help", "hash: invalid flow %s", why);
			} else if (!port) {
				err = usage_err("hash help", "hash: flow '%s': port must be 1..65535",
					val);
			}
			f->sport = htons(port);
			/* A flow without /PROTO takes the service's. */
			if (!strchr(val, '/'))
				f->proto = 0;
		}
	}
	if (!err && !svc_text)
		err = usage_err("hash help", "hash: --flow needs --service VIP:PORT");
	if (!err && !nflows)
		err = usage_err("hash help", "hash: --service needs at least one --flow");
	if (!err && !key.port && !dport)
		err = usage_err("hash help", "hash: %s is an all-ports service: give --dport",
			svc_text);
	for (i = 0; !err && i < nflows; i++) {
		struct lb_flow_key *f = &flows[i];

		if (f->family != key.family)
			err = usage_err("hash help", "hash: flow %zu and service %s differ in family",
				i + 1, svc_text);
		else if (f->proto && f->proto != key.proto)
			err = usage_err("hash help", "hash: flow %zu and service %s differ in protocol",
				i + 1, svc_text);
		f->proto = key.proto;
		f->dst = key.addr;
		f->dport = key.port ? key.port : htons((__u16)dport);
	}
	if (err)
		goto out;
	c = lb_open(false, &err);
	if (!c)
		goto out;
	err = ctrl_be_list(c, &key, &bes, &nb);
	if (err == -ENOENT) {
		p_err("service %s does not exist", svc_text);
		goto out;
	} else if (err) {
		lb_fail(err, "hash");
		goto out;
	}
	if (json_wtr)
		jsonw_start_array(json_wtr);
	else
		printf("%-28s %-28s %5s %s\n", "BACKEND", "FLOW", "ID", "FROM");
	for (i = 0; i < nflows; i++) {
		char fl[CTRL_ADDRSTRLEN];

		err = ctrl_flow_backend(c, &key, &flows[i], use_ct, &id, &from_ct);
		if (err == -ENOENT) {
			p_err("service %s has no table: no usable backend", svc_text);
			break;
		} else if (err) {
			lb_fail(err, "hash");
			break;
		}
		snprintf(be, sizeof(be), "#%u", id);
		for (j = 0; j < nb; j++)
			if (bes[j].id == id)
				ctrl_format_addr(bes[j].be.family, &bes[j].be.addr, 0, be, sizeof(be));
		ctrl_format_addr(flows[i].family, &flows[i].src, ntohs(flows[i].sport), fl, sizeof(fl));
		if (json_wtr) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "flow", fl);
			jsonw_string_field(json_wtr, "backend", be);
			jsonw_uint_field(json_wtr, "backend_id", id);
			jsonw_string_field(json_wtr, "from", from_ct ? "conntrack" : "table");
			jsonw_end_object(json_wtr);
		} else {
			printf("%-28s %-28s %5u %s\n", be, fl, id, from_ct ? "conntrack" : "table");
		}
	}
	if (json_wtr)
		jsonw_end_array(json_wtr);
out:
	ctrl_close(c);
	free(bes);
	free(flows);
	return err;
}

int do_hash(int argc, char **argv)
{
	struct selector sel = {0};
	struct hash_args args;
	char err_msg[512] = "";
	int err;

	if (argc < 1 || is_help(argv[0]))
		return do_help(argc, argv);
	for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--service") || !strcmp(argv[i], "--flow"))
			return hash_service(argc, argv);
	err = hash_parse_args(argc, argv, &args, err_msg, sizeof(err_msg));
	if (err == -EINVAL) {
		err = usage_err("hash help", "hash: %s", err_msg);
		goto out;
	} else if (err) {
		p_err("hash: %s", strerror(-err));
		goto out;
	}
	sel.args = &args;
	sel.name_width = (int)strlen("BACKEND");
	for (size_t i = 0; i < args.nbackends; i++)
		if ((int)strlen(args.backends[i].name) > sel.name_width)
			sel.name_width = (int)strlen(args.backends[i].name);
	err = args.algo == HASH_ALGO_KETAMA ? build_ketama(&sel) : build_maglev(&sel);
	if (err)
		goto out;

	if (json_wtr)
		jsonw_start_array(json_wtr);
	for (size_t k = 0; k < args.nkeys && !err; k++) {
		if (!strcmp(args.keys[k], "-"))
			err = answer_stdin(&sel);
		else
			answer(&sel, args.keys[k], strlen(args.keys[k]));
	}
	if (json_wtr)
		jsonw_end_array(json_wtr);
out:
	ketama_free(sel.ring);
	free(sel.table);
	hash_args_free(&args);
	return err;
}
