// SPDX-License-Identifier: GPL-2.0
/* Worker threads and the shared runtime they read. */
#include "userspace/proxy/worker.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "userspace/http/h1.h"
#include "userspace/lib/clock.h"
#include "userspace/lib/log.h"
#include "userspace/net/conn.h"
#include "userspace/net/ktls.h"
#include "userspace/net/listener.h"
#include "userspace/net/tls.h"
#include "userspace/net/tlsclient.h"
#include "userspace/net/tlskeys.h"
#include "userspace/proxy/limits.h"
#include "userspace/proxy/cachephase.h"
#include "userspace/proxy/route.h"
#include "userspace/proxy/upqueue.h"
#include "userspace/upstream/backend.h"
#include "userspace/upstream/pool.h"

/* The TLS server of listener <l> of <c>, or NULL with errno (said in the log, at the
 * line of the certificate at fault). */
static struct tls_server *listener_tls(const struct cfg *c, const struct cfg_listener *l)
{
	const struct cfg_tls *t = &l->tls;
	struct tls_cert_pair *certs = calloc(t->n_certificates, sizeof(*certs));
	struct tls_server_opts o = {
		.certs = certs,
		.n_certs = t->n_certificates,
		.ciphers = t->ciphers && *t->ciphers ? t->ciphers : NULL,
		.ciphersuites = t->ciphersuites && *t->ciphersuites ? t->ciphersuites : NULL,
		.handshake_ms = t->handshake_timeout_ms,
		.no_tickets = !t->tickets || !t->session_tickets,
		.ticket_keys = (const char *const *)t->ticket_keys.v,
		.n_ticket_keys = t->ticket_keys.n,
		.tickets_sent = t->tickets_sent,
		.session_cache = t->session_cache,
		.id = l->address.text,
		.client_verify = (enum tls_verify)t->client_verify,
		.client_ca = t->client_ca,
		.verify_depth = t->client_verify_depth,
		.ktls = t->ktls,
	};
	char alpn[256] = "", why[512];
	struct tls_server *s;
	size_t bad, len = 0;
	int err;

	if (!certs)
		return NULL;
	for (size_t i = 0; i < t->n_certificates; i++)
		certs[i] = (struct tls_cert_pair){
			t->certificates[i].cert, t->certificates[i].key, t->certificates[i].ocsp};
	for (size_t i = 0; i < t->protocols.n; i++) {
		int v = tls_version(t->protocols.v[i]);

		if (!o.min_version || v < o.min_version)
			o.min_version = v;
		if (v > o.max_version)
			o.max_version = v;
	}
	for (size_t i = 0; i < t->alpn.n && len < sizeof(alpn); i++)
		len += (size_t)snprintf(
			alpn + len, sizeof(alpn) - len, "%s%s", i ? "," : "", t->alpn.v[i]);
	o.alpn = len ? alpn : l->http2 ? "h2,http/1.1" : NULL;
	s = tls_server_new(&o, why, sizeof(why), &bad);
	err = errno;
	if (!s)
		log_err("%s:%d: 'listeners[].tls%s': %s", c->file ? c->file : "command line",
			bad < t->n_certificates ? t->certificates[bad].line : l->line,
			bad < t->n_certificates		   ? ".certificates[]" :
			bad == TLS_BAD_TICKET_KEYS(&o) ? ".ticket_keys" :
							   "",
			why);
	free(certs);
	errno = err;
	return s;
}

/* Say how listener <l> seals its TLS records (and publish it for /metrics). */
static void log_ktls(const struct cfg_listener *l, struct tls_server *s)
{
	const char *why;
	int m = tls_server_ktls(s, &why);

	if (m == KTLS_KERNEL)
		log_notice("listener %s: TLS records by the kernel (kTLS) where the cipher allows",
			l->address.text);
	else
		log_notice("listener %s: TLS records in userspace (kTLS: %s)", l->address.text, why);
}

/* The host of "HOST:PORT" or "[HOST]:PORT" <hp> into <buf>. */
static const char *host_of(const char *hp, char *buf, size_t size)
{
	const char *end = strrchr(hp, ':');
	size_t n = end ? (size_t)(end - hp) : strlen(hp);

	if (*hp == '[' && n >= 2 && hp[n - 1] == ']') {
		hp++;
		n -= 2;
	}
	snprintf(buf, size, "%.*s", (int)n, hp);
	return buf;
}

/* TLS to the https:// servers of upstream <u> of <c>: a client into *<cl> and a peer per
 * such server into <peers> (NULL for the others). Returns 0, or -errno said in the log at
 * the upstream's line. Nothing is made when no server is https://. */
static int upstream_tls(const struct cfg *c, const struct cfg_upstream *u, struct tls_client **cl,
	struct tls_peer **peers)
{
	const struct cfg_uptls *t = &u->tls;
	struct tls_client_opts o = {
		.ca = t->ca,
		.no_verify = !t->verify,
		.cert = t->cert,
		.key = t->key,
		.no_session_reuse = !t->session_reuse,
		.h2 = u->protocol == CFG_PROTO_H2,
		.handshake_ms = c->timeouts.connect_ms,
	};
	const char *file = c->file ? c->file : "command line";
	bool any = false;
	char why[512];

	for (size_t i = 0; i < u->n_servers; i++)
		any |= u->servers[i].tls;
	if (!any)
		return 0;
	if ((t->cert && *t->cert) != (t->key && *t->key)) {
		log_err("%s:%d: 'upstreams[].tls': cert and key go together", file, u->line);
		return -EINVAL;
	}
	*cl = tls_client_new(&o, why, sizeof(why));
	if (!*cl) {
		int err = errno;

		log_err("%s:%d: 'upstreams[].tls': %s", file, u->line, why);
		return -err;
	}
	for (size_t i = 0; i < u->n_servers; i++) {
		const struct cfg_server *srv = &u->servers[i];
		char name[CFG_NAME_MAX], ip[64];
		/* The server's own names first, then the pool's, then its host name. */
		const char *sni = srv->sni	       ? srv->sni :
				  t->sni && *t->sni ? t->sni :
				  *srv->name	       ? host_of(srv->name, name, sizeof(name)) :
							 NULL;
		const char *verify = srv->verify_hostname ? srv->verify_hostname :
							    t->verify_hostname;

		if (!srv->tls)
			continue;
		peers[i] = tls_peer_new(*cl, srv->address.text, sni, verify,
			host_of(srv->address.text, ip, sizeof(ip)));
		if (!peers[i])
			return -ENOMEM;
	}
	return 0;
}

const struct conn_transport *pingd_rt_up_transport(
	const struct pingd_rt *rt, size_t up, size_t srv)
{
	if (rt->up_peers && rt->up_peers[up] && rt->up_peers[up][srv])
		return tls_peer_transport(rt->up_peers[up][srv]);
	return &conn_tcp;
}

struct pingd_rt *pingd_rt_new(const struct cfg *c)
{
	struct pingd_rt *rt = calloc(1, sizeof(*rt));
	int err = ENOMEM;

	if (!rt)
		return NULL;
	rt->cfg = c;
	rt->routes = route_table_new(c);
	rt->backends = calloc(c->n_upstreams, sizeof(*rt->backends));
	rt->tls = calloc(c->n_listeners, sizeof(*rt->tls));
	rt->transports = calloc(c->n_listeners, sizeof(*rt->transports));
	rt->limits = limits_rt_new(c);
	rt->upq = upq_new(c);
	if (!rt->routes || !rt->backends || !rt->tls || !rt->transports || !rt->limits ||
		!rt->upq)
		goto err;
	/* The ticket keys are the process's: they outlive this runtime (reloads resume). */
	err = -tls_keys_setup(c->tls_ticket_rotation_ms / 1000);
	if (err) {
		log_err("session ticket keys: %s", strerror(err));
		goto err;
	}
	err = ENOMEM;
	for (size_t i = 0; i < c->n_listeners; i++) {
		rt->transports[i] = &conn_tcp;
		if (!c->listeners[i].tls.n_certificates)
			continue;
		rt->tls[i] = listener_tls(c, &c->listeners[i]);
		if (!rt->tls[i]) {
			err = errno;
			goto err;
		}
		rt->transports[i] = tls_server_transport(rt->tls[i]);
		log_ktls(&c->listeners[i], rt->tls[i]);
	}
	rt->up_tls = calloc(c->n_upstreams, sizeof(*rt->up_tls));
	rt->up_peers = calloc(c->n_upstreams, sizeof(*rt->up_peers));
	if (!rt->up_tls || !rt->up_peers)
		goto err;
	for (size_t i = 0; i < c->n_upstreams; i++) {
		rt->up_peers[i] = calloc(c->upstreams[i].n_servers, sizeof(**rt->up_peers));
		if (!rt->up_peers[i])
			goto err;
		err = -upstream_tls(c, &c->upstreams[i], &rt->up_tls[i], rt->up_peers[i]);
		if (err)
			goto err;
		err = ENOMEM;
	}
	for (size_t i = 0; i < c->n_upstreams; i++) {
		rt->backends[i] = backend_new(c, i);
		if (!rt->backends[i]) {
			err = errno;
			log_err("upstream '%s': %s", c->upstreams[i].name, strerror(err));
			goto err;
		}
		rt->n_backends++;
	}
	err = -cachephase_rt_init(rt);
	if (err)
		goto err;
	return rt;
err:
	pingd_rt_free(rt);
	errno = err;
	return NULL;
}

void pingd_rt_free(struct pingd_rt *rt)
{
	if (!rt)
		return;
	cachephase_rt_free(rt);
	for (size_t i = 0; i < rt->n_backends; i++)
		backend_free(rt->backends[i]);
	free(rt->backends);
	for (size_t i = 0; rt->tls && i < rt->cfg->n_listeners; i++)
		tls_server_free(rt->tls[i]);
	for (size_t i = 0; rt->up_peers && i < rt->cfg->n_upstreams; i++) {
		for (size_t k = 0; rt->up_peers[i] && k < rt->cfg->upstreams[i].n_servers; k++)
			tls_peer_free(rt->up_peers[i][k]);
		free(rt->up_peers[i]);
	}
	free(rt->up_peers);
	for (size_t i = 0; rt->up_tls && i < rt->cfg->n_upstreams; i++)
		tls_client_free(rt->up_tls[i]);
	free(rt->up_tls);
	free(rt->tls);
	free(rt->transports);
	route_table_free(rt->routes);
	limits_rt_free(rt->limits);
	upq_free(rt->upq);
	free(rt);
}

/* Listener callback: the owner's client functions (the stream layer) own the socket now. */
static void on_accept(void *arg, size_t idx, evutil_socket_t fd, struct sockaddr *sa, socklen_t len)
{
	struct worker *w = arg;

	w->client->accept(w, idx, fd, sa, len);
}

#define DRAIN_IDLE_MS 500 /* how long an idle keep-alive connection stays open while draining */

/* The grace period is over: end the loop; worker_release() closes what is left. */
static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	log_notice("worker %u: grace period over, closing %u connection%s", w->id, w->n_conns,
		w->n_conns == 1 ? "" : "s");
	event_base_loopbreak(w->base);
}

/* Close the listeners and let the sessions finish (w->client->drain). */
static void drain(struct worker *w, unsigned int grace_ms)
{
	struct timeval tv = clock_ms_tv(grace_ms);

	if (w->draining)
		return;
	w->draining = true;
	for (size_t i = 0; i < w->n_listeners; i++)
		listener_free(w->listeners[i]);
	w->n_listeners = 0;
	w->grace_ev = evtimer_new(w->base, on_grace, w);
	if (w->grace_ev)
		evtimer_add(w->grace_ev, &tv);
	log_debug("worker %u: draining %u connection%s", w->id, w->n_conns,
		w->n_conns == 1 ? "" : "s");
	w->client->drain(w);
}

/* The loop has no locks (no evthread), so other threads reach it only through this fd. */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	unsigned int grace_ms;
	uint64_t v;

	(void)what;
	(void)!read(fd, &v, sizeof(v));
	grace_ms = atomic_exchange(&w->drain_ms, 0);
	if (grace_ms && !w->draining)
		drain(w, grace_ms);
	else
		event_base_loopbreak(w->base);
}

/* A burst of connections leaves its buffers, parsers and upstream connections freed in
 * the middle of the heap, where free() keeps them: once a second worker 0 looks whether
 * more than TRIM_MIN bytes were freed since its last look and, if so, has malloc_trim()
 * give the free pages back, so the RSS follows what is in use rather than the peak. */
#define TRIM_PERIOD_MS 1000
#define TRIM_MIN       (1u << 20)

static void on_trim(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct mallinfo2 mi = mallinfo2();

	(void)fd;
	(void)what;
	if (mi.fordblks > w->trim_free + TRIM_MIN) {
		malloc_trim(0);
		mi = mallinfo2();
	}
	w->trim_free = mi.fordblks;
}

/* A libevent common timeout of <ms> on <base>, or NULL. */
static const struct timeval *common_ms(struct event_base *base, unsigned int ms)
{
	struct timeval tv = clock_ms_tv(ms);

	return event_base_init_common_timeout(base, &tv);
}

int worker_init(struct worker *w, unsigned int id, const struct pingd_rt *rt, int *fds,
	const struct worker_client_fns *client)
{
	const struct cfg *c = rt->cfg;
	int err = -ENOMEM;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->rt = rt;
	w->client = client;
	TAILQ_INIT(&w->sessions);
	w->stop_fd = -1;
	h1_buf_init(&w->scratch, 0);
	w->base = event_base_new();
	w->listeners = calloc(c->n_listeners, sizeof(*w->listeners));
	w->bws = calloc(rt->n_backends, sizeof(*w->bws));
	w->pools = calloc(rt->n_backends, sizeof(*w->pools));
	w->cstage = evbuffer_new();
	w->ustage = evbuffer_new();
	if (!w->base || !w->listeners || !w->bws || !w->pools || !w->cstage || !w->ustage)
		goto err;
	w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->stop_fd < 0) {
		err = -errno;
		goto err;
	}
	w->stop_ev = event_new(w->base, w->stop_fd, EV_READ | EV_PERSIST, on_stop, w);
	if (!w->stop_ev || event_add(w->stop_ev, NULL) < 0)
		goto err;
	if (id == 0) {
		struct timeval tv = clock_ms_tv(TRIM_PERIOD_MS);

		w->trim_ev = event_new(w->base, -1, EV_PERSIST, on_trim, w);
		if (!w->trim_ev || event_add(w->trim_ev, &tv) < 0)
			goto err;
	}
	w->t_header = common_ms(w->base, c->timeouts.client_header_ms);
	w->t_keepalive = common_ms(w->base, c->timeouts.keepalive_ms);
	w->t_connect = common_ms(w->base, c->timeouts.connect_ms);
	w->t_body = common_ms(w->base, c->timeouts.client_body_ms);
	w->t_upread = common_ms(w->base, c->timeouts.upstream_read_ms);
	w->t_send = common_ms(w->base, c->timeouts.send_ms);
	w->t_drain = common_ms(w->base, DRAIN_IDLE_MS < c->timeouts.keepalive_ms ?
						DRAIN_IDLE_MS :
						c->timeouts.keepalive_ms);
	if (!w->t_header || !w->t_keepalive || !w->t_connect || !w->t_body || !w->t_upread ||
		!w->t_send || !w->t_drain)
		goto err;
	for (size_t i = 0; i < rt->n_backends; i++) {
		const struct backend *be = rt->backends[i];

		err = backend_wstate_init(&w->bws[i], be);
		if (err)
			goto err;
		w->pools[i] = calloc(be->n, sizeof(**w->pools));
		if (!w->pools[i]) {
			err = -ENOMEM;
			goto err;
		}
		for (size_t s = 0; s < be->n; s++)
			pool_init(&w->pools[i][s], be->cfg->keepalive,
				common_ms(w->base, be->cfg->idle_timeout_ms));
	}
	for (size_t i = 0; i < c->n_listeners; i++) {
		int fd = fds ? fds[i] : -1;

		if (fds)
			fds[i] = -1; /* the listener owns it now, even on failure */
		w->listeners[i] = listener_new(w->base, &c->listeners[i], i, on_accept, w, fd);
		if (!w->listeners[i]) {
			err = -errno;
			log_err("listen on %s: %s", c->listeners[i].address.text, strerror(-err));
			goto err;
		}
		w->n_listeners++;
	}
	return 0;
err:
	worker_release(w);
	return err;
}

/* Thread body: run the loop until worker_stop(). */
static void *worker_main(void *arg)
{
	struct worker *w = arg;

	log_debug("worker %u running", w->id);
	/* The loop one batch of callbacks at a time, the writes they made after each. */
	conn_defer_writes();
	if (w->rt->cfg->io_uring) {
		int err = conn_batch_io();

		if (err && w->id == 0)
			log_notice("io_uring unavailable (%s): reads and writes make a system "
				   "call each",
				strerror(-err));
	}
	for (;;) {
		int r = event_base_loop(w->base, EVLOOP_ONCE);

		conn_flush_deferred();
		if (r < 0)
			log_err("worker %u: event loop failed", w->id);
		if (r || event_base_got_break(w->base) || event_base_got_exit(w->base))
			break;
	}
	conn_batch_end();
	atomic_store(&w->done, true);
	return NULL;
}

int worker_start(struct worker *w)
{
	sigset_t all, old;
	int err;

	/* Workers inherit a full mask, so signals reach the main thread's loop only. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}

void worker_stop(struct worker *w)
{
	uint64_t one = 1;

	/* A stop overrides a drain request the loop has not read yet. */
	atomic_store(&w->drain_ms, 0);
	/* A full counter still wakes the loop, so a failed write needs no handling. */
	(void)!write(w->stop_fd, &one, sizeof(one));
}

void worker_drain(struct worker *w, unsigned int grace_ms)
{
	uint64_t one = 1;

	atomic_store(&w->drain_ms, grace_ms ? grace_ms : 1);
	(void)!write(w->stop_fd, &one, sizeof(one));
}

int worker_listener_fd(const struct worker *w, size_t idx)
{
	return idx < w->n_listeners ? listener_fd(w->listeners[idx]) : -1;
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

void worker_release(struct worker *w)
{
	for (size_t i = 0; i < w->n_listeners; i++)
		listener_free(w->listeners[i]);
	free(w->listeners);
	w->listeners = NULL;
	w->client->release_all(w);
	for (size_t i = 0; w->pools && i < w->rt->n_backends; i++) {
		for (size_t s = 0; w->pools[i] && s < w->rt->backends[i]->n; s++)
			pool_release(&w->pools[i][s]);
		free(w->pools[i]);
	}
	free(w->pools);
	w->pools = NULL;
	for (size_t i = 0; w->bws && i < w->rt->n_backends; i++)
		backend_wstate_release(&w->bws[i]);
	free(w->bws);
	w->bws = NULL;
	h1_buf_free(&w->scratch);
	if (w->stop_ev)
		event_free(w->stop_ev);
	w->stop_ev = NULL;
	if (w->grace_ev)
		event_free(w->grace_ev);
	w->grace_ev = NULL;
	if (w->trim_ev)
		event_free(w->trim_ev);
	w->trim_ev = NULL;
	if (w->upq_ev)
		event_free(w->upq_ev);
	w->upq_ev = NULL;
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	w->stop_fd = -1;
	if (w->cstage)
		evbuffer_free(w->cstage);
	if (w->ustage)
		evbuffer_free(w->ustage);
	w->cstage = w->ustage = NULL;
	if (w->base)
		event_base_free(w->base);
	w->base = NULL;
}
