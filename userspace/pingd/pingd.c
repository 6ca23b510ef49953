// SPDX-License-Identifier: GPL-2.0
/* pingd: the L7 reverse proxy. Wiring: options, config, logs, worker threads (one event base
 * each), and signals on the main thread's own event base. */
#include "userspace/pingd/pingd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "userspace/cfg/cfg.h"
#include "userspace/l4/deny.h"
#include "userspace/l4/l4announce.h"
#include "userspace/l4/l4health.h"
#include "userspace/l4/steer.h"
#include "userspace/l4/xdpstats.h"
#include "userspace/lib/log.h"
#include "userspace/lib/sdnotify.h"
#include "userspace/net/tlskeys.h"
#include "userspace/ops/metrics.h"
#include "userspace/ops/stats.h"
#include "userspace/pingd/gen.h"
#include "userspace/pingd/monitor.h"
#include "userspace/pingd/upgrade.h"
#include "userspace/proxy/limits.h"
#include "userspace/proxy/cachephase.h"
#include "userspace/proxy/worker.h"

#define PINGD_TLS_MAX 16 /* --tls-cert/--tls-key pairs */

struct opts {
	const char *config;
	const char *listen;
	const char *upstream;
	const char *limit_rate; /* --limit-rate RATE[:BURST] */
	const char *tls[2 * PINGD_TLS_MAX]; /* --tls-cert, --tls-key pairs */
	size_t n_cert, n_key;
	const char *pidfile;
	long workers; /* -1 = from the config */
	const char *cache; /* --cache SIZE: one-line mode caches its route */
	int verbose;
	bool test;
	bool daemonize;
	bool dump;
	bool upgrade;
};

/* The --help text. */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pingd [-d] [-v]... [--upgrade] -c FILE\n"
		"       pingd --listen ADDR:PORT --upstream HOST:PORT[,HOST:PORT...] [--workers N]\n"
		"             [--tls-cert FILE --tls-key FILE]... [--limit-rate RATE[:BURST]]\n"
		"             [--cache SIZE] [--upgrade]\n"
		"       pingd -t -c FILE | --dump-config [-c FILE] | --help-config\n"
		"\n"
		"  -c, --config FILE     YAML configuration (see docs/config.md)\n"
		"  -t, --test            check the configuration and exit 0 (valid) or 1\n"
		"      --dump-config     print the configuration with every default filled in\n"
		"      --help-config     print the reference of every configuration key\n"
		"      --listen ADDR     one-line mode: accept on ADDR:PORT ...\n"
		"      --upstream LIST   ... and balance round robin over these servers (IP\n"
		"                        addresses, or names resolved now and at each reload)\n"
		"      --tls-cert FILE   ... terminating TLS with this certificate chain (PEM);\n"
		"      --tls-key FILE    ... and its key; repeat both for more names (SNI), the\n"
		"                        first pair the default\n"
		"      --limit-rate R[:B] ... allowing each client address R requests (N/s or\n"
		"                        N/m) with a burst of B, 429 with Retry-After past it\n"
		"      --cache SIZE      ... with an HTTP cache of SIZE bytes (256m) on every route\n"
		"      --workers N       worker threads (default: the config's, or one per CPU)\n"
		"      --upgrade         take over the listening sockets of the running pingd\n"
		"                        (same arguments), which then drains and exits\n"
		"  -d, --daemon          detach and log to syslog (default: foreground, stderr)\n"
		"  -p, --pidfile FILE    with -d, where to write the pid (default: the config's)\n"
		"  -v, --verbose         more log output (repeat for debug)\n"
		"  -h, --help            this help\n"
		"  -V, --version         version\n");
}

/* Fill <o> from the command line. --help, --version and --help-config print and exit 0;
 * misuse prints one line and returns -EINVAL (exit 2). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"test", no_argument, NULL, 't'},
		{"dump-config", no_argument, NULL, 'D'},
		{"help-config", no_argument, NULL, 'H'},
		{"listen", required_argument, NULL, 'l'},
		{"upstream", required_argument, NULL, 'u'},
		{"workers", required_argument, NULL, 'w'},
		{"limit-rate", required_argument, NULL, 'L'},
		{"cache", required_argument, NULL, 'S'},
		{"tls-cert", required_argument, NULL, 'C'},
		{"tls-key", required_argument, NULL, 'K'},
		{"daemon", no_argument, NULL, 'd'},
		{"upgrade", no_argument, NULL, 'U'},
		{"pidfile", required_argument, NULL, 'p'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	memset(o, 0, sizeof(*o));
	o->workers = -1;
	while ((ch = getopt_long(argc, argv, "c:tdp:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 't':
			o->test = true;
			break;
		case 'D':
			o->dump = true;
			break;
		case 'H':
			cfg_doc(stdout);
			exit(0);
		case 'l':
			o->listen = optarg;
			break;
		case 'S':
			o->cache = optarg;
			break;
		case 'u':
			o->upstream = optarg;
			break;
		case 'L':
			o->limit_rate = optarg;
			break;
		case 'C':
		case 'K': {
			size_t *n = ch == 'C' ? &o->n_cert : &o->n_key;

			if (*n == PINGD_TLS_MAX) {
				fprintf(stderr, "pingd: at most %d --tls-cert/--tls-key pairs\n",
					PINGD_TLS_MAX);
				return -EINVAL;
			}
			o->tls[2 * (*n)++ + (ch == 'K')] = optarg;
			break;
		}
		case 'w':
			errno = 0;
			o->workers = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o->workers < 0 || o->workers > 256) {
				fprintf(stderr, "pingd: --workers: expected 0 to 256, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'd':
			o->daemonize = true;
			break;
		case 'U':
			o->upgrade = true;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("pingd %s\n", PINGX_VERSION);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pingd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->config && o->cache) {
		fprintf(stderr, "pingd: --cache is for one-line mode; use caches: in -c\n");
		return -EINVAL;
	}
	if (o->config && (o->listen || o->upstream)) {
		fprintf(stderr, "pingd: -c and --listen/--upstream exclude each other\n");
		return -EINVAL;
	}
	if (o->n_cert != o->n_key) {
		fprintf(stderr, "pingd: give --tls-cert and --tls-key in pairs\n");
		return -EINVAL;
	}
	if (o->config && o->limit_rate) {
		fprintf(stderr, "pingd: --limit-rate is for one-line mode; use rate_limits: in -c\n");
		return -EINVAL;
	}
	if (o->config && o->n_cert) {
		fprintf(stderr,
			"pingd: --tls-cert/--tls-key are for one-line mode; use tls: in -c\n");
		return -EINVAL;
	}
	if (!o->config && (!o->listen || !o->upstream)) {
		fprintf(stderr, "pingd: give -c FILE, or both --listen and --upstream\n");
		return -EINVAL;
	}
	return 0;
}

/* Log what each upstream server name of <c> resolved to, one line per name. */
static void log_resolved(const struct cfg *c)
{
	for (size_t u = 0; u < c->n_upstreams; u++) {
		const struct cfg_upstream *up = &c->upstreams[u];

		for (size_t i = 0, j; i < up->n_servers; i = j) {
			char list[512];
			size_t len = 0;

			/* A name's addresses are consecutive and share its name and line. */
			for (j = i; j < up->n_servers && *up->servers[i].name &&
				    up->servers[j].line == up->servers[i].line &&
				    !strcmp(up->servers[j].name, up->servers[i].name);
				j++)
				if (len < sizeof(list))
					len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s", j > i ? ", " : "",
						up->servers[j].address.text);
			if (j == i) {
				j++;
				continue;
			}
			log_info("upstream '%s': %s resolved to %s%s", up->name,
				up->servers[i].name, list, len >= sizeof(list) ? "..." : "");
		}
	}
}

/* Load the file or build the one-line config, printing every message (to the error log when
 * <logged>, e.g. on reload); NULL on errors. */
static struct cfg *load_config(const struct opts *o, bool logged)
{
	struct cfg_msgs m = {0};
	struct cfg *c;
	int err;

	if (o->config)
		c = cfg_load_file(o->config, &m);
	else
		c = cfg_oneline_ext(o->listen, o->upstream,
			o->workers > 0 ? (unsigned int)o->workers : 0, o->tls, o->n_cert,
			o->limit_rate, o->cache, &m);
	err = errno;
	if (m.text && !logged)
		fputs(m.text, stderr);
	for (char *line = m.text, *nl; logged && line && *line; line = nl + 1) {
		nl = strchrnul(line, '\n');
		log_err("%.*s", (int)(nl - line), line);
		if (!*nl)
			break;
	}
	if (!c && err != EINVAL && !logged)
		fprintf(stderr, "pingd: %s: %s\n", o->config ? o->config : "command line",
			strerror(err));
	if (!c && err != EINVAL && logged)
		log_err("%s: %s", o->config ? o->config : "command line", strerror(err));
	cfg_msgs_free(&m);
	if (c && logged)
		log_resolved(c);
	if (c && o->workers >= 0)
		c->workers = (unsigned int)o->workers;
	return c;
}

/* Write our pid to <path>. Returns 0 or a negative errno. */
static int write_pidfile(const char *path)
{
	char buf[32];
	int fd, n, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n)
		err = -EIO;
	close(fd);
	return err;
}

#define REAP_MS		 50    /* how often draining generations are looked at */
#define UPGRADE_READY_MS 30000 /* how long a successor may take to start serving */

/* What the main thread's loop works on. */
/* Signals the main thread handles: SIGINT and SIGTERM stop, SIGHUP reloads, SIGUSR2 upgrades,
 * SIGCHLD reaps a successor that exited. */
#define PINGD_N_SIGNALS 5

struct pingd {
	const struct opts *o;
	char **argv; /* as started, for SIGUSR2 */
	char *exe;   /* our executable's path, for SIGUSR2 */
	struct event_base *base;
	struct gen *cur;	/* serving */
	struct gen *old;	/* draining, newest first */
	struct steer *steer;	/* l7 steering into cur's listeners; NULL when none steers */
	struct upgrade_srv *up; /* hand-over socket for a successor */
	struct event *up_ev;
	struct event *reap_ev;		       /* pending while generations drain */
	struct event *sig_ev[PINGD_N_SIGNALS]; /* SIGINT, SIGTERM, SIGHUP, SIGUSR2, SIGCHLD */
	char *pidfile;			       /* written with -d, removed at exit; owned */
	bool stopping;			       /* draining everything, then exit */
	bool handed_over;		       /* a successor took the sockets */
	/* The l4 section's side (maps applied, backends probed), across reloads. */
	struct l4health *l4;
	struct l4announce *ann; /* the ready VIPs into the announcement table; NULL when off */
	struct xdpstats *xdp;	/* the data plane's counters for /metrics */
	struct l4deny *deny;	/* rate limits' pushes into the deny map; NULL until needed */
	char deny_dir[256];	/* its pin directory */
};

/* Let the limits of <g> push clients into the deny map of its deny.pin_dir (made when first
 * needed, replaced when the directory changes). Failing to allocate only loses pushing. */
static void deny_setup(struct pingd *p, struct gen *g)
{
	const char *dir = g->cfg->deny.pin_dir ? g->cfg->deny.pin_dir : PINGX_PIN_DIR;
	bool wanted = false;

	for (size_t i = 0; i < g->cfg->n_rate_limits; i++)
		wanted |= g->cfg->rate_limits[i].deny_after_ms > 0;
	if (!wanted)
		return;
	if (!p->deny) {
		p->deny = l4deny_new(dir);
		if (!p->deny) {
			log_warn("rate limits: cannot push into the deny map: %s", strerror(errno));
			return;
		}
		snprintf(p->deny_dir, sizeof(p->deny_dir), "%s", dir);
	} else if (strcmp(p->deny_dir, dir)) {
		/* Draining generations may still push through the running pusher. */
		log_warn("rate limits: deny.pin_dir changed to %s; pushes go to %s until a "
			 "restart", dir, p->deny_dir);
	}
	limits_rt_set_deny(g->rt->limits, l4deny_push, p->deny);
}

/* Percent-decode query parameter <name> of <q> (<qlen> bytes) into <out> (<size> bytes, NUL
 * terminated). Returns its length, -ENOENT when absent, -EINVAL when malformed or too long. */
static int query_param(const char *q, size_t qlen, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = q, *end = q + qlen;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *e = amp ? amp : end;
		size_t n = 0;

		if ((size_t)(e - p) > nl && !memcmp(p, name, nl) && p[nl] == '=') {
			for (p += nl + 1; p < e; p++) {
				int c = (unsigned char)*p;

				if (c == '%') {
					unsigned int v;

					if (e - p < 3 || sscanf(p + 1, "%2x", &v) != 1 || !v)
						return -EINVAL;
					c = (int)v;
					p += 2;
				} else if (c == '+') {
					c = ' ';
				}
				if (n + 1 >= size)
					return -EINVAL;
				out[n++] = (char)c;
			}
			out[n] = '\0';
			return (int)n;
		}
		p = amp ? amp + 1 : end;
	}
	return -ENOENT;
}

/* The admin's /cache/ requests: stats, or a purge of ?url= or ?prefix= (&cache=NAME: one
 * cache only). */
static int admin_cache(void *arg, bool purge, const char *query, size_t qlen, char **body,
	size_t *len)
{
	char target[8192], name[256];
	int tl, nl;
	bool prefix = false;
	size_t n;

	(void)arg;
	*body = NULL;
	if (!purge)
		return cachephase_stats_json(body, len) ? 500 : 200;
	tl = query_param(query, qlen, "url", target, sizeof(target));
	if (tl == -ENOENT) {
		tl = query_param(query, qlen, "prefix", target, sizeof(target));
		prefix = true;
	}
	nl = query_param(query, qlen, "cache", name, sizeof(name));
	if (tl <= 0 || nl == -EINVAL || (nl == -ENOENT ? false : nl <= 0)) {
		*body = strdup("{\"error\":\"expected ?url=URL or ?prefix=PREFIX, percent-encoded, "
			       "and optionally &cache=NAME\"}\n");
		*len = *body ? strlen(*body) : 0;
		return 400;
	}
	n = cachephase_purge(nl > 0 ? name : NULL, target, prefix);
	log_notice("admin: purged %zu cached object%s for %s %s", n, n == 1 ? "" : "s",
		prefix ? "prefix" : "URL", target);
	if (asprintf(body, "{\"purged\":%zu}\n", n) < 0)
		*body = NULL;
	*len = *body ? strlen(*body) : 0;
	return 200;
}

/* Set up the operations of <g> (health checks, metrics, admin listener), carried over from
 * the running generation <prev> (NULL at start). Returns 0 or a negative errno (logged). */
static int gen_monitor(struct event_base *base, struct gen *g, struct gen *prev)
{
	const struct cfg *c = g->cfg;
	struct health_params *hp = calloc(c->n_upstreams + 1, sizeof(*hp));
	const struct health_params **hpp = calloc(c->n_upstreams + 1, sizeof(*hpp));
	struct monitor_params op = {
		.admin_address = c->admin.address, .health = hpp, .cache = admin_cache};
	int err = 0;

	if (!hp || !hpp) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t u = 0; u < c->n_upstreams; u++)
		if (cfg_health_params(&c->upstreams[u].health, &hp[u]))
			hpp[u] = &hp[u];
	g->monitor = monitor_new(base, g->rt, g->nw, &op, prev ? prev->monitor : NULL);
	if (!g->monitor) {
		err = -errno;
	} else {
		g->rt->stats = monitor_stats(g->monitor);
		/* The caches outlive generations, as the registry does: one collector for all. */
		if (!prev && metrics_collector(stats_metrics(g->rt->stats), cachephase_collect,
				     NULL) < 0)
			err = -ENOMEM;
	}
	if (!err)
		limits_rt_inherit(g->rt->limits, prev ? prev->rt->limits : NULL);
out:
	free(hp);
	free(hpp);
	return err;
}

/* Start, restart or stop the announcer as <c> says, and have health verdicts kick it. The
 * routes stay across the restart. Returns 0 or a negative errno (logged). */
static int l4_announce(struct pingd *p, const struct cfg *c)
{
	struct l4announce *a = NULL;
	int err = 0;

	if (c->l4_announce) {
		a = l4announce_new(p->base, c->l4_pin_dir ? c->l4_pin_dir : PINGX_PIN_DIR,
			c->l4_announce_table, c->l4_announce_interval_ms);
		if (!a) {
			err = -errno;
			log_err("l4_announce: table %u: %s", c->l4_announce_table,
				err == -EINVAL ? "a table of its own is needed, not main, local "
						 "or default" :
						 strerror(-err));
		}
	}
	if (!err) {
		l4announce_free(p->ann);
		p->ann = a;
	}
	/* The running announcer (a new one, or the old one when that failed) follows the
	 * running health checks. */
	if (p->l4)
		l4health_set_notify(p->l4, p->ann ? l4announce_kick : NULL, p->ann);
	if (p->ann)
		l4announce_set_gate(p->ann, p->l4 ? l4health_settled : NULL, p->l4);
	return err;
}

/* Apply the l4 section of <c> to the maps and probe its backends, replacing the running l4
 * side; without a section, probing stops and the maps stay as they are. Returns 0 or a
 * negative errno (logged). */
static int l4_reload(struct pingd *p, const struct cfg *c)
{
	struct l4health *l = NULL;
	char why[512];

	if (c->l4) {
		l = l4health_new(p->base, c, why, sizeof(why));
		if (!l) {
			int err = -errno;

			log_err("%s", why);
			return err;
		}
	}
	l4health_free(p->l4);
	p->l4 = l;
	return l4_announce(p, c);
}

/* Move the serving generation to the draining list. */
static void retire(struct pingd *p)
{
	struct gen *g = p->cur;

	p->cur = NULL;
	if (!g)
		return;
	gen_drain(g, g->cfg->timeouts.shutdown_ms);
	g->next = p->old;
	p->old = g;
	/* Looked at until it is gone; an idle pingd has no timer to wake it. */
	if (p->reap_ev && !event_pending(p->reap_ev, EV_TIMEOUT, NULL))
		(void)event_add(p->reap_ev, &(struct timeval){0, REAP_MS * 1000});
}

/* Free drained generations; once stopping and all are gone, end the loop. */
static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct pingd *p = arg;

	(void)fd;
	(void)what;
	for (struct gen **gp = &p->old; *gp;) {
		struct gen *g = *gp;

		if (!gen_done(g)) {
			gp = &g->next;
			continue;
		}
		*gp = g->next;
		log_info("configuration of %s drained",
			g->cfg->file ? g->cfg->file : "command line");
		gen_free(g);
	}
	if (!p->old)
		(void)event_del(p->reap_ev);
	if (p->stopping && !p->old && !p->cur)
		event_base_loopexit(p->base, NULL);
}

/* SIGCHLD: a successor started by SIGUSR2 exited (its start failed, say). */
static void on_child(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* SIGINT/SIGTERM: stop accepting and drain within timeouts.shutdown; a second one stops at
 * once. */
static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct pingd *p = arg;

	(void)what;
	if (p->stopping) {
		log_notice("signal %d: stopping now", (int)sig);
		event_base_loopexit(p->base, NULL);
		return;
	}
	log_notice("signal %d: shutting down (draining up to %u ms)", (int)sig,
		p->cur ? p->cur->cfg->timeouts.shutdown_ms : 0);
	p->stopping = true;
	if (p->cur)
		monitor_draining(p->cur->monitor);
	retire(p);
	on_reap(-1, 0, p);
}

/* SIGUSR2: start the executable (a new binary after an update) with our arguments plus
 * --upgrade; it takes the listening sockets over and this process drains (on_upgrade()). */
static void on_usr2(evutil_socket_t sig, short what, void *arg)
{
	struct pingd *p = arg;
	pid_t pid;

	(void)sig;
	(void)what;
	if (p->stopping || !p->exe || !p->up)
		return;
	pid = upgrade_spawn(p->exe, p->argv);
	if (pid < 0)
		log_err("SIGUSR2: cannot start %s: %s", p->exe, strerror((int)-pid));
	else
		log_notice("SIGUSR2: started %s (pid %d) to take over", p->exe, (int)pid);
}

/* SIGHUP: load the configuration again and start it on the same listening sockets; the old
 * one drains. A configuration with errors is logged and ignored. */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct gen_fdpool pool = {0};
	struct pingd *p = arg;
	struct gen *g;
	struct cfg *c;

	(void)sig;
	(void)what;
	if (p->stopping || !p->cur)
		return;
	log_notice("SIGHUP: reloading %s", p->o->config ? p->o->config : "the command line");
	monitor_reloading(p->cur->monitor);
	g = NULL;
	c = load_config(p->o, true);
	if (!c) {
		log_err("reload: configuration rejected, the running one stays");
		goto out;
	}
	if (gen_fdpool_from_gen(&pool, p->cur) < 0) {
		gen_fdpool_release(&pool);
		cfg_free(c);
		log_err("reload: out of memory, the running configuration stays");
		goto out;
	}
	g = gen_new(c, &pool);
	gen_fdpool_release(&pool);
	if (!g) {
		log_err("reload: %s; the running configuration stays", strerror(errno));
		cfg_free(c);
		goto out;
	}
	if (gen_monitor(p->base, g, p->cur) < 0) {
		log_err("reload: operations could not be set up; the running configuration stays");
		gen_free(g);
		goto out;
	}
	if (l4_reload(p, c) < 0) {
		log_err("reload: the l4 section could not be applied; the running configuration stays");
		gen_free(g);
		goto out;
	}
	deny_setup(p, g);
	if (gen_start(g) < 0) {
		log_err("reload: cannot start workers; the running configuration stays");
		gen_free(g);
		goto out;
	}
	retire(p);
	p->cur = g;
	(void)limits_rt_publish(g->rt->limits, stats_metrics(g->rt->stats));
	/* Errors are logged; the steering then stays as it was. */
	(void)steer_reload(&p->steer, c, &g->workers[0]);
	log_notice("reloaded: %u worker%s, %zu listener%s", g->nw, g->nw == 1 ? "" : "s",
		c->n_listeners, c->n_listeners == 1 ? "" : "s");
out:
	monitor_ready(p->cur->monitor);
}

/* Take the session ticket keys out of <in> (received at an upgrade, next to the listening
 * sockets) into the process's ring, and log what came. */
static void take_ticket_keys(struct gen_fdpool *in)
{
	size_t socks = in->n;
	int keys = 0;

	for (size_t i = 0; i < in->n; i++) {
		if (in->taken[i] || !tls_keys_is_export(in->fd[i]))
			continue;
		keys = tls_keys_import(in->fd[i]);
		in->taken[i] = true;
		close(in->fd[i]);
		socks--;
	}
	log_info("--upgrade: received %zu listening socket%s and %d session ticket key%s", socks,
		socks == 1 ? "" : "s", keys > 0 ? keys : 0, keys == 1 ? "" : "s");
	if (keys < 0)
		log_warn("--upgrade: the session ticket keys received are unusable (%s); new ones "
			 "are made", strerror(-keys));
}

/* A successor (pingd --upgrade) connected: hand it the listening sockets, and drain and exit
 * once it serves them. */
static void on_upgrade(evutil_socket_t fd, short what, void *arg)
{
	struct gen_fdpool pool = {0};
	struct pingd *p = arg;
	int err, keys;

	(void)fd;
	(void)what;
	if (p->stopping || !p->cur)
		return;
	err = gen_fdpool_from_gen(&pool, p->cur);
	/* The session ticket keys travel with the sockets, so tickets resume at the successor
	 * (a predecessor that knows nothing of them just closes the file). */
	keys = tls_keys_export();
	if (keys < 0)
		log_warn("upgrade: session ticket keys: %s; the successor makes new ones",
			strerror(-keys));
	else if (!err)
		err = gen_fdpool_add(&pool, keys);
	if (!err)
		err = upgrade_serve(p->up, &pool, UPGRADE_READY_MS);
	gen_fdpool_release(&pool);
	if (keys >= 0)
		close(keys);
	if (err == -EAGAIN)
		return;
	if (err) {
		log_err("upgrade: hand-over failed (%s); still serving", strerror(-err));
		return;
	}
	log_notice("upgrade: the new process serves the listening sockets; draining");
	/* Not STOPPING: under systemd the service goes on, its main process is the successor. */
	p->handed_over = true;
	/* The successor probes the l4 backends and announces the VIPs now. */
	l4health_free(p->l4);
	p->l4 = NULL;
	l4announce_free(p->ann);
	p->ann = NULL;
	p->stopping = true;
	retire(p);
	on_reap(-1, 0, p);
}

/* Set the error log up from <c> and -v, and open the access log. Returns 0 or a negative
 * errno (logged). */
static int start_logs(const struct pingd *p, const struct cfg *c)
{
	int level = c->log.level + p->o->verbose, err;

	log_setup(level >= LOG_LVL_MAX ? LOG_LVL_DEBUG : (enum log_level)level,
		p->o->daemonize || c->log.syslog);
	log_resolved(c);
	err = log_access_open(c->log.access_log, (enum log_format)c->log.access_format);
	if (err)
		log_err("access log %s: %s", c->log.access_log, strerror(-err));
	return err;
}

/* -d: detach, re-arm the workers' event bases and write the pid file (its path, owned, into
 * p->pidfile). Returns 0 or a negative errno (logged). */
static int detach(struct pingd *p, const struct cfg *c)
{
	int err;

	if (p->o->pidfile || c->pidfile)
		p->pidfile = strdup(p->o->pidfile ? p->o->pidfile : c->pidfile);
	if (daemon(0, 0) < 0) {
		err = -errno;
		log_err("daemon: %s", strerror(-err));
		return err;
	}
	/* The epoll descriptors were made before the fork. */
	for (unsigned int i = 0; i < p->cur->nw; i++)
		(void)event_reinit(p->cur->workers[i].base);
	if (p->pidfile) {
		err = write_pidfile(p->pidfile);
		if (err) {
			log_err("pidfile %s: %s", p->pidfile, strerror(-err));
			free(p->pidfile);
			p->pidfile = NULL;
			return err;
		}
	}
	return 0;
}

/* The main thread's event base with the signal events and the reaper of drained
 * generations. Returns 0 or a negative errno (logged). */
static int install_events(struct pingd *p)
{
	static const int sigs[PINGD_N_SIGNALS] = {SIGINT, SIGTERM, SIGHUP, SIGUSR2, SIGCHLD};
	static const event_callback_fn fns[PINGD_N_SIGNALS] = {
		on_stop_signal, on_stop_signal, on_hup, on_usr2, on_child};

	p->base = event_base_new();
	if (!p->base)
		return -ENOMEM;
	for (int i = 0; i < PINGD_N_SIGNALS; i++) {
		p->sig_ev[i] = evsignal_new(p->base, sigs[i], fns[i], p);
		if (!p->sig_ev[i] || evsignal_add(p->sig_ev[i], NULL) < 0)
			goto fail;
	}
	p->reap_ev = event_new(p->base, -1, EV_PERSIST, on_reap, p);
	if (p->reap_ev)
		return 0;
fail:
	log_err("cannot install signal handlers");
	return -ENOMEM;
}

/* Start serving <c> with the first generation: operations, the XDP counters, the l4
 * section, the workers and L7 steering. Returns 0 or a negative errno (logged). */
static int start_serving(struct pingd *p, const struct cfg *c)
{
	int err = gen_monitor(p->base, p->cur, NULL);

	if (!err) {
		/* The registry is shared by every generation, so one source serves them all. */
		p->xdp = xdpstats_new(c->l4_pin_dir ? c->l4_pin_dir : PINGX_PIN_DIR);
		if (p->xdp)
			stats_set_xdp_source(monitor_stats(p->cur->monitor), xdpstats_read, p->xdp);
		else
			log_warn("metrics: XDP counters unavailable: %s", strerror(errno));
	}
	if (!err)
		err = limits_rt_publish(p->cur->rt->limits, stats_metrics(p->cur->rt->stats));
	if (!err)
		err = l4_reload(p, c);
	if (!err)
		deny_setup(p, p->cur);
	if (!err)
		err = gen_start(p->cur);
	if (!err)
		err = steer_start(p->cur->cfg, &p->cur->workers[0], &p->steer);
	return err;
}

/* Serving: tell systemd, or with --upgrade the predecessor through <up_conn> (closed here),
 * then open the hand-over socket at <up_path> for a successor. Failures are only warned
 * about: pingd serves either way. */
static void announce(struct pingd *p, int up_conn, const char *up_path)
{
	int err;

	if (up_conn >= 0) {
		/* Under systemd (Type=notify, NotifyAccess=all) a successor becomes the main
		 * process, before its predecessor is told to go. */
		err = sdnotify_mainpid(getpid());
		if (err < 0)
			log_warn("sd_notify MAINPID: %s", strerror(-err));
		/* Serving: the predecessor may stop accepting and drain. */
		err = upgrade_ready(up_conn);
		if (err)
			log_warn("--upgrade: telling the old process: %s", strerror(-err));
	} else {
		monitor_ready(p->cur->monitor);
	}
	p->up = upgrade_listen(up_path);
	if (p->up) {
		p->up_ev = event_new(
			p->base, upgrade_srv_fd(p->up), EV_READ | EV_PERSIST, on_upgrade, p);
		if (!p->up_ev || event_add(p->up_ev, NULL) < 0)
			log_warn("upgrade socket %s: cannot watch it", up_path);
	} else {
		log_warn("upgrade socket %s: %s (pingd --upgrade will not find this process)",
			up_path, strerror(errno));
	}
}

/* Free everything <p> holds, generations first; remove the pid file unless a successor took
 * over. */
static void release(struct pingd *p)
{
	steer_stop(p->steer);
	l4health_free(p->l4);
	l4announce_free(p->ann);
	gen_free(p->cur);
	while (p->old) {
		struct gen *g = p->old;

		p->old = g->next;
		gen_free(g);
	}
	xdpstats_free(p->xdp);
	l4deny_free(p->deny);
	if (p->up_ev)
		event_free(p->up_ev);
	upgrade_srv_free(p->up);
	if (p->reap_ev)
		event_free(p->reap_ev);
	for (int i = 0; i < PINGD_N_SIGNALS; i++)
		if (p->sig_ev[i])
			event_free(p->sig_ev[i]);
	if (p->base)
		event_base_free(p->base);
	/* After a hand-over the pid file is the successor's. */
	if (p->pidfile && !p->handed_over)
		unlink(p->pidfile);
	free(p->pidfile);
	free(p->exe);
	log_access_close();
}

/* Load the configuration and run the first generation until the process stops. Returns the
 * exit code. */
int pingd_main(int argc, char **argv)
{
	struct gen_fdpool inherited = {0};
	struct pingd p = {0};
	char up_path[108];
	struct cfg *c;
	struct opts o;
	int up_conn = -1, err = 0;

	if (parse_opts(argc, argv, &o) < 0) {
		fprintf(stderr, "Try 'pingd --help'.\n");
		return EXIT_USAGE;
	}
	c = load_config(&o, false);
	if (!c)
		return 1;
	if (o.test) {
		/* What only loading shows: certificates and keys (said in the log). */
		struct pingd_rt *rt = pingd_rt_new(c);

		if (!rt) {
			cfg_free(c);
			return 1;
		}
		pingd_rt_free(rt);
	}
	if (o.test || o.dump) {
		if (o.test)
			printf("pingd: configuration %s is valid\n",
				o.config ? o.config : "command line");
		else
			cfg_dump(stdout, c);
		cfg_free(c);
		return 0;
	}
	p.o = &o;
	p.argv = argv;
	p.exe = upgrade_exe_path();
	err = start_logs(&p, c);
	/* A client that goes away mid-write must give EPIPE, not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (!err) {
		err = upgrade_socket_path(c, up_path, sizeof(up_path));
		if (err)
			log_err("upgrade socket path: %s", strerror(-err));
	}
	if (!err && o.upgrade) {
		err = upgrade_fetch(up_path, &inherited, &up_conn);
		if (err)
			log_err("--upgrade: no running pingd handed over sockets at %s: %s",
				up_path, strerror(-err));
		else
			take_ticket_keys(&inherited);
	}
	if (err) {
		cfg_free(c);
		goto out;
	}
	p.cur = gen_new(c, &inherited);
	gen_fdpool_release(&inherited);
	if (!p.cur) {
		err = -errno;
		cfg_free(c);
		goto out;
	}
	if (o.daemonize)
		err = detach(&p, c);
	if (!err)
		err = install_events(&p);
	if (!err)
		err = start_serving(&p, c);
	if (err)
		goto out;
	announce(&p, up_conn, up_path);
	up_conn = -1;
	log_notice("pingd %s: %u worker%s, %zu listener%s (%s%s)", PINGX_VERSION, p.cur->nw,
		p.cur->nw == 1 ? "" : "s", c->n_listeners, c->n_listeners == 1 ? "" : "s",
		c->listeners[0].address.text, c->n_listeners > 1 ? ", ..." : "");
	event_base_dispatch(p.base);
out:
	if (up_conn >= 0)
		close(up_conn);
	release(&p);
	return err ? 1 : 0;
}
