// SPDX-License-Identifier: GPL-2.0
/* Metrics: name rules, escaping, number formatting, the exact exposition text of counters,
 * gauges and histograms, shard merging under concurrent updates, collectors, and pingd's
 * families built from a config. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/cfg/cfg.h"
#include "userspace/ops/metrics.h"
#include "userspace/ops/stats.h"

static void test_names(void)
{
	CU_ASSERT_TRUE(metrics_name_ok("pingd_requests_total"));
	CU_ASSERT_TRUE(metrics_name_ok("a:b_c9"));
	CU_ASSERT_TRUE(metrics_name_ok("_x"));
	CU_ASSERT_FALSE(metrics_name_ok(""));
	CU_ASSERT_FALSE(metrics_name_ok(NULL));
	CU_ASSERT_FALSE(metrics_name_ok("9abc"));
	CU_ASSERT_FALSE(metrics_name_ok("a-b"));
	CU_ASSERT_FALSE(metrics_name_ok("a b"));
	CU_ASSERT_FALSE(metrics_name_ok("é"));
	CU_ASSERT_TRUE(metrics_label_ok("route"));
	CU_ASSERT_FALSE(metrics_label_ok("__name__"));
	CU_ASSERT_FALSE(metrics_label_ok("a:b"));
	CU_ASSERT_FALSE(metrics_label_ok("1a"));
}

/* <s> escaped as a label value (or HELP text), in a static buffer. */
static const char *esc(const char *s, bool help)
{
	static char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	CU_ASSERT_EQUAL(metrics_escape(f, s, help), 0);
	fclose(f);
	return buf;
}

static void test_escape(void)
{
	CU_ASSERT_STRING_EQUAL(esc("plain", false), "plain");
	CU_ASSERT_STRING_EQUAL(esc("a\"b", false), "a\\\"b");
	CU_ASSERT_STRING_EQUAL(esc("a\\b", false), "a\\\\b");
	CU_ASSERT_STRING_EQUAL(esc("a\nb", false), "a\\nb");
	CU_ASSERT_STRING_EQUAL(esc("\\\"\n", false), "\\\\\\\"\\n");
	/* HELP escapes backslash and newline only. */
	CU_ASSERT_STRING_EQUAL(esc("say \"hi\"\\\n", true), "say \"hi\"\\\\\\n");
	CU_ASSERT_STRING_EQUAL(esc("ünïcode", false), "ünïcode");
}

static void test_fmt_double(void)
{
	char b[64];

	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), 0.005), "0.005");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), 0.1), "0.1");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), 1), "1");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), 2.5), "2.5");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), -3), "-3");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), 1000), "1000");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), 123456789012.0), "123456789012");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), 1e300), "1e+300");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), INFINITY), "+Inf");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), -INFINITY), "-Inf");
	CU_ASSERT_STRING_EQUAL(metrics_fmt_double(b, sizeof(b), NAN), "NaN");
	CU_ASSERT_EQUAL(strtod(metrics_fmt_double(b, sizeof(b), 1.0 / 3), NULL), 1.0 / 3);
}

static void test_render(void)
{
	static const char *const l2[] = {"route", "code"}, *const l1[] = {"peer"};
	static const double bk[] = {0.1, 0.5, 1};
	struct metrics *m = metrics_new(3, 64);
	int fc, fg, fh, s1, s2, g, h, h0;
	char *out = NULL;
	size_t len = 0;

	CU_ASSERT_FATAL(m != NULL);
	fc = metrics_family(m, "t_requests_total", "Requests \\ by \"route\"\nsecond line",
		METRICS_COUNTER, l2, 2, NULL, 0);
	fg = metrics_family(m, "t_active", "Open", METRICS_GAUGE, NULL, 0, NULL, 0);
	fh = metrics_family(m, "t_latency_seconds", "Latency", METRICS_HISTOGRAM, l1, 1, bk, 3);
	CU_ASSERT_FATAL(fc >= 0 && fg >= 0 && fh >= 0);
	s1 = metrics_series(m, fc, (const char *const[]){"/a\"b\\c\nd", "2xx"});
	s2 = metrics_series(m, fc, (const char *const[]){"/", "5xx"});
	CU_ASSERT_EQUAL(metrics_series(m, fc, (const char *const[]){"/", "5xx"}), s2);
	g = metrics_series0(m, fg);
	h = metrics_series(m, fh, (const char *const[]){"10.0.0.1:80"});
	h0 = metrics_series(m, fh, (const char *const[]){"idle"});
	CU_ASSERT_FATAL(s1 >= 0 && s2 >= 0 && g >= 0 && h >= 0 && h0 >= 0);
	/* Values spread over shards are summed. */
	metrics_add(m, 0, s1, 3);
	metrics_add(m, 2, s1, 4);
	metrics_add(m, 1, s2, 1);
	metrics_gauge_add(m, 0, g, 5);
	metrics_gauge_add(m, 1, g, -7);
	metrics_observe(m, 0, h, 0.05);
	metrics_observe(m, 1, h, 0.1); /* le is inclusive */
	metrics_observe(m, 2, h, 0.75);
	metrics_observe(m, 2, h, 3);
	/* Unknown ids and shards are ignored, not written anywhere. */
	metrics_add(m, 3, s1, 100);
	metrics_add(m, 0, 999, 100);
	CU_ASSERT_EQUAL(metrics_value(m, s1), 7);
	CU_ASSERT_EQUAL(metrics_value(m, g), -2);
	CU_ASSERT_EQUAL(metrics_value(m, h), 4);
	CU_ASSERT_EQUAL_FATAL(metrics_render(m, &out, &len), 0);
	CU_ASSERT_EQUAL(len, strlen(out));
	CU_ASSERT_STRING_EQUAL(out,
		"# HELP t_requests_total Requests \\\\ by \"route\"\\nsecond line\n"
		"# TYPE t_requests_total counter\n"
		"t_requests_total{route=\"/a\\\"b\\\\c\\nd\",code=\"2xx\"} 7\n"
		"t_requests_total{route=\"/\",code=\"5xx\"} 1\n"
		"# HELP t_active Open\n"
		"# TYPE t_active gauge\n"
		"t_active -2\n"
		"# HELP t_latency_seconds Latency\n"
		"# TYPE t_latency_seconds histogram\n"
		"t_latency_seconds_bucket{peer=\"10.0.0.1:80\",le=\"0.1\"} 2\n"
		"t_latency_seconds_bucket{peer=\"10.0.0.1:80\",le=\"0.5\"} 2\n"
		"t_latency_seconds_bucket{peer=\"10.0.0.1:80\",le=\"1\"} 3\n"
		"t_latency_seconds_bucket{peer=\"10.0.0.1:80\",le=\"+Inf\"} 4\n"
		"t_latency_seconds_sum{peer=\"10.0.0.1:80\"} 3.9\n"
		"t_latency_seconds_count{peer=\"10.0.0.1:80\"} 4\n"
		"t_latency_seconds_bucket{peer=\"idle\",le=\"0.1\"} 0\n"
		"t_latency_seconds_bucket{peer=\"idle\",le=\"0.5\"} 0\n"
		"t_latency_seconds_bucket{peer=\"idle\",le=\"1\"} 0\n"
		"t_latency_seconds_bucket{peer=\"idle\",le=\"+Inf\"} 0\n"
		"t_latency_seconds_sum{peer=\"idle\"} 0\n"
		"t_latency_seconds_count{peer=\"idle\"} 0\n");
	free(out);
	metrics_free(m);
}

static void test_errors(void)
{
	static const char *const le[] = {"le"}, *const dup[] = {"a", "a"}, *const bad[] = {"a-b"},
				 *const res[] = {"__x"}, *const one[] = {"a"};
	static const double unsorted[] = {1, 0.5}, inf[] = {1, INFINITY};
	struct metrics *m = metrics_new(1, 4);

	CU_ASSERT_PTR_NULL(metrics_new(0, 4));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(
		metrics_family(m, "bad name", "", METRICS_COUNTER, NULL, 0, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(metrics_family(m, "h", "", METRICS_HISTOGRAM, le, 1, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(metrics_family(m, "c", "", METRICS_COUNTER, dup, 2, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(metrics_family(m, "c", "", METRICS_COUNTER, bad, 1, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(metrics_family(m, "c", "", METRICS_COUNTER, res, 1, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(
		metrics_family(m, "h", "", METRICS_HISTOGRAM, NULL, 0, unsorted, 2), -EINVAL);
	CU_ASSERT_EQUAL(metrics_family(m, "h", "", METRICS_HISTOGRAM, NULL, 0, inf, 2), -EINVAL);
	CU_ASSERT_EQUAL(metrics_family(m, "c", "", METRICS_COUNTER, NULL, 0, inf, 1), -EINVAL);
	CU_ASSERT_EQUAL(metrics_family(m, "c", "", METRICS_TYPE_MAX, NULL, 0, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(metrics_family(m, "c", "", METRICS_COUNTER, one, 1, NULL, 0), 0);
	CU_ASSERT_EQUAL(metrics_family(m, "c", "", METRICS_GAUGE, NULL, 0, NULL, 0), -EEXIST);
	/* A histogram with 3 bounds needs 5 slots; only 4 exist. */
	CU_ASSERT_EQUAL(metrics_family(m, "h", "", METRICS_HISTOGRAM, NULL, 0, unsorted + 1, 1), 1);
	CU_ASSERT_EQUAL(metrics_series(m, 0, (const char *const[]){"x"}), 1);
	CU_ASSERT_EQUAL(metrics_series(m, 0, (const char *const[]){"y"}), -ENOSPC);
	CU_ASSERT_EQUAL(metrics_series(m, 0, (const char *const[]){NULL}), -EINVAL);
	CU_ASSERT_EQUAL(metrics_series(m, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(metrics_series(m, 7, NULL), -EINVAL);
	CU_ASSERT_EQUAL(metrics_series0(m, 0), -EINVAL);
	metrics_free(m);
}

static int collect(struct metrics_writer *w, void *arg)
{
	static const char *const n[] = {"svc"}, *const badn[] = {"s-v"};
	const char *v[] = {"a\"b"};
	int *calls = arg;

	(*calls)++;
	CU_ASSERT_EQUAL(metrics_write_family(w, "x-y", "", METRICS_GAUGE), -EINVAL);
	CU_ASSERT_EQUAL(metrics_write_family(w, "x", "", METRICS_HISTOGRAM), -EINVAL);
	CU_ASSERT_EQUAL(metrics_write_family(w, "x_ratio", "A ratio", METRICS_GAUGE), 0);
	CU_ASSERT_EQUAL(metrics_write_sample(w, n, v, 1, 0.25), 0);
	CU_ASSERT_EQUAL(metrics_write_sample(w, badn, v, 1, 1), -EINVAL);
	CU_ASSERT_EQUAL(metrics_write_sample(w, NULL, NULL, 0, NAN), 0);
	return *calls > 1 ? -EIO : 0;
}

static void test_collector(void)
{
	struct metrics *m = metrics_new(1, 4);
	char *out = NULL;
	size_t len;
	int calls = 0;

	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(metrics_collector(m, collect, &calls), 0);
	CU_ASSERT_EQUAL_FATAL(metrics_render(m, &out, &len), 0);
	CU_ASSERT_STRING_EQUAL(out, "# HELP x_ratio A ratio\n# TYPE x_ratio gauge\n"
				    "x_ratio{svc=\"a\\\"b\"} 0.25\nx_ratio NaN\n");
	free(out);
	/* A collector's error ends the scrape with it and leaks nothing. */
	out = NULL;
	CU_ASSERT_EQUAL(metrics_render(m, &out, &len), -EIO);
	CU_ASSERT_PTR_NULL(out);
	metrics_free(m);
}

/* Concurrency: each thread owns a shard; a scraper renders meanwhile. */
struct shard_arg {
	struct metrics *m;
	unsigned int shard;
	int counter, hist;
};

#define SHARD_ITERS 200000

static void *shard_worker(void *p)
{
	struct shard_arg *a = p;

	for (int i = 0; i < SHARD_ITERS; i++) {
		metrics_add(a->m, a->shard, a->counter, 1);
		if (!(i % 16))
			metrics_observe(a->m, a->shard, a->hist, 0.001);
	}
	return NULL;
}

static void test_shards(void)
{
	static const double bk[] = {0.01};
	struct metrics *m = metrics_new(4, 16);
	struct shard_arg args[4];
	pthread_t th[4];
	int fc, fh, c, h;
	char *out;
	size_t len;

	CU_ASSERT_FATAL(m != NULL);
	fc = metrics_family(m, "n_total", "", METRICS_COUNTER, NULL, 0, NULL, 0);
	fh = metrics_family(m, "d_seconds", "", METRICS_HISTOGRAM, NULL, 0, bk, 1);
	c = metrics_series0(m, fc);
	h = metrics_series0(m, fh);
	CU_ASSERT_FATAL(c >= 0 && h >= 0);
	for (unsigned int i = 0; i < 4; i++) {
		args[i] = (struct shard_arg){m, i, c, h};
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, shard_worker, &args[i]) == 0);
	}
	/* Scrapes during the updates see monotonic, bounded values. */
	double last = 0;

	for (int i = 0; i < 50; i++) {
		double v = metrics_value(m, c);

		CU_ASSERT_TRUE(v >= last && v <= 4.0 * SHARD_ITERS);
		last = v;
		CU_ASSERT_EQUAL(metrics_render(m, &out, &len), 0);
		free(out);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL(metrics_value(m, c), 4.0 * SHARD_ITERS);
	CU_ASSERT_EQUAL(metrics_value(m, h), 4.0 * (SHARD_ITERS / 16));
	metrics_free(m);
}

static const char yaml[] = "listeners: [{address: 127.0.0.1:1}]\n"
			   "upstreams:\n"
			   "  - {name: api, servers: [{address: 127.0.0.1:9}, {address: "
			   "'[::1]:9'}]}\n"
			   "virtual_hosts:\n"
			   "  - name: main\n"
			   "    hosts: '*'\n"
			   "    routes: [{path: /, upstream: api}, {path: /v1/, upstream: api}]\n";

static int xdp_source(struct stats_xdp_snapshot *snap, void *arg)
{
	static const struct stats_xdp_service svc[] = {
		{"10.0.0.1:80/tcp", 10, 1000, 2, "0123456789abcdef"}};
	static const struct stats_xdp_vip vips[] = {
		{"10.0.0.1", "ready"}, {"10.0.0.2", "draining"}};
	static const struct stats_xdp_backend be[] = {
		{"10.0.0.1:80/tcp", "10.1.0.1:80", 6, 600, 1, 1},
		{"10.0.0.1:80/tcp", "10.1.0.2:80", 4, 400, 1, 0},
	};
	static const struct stats_xdp_reason rs[] = {{"no_service", 3}};

	if (arg)
		return -ENOENT;
	*snap = (struct stats_xdp_snapshot){svc, 1, be, 2, rs, 1, vips, 2, 1, 65300, 65536, 1};
	return 0;
}

static void test_stats(void)
{
	struct cfg_msgs msgs = {0};
	struct cfg *c = cfg_load_string("stats.yaml", yaml, strlen(yaml), &msgs);
	struct stats *st;
	char *out;
	size_t len;

	CU_ASSERT_FATAL(c != NULL);
	st = stats_new(c, 2, NULL);
	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(stats_ctl_shard(st), 2);
	stats_request(st, 0, &c->vhosts[0].routes[1], 200, 1500);
	stats_request(st, 1, &c->vhosts[0].routes[1], 204, 20000000);
	stats_request(st, 1, &c->vhosts[0].routes[0], 503, 100);
	stats_request(st, 0, NULL, 404, 10);
	stats_request(st, 0, NULL, 42, 10);
	stats_conn_open(st, 0);
	stats_conn_open(st, 1);
	stats_conn_open(st, 1);
	stats_conn_close(st, 0);
	stats_upstream_request(st, 0, 0, false);
	stats_upstream_request(st, 1, 0, true);
	stats_upstream_request(st, 1, 0, true);
	stats_upstream_request(st, 1, 0, true);
	stats_upstream_request(st, 1, 5, true); /* out of range: ignored */
	stats_upstream_connect_error(st, 0, 0, 1);
	stats_upstream_connect_error(st, 0, 0, 2); /* out of range */
	stats_upstream_retry(st, 1, 0);
	stats_peer_state(st, 0, 1, false);
	stats_peer_cooldown(st, 1, 0, 0);
	CU_ASSERT_STRING_EQUAL(stats_code_class(101), "1xx");
	CU_ASSERT_STRING_EQUAL(stats_code_class(599), "5xx");
	CU_ASSERT_STRING_EQUAL(stats_code_class(600), "other");

	CU_ASSERT_EQUAL_FATAL(metrics_render(stats_metrics(st), &out, &len), 0);
#define HAS(s) CU_ASSERT_PTR_NOT_NULL(strstr(out, s "\n"))
	HAS("pingd_requests_total{vhost=\"main\",route=\"/v1/\",code=\"2xx\"} 2");
	HAS("pingd_requests_total{vhost=\"main\",route=\"/\",code=\"5xx\"} 1");
	HAS("pingd_requests_total{vhost=\"main\",route=\"/\",code=\"2xx\"} 0");
	HAS("pingd_requests_total{vhost=\"\",route=\"\",code=\"4xx\"} 1");
	HAS("pingd_requests_total{vhost=\"\",route=\"\",code=\"other\"} 1");
	HAS("pingd_request_duration_seconds_bucket{vhost=\"main\",route=\"/v1/\",le=\"0.0025\"} 1");
	HAS("pingd_request_duration_seconds_bucket{vhost=\"main\",route=\"/v1/\",le=\"10\"} 1");
	HAS("pingd_request_duration_seconds_bucket{vhost=\"main\",route=\"/v1/\",le=\"+Inf\"} 2");
	HAS("pingd_request_duration_seconds_sum{vhost=\"main\",route=\"/v1/\"} 20.0015");
	HAS("pingd_connections_active 2");
	HAS("pingd_connections_accepted_total 3");
	HAS("pingd_upstream_requests_total{upstream=\"api\",connection=\"reused\"} 3");
	HAS("pingd_upstream_requests_total{upstream=\"api\",connection=\"new\"} 1");
	HAS("pingd_upstream_pool_reuse_ratio{upstream=\"api\"} 0.75");
	HAS("pingd_upstream_connect_errors_total{upstream=\"api\",server=\"[::1]:9\"} 1");
	HAS("pingd_upstream_retries_total{upstream=\"api\"} 1");
	HAS("pingd_upstream_peer_up{upstream=\"api\",server=\"127.0.0.1:9\"} 1");
	HAS("pingd_upstream_peer_up{upstream=\"api\",server=\"[::1]:9\"} 0");
	HAS("pingd_upstream_peer_cooldowns_total{upstream=\"api\",server=\"127.0.0.1:9\"} 1");
	HAS("pingx_xdp_up 0");
	CU_ASSERT_PTR_NULL(strstr(out, "pingx_xdp_service_packets_total{"));
	free(out);

	stats_set_xdp_source(st, xdp_source, NULL);
	CU_ASSERT_EQUAL_FATAL(metrics_render(stats_metrics(st), &out, &len), 0);
	HAS("pingx_xdp_up 1");
	HAS("pingx_xdp_service_packets_total{service=\"10.0.0.1:80/tcp\"} 10");
	HAS("pingx_xdp_service_bytes_total{service=\"10.0.0.1:80/tcp\"} 1000");
	HAS("pingx_xdp_service_new_flows_total{service=\"10.0.0.1:80/tcp\"} 2");
	HAS("pingx_xdp_backend_packets_total{service=\"10.0.0.1:80/tcp\",backend=\"10.1.0.2:80\"} 4");
	HAS("pingx_xdp_backend_bytes_total{service=\"10.0.0.1:80/tcp\",backend=\"10.1.0.1:80\"} 600");
	HAS("pingx_l4_backend_up{service=\"10.0.0.1:80/tcp\",backend=\"10.1.0.2:80\"} 0");
	HAS("pingx_xdp_reason_packets_total{reason=\"no_service\"} 3");
	HAS("pingx_xdp_table_digest{service=\"10.0.0.1:80/tcp\",digest=\"0123456789abcdef\"} 1");
	HAS("pingx_node_draining 1");
	HAS("pingx_xdp_deny_entries 65300");
	HAS("pingx_xdp_deny_capacity 65536");
	HAS("pingx_xdp_deny_full 1");
	HAS("pingx_vip_ready{vip=\"10.0.0.1\",state=\"ready\"} 1");
	HAS("pingx_vip_ready{vip=\"10.0.0.2\",state=\"draining\"} 0");
	free(out);
	/* A failing source: the XDP families are left out, pingx_xdp_up says so. */
	stats_set_xdp_source(st, xdp_source, st);
	CU_ASSERT_EQUAL_FATAL(metrics_render(stats_metrics(st), &out, &len), 0);
	HAS("pingx_xdp_up 0");
	CU_ASSERT_PTR_NULL(strstr(out, "pingx_l4_backend_up"));
#undef HAS
	free(out);
	stats_free(st);
	cfg_free(c);
	cfg_msgs_free(&msgs);
}

static const char yaml2[] =
	"listeners: [{address: 127.0.0.1:1}]\n"
	"upstreams:\n"
	"  - {name: api2, servers: [{address: 127.0.0.1:9}]}\n"
	"  - {name: api, servers: [{address: 127.0.0.1:9}]}\n"
	"virtual_hosts:\n"
	"  - name: main\n"
	"    hosts: '*'\n"
	"    routes: [{path: /v1/, upstream: api2}, {path: /v2/, upstream: api2}]\n";

/* A reload: the new stats share the registry, counters go on, the collectors follow the new
 * config, and the old stats can be freed first or last. */
static void test_stats_reload(void)
{
	struct cfg_msgs msgs = {0};
	struct cfg *c1 = cfg_load_string("a.yaml", yaml, strlen(yaml), &msgs);
	struct cfg *c2 = cfg_load_string("b.yaml", yaml2, strlen(yaml2), &msgs);
	struct stats *s1, *s2;
	char *out;
	size_t len;

	CU_ASSERT_FATAL(c1 != NULL && c2 != NULL);
	s1 = stats_new(c1, 2, NULL);
	CU_ASSERT_FATAL(s1 != NULL);
	stats_request(s1, 0, &c1->vhosts[0].routes[1], 200, 10);
	stats_conn_open(s1, 1);
	stats_peer_state(s1, 0, 0, false);
	CU_ASSERT_PTR_NULL(stats_new(c2, 3, s1));
	CU_ASSERT_EQUAL(errno, EINVAL);
	s2 = stats_new(c2, 2, s1);
	CU_ASSERT_FATAL(s2 != NULL);
	CU_ASSERT_PTR_EQUAL(stats_metrics(s1), stats_metrics(s2));
	stats_request(s2, 1, &c2->vhosts[0].routes[0], 201, 10);
	stats_request(s2, 1, &c2->vhosts[0].routes[1], 500, 10);
	/* A worker still on the old config keeps counting into the same registry. */
	stats_request(s1, 0, &c1->vhosts[0].routes[1], 204, 10);
	stats_upstream_request(s2, 0, 0, true);
	stats_free(s1);
	CU_ASSERT_EQUAL_FATAL(metrics_render(stats_metrics(s2), &out, &len), 0);
#define HAS(s) CU_ASSERT_PTR_NOT_NULL(strstr(out, s "\n"))
	HAS("pingd_requests_total{vhost=\"main\",route=\"/v1/\",code=\"2xx\"} 3");
	HAS("pingd_requests_total{vhost=\"main\",route=\"/v2/\",code=\"5xx\"} 1");
	HAS("pingd_connections_active 1");
	/* Peers of the old config keep their state (a reload does not revive a down peer); new
	 * ones start up. */
	HAS("pingd_upstream_peer_up{upstream=\"api\",server=\"127.0.0.1:9\"} 0");
	HAS("pingd_upstream_peer_up{upstream=\"api2\",server=\"127.0.0.1:9\"} 1");
	/* The ratio follows the new config's pools (api2 first, as listed). */
	HAS("pingd_upstream_pool_reuse_ratio{upstream=\"api2\"} 1\n"
	    "pingd_upstream_pool_reuse_ratio{upstream=\"api\"} 0");
#undef HAS
	free(out);
	stats_free(s2);
	cfg_free(c1);
	cfg_free(c2);
	cfg_msgs_free(&msgs);
}

int test_metrics_register(void)
{
	static const CU_TestInfo tests[] = {
		{"metric and label names", test_names},
		{"label value and HELP escaping", test_escape},
		{"number formatting", test_fmt_double},
		{"exposition of counters, gauges, histograms", test_render},
		{"registration errors and slot limits", test_errors},
		{"collectors", test_collector},
		{"per-thread shards merged while updating", test_shards},
		{"pingd families from a config, XDP source", test_stats},
		{"reload: shared registry, counters continue", test_stats_reload},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("metrics", tests);
}
