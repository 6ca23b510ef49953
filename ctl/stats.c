// SPDX-License-Identifier: GPL-2.0
/* pingctl stats and conntrack: counters summed over CPUs (and their rates with --watch), and
 * the flow table. */
#include "ctl/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/lb.h"

static int stats_help(int argc, char **argv)
{
	printf("Usage: %s stats [VIP:PORT[/PROTO]] [--watch SECONDS [--count N]]\n"
	       "       %s conntrack { list [--limit N] | count | flush }\n"
	       "\n"
	       "stats prints, per service and backend, the packets, bytes and new flows forwarded,\n"
	       "then the count of every forward, pass and drop reason, then the new flows the\n"
	       "flow guard forwarded without recording them (summed over CPUs). With\n"
	       "--watch it prints them every SECONDS with the rates over the interval (packets,\n"
	       "bits and new flows per second), N times or until interrupted; with -j, one JSON\n"
	       "object per line.\n"
	       "conntrack list prints the tracked flows: client, VIP, protocol, backend, and the\n"
	       "seconds since the flow's last refresh (UDP flows and closing TCP flows).\n",
		bin_name, bin_name);
	return 0;
}

/* One reading of the counters. */
struct sample {
	struct ctrl_service *svcs;
	size_t ns;
	struct ctrl_backend *bes;
	size_t nb;
	struct lb_stats *svc_st; /* by index into svcs */
	struct lb_stats *be_st;	 /* by index into bes */
	__u64 reasons[LB_REASON_MAX];
	__u64 guard_refused; /* new flows the flow guard forwarded without an entry */
	double t; /* CLOCK_MONOTONIC seconds */
};

static void sample_free(struct sample *s)
{
	free(s->svcs);
	free(s->bes);
	free(s->svc_st);
	free(s->be_st);
	memset(s, 0, sizeof(*s));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sample_read(struct ctrl *c, struct sample *s)
{
	size_t i;
	int err;

	memset(s, 0, sizeof(*s));
	err = ctrl_svc_list(c, &s->svcs, &s->ns);
	if (!err)
		err = ctrl_be_list(c, NULL, &s->bes, &s->nb);
	if (err)
		return err;
	s->svc_st = calloc(s->ns + 1, sizeof(*s->svc_st));
	s->be_st = calloc(s->nb + 1, sizeof(*s->be_st));
	if (!s->svc_st || !s->be_st)
		return -ENOMEM;
	s->t = now_s();
	for (i = 0; !err && i < s->ns; i++)
		err = ctrl_stats_svc(c, s->svcs[i].val.id, &s->svc_st[i]);
	for (i = 0; !err && i < s->nb; i++)
		err = ctrl_stats_be(c, s->bes[i].id, &s->be_st[i]);
	if (!err)
		err = ctrl_stats_reasons(c, s->reasons);
	if (!err) {
		struct lb_guard g;

		err = ctrl_stats_guard(c, &g);
		s->guard_refused = g.refused;
	}
	return err;
}

/* The counters of the same service (or backend) in the previous sample, for rates. */
static const struct lb_stats *prev_svc(const struct sample *p, const struct ctrl_service *s)
{
	for (size_t i = 0; p && i < p->ns; i++)
		if (!memcmp(&p->svcs[i], s, sizeof(*s)))
			return &p->svc_st[i];
	return NULL;
}

static const struct lb_stats *prev_be(const struct sample *p, const struct ctrl_backend *b)
{
	for (size_t i = 0; p && i < p->nb; i++)
		if (p->bes[i].id == b->id &&
			!memcmp(&p->bes[i].be.addr, &b->be.addr, sizeof(b->be.addr)) &&
			p->bes[i].be.svc == b->be.svc)
			return &p->be_st[i];
	return NULL;
}

static double rate(__u64 now, __u64 before, double dt)
{
	return now >= before && dt > 0 ? (double)(now - before) / dt : 0;
}

static void print_row(const char *kind, const char *name, const struct lb_stats *s,
	const struct lb_stats *p, double dt, bool rates)
{
	if (json_wtr) {
		jsonw_string_field(json_wtr, kind, name);
		jsonw_uint_field(json_wtr, "packets", s->packets);
		jsonw_uint_field(json_wtr, "bytes", s->bytes);
		jsonw_uint_field(json_wtr, "new_flows", s->new_flows);
		if (rates) {
			jsonw_float_field(json_wtr, "packets_per_s",
				p ? rate(s->packets, p->packets, dt) : 0);
			jsonw_float_field(
				json_wtr, "bits_per_s", p ? 8 * rate(s->bytes, p->bytes, dt) : 0);
			jsonw_float_field(json_wtr, "new_flows_per_s",
				p ? rate(s->new_flows, p->new_flows, dt) : 0);
		}
		return;
	}
	printf("%-8s %-32s %14llu %16llu %12llu", kind, name, (unsigned long long)s->packets,
		(unsigned long long)s->bytes, (unsigned long long)s->new_flows);
	if (rates)
		printf(" %12.1f %14.0f %10.1f", p ? rate(s->packets, p->packets, dt) : 0,
			p ? 8 * rate(s->bytes, p->bytes, dt) : 0,
			p ? rate(s->new_flows, p->new_flows, dt) : 0);
	printf("\n");
}

/* Print sample <s>; with <rates>, the rates since <p> (NULL: none yet). */
static void print_sample(
	const struct sample *s, const struct sample *p, const struct lb_svc_key *only, bool rates)
{
	double dt = p ? s->t - p->t : 0;
	char a[CTRL_ADDRSTRLEN];
	size_t i, j;

	if (json_wtr) {
		jsonw_start_object(json_wtr);
		if (rates)
			jsonw_float_field(json_wtr, "interval_s", dt);
		jsonw_name(json_wtr, "services");
		jsonw_start_array(json_wtr);
	} else {
		printf("%-8s %-32s %14s %16s %12s", "KIND", "NAME", "PACKETS", "BYTES",
			"NEW_FLOWS");
		if (rates)
			printf(" %12s %14s %10s", "PKTS/S", "BITS/S", "FLOWS/S");
		printf("\n");
	}
	for (i = 0; i < s->ns; i++) {
		const struct ctrl_service *sv = &s->svcs[i];

		if (only && memcmp(&sv->key, only, sizeof(*only)))
			continue;
		ctrl_format_addr(sv->key.family, &sv->key.addr, ntohs(sv->key.port), a, sizeof(a));
		if (json_wtr)
			jsonw_start_object(json_wtr);
		print_row("service", a, &s->svc_st[i], prev_svc(p, sv), dt, rates);
		if (json_wtr) {
			jsonw_name(json_wtr, "backends");
			jsonw_start_array(json_wtr);
		}
		for (j = 0; j < s->nb; j++) {
			const struct ctrl_backend *b = &s->bes[j];

			if (b->be.svc != sv->val.id)
				continue;
			ctrl_format_addr(b->be.family, &b->be.addr, 0, a, sizeof(a));
			if (json_wtr)
				jsonw_start_object(json_wtr);
			print_row("backend", a, &s->be_st[j], prev_be(p, b), dt, rates);
			if (json_wtr)
				jsonw_end_object(json_wtr);
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
		printf("\n%-24s %14s%s\n", "REASON", "PACKETS", rates ? "       PKTS/S" : "");
	}
	for (i = 0; i < LB_REASON_MAX; i++) {
		const char *name = ctrl_reason_name((unsigned int)i);

		if (json_wtr) {
			jsonw_uint_field(json_wtr, name, s->reasons[i]);
		} else {
			printf("%-24s %14llu", name, (unsigned long long)s->reasons[i]);
			if (rates)
				printf(" %12.1f", p ? rate(s->reasons[i], p->reasons[i], dt) : 0);
			printf("\n");
		}
	}
	if (!json_wtr) {
		printf("\n%-24s %14llu", "guard_refused", (unsigned long long)s->guard_refused);
		if (rates)
			printf(" %12.1f", p ? rate(s->guard_refused, p->guard_refused, dt) : 0);
		printf("\n");
	}
	if (json_wtr) {
		jsonw_end_object(json_wtr);
		jsonw_uint_field(json_wtr, "guard_refused", s->guard_refused);
		if (rates) {
			jsonw_name(json_wtr, "reasons_per_s");
			jsonw_start_object(json_wtr);
			for (i = 0; i < LB_REASON_MAX; i++)
				jsonw_float_field(json_wtr, ctrl_reason_name((unsigned int)i),
					p ? rate(s->reasons[i], p->reasons[i], dt) : 0);
			jsonw_end_object(json_wtr);
		}
		jsonw_end_object(json_wtr);
	}
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int do_stats(int argc, char **argv)
{
	struct sample cur = {}, prev = {};
	struct lb_svc_key key;
	__u32 watch = 0, count = 0, n;
	const char *key_text = NULL;
	bool have_key = false;
	struct ctrl *c;
	const char *val;
	int i, err;

	for (i = 0; i < argc; i++) {
		if (is_help(argv[i]))
			return stats_help(0, NULL);
		if (!strcmp(argv[i], "--watch") || !strcmp(argv[i], "--count")) {
			val = lb_optarg(argc, argv, &i, "stats help");
			if (!val)
				return -CTL_EUSAGE;
			if (!strcmp(argv[i - 1], "--watch"))
				err = lb_parse_u32(val, "interval", 1, 3600, &watch);
			else
				err = lb_parse_u32(val, "count", 1, UINT32_MAX, &count);
			if (err)
				return err;
		} else if (argv[i][0] == '-') {
			return usage_err("stats help", "unknown option '%s'", argv[i]);
		} else if (have_key) {
			return usage_err("stats help", "expected at most one VIP:PORT");
		} else {
			err = lb_parse_service(argv[i], &key);
			if (err)
				return err;
			have_key = true;
			key_text = argv[i];
		}
	}
	if (count && !watch)
		return usage_err("stats help", "--count needs --watch");
	c = lb_open(false, &err);
	if (!c)
		return err;
	if (have_key) {
		struct lb_svc v;

		if (ctrl_svc_get(c, &key, &v)) {
			ctrl_close(c);
			p_err("service %s does not exist", key_text);
			return -ENOENT;
		}
	}
	err = sample_read(c, &cur);
	if (err)
		goto out;
	if (!watch) {
		print_sample(&cur, NULL, have_key ? &key : NULL, false);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (n = 0; !stop && (!count || n < count); n++) {
		struct json_writer *main_wtr = json_wtr;

		if (n) {
			sample_free(&prev);
			prev = cur;
			memset(&cur, 0, sizeof(cur));
			err = sample_read(c, &cur);
			if (err)
				goto out;
		}
		/* One JSON document per line; the global writer stays for errors. */
		if (main_wtr) {
			json_wtr = jsonw_new(stdout, false);
			if (!json_wtr) {
				json_wtr = main_wtr;
				err = -errno;
				goto out;
			}
		} else if (n) {
			printf("\n");
		}
		print_sample(&cur, n ? &prev : NULL, have_key ? &key : NULL, true);
		if (main_wtr) {
			jsonw_destroy(json_wtr);
			json_wtr = main_wtr;
		}
		fflush(stdout);
		if (count && n + 1 == count)
			break;
		/* sleep() returns early on a signal: then the loop ends. */
		for (__u32 t = 0; t < watch && !stop; t++)
			sleep(1);
	}
out:
	if (err)
		lb_fail(err, "stats");
	sample_free(&cur);
	sample_free(&prev);
	ctrl_close(c);
	return err;
}

static const char *flow_backend(
	const struct ctrl_backend *bes, size_t nb, __u32 id, char *buf, size_t len)
{
	for (size_t i = 0; i < nb; i++)
		if (bes[i].id == id)
			return ctrl_format_addr(bes[i].be.family, &bes[i].be.addr, 0, buf, len);
	snprintf(buf, len, "#%u", id);
	return buf;
}

static int ct_list(int argc, char **argv)
{
	struct ctrl_backend *bes = NULL;
	struct ctrl_flow *flows = NULL;
	char src[CTRL_ADDRSTRLEN], dst[CTRL_ADDRSTRLEN], be[CTRL_ADDRSTRLEN];
	int w_src = 6, w_dst = 7, w_be = 7; /* CLIENT, SERVICE, BACKEND */
	size_t n = 0, nb = 0, i;
	__u32 limit = LB_MAX_FLOWS;
	double now = now_s();
	struct ctrl *c;
	int err;

	for (int a = 0; a < argc; a++) {
		if (is_help(argv[a]))
			return stats_help(0, NULL);
		if (strcmp(argv[a], "--limit"))
			return usage_err("conntrack help", "unknown argument '%s'", argv[a]);
		if (!lb_optarg(argc, argv, &a, "conntrack help"))
			return -CTL_EUSAGE;
		err = lb_parse_u32(argv[a], "limit", 1, UINT32_MAX, &limit);
		if (err)
			return err;
	}
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_ct_list(c, limit, &flows, &n);
	if (!err)
		err = ctrl_be_list(c, NULL, &bes, &nb);
	ctrl_close(c);
	if (err) {
		free(flows);
		free(bes);
		return lb_fail(err, "conntrack list");
	}
	/* Column widths from the longest client and service: IPv6 rows stay aligned. */
	for (i = 0; i < n; i++) {
		const struct lb_flow_key *k = &flows[i].key;
		int l;

		l = (int)strlen(
			ctrl_format_addr(k->family, &k->src, ntohs(k->sport), src, sizeof(src)));
		w_src = l > w_src ? l : w_src;
		l = (int)strlen(
			ctrl_format_addr(k->family, &k->dst, ntohs(k->dport), dst, sizeof(dst)));
		w_dst = l > w_dst ? l : w_dst;
		l = (int)strlen(flow_backend(bes, nb, flows[i].val.backend, be, sizeof(be)));
		w_be = l > w_be ? l : w_be;
	}
	if (json_wtr)
		jsonw_start_array(json_wtr);
	else
		printf("%-5s %-*s %-*s %-*s %s\n", "PROTO", w_src, "CLIENT", w_dst, "SERVICE", w_be,
			"BACKEND", "IDLE_S");
	for (i = 0; i < n; i++) {
		const struct lb_flow_key *k = &flows[i].key;
		const struct lb_flow *f = &flows[i].val;
		double idle = f->last_seen ? now - (double)f->last_seen / 1e9 : -1;

		ctrl_format_addr(k->family, &k->src, ntohs(k->sport), src, sizeof(src));
		ctrl_format_addr(k->family, &k->dst, ntohs(k->dport), dst, sizeof(dst));
		flow_backend(bes, nb, f->backend, be, sizeof(be));
		if (json_wtr) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(
				json_wtr, "proto", k->proto == IPPROTO_UDP ? "udp" : "tcp");
			jsonw_string_field(json_wtr, "client",
				ctrl_format_addr(k->family, &k->src, 0, src, sizeof(src)));
			jsonw_uint_field(json_wtr, "client_port", ntohs(k->sport));
			jsonw_string_field(json_wtr, "vip",
				ctrl_format_addr(k->family, &k->dst, 0, dst, sizeof(dst)));
			jsonw_uint_field(json_wtr, "port", ntohs(k->dport));
			jsonw_string_field(json_wtr, "backend", be);
			jsonw_uint_field(json_wtr, "backend_id", f->backend);
			jsonw_bool_field(json_wtr, "fin", f->flags & LB_FLOW_F_FIN);
			jsonw_name(json_wtr, "idle_s");
			if (idle >= 0)
				jsonw_float(json_wtr, idle);
			else
				jsonw_null(json_wtr);
			jsonw_end_object(json_wtr);
		} else {
			char idle_s[32] = "-";

			if (idle >= 0)
				snprintf(idle_s, sizeof(idle_s), "%.1f%s", idle,
					f->flags & LB_FLOW_F_FIN ? " fin" : "");
			printf("%-5s %-*s %-*s %-*s %s\n", k->proto == IPPROTO_UDP ? "udp" : "tcp",
				w_src, src, w_dst, dst, w_be, be, idle_s);
		}
	}
	if (json_wtr)
		jsonw_end_array(json_wtr);
	else if (n == limit)
		p_info("(%zu flows shown: --limit reached)", n);
	free(flows);
	free(bes);
	return 0;
}

static int ct_count(int argc, char **argv)
{
	struct ctrl *c;
	size_t n = 0;
	int err;

	if (argc)
		return usage_err("conntrack help", "'conntrack count' takes no argument");
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

	if (argc)
		return usage_err("conntrack help", "'conntrack flush' takes no argument");
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
		{"list", ct_list},
		{"count", ct_count},
		{"flush", ct_flush},
		{"help", stats_help},
		{NULL, NULL},
	};

	return cmd_select(cmds, argc, argv, stats_help);
}
