// SPDX-License-Identifier: GPL-2.0
/* pingd: the L7 reverse proxy. Wiring: options, config, logs, worker threads (one event base
 * each), and signals on the main thread's own event base. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "userspace/proxy/cfg.h"
#include "userspace/proxy/log.h"
#include "userspace/proxy/ops.h"
#include "userspace/proxy/steer.h"
#include "userspace/proxy/worker.h"

#define EXIT_USAGE 2

struct opts {
	const char *config;
	const char *listen;
	const char *upstream;
	const char *pidfile;
	long workers; /* -1 = from the config */
	int verbose;
	bool test;
	bool daemonize;
	bool dump;
};

/* The --help text. */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pingd [-d] [-v]... -c FILE\n"
		"       pingd --listen ADDR:PORT --upstream ADDR:PORT[,ADDR:PORT...] [--workers N]\n"
		"       pingd -t -c FILE | --dump-config [-c FILE] | --help-config\n"
		"\n"
		"  -c, --config FILE     YAML configuration (see docs/config.md)\n"
		"  -t, --test            check the configuration and exit 0 (valid) or 1\n"
		"      --dump-config     print the configuration with every default filled in\n"
		"      --help-config     print the reference of every configuration key\n"
		"      --listen ADDR     one-line mode: accept on ADDR:PORT ...\n"
		"      --upstream LIST   ... and balance round robin over these servers\n"
		"      --workers N       worker threads (default: the config's, or one per CPU)\n"
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
		{"daemon", no_argument, NULL, 'd'},
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
		case 'u':
			o->upstream = optarg;
			break;
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
	if (o->config && (o->listen || o->upstream)) {
		fprintf(stderr, "pingd: -c and --listen/--upstream exclude each other\n");
		return -EINVAL;
	}
	if (!o->config && (!o->listen || !o->upstream)) {
		fprintf(stderr, "pingd: give -c FILE, or both --listen and --upstream\n");
		return -EINVAL;
	}
	return 0;
}

/* Load the file or build the one-line config, printing every message; NULL on errors. */
static struct cfg *load_config(const struct opts *o)
{
	struct cfg_msgs m = {0};
	struct cfg *c;
	int err;

	if (o->config)
		c = cfg_load_file(o->config, &m);
	else
		c = cfg_oneline(
			o->listen, o->upstream, o->workers > 0 ? (unsigned int)o->workers : 0, &m);
	err = errno;
	if (m.text)
		fputs(m.text, stderr);
	if (!c && err != EINVAL)
		fprintf(stderr, "pingd: %s: %s\n", o->config ? o->config : "command line",
			strerror(err));
	cfg_msgs_free(&m);
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

static struct ops *g_ops; /* control thread only */

/* SIGINT/SIGTERM: end the main loop; main() then stops and joins the workers. */
static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_notice("signal %d: shutting down", (int)sig);
	ops_draining(g_ops);
	event_base_loopexit(arg, NULL);
}

/* SIGHUP: reload does not exist yet; say so rather than die (the default action). */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_warn("SIGHUP: configuration reload is not available in this version; ignored");
}

int main(int argc, char **argv)
{
	struct event *ev_int = NULL, *ev_term = NULL, *ev_hup = NULL;
	struct event_base *main_base = NULL;
	struct worker *workers = NULL;
	struct pingd_rt *rt = NULL;
	struct steer *steer = NULL;
	const char *pidfile = NULL;
	unsigned int nw = 0, started = 0;
	struct cfg *c;
	struct opts o;
	int level, err = 0;

	if (parse_opts(argc, argv, &o) < 0) {
		fprintf(stderr, "Try 'pingd --help'.\n");
		return EXIT_USAGE;
	}
	c = load_config(&o);
	if (!c)
		return 1;
	if (o.test) {
		printf("pingd: configuration %s is valid\n", o.config ? o.config : "command line");
		cfg_free(c);
		return 0;
	}
	if (o.dump) {
		cfg_dump(stdout, c);
		cfg_free(c);
		return 0;
	}
	level = c->log.level + o.verbose;
	log_setup(level >= LOG_LVL_MAX ? LOG_LVL_DEBUG : (enum log_level)level,
		o.daemonize || c->log.syslog);
	err = log_access_open(c->log.access_log, (enum log_format)c->log.access_format);
	if (err) {
		log_err("access log %s: %s", c->log.access_log, strerror(-err));
		goto out;
	}
	/* A client that goes away mid-write must give EPIPE, not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	rt = pingd_rt_new(c);
	if (!rt) {
		err = -errno;
		goto out;
	}
	nw = c->workers ? c->workers : (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!nw)
		nw = 1;
	workers = calloc(nw, sizeof(*workers));
	if (!workers) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < nw; i++) {
		err = worker_init(&workers[i], i, rt);
		if (err) {
			nw = i;
			goto out;
		}
	}
	if (o.daemonize) {
		pidfile = o.pidfile ? o.pidfile : c->pidfile;
		if (daemon(0, 0) < 0) {
			err = -errno;
			log_err("daemon: %s", strerror(-err));
			goto out;
		}
		/* The epoll descriptors were made before the fork. */
		for (unsigned int i = 0; i < nw; i++)
			(void)event_reinit(workers[i].base);
		if (pidfile) {
			err = write_pidfile(pidfile);
			if (err) {
				log_err("pidfile %s: %s", pidfile, strerror(-err));
				pidfile = NULL;
				goto out;
			}
		}
	}
	main_base = event_base_new();
	if (!main_base) {
		err = -ENOMEM;
		goto out;
	}
	ev_int = evsignal_new(main_base, SIGINT, on_stop_signal, main_base);
	ev_term = evsignal_new(main_base, SIGTERM, on_stop_signal, main_base);
	ev_hup = evsignal_new(main_base, SIGHUP, on_hup, main_base);
	if (!ev_int || !ev_term || !ev_hup || evsignal_add(ev_int, NULL) < 0 ||
		evsignal_add(ev_term, NULL) < 0 || evsignal_add(ev_hup, NULL) < 0) {
		err = -ENOMEM;
		log_err("cannot install signal handlers");
		goto out;
	}
	{
		struct health_params *hp = calloc(c->n_upstreams + 1, sizeof(*hp));
		const struct health_params **hpp = calloc(c->n_upstreams + 1, sizeof(*hpp));
		struct ops_params op = {.admin_address = c->admin.address, .health = hpp};

		if (!hp || !hpp) {
			free(hp);
			free(hpp);
			err = -ENOMEM;
			goto out;
		}
		for (size_t u = 0; u < c->n_upstreams; u++)
			if (cfg_health_params(&c->upstreams[u].health, &hp[u]))
				hpp[u] = &hp[u];
		g_ops = ops_new(main_base, rt, nw, &op, NULL);
		free(hp);
		free(hpp);
		if (!g_ops) {
			err = -errno;
			goto out;
		}
		rt->stats = ops_stats(g_ops);
	}
	err = steer_start(c, &workers[0], &steer);
	if (err)
		goto out;
	for (; started < nw; started++) {
		err = worker_start(&workers[started]);
		if (err) {
			log_err("worker %u: %s", started, strerror(-err));
			goto out;
		}
	}
	log_notice("pingd %s: %u worker%s, %zu listener%s (%s%s)", PINGX_VERSION, nw,
		nw == 1 ? "" : "s", c->n_listeners, c->n_listeners == 1 ? "" : "s",
		c->listeners[0].address.text, c->n_listeners > 1 ? ", ..." : "");
	ops_ready(g_ops);
	event_base_dispatch(main_base);
out:
	steer_stop(steer);
	for (unsigned int i = 0; i < started; i++)
		worker_stop(&workers[i]);
	for (unsigned int i = 0; i < started; i++)
		worker_join(&workers[i]);
	for (unsigned int i = 0; i < nw; i++)
		worker_release(&workers[i]);
	free(workers);
	ops_free(g_ops);
	if (ev_int)
		event_free(ev_int);
	if (ev_term)
		event_free(ev_term);
	if (ev_hup)
		event_free(ev_hup);
	if (main_base)
		event_base_free(main_base);
	if (pidfile)
		unlink(pidfile);
	pingd_rt_free(rt);
	log_access_close();
	cfg_free(c);
	return err ? 1 : 0;
}
