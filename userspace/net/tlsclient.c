// SPDX-License-Identifier: GPL-2.0
/* TLS to upstream servers over OpenSSL. The handshake starts once the TCP connect completes
 * and the owner hears CONN_CONNECTED only when it is done, so a pooled TLS connection is just
 * a connection. Each server keeps the last session it gave (TLS 1.2 ticket or ID, TLS 1.3
 * ticket) for the next connection to resume; a failed handshake forgets it. */
#include "userspace/net/tlsclient.h"

#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "userspace/lib/clock.h"
#include "userspace/lib/log.h"
#include "userspace/net/tls-int.h"
#include "userspace/net/tls-t.h"

struct tls_client {
	SSL_CTX *ctx;
	struct timeval t_handshake;
	bool timed;
	bool reuse; /* keep sessions for resumption */
};

struct tls_peer {
	struct conn_transport tr;
	struct tls_client *cl;
	char *addr;	   /* for messages */
	char *sni;	   /* NULL: none */
	char *verify;	   /* the name or address the certificate must carry; NULL: any */
	bool verify_ip;	   /* <verify> is an IP address */
	pthread_mutex_t mu; /* guards sess: every worker connects to the server */
	SSL_SESSION *sess; /* the last session the server gave; NULL: none */
};

static atomic_uint_fast64_t st_handshakes, st_resumed, st_failed, st_verify;

static const unsigned char alpn_h1[] = "\x08http/1.1";
static const unsigned char alpn_h2[] = "\x02h2";

/* The peer of a connection's SSL. */
static struct tls_peer *peer_of(SSL *ssl)
{
	return SSL_get_app_data(ssl);
}

/* A server gave a session (after the handshake in TLS 1.3): keep it for the next connection.
 * Returns 1: the reference is ours. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_peer *p = peer_of(ssl);
	SSL_SESSION *old;


	pthread_mutex_lock(&p->mu);
	old = p->sess;
	p->sess = sess;
	pthread_mutex_unlock(&p->mu);
	SSL_SESSION_free(old);
	return 1;
}

/* Forget the session of <p> (it did not work, or the handshake failed with it). */
static void forget_session(struct tls_peer *p)
{
	SSL_SESSION *old;

	pthread_mutex_lock(&p->mu);
	old = p->sess;
	p->sess = NULL;
	pthread_mutex_unlock(&p->mu);
	SSL_SESSION_free(old);
}

static int cl_attach(struct conn *c)
{
	struct tls_peer *p = c->tr->ctx;
	SSL *ssl = SSL_new(p->cl->ctx);
	SSL_SESSION *sess = NULL;

	if (!ssl || SSL_set_fd(ssl, c->fd) != 1)
		goto err;
	SSL_set_app_data(ssl, p);
	SSL_set_connect_state(ssl);
	if (p->sni && SSL_set_tlsext_host_name(ssl, p->sni) != 1)
		goto err;
	if (p->verify && p->verify_ip &&
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), p->verify) != 1)
		goto err;
	if (p->verify && !p->verify_ip) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(ssl, p->verify) != 1)
			goto err;
	}
	if (p->cl->reuse) {
		pthread_mutex_lock(&p->mu);
		if (p->sess && SSL_SESSION_up_ref(p->sess))
			sess = p->sess;
		pthread_mutex_unlock(&p->mu);
		if (sess) {
			(void)SSL_set_session(ssl, sess); /* a refused session: a full handshake */
			SSL_SESSION_free(sess);
		}
	}
	c->tr_conn = ssl;
	c->tr_flags = 0;
	return 0;
err:
	SSL_free(ssl);
	ERR_clear_error();
	return -ENOMEM;
}

/* Say why the handshake with <p> failed, from the verification result or the first error. */
static void log_failure(struct tls_peer *p, SSL *ssl, int ssl_err, int sys_err)
{
	long v = SSL_get_verify_result(ssl);
	unsigned long e = ERR_peek_error();
	char why[256];

	if (v != X509_V_OK) {
		atomic_fetch_add_explicit(&st_verify, 1, memory_order_relaxed);
		log_warn("upstream %s: TLS: the server's certificate is refused: %s%s%s%s", p->addr,
			X509_verify_cert_error_string(v), p->verify ? " (expected " : "",
			p->verify ? p->verify : "", p->verify ? ")" : "");
		return;
	}
	if (e) {
		ERR_error_string_n(e, why, sizeof(why));
		log_warn("upstream %s: TLS handshake failed: %s", p->addr, why);
	} else if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN) {
		log_warn("upstream %s: TLS handshake failed: %s", p->addr,
			sys_err ? strerror(sys_err) : "the server closed the connection");
	} else {
		log_warn("upstream %s: TLS handshake failed (error %d)", p->addr, ssl_err);
	}
}

static int cl_handshake(struct conn *c)
{
	struct tls_peer *p = c->tr->ctx;
	SSL *ssl = c->tr_conn;
	int r, err, e;

	tls_err_reset();
	errno = 0;
	r = SSL_do_handshake(ssl);
	err = errno;
	if (r == 1) {
		atomic_fetch_add_explicit(&st_handshakes, 1, memory_order_relaxed);
		if (SSL_session_reused(ssl))
			atomic_fetch_add_explicit(&st_resumed, 1, memory_order_relaxed);
		return 0;
	}
	e = SSL_get_error(ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		c->hs_want = CONN_READING;
		return -EAGAIN;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->hs_want = CONN_WRITING;
		return -EAGAIN;
	}
	c->tr_flags |= TLS_FAILED;
	atomic_fetch_add_explicit(&st_failed, 1, memory_order_relaxed);
	log_failure(p, ssl, e, err);
	ERR_clear_error();
	forget_session(p);
	if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
		return err ? -err : -ECONNRESET;
	return -EPROTO;
}

static void cl_detach(struct conn *c)
{
	SSL *ssl = c->tr_conn;

	if (!(c->tr_flags & TLS_FAILED) && !SSL_is_init_finished(ssl))
		atomic_fetch_add_explicit(&st_failed, 1, memory_order_relaxed); /* timed out */
	else if (!(c->tr_flags & TLS_FAILED))
		tls_conn_close(c);
	SSL_free(ssl);
	c->tr_conn = NULL;
}

struct tls_client *tls_client_new(const struct tls_client_opts *o, char *err, size_t errlen)
{
	struct tls_client *cl = calloc(1, sizeof(*cl));
	SSL_CTX *ctx;

	if (!cl) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ctx = cl->ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		tls_ssl_err(err, errlen, "SSL_CTX_new");
		goto err;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(ctx, 1); /* one read(2) for a record, not two (tls.c) */
	/* The listeners' preference (tls-t.h): an origin that takes the client's gets it. */
	if (!SSL_CTX_set_ciphersuites(ctx, TLS_DEFAULT_SUITES)) {
		tls_ssl_err(err, errlen, "ciphersuites");
		goto err;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
		SSL_CTX_set_alpn_protos(ctx, o->h2 ? alpn_h2 : alpn_h1,
			o->h2 ? sizeof(alpn_h2) - 1 : sizeof(alpn_h1) - 1)) {
		tls_ssl_err(err, errlen, "protocols");
		goto err;
	}
	if (!o->no_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca && *o->ca ? SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1 :
				      SSL_CTX_set_default_verify_paths(ctx) != 1) {
			tls_ssl_err(err, errlen, o->ca && *o->ca ? o->ca : "the system's CA store");
			goto err;
		}
	}
	if (o->cert && *o->cert) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
			tls_ssl_err(err, errlen, o->cert);
			goto err;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
			SSL_CTX_check_private_key(ctx) != 1) {
			tls_ssl_err(err, errlen, o->key);
			goto err;
		}
	}
	cl->reuse = !o->no_session_reuse;
	if (cl->reuse) {
		/* Sessions live in the peers, not in a cache of the context. */
		SSL_CTX_set_session_cache_mode(
			ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	}
	cl->t_handshake = clock_ms_tv(o->handshake_ms);
	cl->timed = o->handshake_ms != 0;
	return cl;
err:
	tls_client_free(cl);
	errno = EINVAL;
	return NULL;
}

struct tls_peer *tls_peer_new(struct tls_client *cl, const char *addr_text, const char *sni,
	const char *verify_name, const char *ip)
{
	struct tls_peer *p = calloc(1, sizeof(*p));
	unsigned char buf[sizeof(struct in6_addr)];
	const char *v;

	if (!p)
		return NULL;
	p->cl = cl;
	pthread_mutex_init(&p->mu, NULL);
	p->addr = strdup(addr_text);
	if (sni && *sni)
		p->sni = strdup(sni);
	v = verify_name && *verify_name ? verify_name : p->sni ? p->sni : ip;
	if (v && *v)
		p->verify = strdup(v);
	if (!p->addr || (sni && *sni && !p->sni) || (v && *v && !p->verify)) {
		tls_peer_free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->verify_ip = p->verify && (inet_pton(AF_INET, p->verify, buf) == 1 ||
					    inet_pton(AF_INET6, p->verify, buf) == 1);
	p->tr = (struct conn_transport){
		.name = "tls",
		.recv = tls_conn_recv,
		.sendv = tls_conn_sendv,
		.attach = cl_attach,
		.handshake = cl_handshake,
		.pending = tls_conn_pending,
		.shutdown = tls_conn_shutdown,
		.detach = cl_detach,
		.t_handshake = cl->timed ? &cl->t_handshake : NULL,
		.ctx = p,
	};
	return p;
}

const struct conn_transport *tls_peer_transport(const struct tls_peer *p)
{
	return &p->tr;
}

void tls_peer_free(struct tls_peer *p)
{
	if (!p)
		return;
	SSL_SESSION_free(p->sess);
	pthread_mutex_destroy(&p->mu);
	free(p->addr);
	free(p->sni);
	free(p->verify);
	free(p);
}

void tls_client_free(struct tls_client *cl)
{
	if (!cl)
		return;
	SSL_CTX_free(cl->ctx);
	free(cl);
}

void tls_client_stats_total(struct tls_client_stats *st)
{
	st->handshakes = atomic_load_explicit(&st_handshakes, memory_order_relaxed);
	st->resumed = atomic_load_explicit(&st_resumed, memory_order_relaxed);
	st->failed = atomic_load_explicit(&st_failed, memory_order_relaxed);
	st->verify = atomic_load_explicit(&st_verify, memory_order_relaxed);
}
