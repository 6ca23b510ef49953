// SPDX-License-Identifier: GPL-2.0
/* Test driver for pingd's operations modules on one event base: health probes against real
 * origins (transitions printed as lines) and, with --config, pingd's metric families for the
 * config's upstreams served by the admin listener, wired the way pingd wires them. */
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

#include "userspace/cfg/cfg.h"
#include "userspace/lib/sdnotify.h"
#include "userspace/ops/admin.h"
#include "userspace/ops/metrics.h"
#include "userspace/ops/stats.h"
#include "userspace/upstream/health.h"

#define MAX_CHECKS 16

struct harness {
	struct event_base *base;
	struct health *health;
	struct cfg *cfg;
	struct stats *stats;
	const char *drain_file; /* /healthz answers 503 while this file exists */
};

/* A server target: which pool and server a health event is about. */
struct peer_ref {
	size_t upstream, server;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void on_change(const struct health_event *ev, void *arg)
{
	struct harness *hs = arg;
	const struct peer_ref *ref = ev->target_arg;

	if (hs->stats && ref)
		stats_peer_state(hs->stats, ref->upstream, ref->server, ev->up);
	printf("EVENT %lld %s %s %s\n", (long long)ev->time_ms, ev->name, ev->up ? "up" : "down",
		ev->reason);
	fflush(stdout);
}

/* /metrics: render the registry; the scrape itself is counted as a request (route-less). */
static int admin_metrics(void *arg, char **body, size_t *len)
{
	struct harness *hs = arg;
	uint64_t t0 = now_us();
	int err = metrics_render(stats_metrics(hs->stats), body, len);

	stats_request(hs->stats, stats_ctl_shard(hs->stats), NULL, err ? 500 : 200, now_us() - t0);
	return err;
}

static int admin_health(void *arg, const char **reason)
{
	struct harness *hs = arg;

	if (hs->drain_file && access(hs->drain_file, F_OK) == 0) {
		*reason = "draining";
		return 1;
	}
	return 0;
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

/* Load pingd config <path>, build its metric families and probe every upstream server with
 * <p> (kind from the command line's last --check, TCP by default). */
static int add_config(
	struct harness *hs, const char *path, struct health_params *p, struct peer_ref **refs)
{
	struct cfg_msgs msgs = {0};
	size_t n = 0, k = 0;

	hs->cfg = cfg_load_file(path, &msgs);
	if (msgs.text)
		fputs(msgs.text, stderr);
	cfg_msgs_free(&msgs);
	if (!hs->cfg)
		return -EINVAL;
	hs->stats = stats_new(hs->cfg, 1, NULL);
	if (!hs->stats)
		return -errno;
	for (size_t u = 0; u < hs->cfg->n_upstreams; u++)
		n += hs->cfg->upstreams[u].n_servers;
	*refs = calloc(n + 1, sizeof(**refs));
	if (!*refs)
		return -ENOMEM;
	for (size_t u = 0; u < hs->cfg->n_upstreams; u++) {
		const struct cfg_upstream *up = &hs->cfg->upstreams[u];

		for (size_t i = 0; i < up->n_servers; i++, k++) {
			char name[HEALTH_NAME_MAX + 80];
			int id;

			(*refs)[k] = (struct peer_ref){u, i};
			snprintf(
				name, sizeof(name), "%s/%s", up->name, up->servers[i].address.text);
			id = health_add(hs->health, name,
				(const struct sockaddr *)&up->servers[i].address.ss,
				up->servers[i].address.len, p, &(*refs)[k]);
			if (id < 0) {
				fprintf(stderr, "ops-harness: %s: %s\n", name, strerror(-id));
				return id;
			}
		}
	}
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
			"[--config PINGD.yaml --admin ADDR:PORT --drain-file PATH] "
			"[--check NAME=tcp|http@ADDR:PORT ...]\n");
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
		{"config", required_argument, NULL, 'C'},
		{"admin", required_argument, NULL, 'A'},
		{"drain-file", required_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	char *checks[MAX_CHECKS];
	struct health_params p;
	struct harness hs = {0};
	struct event *sigint, *sigterm;
	struct peer_ref *refs = NULL;
	struct admin *admin = NULL;
	const char *config = NULL, *admin_addr = NULL;
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
		case 'C':
			config = optarg;
			break;
		case 'A':
			admin_addr = optarg;
			break;
		case 'D':
			hs.drain_file = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%u-%u", &p.status_min, &p.status_max) != 2)
				goto bad_usage;
			break;
		default:
			goto bad_usage;
		}
	}
	if (!n_checks && !config)
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
	if (config && add_config(&hs, config, &p, &refs) < 0)
		goto out;
	if (admin_addr) {
		struct admin_handlers ah = {
			.metrics = hs.stats ? admin_metrics : NULL, .health = admin_health};
		struct sockaddr_storage ss;
		socklen_t len;

		if (parse_addr(admin_addr, &ss, &len) < 0) {
			fprintf(stderr, "ops-harness: bad admin address '%s'\n", admin_addr);
			goto out;
		}
		admin = admin_new(hs.base, (struct sockaddr *)&ss, len, &ah, &hs);
		if (!admin) {
			fprintf(stderr, "ops-harness: admin %s: %s\n", admin_addr, strerror(errno));
			goto out;
		}
	}
	sigint = evsignal_new(hs.base, SIGINT, on_signal, hs.base);
	sigterm = evsignal_new(hs.base, SIGTERM, on_signal, hs.base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	printf("READY\n");
	fflush(stdout);
	/* Under systemd (Type=notify), as pingd does once its listeners are bound. */
	int nerr = sdnotify_ready();

	if (nerr < 0)
		fprintf(stderr, "ops-harness: sd_notify: %s\n", strerror(-nerr));
	event_base_dispatch(hs.base);
	(void)sdnotify_stopping(); /* best effort: systemd also sees the exit */
	event_free(sigint);
	event_free(sigterm);
	rc = 0;
out:
	admin_free(admin);
	health_free(hs.health);
	stats_free(hs.stats);
	cfg_free(hs.cfg);
	free(refs);
	event_base_free(hs.base);
	return rc;
bad_usage:
	usage();
	return 2;
}
