// SPDX-License-Identifier: GPL-2.0
/* Argument parsing for "pingctl hash": options, the backend list and the keys. */
#include "ctl/hash_args.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev/maglev.h"

/* Longest backend item accepted: "[IPv6]:65535=4294967295" fits easily. */
#define BACKEND_MAX_LEN 128

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Parse the decimal digits of <s> (<len> bytes, no sign, no spaces) into *<v>, at most <max>.
 * Returns false for anything else. */
static bool parse_uint(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

int hash_parse_backend(const char *s, size_t len, struct hash_backend *b, char *err, size_t errlen)
{
	char item[BACKEND_MAX_LEN + 1], host[BACKEND_MAX_LEN + 1];
	const char *eq, *colon, *port;
	size_t addr_len, host_len;
	uint64_t v;

	memset(b, 0, sizeof(*b));
	if (len > BACKEND_MAX_LEN)
		return fail(err, errlen, "bad backend '%.*s...': longer than %d characters", 32, s,
			BACKEND_MAX_LEN);
	memcpy(item, s, len);
	item[len] = '\0';
	if (memchr(item, '\0', len))
		return fail(err, errlen, "bad backend: contains a NUL byte");

	eq = strchr(item, '=');
	addr_len = eq ? (size_t)(eq - item) : len;
	b->weight = 1;
	if (eq) {
		if (!parse_uint(eq + 1, strlen(eq + 1), UINT32_MAX, &v) || v == 0)
			return fail(err, errlen,
				"bad weight in '%s': expected an integer from 1 to %u", item,
				UINT32_MAX);
		b->weight = (uint32_t)v;
	}

	if (item[0] == '[') {
		const char *close = memchr(item, ']', addr_len);

		if (!close || close + 1 >= item + addr_len || close[1] != ':')
			return fail(err, errlen, "bad backend '%s': expected [IPV6]:PORT", item);
		host_len = (size_t)(close - item - 1);
		memcpy(host, item + 1, host_len);
		colon = close + 1;
		b->family = AF_INET6;
	} else {
		colon = memrchr(item, ':', addr_len);
		if (!colon)
			return fail(err, errlen, "bad backend '%s': expected ADDR:PORT", item);
		host_len = (size_t)(colon - item);
		memcpy(host, item, host_len);
		if (memchr(host, ':', host_len))
			return fail(err, errlen,
				"bad backend '%s': write an IPv6 address in brackets, [ADDR]:PORT",
				item);
		b->family = AF_INET;
	}
	host[host_len] = '\0';
	if (inet_pton(b->family, host, b->addr) != 1)
		return fail(err, errlen, "bad backend '%s': '%s' is not an IPv%c address", item,
			host, b->family == AF_INET ? '4' : '6');
	port = colon + 1;
	if (!parse_uint(port, addr_len - (size_t)(port - item), 65535, &v) || v == 0)
		return fail(err, errlen, "bad backend '%s': port must be 1 to 65535", item);
	b->port = (uint16_t)v;
	b->name = strndup(item, addr_len);
	return b->name ? 0 : -ENOMEM;
}

static bool same_backend(const struct hash_backend *x, const struct hash_backend *y)
{
	return x->family == y->family && x->port == y->port &&
	       !memcmp(x->addr, y->addr, x->family == AF_INET ? 4 : 16);
}

static void free_backends(struct hash_backend *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].name);
	free(b);
}

int hash_parse_backends(
	const char *list, struct hash_backend **out, size_t *n, char *err, size_t errlen)
{
	struct hash_backend *b = NULL;
	size_t cnt = 1, i = 0;
	const char *p = list;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!*list)
		return fail(err, errlen, "empty backend list");
	for (const char *c = list; *c; c++)
		cnt += *c == ',';
	b = calloc(cnt, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		const char *end = strchrnul(p, ',');

		if (end == p) {
			ret = fail(err, errlen, "empty item in backend list '%s'", list);
			break;
		}
		ret = hash_parse_backend(p, (size_t)(end - p), &b[i], err, errlen);
		if (ret)
			break;
		for (size_t j = 0; j < i; j++) {
			if (!same_backend(&b[j], &b[i]))
				continue;
			if (strcmp(b[i].name, b[j].name))
				ret = fail(err, errlen, "duplicate backend '%s' (same as '%s')",
					b[i].name, b[j].name);
			else
				ret = fail(err, errlen, "duplicate backend '%s'", b[i].name);
			break;
		}
		if (ret) {
			i++; /* b[i] owns its name: free it below */
			break;
		}
		p = *end ? end + 1 : end;
	}
	if (ret) {
		free_backends(b, i);
		return ret;
	}
	*out = b;
	*n = cnt;
	return 0;
}

/* If argv[*i] is option <name> ("--name VALUE" or "--name=VALUE"), store its value in *<val>,
 * advance *<i> past it and return 1; return 0 when it is another argument, -EINVAL when the
 * value is missing. */
static int take_opt(
	int argc, char **argv, int *i, const char *name, const char **val, char *err, size_t errlen)
{
	size_t len = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, len))
		return 0;
	if (arg[len] == '=') {
		*val = arg + len + 1;
		return 1;
	}
	if (arg[len])
		return 0;
	if (*i + 1 >= argc)
		return fail(err, errlen, "option '%s' needs a value", name);
	*val = argv[++*i];
	return 1;
}

int hash_parse_args(int argc, char **argv, struct hash_args *a, char *err, size_t errlen)
{
	const char *algo = NULL, *compat = NULL, *size = NULL, *backends = NULL;
	bool opts_done = false;
	int ret;

	memset(a, 0, sizeof(*a));
	a->compat = KETAMA_NGINX;
	a->table_size = MAGLEV_DEFAULT_SIZE;
	a->keys = calloc((size_t)argc + 1, sizeof(*a->keys));
	if (!a->keys)
		return -ENOMEM;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (opts_done || !strcmp(arg, "-") || arg[0] != '-') {
			a->keys[a->nkeys++] = argv[i];
			continue;
		}
		if (!strcmp(arg, "--")) {
			opts_done = true;
			continue;
		}
		if ((ret = take_opt(argc, argv, &i, "--algo", &algo, err, errlen)) ||
			(ret = take_opt(argc, argv, &i, "--ketama-compat", &compat, err, errlen)) ||
			(ret = take_opt(argc, argv, &i, "--table-size", &size, err, errlen)) ||
			(ret = take_opt(argc, argv, &i, "--backends", &backends, err, errlen))) {
			if (ret < 0)
				return ret;
			continue;
		}
		return fail(err, errlen,
			"unknown option '%s' (a key starting with '-' goes after '--')", arg);
	}

	if (!algo)
		return fail(err, errlen, "missing --algo maglev|ketama");
	if (!strcmp(algo, "maglev"))
		a->algo = HASH_ALGO_MAGLEV;
	else if (!strcmp(algo, "ketama"))
		a->algo = HASH_ALGO_KETAMA;
	else
		return fail(err, errlen, "unknown algorithm '%s' (maglev or ketama)", algo);

	if (compat) {
		if (a->algo != HASH_ALGO_KETAMA)
			return fail(err, errlen, "--ketama-compat applies to --algo ketama only");
		if (!strcmp(compat, "nginx"))
			a->compat = KETAMA_NGINX;
		else if (!strcmp(compat, "libketama"))
			a->compat = KETAMA_LIBKETAMA;
		else
			return fail(err, errlen,
				"unknown ketama compatibility '%s' (nginx or libketama)", compat);
		a->compat_set = true;
	}

	if (size) {
		uint64_t m;

		if (a->algo != HASH_ALGO_MAGLEV)
			return fail(err, errlen, "--table-size applies to --algo maglev only");
		if (!parse_uint(size, strlen(size), UINT32_MAX, &m))
			return fail(
				err, errlen, "bad table size '%s': expected a prime number", size);
		if (m < MAGLEV_MIN_SIZE || m > MAGLEV_MAX_SIZE)
			return fail(err, errlen, "bad table size %s: must be a prime from %u to %u",
				size, MAGLEV_MIN_SIZE, MAGLEV_MAX_SIZE);
		if (!maglev_is_prime((uint32_t)m))
			return fail(err, errlen, "bad table size %s: not a prime", size);
		a->table_size = (uint32_t)m;
		a->table_size_set = true;
	}

	if (!backends)
		return fail(err, errlen, "missing --backends ADDR:PORT[=WEIGHT],...");
	ret = hash_parse_backends(backends, &a->backends, &a->nbackends, err, errlen);
	if (ret)
		return ret;
	if (a->algo == HASH_ALGO_MAGLEV && a->nbackends > a->table_size)
		return fail(err, errlen, "%zu backends do not fit a table of %u slots",
			a->nbackends, a->table_size);
	if (!a->nkeys)
		return fail(err, errlen, "missing KEY (or '-' to read keys from standard input)");
	return 0;
}

void hash_args_free(struct hash_args *a)
{
	free_backends(a->backends, a->nbackends);
	free(a->keys);
	memset(a, 0, sizeof(*a));
}
