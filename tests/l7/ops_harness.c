// SPDX-License-Identifier: GPL-2.0
/* Test driver for pingd's operations modules on one event base: health probes against real
 * origins (transitions printed as lines), and an admin listener serving the metrics. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "userspace/proxy/health.h"

#define MAX_CHECKS 16

struct harness {
	struct event_base *base;
	struct health *health;
};

static void on_change(const struct health_event *ev, void *arg)
{
	printf("EVENT %lld %s %s %s\n", (long long)ev->time_ms, ev->name, ev->up ? "up" : "down",
		ev->reason);
	fflush(stdout);
}

/* "HOST:PORT" or "[V6]:PORT" into <ss>. Returns 0 or -EINVAL. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
	char host[128];
	const char *colon = strrchr(s, ':');
	struct addrinfo *ai;
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
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void usage(void)
{
	fprintf(stderr, "usage: ops-harness [--interval MS --timeout MS --rise N --fall N "
			"--jitter PCT] [--path P --host H --method M --status LO-HI] "
			"--check NAME=tcp|http@ADDR:PORT ...\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"check", required_argument, NULL, 'c'},
		{"interval", required_argument, NULL, 'i'},
		{"timeout", required_argument, NULL, 't'},
		{"rise", required_argument, NULL, 'r'},
		{"fall", required_argument, NULL, 'f'},
		{"jitter", required_argument, NULL, 'j'},
		{"path", required_argument, NULL, 'p'},
		{"host", required_argument, NULL, 'H'},
		{"method", required_argument, NULL, 'm'},
		{"status", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	char *checks[MAX_CHECKS];
	struct health_params p;
	struct harness hs = {0};
	struct event *sigint, *sigterm;
	int n_checks = 0, c, rc = 1;
	char err[128];

	health_params_default(&p);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (n_checks == MAX_CHECKS)
				goto bad_usage;
			checks[n_checks++] = optarg;
			break;
		case 'i':
			p.interval_ms = (unsigned int)atoi(optarg);
			break;
		case 't':
			p.timeout_ms = (unsigned int)atoi(optarg);
			break;
		case 'r':
			p.rise = (unsigned int)atoi(optarg);
			break;
		case 'f':
			p.fall = (unsigned int)atoi(optarg);
			break;
		case 'j':
			p.jitter_pct = (unsigned int)atoi(optarg);
			break;
		case 'p':
			p.path = optarg;
			break;
		case 'H':
			p.host = optarg;
			break;
		case 'm':
			p.method = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%u-%u", &p.status_min, &p.status_max) != 2)
				goto bad_usage;
			break;
		default:
			goto bad_usage;
		}
	}
	if (!n_checks)
		goto bad_usage;
	hs.base = event_base_new();
	hs.health = health_new(hs.base, on_change, &hs);
	if (!hs.base || !hs.health) {
		perror("ops-harness");
		return 1;
	}
	for (int i = 0; i < n_checks; i++) {
		struct sockaddr_storage ss;
		char *name = checks[i], *kind, *addr;
		socklen_t len;
		int id;

		kind = strchr(name, '=');
		addr = kind ? strchr(kind, '@') : NULL;
		if (!addr)
			goto bad_usage;
		*kind++ = '\0';
		*addr++ = '\0';
		p.kind = !strcmp(kind, "http") ? HEALTH_HTTP : HEALTH_TCP;
		if (health_params_check(&p, err, sizeof(err)) < 0) {
			fprintf(stderr, "ops-harness: %s\n", err);
			goto out;
		}
		if (parse_addr(addr, &ss, &len) < 0) {
			fprintf(stderr, "ops-harness: bad address '%s'\n", addr);
			goto out;
		}
		id = health_add(hs.health, name, (struct sockaddr *)&ss, len, &p, NULL);
		if (id < 0) {
			fprintf(stderr, "ops-harness: %s: %s\n", name, strerror(-id));
			goto out;
		}
	}
	sigint = evsignal_new(hs.base, SIGINT, on_signal, hs.base);
	sigterm = evsignal_new(hs.base, SIGTERM, on_signal, hs.base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	printf("READY\n");
	fflush(stdout);
	event_base_dispatch(hs.base);
	event_free(sigint);
	event_free(sigterm);
	rc = 0;
out:
	health_free(hs.health);
	event_base_free(hs.base);
	return rc;
bad_usage:
	usage();
	return 2;
}
