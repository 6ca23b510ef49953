// SPDX-License-Identifier: GPL-2.0
/* pingctl cache: pingd's HTTP caches through its admin listener (admin.address): statistics,
 * and purges of a URL or of every URL under a prefix. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/main.h"

#define ADMIN_ENV     "PINGX_ADMIN"
#define REPLY_MAX     (1u << 20) /* bytes of an admin answer kept */
#define IO_TIMEOUT_S  5

static const char *admin_addr;

static int do_cache_help(int argc, char **argv)
{
	printf("Usage: %s cache [--admin ADDR:PORT] stats\n"
	       "       %s cache [--admin ADDR:PORT] purge URL\n"
	       "       %s cache [--admin ADDR:PORT] purge --prefix PREFIX\n"
	       "\n"
	       "pingd's HTTP caches, through its admin listener (the admin.address of its\n"
	       "configuration; default: $%s).\n"
	       "\n"
	       "  stats          per cache: bound, bytes and objects held, hits, misses, stale\n"
	       "  purge URL      drop the object stored for URL (http://host/path?query, as\n"
	       "                 requested) and its Vary variants, in every cache\n"
	       "  purge --prefix PREFIX\n"
	       "                 drop every object whose URL starts with PREFIX\n",
	       bin_name, bin_name, bin_name, ADMIN_ENV);
	return 0;
}

/* "IPv4:PORT" or "[IPv6]:PORT" into <ss>. Returns 0 or -EINVAL. */
static int parse_admin(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;
	size_t hl;

	if (!colon || colon == s)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return -EINVAL;
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || !port || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

/* Send <method> <target> to the admin listener and read the whole answer (it closes after
 * one): the status into <*status>, the body into a malloc()ed, NUL-terminated <*body>.
 * Returns 0 or a negative errno (reported). */
static int admin_request(const char *method, const char *target, int *status, char **body)
{
	struct sockaddr_storage ss;
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	socklen_t sl;
	char *buf = NULL, *p;
	size_t len = 0;
	int fd, err = 0;
	FILE *req;
	char *rq = NULL;
	size_t rql = 0;

	if (parse_admin(admin_addr, &ss, &sl) < 0)
		return usage_err("cache help", "'%s': expected ADDR:PORT or [ADDR]:PORT (pingd's "
					       "admin.address)", admin_addr);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		err = -errno;
		p_err("cannot reach pingd's admin listener at %s: %s", admin_addr, strerror(-err));
		goto out;
	}
	req = open_memstream(&rq, &rql);
	if (!req) {
		err = -ENOMEM;
		goto out;
	}
	fprintf(req, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		method, target, admin_addr);
	fclose(req);
	if (send(fd, rq, rql, MSG_NOSIGNAL) != (ssize_t)rql) {
		err = -EIO;
		p_err("admin listener at %s: request not sent", admin_addr);
		goto out;
	}
	buf = malloc(REPLY_MAX + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, buf + len, REPLY_MAX - len, 0);

		if (n < 0) {
			err = -errno;
			p_err("admin listener at %s: %s", admin_addr, strerror(-err));
			goto out;
		}
		if (!n || (len += (size_t)n) == REPLY_MAX)
			break;
	}
	buf[len] = '\0';
	p = strstr(buf, "\r\n\r\n");
	if (!p || sscanf(buf, "HTTP/1.%*d %d", status) != 1) {
		err = -EPROTO;
		p_err("admin listener at %s: not an HTTP answer", admin_addr);
		goto out;
	}
	*body = strdup(p + 4);
	if (!*body)
		err = -ENOMEM;
out:
	free(rq);
	free(buf);
	close(fd);
	return err;
}

/* Percent-encode <s> into a malloc()ed string (NULL on ENOMEM). */
static char *pct_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			strchr("-._~", c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* The number after "<key>": in the flat JSON object [<p>, <end>), or 0. */
static unsigned long long json_num(const char *p, const char *end, const char *key)
{
	char k[64];
	const char *f;

	snprintf(k, sizeof(k), "\"%s\":", key);
	f = strstr(p, k);
	if (!f || f >= end)
		return 0;
	return strtoull(f + strlen(k), NULL, 10);
}

/* Print the admin's JSON answer <body> as it is (-j), without its final newline (the JSON
 * writer ends the output with one). */
static int emit_json(const char *body)
{
	size_t n = strlen(body);

	while (n && body[n - 1] == '\n')
		n--;
	fwrite(body, 1, n, stdout);
	return 0;
}

static int do_cache_stats(int argc, char **argv)
{
	char *body = NULL;
	const char *p;
	int status = 0, err;

	if (argc > 0)
		return usage_err("cache help", "stats takes no arguments");
	err = admin_request("GET", "/cache/stats", &status, &body);
	if (err)
		return err;
	if (status != 200) {
		p_err("admin listener at %s answered %d: %s", admin_addr, status, body);
		free(body);
		return -EIO;
	}
	if (json_wtr) {
		emit_json(body);
		free(body);
		return 0;
	}
	printf("%-16s %12s %12s %9s %10s %10s %10s %10s\n", "cache", "capacity", "bytes", "objects",
		"hits", "misses", "stale", "evicted");
	for (p = strchr(body, '['); p && (p = strchr(p, '{'));) {
		const char *end = strchr(p, '}'), *n = strstr(p, "\"name\":\"");
		char name[128] = "";

		if (!end)
			break;
		if (n && n < end)
			sscanf(n + 8, "%127[^\"]", name);
		printf("%-16s %12llu %12llu %9llu %10llu %10llu %10llu %10llu\n", name,
			json_num(p, end, "capacity"), json_num(p, end, "bytes"),
			json_num(p, end, "items"), json_num(p, end, "hit"),
			json_num(p, end, "miss"), json_num(p, end, "stale"),
			json_num(p, end, "evicted"));
		p = end;
	}
	free(body);
	return 0;
}

static int do_cache_purge(int argc, char **argv)
{
	const char *what = "url", *arg;
	char *enc, *target = NULL, *body = NULL;
	int status = 0, err;

	if (argc == 2 && !strcmp(argv[0], "--prefix")) {
		what = "prefix";
		arg = argv[1];
	} else if (argc == 1 && argv[0][0] != '-') {
		arg = argv[0];
	} else {
		return usage_err("cache help", "expected purge URL or purge --prefix PREFIX");
	}
	if (!*arg)
		return usage_err("cache help", "an empty URL");
	enc = pct_encode(arg);
	if (!enc || asprintf(&target, "/cache/purge?%s=%s", what, enc) < 0) {
		free(enc);
		return -ENOMEM;
	}
	free(enc);
	err = admin_request("POST", target, &status, &body);
	free(target);
	if (err)
		return err;
	if (status != 200) {
		p_err("admin listener at %s answered %d: %s", admin_addr, status, body);
		free(body);
		return -EIO;
	}
	if (json_wtr)
		emit_json(body);
	else
		printf("purged %llu\n", json_num(body, body + strlen(body), "purged"));
	free(body);
	return 0;
}

int do_cache(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{"stats", do_cache_stats},
		{"purge", do_cache_purge},
		{"help", do_cache_help},
		{NULL, NULL},
	};

	admin_addr = getenv(ADMIN_ENV);
	if (argc >= 1 && !strcmp(argv[0], "--admin")) {
		if (argc < 2)
			return usage_err("cache help", "--admin needs ADDR:PORT");
		admin_addr = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc >= 1 && is_help(argv[0]))
		return do_cache_help(argc, argv);
	if (argc >= 1 && (!admin_addr || !*admin_addr))
		return usage_err("cache help",
			"where is pingd's admin listener? give --admin ADDR:PORT or set $%s",
			ADMIN_ENV);
	return cmd_select(cmds, argc, argv, do_cache_help);
}
