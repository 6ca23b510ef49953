// SPDX-License-Identifier: GPL-2.0
/* pingctl stats and conntrack: counters summed over CPUs, and the flow table. */
#include "ctl/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/lb.h"

static int stats_help(int argc, char **argv)
{
	printf("Usage: %s stats [VIP:PORT[/PROTO]]\n"
	       "       %s conntrack { count | flush }\n"
	       "\n"
	       "stats prints, per service and backend, the packets, bytes and new flows forwarded,\n"
	       "then the count of every forward, pass and drop reason (summed over CPUs).\n",
		bin_name, bin_name);
	return 0;
}

static void print_stats(const char *kind, const char *name, const struct lb_stats *s)
{
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, kind, name);
		jsonw_uint_field(json_wtr, "packets", s->packets);
		jsonw_uint_field(json_wtr, "bytes", s->bytes);
		jsonw_uint_field(json_wtr, "new_flows", s->new_flows);
		jsonw_end_object(json_wtr);
	} else {
		printf("%-8s %-32s %14llu %16llu %12llu\n", kind, name,
			(unsigned long long)s->packets, (unsigned long long)s->bytes,
			(unsigned long long)s->new_flows);
	}
}

int do_stats(int argc, char **argv)
{
	struct ctrl_service *svcs = NULL;
	struct ctrl_backend *bes = NULL;
	__u64 reasons[LB_REASON_MAX];
	struct lb_svc_key key;
	char a[CTRL_ADDRSTRLEN];
	size_t ns = 0, nb = 0, i, j;
	struct lb_stats st;
	struct ctrl *c;
	int err;

	if (argc > 1)
		return usage_err("stats help", "expected at most VIP:PORT");
	if (argc == 1) {
		if (is_help(argv[0]))
			return stats_help(0, NULL);
		err = lb_parse_service(argv[0], &key);
		if (err)
			return err;
	}
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_svc_list(c, &svcs, &ns);
	if (!err)
		err = ctrl_be_list(c, NULL, &bes, &nb);
	if (!err)
		err = ctrl_stats_reasons(c, reasons);
	if (err)
		goto out;
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_name(json_wtr, "services");
		jsonw_start_array(json_wtr);
	} else {
		printf("%-8s %-32s %14s %16s %12s\n", "KIND", "NAME", "PACKETS", "BYTES",
			"NEW_FLOWS");
	}
	for (i = 0; i < ns; i++) {
		const struct ctrl_service *s = &svcs[i];

		if (argc == 1 && memcmp(&s->key, &key, sizeof(key)))
			continue;
		err = ctrl_stats_svc(c, s->val.id, &st);
		if (err)
			goto out;
		ctrl_format_addr(s->key.family, &s->key.addr, ntohs(s->key.port), a, sizeof(a));
		if (json_wtr) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "service", a);
			jsonw_uint_field(json_wtr, "packets", st.packets);
			jsonw_uint_field(json_wtr, "bytes", st.bytes);
			jsonw_uint_field(json_wtr, "new_flows", st.new_flows);
			jsonw_name(json_wtr, "backends");
			jsonw_start_array(json_wtr);
		} else {
			print_stats("service", a, &st);
		}
		for (j = 0; j < nb; j++) {
			const struct lb_backend *b = &bes[j].be;

			if (b->svc != s->val.id)
				continue;
			err = ctrl_stats_be(c, bes[j].id, &st);
			if (err)
				goto out;
			ctrl_format_addr(b->family, &b->addr, 0, a, sizeof(a));
			print_stats("backend", a, &st);
		}
		if (json_wtr) {
			jsonw_end_array(json_wtr);
			jsonw_end_object(json_wtr);
		}
	}
	if (json_wtr) {
		jsonw_end_array(json_wtr);
		jsonw_name(json_wtr, "reasons");
		jsonw_start_object(json_wtr);
	} else {
		printf("\n%-24s %14s\n", "REASON", "PACKETS");
	}
	for (i = 0; i < LB_REASON_MAX; i++) {
		if (json_wtr)
			jsonw_uint_field(json_wtr, ctrl_reason_name((unsigned int)i), reasons[i]);
		else
			printf("%-24s %14llu\n", ctrl_reason_name((unsigned int)i),
				(unsigned long long)reasons[i]);
	}
	if (json_wtr) {
		jsonw_end_object(json_wtr);
		jsonw_end_object(json_wtr);
	}
out:
	if (err)
		lb_fail(err, "stats");
	free(svcs);
	free(bes);
	ctrl_close(c);
	return err;
}

static int ct_count(int argc, char **argv)
{
	struct ctrl *c;
	size_t n = 0;
	int err;

	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_ct_count(c, LB_MAX_FLOWS, &n);
	ctrl_close(c);
	if (err)
		return lb_fail(err, "conntrack count");
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_uint_field(json_wtr, "flows", n);
		jsonw_end_object(json_wtr);
	} else {
		printf("%zu\n", n);
	}
	return 0;
}

static int ct_flush(int argc, char **argv)
{
	struct ctrl *c;
	int err;

	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_ct_flush(c);
	ctrl_close(c);
	return err ? lb_fail(err, "conntrack flush") : 0;
}

int do_conntrack(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{"count", ct_count},
		{"flush", ct_flush},
		{"help", stats_help},
		{NULL, NULL},
	};

	return cmd_select(cmds, argc, argv, stats_help);
}
