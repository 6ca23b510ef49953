// SPDX-License-Identifier: GPL-2.0
/* pingd config: parsing, defaults, every error form, the one-line mode, --dump-config round
 * trip, and docs/config.md against the key table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/cfgtest.h"
#include "tests/unit/unit.h"
#include "userspace/cfg/cfg.h"

#define BASE                                \
	"listeners:\n"                      \
	"  - address: 127.0.0.1:8080\n"     \
	"upstreams:\n"                      \
	"  - name: web\n"                   \
	"    servers:\n"                    \
	"      - address: 127.0.0.1:9000\n" \
	"virtual_hosts:\n"                  \
	"  - name: main\n"                  \
	"    hosts: '*'\n"                  \
	"    routes:\n"                     \
	"      - path: /\n"                 \
	"        upstream: web\n"

/* The same, with upstreams last so that tests can append pools. */
#define NOLISTEN_U CFGTEST_WEB_HEAD "    servers:\n      - address: 127.0.0.1:9000\n"
#define BASE_U	   "listeners:\n  - address: 127.0.0.1:8080\n" NOLISTEN_U

static void test_minimal_defaults(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(BASE, &m);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(m.errors, 0);
	CU_ASSERT_EQUAL(c->workers, 0);
	CU_ASSERT_EQUAL(c->timeouts.connect_ms, 5000);
	CU_ASSERT_EQUAL(c->timeouts.client_header_ms, 10000);
	CU_ASSERT_EQUAL(c->timeouts.keepalive_ms, 75000);
	CU_ASSERT_EQUAL(c->timeouts.total_ms, 0);
	CU_ASSERT_EQUAL(c->limits.max_header_size, 16384);
	CU_ASSERT_EQUAL(c->limits.max_body_size, 0);
	CU_ASSERT_EQUAL(c->limits.buffer_size, 65536);
	CU_ASSERT_TRUE(c->proxy.via);
	CU_ASSERT_FALSE(c->proxy.forwarded);
	CU_ASSERT_STRING_EQUAL(c->proxy.server_name, "pingd");
	CU_ASSERT_EQUAL(c->n_listeners, 1);
	CU_ASSERT_STRING_EQUAL(c->listeners[0].address.text, "127.0.0.1:8080");
	CU_ASSERT_EQUAL(c->listeners[0].backlog, 4096);
	CU_ASSERT_EQUAL(c->n_upstreams, 1);
	CU_ASSERT_EQUAL(c->upstreams[0].selection, CFG_SEL_RR);
	CU_ASSERT_EQUAL(c->upstreams[0].keepalive, 32);
	CU_ASSERT_EQUAL(c->upstreams[0].retries, 2);
	CU_ASSERT_EQUAL(c->upstreams[0].hash_key.src, CFG_HASH_URI);
	CU_ASSERT_EQUAL(c->upstreams[0].servers[0].weight, 1);
	CU_ASSERT_EQUAL(c->upstreams[0].servers[0].line, 6);
	CU_ASSERT_EQUAL(c->vhosts[0].routes[0].upstream_idx, 0);
	CU_ASSERT_EQUAL(c->vhosts[0].routes[0].match, CFG_MATCH_PREFIX);
	CU_ASSERT_PTR_NULL(c->vhosts[0].routes[0].host);
	cfg_free(c);
	cfg_msgs_free(&m);
}

static void test_full(void)
{
	const char *y = "workers: 4\n"
			"log: {level: debug, access_log: /tmp/x.log, access_format: json}\n"
			"timeouts: {connect: 250ms, upstream_read: 2m, total: 1h}\n"
			"limits: {max_header_size: 8k, max_body_size: 1g, max_headers: 50}\n"
			"proxy: {forwarded: true, via: no}\n"
			"listeners:\n"
			"  - address: '[::1]:8443'\n"
			"    virtual_hosts: [api]\n"
			"upstreams:\n"
			"  - name: api\n"
			"    selection: ketama\n"
			"    hash_key: header:X-User\n"
			"    servers:\n"
			"      - {address: 10.0.0.1:80, weight: 3}\n"
			"      - {address: '[fd00::2]:80'}\n"
			"virtual_hosts:\n"
			"  - name: api\n"
			"    hosts: [api.example.com, '*.api.example.com']\n"
			"    routes:\n"
			"      - path: /v1/\n"
			"        upstream: api\n"
			"        host: backend.internal\n"
			"        request_headers:\n"
			"          add: {X-A: '1'}\n"
			"          set: {X-B: two words}\n"
			"          remove: [Cookie, X-C]\n"
			"        response_headers: {remove: Server}\n"
			"      - {path: /health, match: exact, upstream: api}\n";
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(y, &m);
	struct cfg_route *r;

	if (!c)
		fprintf(stderr, "%s", m.text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->workers, 4);
	CU_ASSERT_EQUAL(c->log.level, 4);
	CU_ASSERT_EQUAL(c->log.access_format, 1);
	CU_ASSERT_EQUAL(c->timeouts.connect_ms, 250);
	CU_ASSERT_EQUAL(c->timeouts.upstream_read_ms, 120000);
	CU_ASSERT_EQUAL(c->timeouts.total_ms, 3600000);
	CU_ASSERT_EQUAL(c->limits.max_header_size, 8192);
	CU_ASSERT_EQUAL(c->limits.max_body_size, 1ull << 30);
	CU_ASSERT_TRUE(c->proxy.forwarded);
	CU_ASSERT_FALSE(c->proxy.via);
	CU_ASSERT_EQUAL(c->listeners[0].address.ss.ss_family, AF_INET6);
	CU_ASSERT_EQUAL(c->listeners[0].virtual_hosts.n, 1);
	CU_ASSERT_EQUAL(c->upstreams[0].selection, CFG_SEL_KETAMA);
	CU_ASSERT_EQUAL(c->upstreams[0].hash_key.src, CFG_HASH_HEADER);
	CU_ASSERT_STRING_EQUAL(c->upstreams[0].hash_key.name, "X-User");
	CU_ASSERT_EQUAL(c->upstreams[0].servers[0].weight, 3);
	CU_ASSERT_EQUAL(c->vhosts[0].hosts.n, 2);
	r = &c->vhosts[0].routes[0];
	CU_ASSERT_STRING_EQUAL(r->host, "backend.internal");
	CU_ASSERT_EQUAL_FATAL(r->request_headers.n, 4);
	CU_ASSERT_EQUAL(r->request_headers.ops[0].action, CFG_HDR_ADD);
	CU_ASSERT_STRING_EQUAL(r->request_headers.ops[1].value, "two words");
	CU_ASSERT_EQUAL(r->request_headers.ops[3].action, CFG_HDR_REMOVE);
	CU_ASSERT_STRING_EQUAL(r->request_headers.ops[3].name, "X-C");
	CU_ASSERT_EQUAL(r->response_headers.n, 1);
	CU_ASSERT_EQUAL(c->vhosts[0].routes[1].match, CFG_MATCH_EXACT);
	cfg_free(c);
	cfg_msgs_free(&m);
}

static void test_error_forms(void)
{
	cfgtest_expect_error("workers: lots\n" BASE,
		"t.yaml:1: 'workers': expected an integer in [0, 256], got 'lots'");
	cfgtest_expect_error("workers: 999\n" BASE, "t.yaml:1: 'workers': expected an integer");
	cfgtest_expect_error("workers: -1\n" BASE, "'workers': expected an integer");
	cfgtest_expect_error("timeouts: {connect: 5 s}\n" BASE,
		"t.yaml:1: 'timeouts.connect': expected a duration with a unit (ms, s, m, h), "
		"got '5 s'");
	cfgtest_expect_error(
		"timeouts: {connect: 5d}\n" BASE, "'timeouts.connect': expected a duration");
	cfgtest_expect_error(
		"timeouts: {connect: 0}\n" BASE, "'timeouts.connect': expected a duration");
	cfgtest_expect_error("timeouts: {keepalive: 99999999999s}\n" BASE, "'timeouts.keepalive'");
	cfgtest_expect_error("limits: {max_header_size: 16q}\n" BASE,
		"'limits.max_header_size': expected a size (bytes, or with k, m, g), got '16q'");
	cfgtest_expect_error("limits: {max_header_size: 10}\n" BASE, "'limits.max_header_size'");
	cfgtest_expect_error(
		"proxy: {via: maybe}\n" BASE, "'proxy.via': expected true or false, got 'maybe'");
	cfgtest_expect_error("log: {level: loud}\n" BASE,
		"'log.level': expected one of err, warn, notice, info, debug, got 'loud'");
	cfgtest_expect_error(
		"log: [1, 2]\n" BASE, "t.yaml:1: 'log': expected a mapping, got 'a list'");
	cfgtest_expect_error(
		"workers: [1]\n" BASE, "'workers': expected an integer in [0, 256], got 'a list'");
	cfgtest_expect_error(
		"colour: blue\n" BASE, "t.yaml:1: 'colour': unknown key (known here: workers");
	cfgtest_expect_error("timeouts: {conect: 1s}\n" BASE, "'timeouts.conect': unknown key");
	cfgtest_expect_error("workers: 1\nworkers: 2\n" BASE, "t.yaml:2: 'workers': given twice");
	cfgtest_expect_error(
		"listeners: []\nupstreams: []\n", "'listeners': expected 1 to 64 items, got 0");
	cfgtest_expect_error("workers: 1\n", "'listeners': required, missing");
	cfgtest_expect_error("listeners: 3\n", "'listeners': expected a list of mappings, got '3'");
	cfgtest_expect_error("- a\n- b\n", "t.yaml:1: expected a mapping at the top, got a list");
	cfgtest_expect_error("l4_announce_table: 254\n" BASE,
		"'l4_announce_table': 254 is the kernel's 'main' table");
	cfgtest_expect_error("l4_announce_table: 255\n" BASE, "the kernel's 'local' table");
	cfgtest_expect_error("l4_announce_table: 253\n" BASE, "the kernel's 'default' table");
	cfgtest_expect_error("l4_announce_table: 0\n" BASE,
		"t.yaml:1: 'l4_announce_table': expected an integer in [1, 4294967295], got '0'");
	cfgtest_expect_error(
		"l4_announce_table: main\n" BASE, "'l4_announce_table': expected an integer");
	cfgtest_expect_error(
		"l4_announce_table: 4294967296\n" BASE, "'l4_announce_table': expected");
	cfgtest_expect_error("", "empty configuration");
	cfgtest_expect_error("a: [b\n", "YAML: ");
	cfgtest_expect_error("a: b\n\tc: d\n", "t.yaml:2: YAML: ");
}

static void test_error_sections(void)
{
	cfgtest_expect_error("listeners:\n  - address: localhost:80\nupstreams: []\n",
		"t.yaml:2: 'listeners[].address': expected IPv4:PORT or [IPv6]:PORT, got "
		"'localhost:80'");
	cfgtest_expect_error("listeners:\n  - address: 1.2.3.4:0\n", "'listeners[].address'");
	cfgtest_expect_error("listeners:\n  - address: 1.2.3.4:65536\n", "'listeners[].address'");
	cfgtest_expect_error("listeners:\n  - address: '[::1:80'\n", "'listeners[].address'");
	cfgtest_expect_error(
		"listeners:\n  - backlog: 5\n", "t.yaml:2: 'listeners[].address': required");
	cfgtest_expect_error("listeners:\n  - 1.2.3.4:80\n",
		"'listeners': expected a list of mappings, "
		"got '1.2.3.4:80'");
	cfgtest_expect_error(BASE
		"  - name: main\n    hosts: b\n    routes: [{path: /, upstream: web}]\n",
		"'virtual_hosts[].name': 'main' defined twice");
	cfgtest_expect_error(BASE
		"  - name: two\n    hosts: '*'\n    routes: [{path: /, upstream: web}]\n",
		"'virtual_hosts[].hosts': '*' already served by 'main'");
	cfgtest_expect_error(BASE
		"  - name: two\n    hosts: 'a.*.com'\n    routes: [{path: /, upstream: "
		"web}]\n",
		"t.yaml:13: 'virtual_hosts[].hosts': expected a host name, *.domain or *, got "
		"'a.*.com'");
	cfgtest_expect_error(BASE "      - {path: api, upstream: web}\n",
		"t.yaml:13: 'virtual_hosts[].routes[].path': expected a path starting with /, "
		"got 'api'");
	cfgtest_expect_error(BASE "      - {path: /x, upstream: nope}\n",
		"t.yaml:13: 'virtual_hosts[].routes[].upstream': no upstream named 'nope'");
	cfgtest_expect_error(BASE "      - {path: /x, upstream: web, match: regex}\n",
		"'virtual_hosts[].routes[].match': expected one of prefix, exact, got 'regex'");
	cfgtest_expect_error(BASE
		"      - {path: /x, upstream: web, request_headers: {append: {A: b}}}\n",
		"'virtual_hosts[].routes[].request_headers': expected add, set or remove, got "
		"'append'");
	cfgtest_expect_error(BASE
		"      - {path: /x, upstream: web, request_headers: {add: {'A B': b}}}\n",
		"expected a header name, got 'A B'");
	cfgtest_expect_error(BASE
		"      - {path: /x, upstream: web, request_headers: {set: {A: \"b\\r\\nX: "
		"y\"}}}\n",
		"expected a header value without control bytes");
	cfgtest_expect_error(BASE
		"      - {path: /x, upstream: web, request_headers: {remove: ['a:b']}}\n",
		"expected a header name, got 'a:b'");
	cfgtest_expect_error(BASE "      - {path: /x, upstream: web, request_headers: {add: X}}\n",
		"expected a mapping of header names to values under 'add', got 'X'");
	cfgtest_expect_error(BASE_U "  - name: web\n    servers: [{address: 1.1.1.1:1}]\n",
		"'upstreams[].name': 'web' defined twice");
	cfgtest_expect_error(BASE_U "  - name: w2\n    servers: []\n",
		"'upstreams[].servers': expected 1 to 4096 items, got 0");
	cfgtest_expect_error(BASE_U "  - name: w2\n    servers: [{address: 1.1.1.1:1}, {address: "
				    "1.1.1.1:1}]\n",
		"'upstreams[].servers[].address': '1.1.1.1:1' listed twice in 'w2'");
	cfgtest_expect_error(BASE_U
		"  - name: w2\n    selection: random\n    servers: [{address: 1.1.1.1:1}]\n",
		"'upstreams[].selection': expected one of round_robin, weighted_round_robin, "
		"least_conn, ketama, maglev, got 'random'");
	cfgtest_expect_error(BASE_U
		"  - name: w2\n    hash_key: body\n    servers: [{address: 1.1.1.1:1}]\n",
		"'upstreams[].hash_key': expected uri, client_addr, header:NAME or "
		"cookie:NAME, got 'body'");
	cfgtest_expect_error(BASE_U
		"  - name: w2\n    hash_key: 'header:'\n    servers: [{address: "
		"1.1.1.1:1}]\n",
		"'upstreams[].hash_key'");
	cfgtest_expect_error(BASE_U
		"  - name: w2\n    servers: [{address: 1.1.1.1:1, weight: 0}]\n",
		"'upstreams[].servers[].weight': expected an integer in [1, 1000], got '0'");
	cfgtest_expect_error(
		"listeners:\n  - address: 127.0.0.1:1\n    virtual_hosts: [nope]\n" NOLISTEN_U,
		"'listeners[].virtual_hosts': no virtual host named 'nope'");
	cfgtest_expect_error(
		"listeners:\n  - address: 127.0.0.1:1\n  - address: 127.0.0.1:1\n" NOLISTEN_U,
		"'listeners[].address': '127.0.0.1:1' listed twice");
}

static void test_several_errors(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load("workers: x\ntimeouts: {connect: y}\n" BASE, &m);

	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(m.errors, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.text, "t.yaml:1:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.text, "t.yaml:2:"));
	cfg_msgs_free(&m);
}

static void test_bare_duration_warning(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load("timeouts: {connect: 5}\n" BASE, &m);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(m.errors, 0);
	CU_ASSERT_EQUAL(m.warnings, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.text, "t.yaml:1: warning: 'timeouts.connect': '5' is 5 "
					      "milliseconds; write '5s'"));
	CU_ASSERT_EQUAL(c->timeouts.connect_ms, 5);
	cfg_free(c);
	cfg_msgs_free(&m);
}

static void test_parsers(void)
{
	unsigned int ms;
	uint64_t b;
	struct cfg_addr a;

	CU_ASSERT_EQUAL(cfg_parse_duration("1500", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1500);
	CU_ASSERT_EQUAL(cfg_parse_duration("2h", &ms), 0);
	CU_ASSERT_EQUAL(ms, 7200000);
	CU_ASSERT_EQUAL(cfg_parse_duration("s", &ms), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_duration("-1s", &ms), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_duration("1.5s", &ms), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_duration("5000000h", &ms), -ERANGE);
	CU_ASSERT_EQUAL(cfg_parse_size("64kb", &b), 0);
	CU_ASSERT_EQUAL(b, 65536);
	CU_ASSERT_EQUAL(cfg_parse_size("3M", &b), 0);
	CU_ASSERT_EQUAL(b, 3u << 20);
	CU_ASSERT_EQUAL(cfg_parse_size("3mx", &b), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_size("", &b), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_size("99999999999999999999g", &b), -ERANGE);
	CU_ASSERT_EQUAL(cfg_parse_addr("*:80", &a), 0);
	CU_ASSERT_EQUAL(a.ss.ss_family, AF_INET);
	CU_ASSERT_EQUAL(cfg_parse_addr(":80", &a), 0);
	CU_ASSERT_EQUAL(cfg_parse_addr("[::]:80", &a), 0);
	CU_ASSERT_EQUAL(a.ss.ss_family, AF_INET6);
	CU_ASSERT_EQUAL(cfg_parse_addr("::1:80", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_addr("1.2.3.4", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_addr("1.2.3.4:8x", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_addr("1.2.3:80", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_addr("[::1]80", &a), -EINVAL);
}

static void test_oneline(void)
{
	struct cfg_msgs m = {0};
	struct cfg *c =
		cfg_oneline("127.0.0.1:8080", "127.0.0.1:9001,127.0.0.1:9002", 3, NULL, 0, &m);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->workers, 3);
	CU_ASSERT_EQUAL(c->n_upstreams, 1);
	CU_ASSERT_EQUAL(c->upstreams[0].n_servers, 2);
	CU_ASSERT_STRING_EQUAL(c->upstreams[0].servers[1].address.text, "127.0.0.1:9002");
	CU_ASSERT_STRING_EQUAL(c->vhosts[0].hosts.v[0], "*");
	cfg_free(c);
	cfg_msgs_free(&m);

	c = cfg_oneline("127.0.0.1:8080", "127.0.0.1:9001,bad'host", 1, NULL, 0, &m);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(m.text && strstr(m.text, "command line:"));
	CU_ASSERT(m.text && strstr(m.text, "got 'bad'host'"));
	cfg_msgs_free(&m);
	c = cfg_oneline("nowhere", "127.0.0.1:9001", 1, NULL, 0, &m);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(m.text && strstr(m.text, "'listeners[].address'"));
	cfg_msgs_free(&m);
}

/* --dump-config prints YAML that loads back to an identical dump. */
static void test_dump_roundtrip(void)
{
	const char *y =
		BASE "      - path: /a\n        upstream: web\n        host: x.test\n"
		     "        request_headers: {add: {A: '1', B: \"it's\"}, remove: [C, D]}\n"
		     "timeouts: {connect: 1500ms}\nlimits: {max_body_size: 1000}\n";
	char *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(y, &m), *c2;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	f = open_memstream(&d1, &l1);
	cfg_dump(f, c);
	fclose(f);
	c2 = cfgtest_load(d1, &m);
	if (!c2)
		fprintf(stderr, "%s\n%s", d1, m.text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	f = open_memstream(&d2, &l2);
	cfg_dump(f, c2);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(d1, d2);
	CU_ASSERT_EQUAL(c2->timeouts.connect_ms, 1500);
	CU_ASSERT_EQUAL(c2->limits.max_body_size, 1000);
	CU_ASSERT_EQUAL(c2->vhosts[0].routes[1].request_headers.n, 4);
	CU_ASSERT_STRING_EQUAL(c2->vhosts[0].routes[1].request_headers.ops[1].value, "it's");
	free(d1);
	free(d2);
	cfg_free(c);
	cfg_free(c2);
	cfg_msgs_free(&m);
}

/* docs/config.md has a row for every key of the table, with its default. */
static void test_docs_match_table(void)
{
	const char *top = getenv("PINGX_TOP");
	char path[512], *doc = NULL;
	size_t len = 0, rd;
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/config.md", top ? top : ".");
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	doc = malloc(1 << 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	rd = fread(doc, 1, (1 << 20) - 1, f);
	fclose(f);
	doc[rd] = '\0';
	(void)len;
	for (size_t i = 0; i < cfg_key_count(); i++) {
		struct cfg_key_info k;
		char want[256], *row, *eol;

		CU_ASSERT_EQUAL_FATAL(cfg_key_info_at(i, &k), 0);
		snprintf(want, sizeof(want), "| `%s` |", k.name);
		row = strstr(doc, want);
		if (!row)
			fprintf(stderr, "\n  docs/config.md lacks key %s", k.name);
		CU_ASSERT_PTR_NOT_NULL(row);
		if (!row)
			continue;
		eol = strchr(row, '\n');
		if (eol)
			*eol = '\0';
		if (k.def && *k.def) {
			snprintf(want, sizeof(want), "| `%s` |", k.def);
			if (!strstr(row, want))
				fprintf(stderr, "\n  docs/config.md: %s default is not %s", k.name,
					k.def);
			CU_ASSERT_PTR_NOT_NULL(strstr(row, want));
		}
		if (!strstr(row, k.help))
			fprintf(stderr, "\n  docs/config.md: %s help differs", k.name);
		CU_ASSERT_PTR_NOT_NULL(strstr(row, k.help));
		if (eol)
			*eol = '\n';
	}
	free(doc);
}

int test_cfg_register(void)
{
	static const CU_TestInfo tests[] = {
		{"minimal config gets the defaults", test_minimal_defaults},
		{"every section and type", test_full},
		{"error forms: scalars, types, keys", test_error_forms},
		{"error forms: lists and references", test_error_sections},
		{"all errors reported, not the first", test_several_errors},
		{"bare small duration warns", test_bare_duration_warning},
		{"duration, size, address parsers", test_parsers},
		{"one-line mode", test_oneline},
		{"dump-config round trip", test_dump_roundtrip},
		{"docs/config.md matches the table", test_docs_match_table},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("cfg", tests);
}
