// SPDX-License-Identifier: GPL-2.0
/* pingctl argument parsing: "pingctl hash" options, backend lists and keys, good and bad. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "ctl/hash_args.h"
#include "maglev/maglev.h"
#include "tests/unit/unit.h"

static char err[512];

static int parse_backend(const char *s, struct hash_backend *b)
{
	err[0] = '\0';
	return hash_parse_backend(s, strlen(s), b, err, sizeof(err));
}

static void test_backend_ipv4(void)
{
	struct hash_backend b;
	uint8_t want[4] = {10, 1, 2, 3};

	CU_ASSERT_EQUAL_FATAL(parse_backend("10.1.2.3:8080", &b), 0);
	CU_ASSERT_STRING_EQUAL(b.name, "10.1.2.3:8080");
	CU_ASSERT_EQUAL(b.family, AF_INET);
	CU_ASSERT(!memcmp(b.addr, want, 4));
	CU_ASSERT_EQUAL(b.port, 8080);
	CU_ASSERT_EQUAL(b.weight, 1);
	free(b.name);

	CU_ASSERT_EQUAL_FATAL(parse_backend("10.1.2.3:1=4294967295", &b), 0);
	CU_ASSERT_STRING_EQUAL(b.name, "10.1.2.3:1"); /* the weight is not part of the name */
	CU_ASSERT_EQUAL(b.port, 1);
	CU_ASSERT_EQUAL(b.weight, UINT32_MAX);
	free(b.name);
}

static void test_backend_ipv6(void)
{
	struct hash_backend b;
	uint8_t want[16];

	inet_pton(AF_INET6, "2001:db8::1", want);
	CU_ASSERT_EQUAL_FATAL(parse_backend("[2001:db8::1]:443=7", &b), 0);
	CU_ASSERT_STRING_EQUAL(b.name, "[2001:db8::1]:443");
	CU_ASSERT_EQUAL(b.family, AF_INET6);
	CU_ASSERT(!memcmp(b.addr, want, 16));
	CU_ASSERT_EQUAL(b.port, 443);
	CU_ASSERT_EQUAL(b.weight, 7);
	free(b.name);
	CU_ASSERT_EQUAL_FATAL(parse_backend("[::ffff:10.0.0.1]:65535", &b), 0);
	CU_ASSERT_EQUAL(b.port, 65535);
	free(b.name);
}

/* Each malformed item is refused with -EINVAL and a message that quotes it. */
static void test_backend_bad(void)
{
	static const char *const bad[] = {
		"",
		"10.0.0.1",
		"10.0.0.1:",
		"10.0.0.1:0",
		"10.0.0.1:65536",
		"10.0.0.1:99999999999999999999",
		"10.0.0.1:80x",
		"10.0.0.1:+80",
		"10.0.0.1: 80",
		"10.0.0.256:80",
		"10.0.0:80",
		"10.0.0.1.5:80",
		"host.example:80",
		":80",
		"::1:80",
		"[::1]",
		"[::1]80",
		"[::1:80",
		"[::g]:80",
		"[10.0.0.1]:80",
		"10.0.0.1:80=",
		"10.0.0.1:80=0",
		"10.0.0.1:80=-1",
		"10.0.0.1:80=1.5",
		"10.0.0.1:80=4294967296",
		"10.0.0.1:80=1=2",
		"10.0.0.1:80 ",
		"[::1]:80=x",
		"0123456789012345678901234567890123456789012345678901234567890123456789012345678901"
		"234567890123456789012345678901234567890123456789:80",
	};
	struct hash_backend b;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse_backend(bad[i], &b);

		CU_ASSERT_EQUAL(ret, -EINVAL);
		if (ret != -EINVAL) {
			fprintf(stderr, "\naccepted bad backend '%s'\n", bad[i]);
			free(b.name);
			continue;
		}
		CU_ASSERT_PTR_NULL(b.name);
		CU_ASSERT(strlen(err) > 0);
		/* The message names the item (long items by their start). */
		CU_ASSERT(strstr(err, bad[i]) != NULL || strlen(bad[i]) > 64 || !bad[i][0]);
	}
}

static void test_backend_list(void)
{
	struct hash_backend *b;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(hash_parse_backends("10.0.0.1:80,[::1]:81=3,10.0.0.2:80=2", &b, &n,
				      err, sizeof(err)),
		0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(b[0].name, "10.0.0.1:80");
	CU_ASSERT_STRING_EQUAL(b[1].name, "[::1]:81");
	CU_ASSERT_EQUAL(b[1].weight, 3);
	CU_ASSERT_EQUAL(b[2].weight, 2);
	for (size_t i = 0; i < n; i++)
		free(b[i].name);
	free(b);

	/* The same address and port twice, even written differently, is refused. */
	static const char *const bad[] = {
		"",
		",",
		"10.0.0.1:80,",
		",10.0.0.1:80",
		"10.0.0.1:80,,10.0.0.2:80",
		"10.0.0.1:80,10.0.0.1:80=2",
		"[::1]:80,[0:0::1]:80",
		"10.0.0.1:80,10.0.0.2:80,bogus",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(hash_parse_backends(bad[i], &b, &n, err, sizeof(err)), -EINVAL);
		CU_ASSERT_PTR_NULL(b);
		CU_ASSERT_EQUAL(n, 0);
		CU_ASSERT(strlen(err) > 0);
	}
	CU_ASSERT_EQUAL(
		hash_parse_backends("[::1]:80,[0:0::1]:80", &b, &n, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "[0:0::1]:80") && strstr(err, "[::1]:80"));
	CU_ASSERT_EQUAL(
		hash_parse_backends("10.0.0.1:80,bogus", &b, &n, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "'bogus'") != NULL);
}

/* Run hash_parse_args over a NULL-terminated list of words. */
static int parse_words(struct hash_args *a, const char *const *words)
{
	char *argv[32];
	int argc = 0;

	while (words[argc] && argc < 31) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return hash_parse_args(argc, argv, a, err, sizeof(err));
}

static void test_args_ok(void)
{
	struct hash_args a;

	{
		const char *w[] = {"--algo", "ketama", "--backends", "10.0.0.1:80=2,10.0.0.2:80",
			"k1", "-", "k2", NULL};

		CU_ASSERT_EQUAL_FATAL(parse_words(&a, w), 0);
		CU_ASSERT_EQUAL(a.algo, HASH_ALGO_KETAMA);
		CU_ASSERT_EQUAL(a.compat, KETAMA_NGINX);
		CU_ASSERT_FALSE(a.compat_set);
		CU_ASSERT_EQUAL(a.nbackends, 2);
		CU_ASSERT_EQUAL(a.nkeys, 3);
		CU_ASSERT_STRING_EQUAL(a.keys[0], "k1");
		CU_ASSERT_STRING_EQUAL(a.keys[1], "-");
		CU_ASSERT_STRING_EQUAL(a.keys[2], "k2");
		hash_args_free(&a);
	}
	{
		const char *w[] = {"k0", "--algo=ketama", "--ketama-compat=libketama",
			"--backends=[::1]:80", "--", "--algo", "-x", NULL};

		CU_ASSERT_EQUAL_FATAL(parse_words(&a, w), 0);
		CU_ASSERT_EQUAL(a.compat, KETAMA_LIBKETAMA);
		CU_ASSERT(a.compat_set);
		CU_ASSERT_EQUAL(a.nkeys, 3); /* after "--" everything is a key */
		CU_ASSERT_STRING_EQUAL(a.keys[0], "k0");
		CU_ASSERT_STRING_EQUAL(a.keys[1], "--algo");
		CU_ASSERT_STRING_EQUAL(a.keys[2], "-x");
		hash_args_free(&a);
	}
	{
		const char *w[] = {"--algo", "maglev", "--table-size", "1000003", "--backends",
			"10.0.0.1:80", "", NULL};

		CU_ASSERT_EQUAL_FATAL(parse_words(&a, w), 0);
		CU_ASSERT_EQUAL(a.algo, HASH_ALGO_MAGLEV);
		CU_ASSERT_EQUAL(a.table_size, 1000003);
		CU_ASSERT(a.table_size_set);
		CU_ASSERT_EQUAL(a.nkeys, 1); /* the empty string is a key */
		hash_args_free(&a);
	}
	{
		const char *w[] = {"--algo", "maglev", "--backends", "10.0.0.1:80", "k", NULL};

		CU_ASSERT_EQUAL_FATAL(parse_words(&a, w), 0);
		CU_ASSERT_EQUAL(a.table_size, MAGLEV_DEFAULT_SIZE);
		hash_args_free(&a);
	}
}

/* Each bad command line gives -EINVAL and a message containing <needle>. */
static void check_args_bad(const char *needle, const char *const *words)
{
	struct hash_args a;
	int ret = parse_words(&a, words);

	CU_ASSERT_EQUAL(ret, -EINVAL);
	CU_ASSERT(strstr(err, needle) != NULL);
	if (ret != -EINVAL || !strstr(err, needle))
		fprintf(stderr, "\nwanted '%s' in '%s' (ret %d)\n", needle, err, ret);
	hash_args_free(&a);
}

static void test_args_bad(void)
{
#define BAD(needle, ...)                                \
	do {                                            \
		const char *w_[] = {__VA_ARGS__, NULL}; \
		check_args_bad(needle, w_);             \
	} while (0)
	BAD("missing --algo", "--backends", "10.0.0.1:80", "k");
	BAD("unknown algorithm 'rr'", "--algo", "rr", "--backends", "10.0.0.1:80", "k");
	BAD("'--algo' needs a value", "--backends", "10.0.0.1:80", "k", "--algo");
	BAD("missing --backends", "--algo", "ketama", "k");
	BAD("empty backend list", "--algo", "ketama", "--backends", "", "k");
	BAD("empty backend list", "--algo", "ketama", "--backends=", "k");
	BAD("missing KEY", "--algo", "ketama", "--backends", "10.0.0.1:80");
	BAD("unknown option '--frob'", "--algo", "ketama", "--backends", "10.0.0.1:80", "--frob",
		"k");
	BAD("unknown option '-j'", "--algo", "ketama", "--backends", "10.0.0.1:80", "-j", "k");
	BAD("unknown option '--algorithm'", "--algorithm", "ketama", "--backends", "10.0.0.1:80",
		"k");
	BAD("'nginx2'", "--algo", "ketama", "--ketama-compat", "nginx2", "--backends",
		"10.0.0.1:80", "k");
	BAD("--ketama-compat applies", "--algo", "maglev", "--ketama-compat", "nginx", "--backends",
		"10.0.0.1:80", "k");
	BAD("--table-size applies", "--algo", "ketama", "--table-size", "251", "--backends",
		"10.0.0.1:80", "k");
	BAD("1000: not a prime", "--algo", "maglev", "--table-size", "1000", "--backends",
		"10.0.0.1:80", "k");
	BAD("65535: not a prime", "--algo", "maglev", "--table-size", "65535", "--backends",
		"10.0.0.1:80", "k");
	BAD("bad table size 241", "--algo", "maglev", "--table-size", "241", "--backends",
		"10.0.0.1:80", "k");
	BAD("bad table size 1000033", "--algo", "maglev", "--table-size", "1000033", "--backends",
		"10.0.0.1:80", "k");
	BAD("bad table size '-7'", "--algo", "maglev", "--table-size=-7", "--backends",
		"10.0.0.1:80", "k");
	BAD("bad table size '0x101'", "--algo", "maglev", "--table-size", "0x101", "--backends",
		"10.0.0.1:80", "k");
	BAD("'10.0.0.300:80'", "--algo", "ketama", "--backends", "10.0.0.1:80,10.0.0.300:80", "k");
	BAD("'10.0.0.1:80=0'", "--algo", "maglev", "--backends", "10.0.0.1:80=0", "k");
#undef BAD
}

/* More backends than slots is refused before building anything. */
static void test_args_too_many(void)
{
	char list[300 * 16], *p = list;
	struct hash_args a;

	for (int i = 0; i < 252; i++)
		p += sprintf(p, "%s10.0.%d.%d:80", i ? "," : "", i / 200, i % 200);
	{
		const char *w[] = {
			"--algo", "maglev", "--table-size", "251", "--backends", list, "k", NULL};

		CU_ASSERT_EQUAL(parse_words(&a, w), -EINVAL);
		CU_ASSERT(strstr(err, "252 backends") != NULL);
		hash_args_free(&a);
	}
}

/* The string-key hash is fixed by its definition (FNV-1a 64, length, fmix64): values computed
 * by an independent implementation pin it, since a change would move every key of a pool. */
static void test_maglev_key_hash(void)
{
	CU_ASSERT_EQUAL(maglev_key_hash("", 0), 0xefd01f60ba992926ull);
	CU_ASSERT_EQUAL(maglev_key_hash("a", 1), 0x25ad9d1b70de62d1ull);
	CU_ASSERT_EQUAL(maglev_key_hash("user1", 5), 0x5aa10df0ed61de33ull);
	CU_ASSERT_EQUAL(maglev_key_hash("/static/img/00002.png", 21), 0xbfedfa23db113bd1ull);
	CU_ASSERT_EQUAL(maglev_key_slot("", 0, 65537), 40479);
	CU_ASSERT_EQUAL(maglev_key_slot("a", 1, 65537), 26977);
	CU_ASSERT_EQUAL(maglev_key_slot("user1", 5, 65537), 42018);
	CU_ASSERT_NOT_EQUAL(maglev_key_hash("abc", 3), maglev_key_hash("abc\0", 4));
}

int test_ctl_register(void)
{
	static const CU_TestInfo tests[] = {
		{"hash backend IPv4", test_backend_ipv4},
		{"hash backend IPv6", test_backend_ipv6},
		{"hash backend malformed", test_backend_bad},
		{"hash backend list", test_backend_list},
		{"hash args accepted", test_args_ok},
		{"hash args refused", test_args_bad},
		{"hash args: more backends than slots", test_args_too_many},
		{"maglev key hash", test_maglev_key_hash},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("ctl", tests);
}
