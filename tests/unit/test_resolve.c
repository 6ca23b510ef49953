// SPDX-License-Identifier: GPL-2.0
/* Upstream server names in pingd's config: resolution through /etc/hosts, expansion of a name
 * into one server per address with its weight, the sorted and repeat-free order (checked
 * with a fake resolver that answers in any order), and every error form. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/cfgtest.h"
#include "tests/unit/unit.h"
#include "userspace/cfg/cfg.h"
#include "userspace/ops/metrics.h"
#include "userspace/ops/stats.h"
#include "userspace/upstream/backend.h"

/* Everything but the upstream pool, which each test appends. */
#define HEAD "listeners:\n  - address: 127.0.0.1:8080\n" CFGTEST_WEB_HEAD
/* The line of the first server item after HEAD "    servers:\n". */
#define FIRST_SERVER_LINE 12

/* ------------------------------------------------------------------ fake resolver */

/* What the fake resolver answers: for each name, the addresses in the order given. The
 * order is rotated by <fake_rotate> so that tests can show it does not matter. */
static const struct {
	const char *name;
	const char *addrs[8];
} fake_zone[] = {
	{"app.test", {"10.0.0.3", "2001:db8::1", "10.0.0.1", "10.0.0.3", "10.0.0.2", "2001:db8::1",
			     NULL}},
	{"one.test", {"10.0.0.2", NULL}},
	{"v6.test", {"2001:db8::9", "2001:db8::2", NULL}},
};
static size_t fake_rotate;
static unsigned int fake_calls;
static int fake_hints_ok; /* every call asked for TCP, any family, numeric port */
static size_t fake_many;  /* "many.test" answers this many addresses */

static int fake_add(struct addrinfo **tail, int family, const void *ip, unsigned int port)
{
	struct addrinfo *ai = calloc(1, sizeof(*ai));
	struct sockaddr_storage *ss = calloc(1, sizeof(*ss));

	if (!ai || !ss) {
		free(ai);
		free(ss);
		return EAI_MEMORY;
	}
	ai->ai_family = family;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_protocol = IPPROTO_TCP;
	ai->ai_addr = (struct sockaddr *)ss;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, ip, 4);
		ai->ai_addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_flowinfo = htonl(7); /* must not make two equal addresses differ */
		memcpy(&sin6->sin6_addr, ip, 16);
		ai->ai_addrlen = sizeof(*sin6);
	}
	*tail = ai;
	return 0;
}

static void fake_freeaddrinfo(struct addrinfo *res)
{
	while (res) {
		struct addrinfo *next = res->ai_next;

		free(res->ai_addr);
		free(res);
		res = next;
	}
}

static int fake_getaddrinfo(
	const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo *head = NULL, **tail = &head;
	unsigned int port = (unsigned int)atoi(service);

	fake_calls++;
	if (hints->ai_family != AF_UNSPEC || hints->ai_socktype != SOCK_STREAM ||
		!(hints->ai_flags & AI_NUMERICSERV))
		fake_hints_ok = 0;
	if (!strcmp(node, "slow.test"))
		return EAI_AGAIN;
	if (!strcmp(node, "many.test")) {
		for (size_t i = 0; i < fake_many; i++) {
			uint32_t ip = htonl(0x0a010000u + (uint32_t)i);

			if (fake_add(tail, AF_INET, &ip, port)) {
				fake_freeaddrinfo(head);
				return EAI_MEMORY;
			}
			tail = &(*tail)->ai_next;
		}
		*res = head;
		return 0;
	}
	if (!strcmp(node, "unix.test")) {
		/* An answer of a family servers cannot use: skipped, nothing left. */
		struct addrinfo *ai = calloc(1, sizeof(*ai));
		struct sockaddr *sa = calloc(1, sizeof(struct sockaddr_storage));

		if (!ai || !sa) {
			free(ai);
			free(sa);
			return EAI_MEMORY;
		}
		sa->sa_family = AF_UNIX;
		ai->ai_family = AF_UNIX;
		ai->ai_addr = sa;
		ai->ai_addrlen = sizeof(struct sockaddr_storage);
		*res = ai;
		return 0;
	}
	for (size_t z = 0; z < sizeof(fake_zone) / sizeof(fake_zone[0]); z++) {
		size_t n = 0;

		if (strcmp(node, fake_zone[z].name))
			continue;
		while (fake_zone[z].addrs[n])
			n++;
		for (size_t i = 0; i < n; i++) {
			const char *a = fake_zone[z].addrs[(i + fake_rotate) % n];
			unsigned char ip[16];
			int family = strchr(a, ':') ? AF_INET6 : AF_INET;

			CU_ASSERT_EQUAL_FATAL(inet_pton(family, a, ip), 1);
			if (fake_add(tail, family, ip, port)) {
				fake_freeaddrinfo(head);
				return EAI_MEMORY;
			}
			tail = &(*tail)->ai_next;
		}
		*res = head;
		return 0;
	}
	return EAI_NONAME;
}

static void fake_on(void)
{
	fake_rotate = 0;
	fake_calls = 0;
	fake_hints_ok = 1;
	cfg_set_resolver(fake_getaddrinfo, fake_freeaddrinfo);
}

static void fake_off(void)
{
	cfg_set_resolver(NULL, NULL);
}

/* ------------------------------------------------------------------ tests */

static bool is_loopback(const struct cfg_addr *a)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return false;
}

/* localhost:PORT through the real resolver: /etc/hosts guarantees 127.0.0.1 (and may add
 * ::1); every address is a loopback one, with the port, weight and name of the item. */
static void test_localhost(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(HEAD "    servers:\n"
					  "      - address: 127.0.0.1:9000\n"
					  "      - {address: 'localhost:9001', weight: 3}\n"
					  "      - address: 127.0.0.2:9002\n",
		&m);
	const struct cfg_upstream *u;
	struct cfg_addr sorted[64];
	bool v4 = false;
	size_t n;

	if (!c)
		fprintf(stderr, "\n%s", m.text ? m.text : "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	u = &c->upstreams[0];
	n = u->n_servers - 2;
	CU_ASSERT_FATAL(u->n_servers >= 3 && n <= 64);
	CU_ASSERT_STRING_EQUAL(u->servers[0].address.text, "127.0.0.1:9000");
	CU_ASSERT_STRING_EQUAL(u->servers[0].name, "");
	CU_ASSERT_STRING_EQUAL(u->servers[n + 1].address.text, "127.0.0.2:9002");
	for (size_t i = 1; i <= n; i++) {
		const struct cfg_server *s = &u->servers[i];

		CU_ASSERT_TRUE(is_loopback(&s->address));
		CU_ASSERT_STRING_EQUAL(s->name, "localhost:9001");
		CU_ASSERT_EQUAL(s->weight, 3);
		CU_ASSERT_EQUAL(s->line, FIRST_SERVER_LINE + 1);
		CU_ASSERT(strstr(s->address.text, ":9001") != NULL);
		v4 |= !strcmp(s->address.text, "127.0.0.1:9001");
		sorted[i - 1] = s->address;
	}
	/* Already in cfg_addrs_sort_unique() order, with no repeats. */
	CU_ASSERT_EQUAL(cfg_addrs_sort_unique(sorted, n), n);
	for (size_t i = 1; i <= n; i++)
		CU_ASSERT_STRING_EQUAL(sorted[i - 1].text, u->servers[i].address.text);
	CU_ASSERT_TRUE(v4);
	cfg_free(c);
	cfg_msgs_free(&m);

	/* The one-line mode takes names too. */
	c = cfg_oneline("127.0.0.1:8080", "localhost:9001,127.0.0.1:9002", 1, NULL, 0, &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->upstreams[0].n_servers >= 2);
	CU_ASSERT_STRING_EQUAL(c->upstreams[0].servers[0].address.text, "127.0.0.1:9001");
	CU_ASSERT_STRING_EQUAL(c->upstreams[0].servers[0].name, "localhost:9001");
	cfg_free(c);
	cfg_msgs_free(&m);
}

/* A name with several addresses becomes that many servers, sorted, repeats dropped, each with
 * the weight; the pool's order and tables do not depend on the order of the answer. */
static void test_expand_sorted(void)
{
	static const char *const want[] = {
		"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080", "[2001:db8::1]:8080"};
	const char *y = HEAD "    selection: maglev\n"
			     "    servers:\n"
			     "      - address: 192.0.2.1:80\n"
			     "      - {address: app.test:8080, weight: 5}\n"
			     "      - {address: '[2001:db8::ff]:80', weight: 2}\n";
	struct cfg *c[3] = {NULL};
	struct backend *be[3] = {NULL};
	struct cfg_msgs m;

	fake_on();
	for (int r = 0; r < 3; r++) {
		fake_rotate = (size_t)r * 2 + 1;
		c[r] = cfgtest_load(y, &m);
		if (!c[r])
			fprintf(stderr, "\n%s", m.text ? m.text : "");
		cfg_msgs_free(&m);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c[r]);
	}
	fake_off();
	CU_ASSERT_EQUAL(fake_calls, 3);
	CU_ASSERT_TRUE(fake_hints_ok);
	for (int r = 0; r < 3; r++) {
		const struct cfg_upstream *u = &c[r]->upstreams[0];

		CU_ASSERT_EQUAL_FATAL(u->n_servers, 6);
		CU_ASSERT_STRING_EQUAL(u->servers[0].address.text, "192.0.2.1:80");
		CU_ASSERT_EQUAL(u->servers[0].weight, 1);
		for (size_t i = 0; i < 4; i++) {
			const struct cfg_server *s = &u->servers[1 + i];

			CU_ASSERT_STRING_EQUAL(s->address.text, want[i]);
			CU_ASSERT_STRING_EQUAL(s->name, "app.test:8080");
			CU_ASSERT_EQUAL(s->weight, 5);
			CU_ASSERT_EQUAL(s->line, FIRST_SERVER_LINE + 2);
		}
		CU_ASSERT_EQUAL(u->servers[4].address.ss.ss_family, AF_INET6);
		CU_ASSERT_STRING_EQUAL(u->servers[5].address.text, "[2001:db8::ff]:80");
		CU_ASSERT_EQUAL(u->servers[5].weight, 2);
		for (size_t i = 0; r && i < u->n_servers; i++) {
			CU_ASSERT_EQUAL(u->servers[i].address.len,
				c[0]->upstreams[0].servers[i].address.len);
			CU_ASSERT_EQUAL(memcmp(&u->servers[i].address.ss,
						&c[0]->upstreams[0].servers[i].address.ss,
						u->servers[i].address.len),
				0);
		}
		be[r] = backend_new(c[r], 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(be[r]);
		CU_ASSERT_EQUAL(be[r]->total_weight, 1 + 4 * 5 + 2);
	}
	/* The same Maglev table whatever order DNS answered in. */
	CU_ASSERT_EQUAL(be[0]->maglev_len, be[1]->maglev_len);
	CU_ASSERT_EQUAL(memcmp(be[0]->maglev, be[1]->maglev, be[0]->maglev_len * 4), 0);
	CU_ASSERT_EQUAL(memcmp(be[0]->maglev, be[2]->maglev, be[0]->maglev_len * 4), 0);
	for (int r = 0; r < 3; r++) {
		backend_free(be[r]);
		cfg_free(c[r]);
	}
}

/* A name's servers each keep the item's TLS names, in copies of their own (each is freed
 * with its server); names on a server not written https:// are an error at its line. */
static void test_expand_tls_names(void)
{
	struct cfg_msgs m;
	struct cfg *c;
	const struct cfg_upstream *u;

	fake_on();
	c = cfgtest_load(HEAD "    tls: {verify: false}\n"
			      "    servers:\n"
			      "      - {address: 'https://app.test:8443', sni: a.test,"
			      " verify_hostname: b.test}\n"
			      "      - address: 'https://192.0.2.1:8443'\n",
		&m);
	if (!c)
		fprintf(stderr, "\n%s", m.text ? m.text : "");
	cfg_msgs_free(&m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	u = &c->upstreams[0];
	CU_ASSERT_EQUAL_FATAL(u->n_servers, 5);
	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_TRUE(u->servers[i].tls);
		CU_ASSERT_PTR_NOT_NULL_FATAL(u->servers[i].sni);
		CU_ASSERT_PTR_NOT_NULL_FATAL(u->servers[i].verify_hostname);
		CU_ASSERT_STRING_EQUAL(u->servers[i].sni, "a.test");
		CU_ASSERT_STRING_EQUAL(u->servers[i].verify_hostname, "b.test");
		for (size_t j = 0; j < i; j++) {
			CU_ASSERT_PTR_NOT_EQUAL(u->servers[i].sni, u->servers[j].sni);
			CU_ASSERT_PTR_NOT_EQUAL(
				u->servers[i].verify_hostname, u->servers[j].verify_hostname);
		}
	}
	CU_ASSERT_PTR_NULL(u->servers[4].sni);
	CU_ASSERT_PTR_NULL(u->servers[4].verify_hostname);
	cfg_free(c);

	c = cfgtest_load(HEAD "    servers:\n"
			      "      - {address: 'app.test:80', sni: a.test}\n",
		&m);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_TRUE(m.text && strstr(m.text, "'upstreams[].servers[].sni': only for "
						    "servers written https://"));
	cfg_msgs_free(&m);
	cfg_free(c);
	fake_off();
}

/* ketama hashes the resolved address text: one ring whatever the answer order. */
static void test_ketama_stable(void)
{
	const char *y = HEAD "    selection: ketama\n"
			     "    servers:\n"
			     "      - address: app.test:8080\n"
			     "      - address: v6.test:81\n";
	struct cfg_msgs m;
	struct cfg *c1, *c2;
	struct backend *b1, *b2;
	struct backend_wstate w1, w2;
	unsigned int hit = 0;

	fake_on();
	c1 = cfgtest_load(y, &m);
	cfg_msgs_free(&m);
	fake_rotate = 1;
	c2 = cfgtest_load(y, &m);
	cfg_msgs_free(&m);
	fake_off();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	CU_ASSERT_EQUAL_FATAL(c1->upstreams[0].n_servers, 6);
	CU_ASSERT_STRING_EQUAL(c1->upstreams[0].servers[4].address.text, "[2001:db8::2]:81");
	CU_ASSERT_STRING_EQUAL(c1->upstreams[0].servers[5].address.text, "[2001:db8::9]:81");
	b1 = backend_new(c1, 0);
	b2 = backend_new(c2, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b2);
	CU_ASSERT_EQUAL_FATAL(backend_wstate_init(&w1, b1), 0);
	CU_ASSERT_EQUAL_FATAL(backend_wstate_init(&w2, b2), 0);
	for (unsigned int k = 0; k < 2000; k++) {
		char key[16];
		int n = snprintf(key, sizeof(key), "/k%u", k);
		int s1 = backend_select(b1, &w1, backend_hash(b1, key, (size_t)n), 0);
		int s2 = backend_select(b2, &w2, backend_hash(b2, key, (size_t)n), 0);

		CU_ASSERT_FATAL(s1 >= 0 && s2 >= 0);
		CU_ASSERT_STRING_EQUAL(
			b1->servers[s1].cfg->address.text, b2->servers[s2].cfg->address.text);
		hit |= 1u << s1;
		backend_done(&w1, s1);
		backend_done(&w2, s2);
	}
	CU_ASSERT_EQUAL(hit, 0x3f); /* every server got keys: the check compares something */
	backend_wstate_release(&w1);
	backend_wstate_release(&w2);
	backend_free(b1);
	backend_free(b2);
	cfg_free(c1);
	cfg_free(c2);
}

/* cfg_addrs_sort_unique() on its own: IPv4 first, address order, then port; repeats out. */
static void test_sort_unique(void)
{
	const char *in[] = {"[::1]:80", "10.0.0.2:80", "10.0.0.10:80", "10.0.0.2:80", "[::1]:80",
		"10.0.0.2:79", "[2001:db8::]:80", "9.255.255.255:80"};
	const char *want[] = {"9.255.255.255:80", "10.0.0.2:79", "10.0.0.2:80", "10.0.0.10:80",
		"[::1]:80", "[2001:db8::]:80"};
	struct cfg_addr a[8];
	size_t n;

	for (size_t i = 0; i < 8; i++)
		CU_ASSERT_EQUAL_FATAL(cfg_parse_addr(in[i], &a[i]), 0);
	n = cfg_addrs_sort_unique(a, 8);
	CU_ASSERT_EQUAL_FATAL(n, 6);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_STRING_EQUAL(a[i].text, want[i]);
	CU_ASSERT_EQUAL(cfg_addrs_sort_unique(a, 0), 0);
	CU_ASSERT_EQUAL(cfg_addrs_sort_unique(a, 1), 1);
}

/* Names that do not resolve: an error at the item's line, the old way of the file. */
static void test_unresolvable(void)
{
	struct cfg_msgs m;
	struct cfg *c;

	/* The real resolver: .invalid never resolves (RFC 6761) and is not even asked. */
	cfgtest_expect_error(HEAD "    servers:\n      - address: 127.0.0.1:80\n"
				  "      - address: nosuch.invalid:80\n",
		"t.yaml:13: 'upstreams[].servers[].address': cannot resolve 'nosuch.invalid': "
		"Name or service not known\n");
	cfgtest_expect_error(HEAD "    servers:\n      - address: 'a.b.INVALID.:80'\n",
		"t.yaml:12: 'upstreams[].servers[].address': cannot resolve 'a.b.INVALID.': "
		"Name or service not known\n");

	fake_on();
	cfgtest_expect_error(HEAD "    servers:\n      - address: nosuch.invalid:80\n",
		"cannot resolve 'nosuch.invalid'");
	CU_ASSERT_EQUAL(fake_calls, 0);
	cfgtest_expect_error(HEAD "    servers:\n      - address: nope.test:80\n",
		"t.yaml:12: 'upstreams[].servers[].address': cannot resolve 'nope.test': "
		"Name or service not known");
	cfgtest_expect_error(HEAD "    servers:\n      - address: slow.test:80\n",
		"t.yaml:12: 'upstreams[].servers[].address': cannot resolve 'slow.test': "
		"Temporary failure in name resolution");
	cfgtest_expect_error(HEAD "    servers:\n      - address: unix.test:80\n",
		"cannot resolve 'unix.test': no IPv4 or IPv6 address");
	/* Every failure is reported, with the other errors of the file. */
	c = cfgtest_load(HEAD "    servers:\n      - address: nope.test:80\n      - address: "
			      "slow.test:81\n      - {address: app.test:80, weight: 0}\n",
		&m);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(m.errors, 3);
	CU_ASSERT(m.text && strstr(m.text, "t.yaml:12: 'upstreams[].servers[].address': cannot"));
	CU_ASSERT(m.text && strstr(m.text, "t.yaml:13: 'upstreams[].servers[].address': cannot"));
	CU_ASSERT(m.text && strstr(m.text, "t.yaml:14: 'upstreams[].servers[].weight'"));
	cfg_msgs_free(&m);
	fake_off();
}

/* Malformed names: each with a reason. */
static void test_malformed(void)
{
	static const struct {
		const char *addr, *why;
	} bad[] = {
		{"'host:'", "no port after ':'"},
		{":80", "no host before the port"},
		{"'*:80'", "'*' (any address) is for listeners"},
		{"host:99999", "the port is not a number from 1 to 65535"},
		{"host:0", "the port is not a number from 1 to 65535"},
		{"host:8o", "the port is not a number from 1 to 65535"},
		{"host:123456", "the port is not a number from 1 to 65535"},
		{"host:-1", "the port is not a number from 1 to 65535"},
		{"host", "no port (NAME:PORT)"},
		{"'a b:80'", "' ' is not allowed in a host name"},
		{"'a/b:80'", "'/' is not allowed in a host name"},
		{"\"a\\tb:80\"", "byte 0x09 is not allowed in a host name"},
		{"a..b:80", "empty label in host name"},
		{".a:80", "empty label in host name"},
		{"-a.b:80", "a host name label starts or ends with '-'"},
		{"a-.b:80", "a host name label starts or ends with '-'"},
		{"10.0.0.300:80", "not a valid IPv4 address, nor a host name"},
		{"10.1:80", "not a valid IPv4 address, nor a host name"},
		{"'::1:80'", "an IPv6 address needs brackets: [IPv6]:PORT"},
		{"'[::1:80'", "not an IPv6 address between the brackets"},
		{"'[nosuch.test]:80'", "not an IPv6 address between the brackets"},
	};
	char y[1024], want[256], longname[400];

	fake_on();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(y, sizeof(y), HEAD "    servers:\n      - address: %s\n", bad[i].addr);
		snprintf(want, sizeof(want),
			"t.yaml:12: 'upstreams[].servers[].address': expected "
			"IPv4:PORT, [IPv6]:PORT or NAME:PORT, got '");
		cfgtest_expect_error(y, want);
		cfgtest_expect_error(y, bad[i].why);
	}
	/* 64-byte label; 254-byte name (253 with a final dot is fine, then it does not
	 * resolve). */
	memset(longname, 'a', 64);
	strcpy(longname + 64, ".test:80");
	snprintf(y, sizeof(y), HEAD "    servers:\n      - address: %s\n", longname);
	cfgtest_expect_error(y, "a host name label is longer than 63 bytes");
	for (size_t i = 0; i < 254; i++)
		longname[i] = i % 2 ? '.' : 'a';
	strcpy(longname + 253, "b:80");
	snprintf(y, sizeof(y), HEAD "    servers:\n      - address: %s\n", longname);
	cfgtest_expect_error(y, "host name longer than 253 bytes");
	strcpy(longname + 253, ".:80");
	snprintf(y, sizeof(y), HEAD "    servers:\n      - address: %s\n", longname);
	cfgtest_expect_error(y, "cannot resolve '");
	CU_ASSERT_EQUAL(fake_calls, 1); /* only the well-formed one is looked up */
	fake_off();
	/* A list where an address belongs. */
	cfgtest_expect_error(HEAD "    servers:\n      - address: [a, b]\n",
		"'upstreams[].servers[].address': expected IPv4:PORT, [IPv6]:PORT or NAME:PORT, "
		"got 'a list'");
}

/* Listeners and the admin listener bind IP addresses; given a name they say so. */
static void test_listener_names(void)
{
	cfgtest_expect_error("listeners:\n  - address: localhost:8080\n",
		"t.yaml:2: 'listeners[].address': expected IPv4:PORT or [IPv6]:PORT, got "
		"'localhost:8080': a listener binds an IP address; host names are not resolved "
		"here");
	cfgtest_expect_error("admin: {address: 'localhost:9100'}\n" HEAD
			     "    servers:\n      - address: 127.0.0.1:80\n",
		"t.yaml: 'admin.address': expected IPv4:PORT or [IPv6]:PORT, got "
		"'localhost:9100': the admin listener binds an IP address; host names are not "
		"resolved here");
	/* Not a name: no such hint. */
	cfgtest_expect_error("listeners:\n  - address: 1.2.3.4:0\n",
		"'listeners[].address': expected IPv4:PORT or [IPv6]:PORT, got '1.2.3.4:0'\n");
}

/* An address two items of a pool produce is an error naming both. */
static void test_duplicates(void)
{
	fake_on();
	cfgtest_expect_error(HEAD "    servers:\n      - address: one.test:80\n"
				  "      - address: 10.0.0.2:80\n",
		"t.yaml:13: 'upstreams[].servers[].address': '10.0.0.2:80' (written so) listed "
		"twice in 'web': also from line 12 (from one.test:80)");
	cfgtest_expect_error(HEAD "    servers:\n      - address: app.test:80\n"
				  "      - address: one.test:80\n",
		"t.yaml:13: 'upstreams[].servers[].address': '10.0.0.2:80' (from one.test:80) "
		"listed twice in 'web': also from line 12 (from app.test:80)");
	/* Other ports, or other pools, are other servers. */
	{
		struct cfg_msgs m;
		struct cfg *c = cfgtest_load(HEAD
			"    servers:\n      - address: one.test:80\n"
			"      - address: one.test:81\n"
			"  - name: other\n    servers: [{address: one.test:80}]\n",
			&m);

		CU_ASSERT_PTR_NOT_NULL(c);
		if (c)
			CU_ASSERT_EQUAL(c->upstreams[0].n_servers, 2);
		cfg_free(c);
		cfg_msgs_free(&m);
	}
	fake_off();
}

/* More than 4096 servers once names are expanded. */
static void test_too_many(void)
{
	struct cfg_msgs m;
	struct cfg *c;

	fake_on();
	fake_many = 4096;
	c = cfgtest_load(HEAD "    servers:\n      - address: many.test:80\n", &m);
	CU_ASSERT_PTR_NOT_NULL(c);
	if (c)
		CU_ASSERT_EQUAL(c->upstreams[0].n_servers, 4096);
	cfg_free(c);
	cfg_msgs_free(&m);
	cfgtest_expect_error(HEAD "    servers:\n      - address: many.test:80\n"
				  "      - address: 127.0.0.1:80\n",
		"t.yaml:10: 'upstreams[].servers': expected at most 4096 servers once names are "
		"resolved, got 4097");
	fake_many = 0;
	fake_off();
}

/* --dump-config prints the addresses, each with the name in a comment, and reads back. */
static void test_dump(void)
{
	char *d = NULL;
	size_t len = 0;
	struct cfg_msgs m;
	struct cfg *c, *c2;
	FILE *f;

	fake_on();
	c = cfgtest_load(HEAD "    servers:\n      - {address: one.test:80, weight: 4}\n", &m);
	fake_off();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	f = open_memstream(&d, &len);
	cfg_dump(f, c);
	fclose(f);
	CU_ASSERT(strstr(d, "- address: '10.0.0.2:80' # one.test:80\n        weight: 4\n") != NULL);
	cfg_msgs_free(&m);
	c2 = cfgtest_load(d, &m);
	CU_ASSERT_PTR_NOT_NULL(c2);
	if (c2) {
		CU_ASSERT_STRING_EQUAL(c2->upstreams[0].servers[0].address.text, "10.0.0.2:80");
		CU_ASSERT_STRING_EQUAL(c2->upstreams[0].servers[0].name, "");
	}
	free(d);
	cfg_free(c);
	cfg_free(c2);
	cfg_msgs_free(&m);
}

/* Metrics label servers by address; pingd_upstream_peer_info maps them to the name, for the
 * current config only. */
static void test_metrics(void)
{
	struct cfg_msgs m;
	struct cfg *c, *c2;
	struct stats *st, *st2;
	char *out = NULL;
	size_t len = 0;

	fake_on();
	c = cfgtest_load(HEAD
		"    servers:\n      - address: v6.test:80\n      - address: 10.0.0.7:80\n",
		&m);
	cfg_msgs_free(&m);
	c2 = cfgtest_load(HEAD "    servers:\n      - address: one.test:80\n", &m);
	cfg_msgs_free(&m);
	fake_off();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	st = stats_new(c, 1, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(metrics_render(stats_metrics(st), &out, &len), 0);
	CU_ASSERT(
		strstr(out, "# TYPE pingd_upstream_peer_info gauge\n"
			    "pingd_upstream_peer_info{upstream=\"web\",server=\"[2001:db8::2]:80\","
			    "name=\"v6.test:80\"} 1\n"
			    "pingd_upstream_peer_info{upstream=\"web\",server=\"[2001:db8::9]:80\","
			    "name=\"v6.test:80\"} 1\n#") != NULL);
	CU_ASSERT(strstr(out, "server=\"10.0.0.7:80\",name") == NULL);
	CU_ASSERT(
		strstr(out, "pingd_upstream_peer_up{upstream=\"web\",server=\"[2001:db8::9]:80\"} "
			    "1\n") != NULL);
	free(out);
	/* A reload: the old mapping is gone from the info family. */
	st2 = stats_new(c2, 1, st);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st2);
	CU_ASSERT_EQUAL_FATAL(metrics_render(stats_metrics(st2), &out, &len), 0);
	CU_ASSERT(strstr(out, "pingd_upstream_peer_info{upstream=\"web\",server=\"10.0.0.2:80\","
			      "name=\"one.test:80\"} 1\n") != NULL);
	CU_ASSERT(strstr(out, "name=\"v6.test:80\"") == NULL);
	free(out);
	stats_free(st2);
	stats_free(st);
	cfg_free(c);
	cfg_free(c2);
}

int test_resolve_register(void)
{
	static const CU_TestInfo tests[] = {
		{"localhost resolves through /etc/hosts", test_localhost},
		{"a name expands, sorted, weights kept", test_expand_sorted},
		{"ketama ring independent of answer order", test_ketama_stable},
		{"a name's servers keep their own TLS names", test_expand_tls_names},
		{"sort and drop repeats", test_sort_unique},
		{"unresolvable names are errors at their line", test_unresolvable},
		{"malformed names", test_malformed},
		{"listeners and admin refuse names clearly", test_listener_names},
		{"an address from two items is an error", test_duplicates},
		{"at most 4096 servers after expansion", test_too_many},
		{"dump-config shows address and name", test_dump},
		{"metrics: address labels, name info", test_metrics},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("resolve", tests);
}
