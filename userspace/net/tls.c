// SPDX-License-Identifier: GPL-2.0
/* TLS termination over OpenSSL as a conn transport. One SSL_CTX per certificate, the first
 * the default; the SNI callback switches to the first whose names (exact or wildcard, as
 * X509_check_host() matches them) cover the requested name. The handshake is driven by the
 * conn's events; reads and writes go through SSL_read_ex/SSL_write_ex on the socket. */
#include "userspace/net/tls.h"

#include <sys/time.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "userspace/lib/clock.h"
#include "userspace/net/ktls.h"
#include "userspace/net/tls-int.h"
#include "userspace/net/tlskeys.h"

#define ALPN_MAX   255

/* An OCSP response stapled for one certificate. */
struct tls_ocsp {
	unsigned char *der;
	long len;
};

struct tls_server {
	struct conn_transport tr;
	SSL_CTX **ctx; /* one per certificate, [0] the default */
	struct tls_ocsp *ocsp; /* one per certificate; der NULL: none */
	size_t n_ctx;
	struct timeval t_handshake;
	unsigned char alpn[ALPN_MAX]; /* wire format: length-prefixed names */
	unsigned int alpn_len;
	atomic_uint_fast64_t handshakes;
	atomic_uint_fast64_t resumed;
	atomic_uint_fast64_t failed[TLS_FAIL_MAX];
	enum ktls_mode ktls;	 /* how this server's records are sealed */
	char ktls_why[96];	 /* why not in the kernel */
	struct ktls_listener *kl; /* the listener's kTLS counters; NULL: none */
	struct tls_keyfiles *keys; /* ticket keys from files; NULL: the process's ring */
};


/* The counters of every server since the process started: what survives reloads. */
static atomic_uint_fast64_t total_handshakes;
static atomic_uint_fast64_t total_resumed;
static atomic_uint_fast64_t total_failed[TLS_FAIL_MAX];

static const char *const fail_names[TLS_FAIL_MAX] = {
	[TLS_FAIL_PROTOCOL] = "protocol",
	[TLS_FAIL_CIPHER] = "cipher",
	[TLS_FAIL_NOT_TLS] = "not_tls",
	[TLS_FAIL_OTHER] = "other",
	[TLS_FAIL_CLIENT_CERT] = "client_cert",
	[TLS_FAIL_CLOSED] = "closed",
	[TLS_FAIL_ABORTED] = "aborted",
};

/* Coalesced writes: one buffer per worker thread. */
static __thread unsigned char write_buf[TLS_RECORD];

static void count_fail(struct tls_server *s, struct conn *c, enum tls_fail why)
{
	c->tr_flags |= TLS_FAILED;
	atomic_fetch_add_explicit(&s->failed[why], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&total_failed[why], 1, memory_order_relaxed);
}

/* The reason for the failed handshake whose first error is <e>. */
static enum tls_fail fail_reason(unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return TLS_FAIL_OTHER;
	switch (ERR_GET_REASON(e)) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		return TLS_FAIL_PROTOCOL;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_APPLICATION_PROTOCOL:
		return TLS_FAIL_CIPHER;
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_UNEXPECTED_MESSAGE:
	case SSL_R_UNEXPECTED_RECORD:
		return TLS_FAIL_NOT_TLS;
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return TLS_FAIL_CLOSED;
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
	case SSL_R_NO_CERTIFICATES_RETURNED:
		return TLS_FAIL_CLIENT_CERT;
	default:
		return TLS_FAIL_OTHER;
	}
}

/* Map the failed SSL call that returned <r> (with <err> the errno right after it) to
 * read(2)/write(2) terms: -1 with errno, or 0 for a clean end of the stream when reading. */
static ssize_t io_error(SSL *ssl, int r, int err, bool reading)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_ZERO_RETURN:
		if (reading)
			return 0;
		errno = EPIPE;
		return -1;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (!err && reading)
			return 0;
		errno = err ? err : EPIPE;
		return -1;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

ssize_t tls_conn_recv(struct conn *c, void *buf, size_t len)
{
	SSL *ssl = c->tr_conn;
	size_t got = 0, n;
	int r = 0, err = 0;

	/* A record at a time while OpenSSL holds more bytes (read ahead in one read(2) of up to
	 * a record's size), until <buf> is full. The socket is not asked again once they are
	 * used up: its next readiness says when there is more, and a read that would only meet
	 * EAGAIN costs a system call per request. */
	do {
		tls_err_reset();
		errno = 0;
		r = SSL_read_ex(ssl, (char *)buf + got, len - got, &n);
		err = errno;
		if (r != 1)
			break;
		got += n;
	} while (got < len && SSL_has_pending(ssl));
	tls_bio_done(SSL_get_rbio(ssl)); /* bytes a batch fed it are for this read only */
	if (got)
		return (ssize_t)got; /* what stopped the loop comes again on the next call */
	return io_error(ssl, r, err, true);
}

/* conn_transport.feed: bytes a batch read from the socket, for the next recv (or kept). */
static void tls_conn_feed(struct conn *c, const void *buf, ssize_t n, bool more, bool keep)
{
	tls_bio_feed(SSL_get_rbio(c->tr_conn), buf, n, more, keep);
}

ssize_t tls_conn_sendv(struct conn *c, const struct iovec *iov, int n)
{
	SSL *ssl = c->tr_conn;
	const void *p = iov[0].iov_base;
	size_t len = iov[0].iov_len, done;
	int r, err;

	/* Small pieces are copied into one record. A write that must be retried is retried with
	 * the same bytes first (the conn's queue does not move), at least as many of them. */
	if (len < TLS_RECORD && n > 1) {
		len = 0;
		for (int i = 0; i < n && len < TLS_RECORD; i++) {
			size_t k = iov[i].iov_len;

			if (k > TLS_RECORD - len)
				k = TLS_RECORD - len;
			memcpy(write_buf + len, iov[i].iov_base, k);
			len += k;
		}
		p = write_buf;
	}
	tls_err_reset();
	errno = 0;
	r = SSL_write_ex(ssl, p, len, &done);
	err = errno;
	if (r == 1)
		return (ssize_t)done;
	return io_error(ssl, r, err, false);
}

size_t tls_conn_pending(struct conn *c)
{
	SSL *ssl = c->tr_conn;

	/* Bytes read ahead from the socket count too, even those of a record not yet whole (the
	 * next read then waits for the rest): the socket's readiness will not announce them. */
	if (SSL_has_pending(ssl))
		return (size_t)SSL_pending(ssl) + 1;
	return tls_bio_pending(SSL_get_rbio(ssl));
}

/* Count what the kernel took over on <ssl> after its handshake: OpenSSL hands a direction
 * to the kernel when the cipher and version allow it. */
static void count_ktls(struct ktls_listener *kl, SSL *ssl)
{
	if (BIO_get_ktls_send(SSL_get_wbio(ssl)))
		atomic_fetch_add_explicit(&kl->send, 1, memory_order_relaxed);
	if (BIO_get_ktls_recv(SSL_get_rbio(ssl)))
		atomic_fetch_add_explicit(&kl->recv, 1, memory_order_relaxed);
}

static int tls_handshake(struct conn *c)
{
	struct tls_server *s = c->tr->ctx;
	SSL *ssl = c->tr_conn;
	unsigned long e;
	int r, err;

	tls_err_reset();
	errno = 0;
	r = SSL_do_handshake(ssl);
	err = errno;
	if (r == 1) {
		atomic_fetch_add_explicit(&s->handshakes, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&total_handshakes, 1, memory_order_relaxed);
		if (SSL_session_reused(ssl)) {
			atomic_fetch_add_explicit(&s->resumed, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&total_resumed, 1, memory_order_relaxed);
		}
		if (s->ktls == KTLS_KERNEL && s->kl)
			count_ktls(s->kl, ssl);
		return 0;
	}
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->hs_want = CONN_READING;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->hs_want = CONN_WRITING;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		count_fail(s, c, TLS_FAIL_CLOSED);
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		count_fail(s, c, TLS_FAIL_CLOSED);
		ERR_clear_error();
		return err ? -err : -ECONNRESET;
	default:
		e = ERR_peek_error();
		count_fail(s, c, fail_reason(e));
		ERR_clear_error();
		return -EPROTO;
	}
}

void tls_conn_close(struct conn *c)
{
	SSL *ssl = c->tr_conn;

	/* Not the shutdown flags alone: a client's EOF read afterwards replaces them with
	 * "received" (SSL_OP_IGNORE_UNEXPECTED_EOF), and a second alert would meet EPIPE. */
	if (!(c->tr_flags & TLS_NOTIFIED) && !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN)) {
		c->tr_flags |= TLS_NOTIFIED;
		tls_bio_more(SSL_get_wbio(ssl)); /* to leave with the close's FIN */
		ERR_clear_error();
		(void)SSL_shutdown(ssl); /* best effort, as in tls_conn_shutdown() */
		ERR_clear_error();
	}
	/* Counted as a clean close even when the alert was lost: OpenSSL would otherwise take
	 * the connection's session for a bad one and make it unresumable (a server's cache
	 * entry, a client's session kept for the next connection). */
	SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
}

void tls_conn_shutdown(struct conn *c)
{
	SSL *ssl = c->tr_conn;

	if ((c->tr_flags & (TLS_FAILED | TLS_NOTIFIED)) || !SSL_is_init_finished(ssl))
		return;
	/* One close_notify, not waiting for the client's: the socket closes soon after. */
	c->tr_flags |= TLS_NOTIFIED;
	tls_bio_more(SSL_get_wbio(ssl)); /* to leave with the shutdown's FIN */
	ERR_clear_error();
	(void)SSL_shutdown(ssl); /* best effort: a full socket or a gone client loses it */
	ERR_clear_error();
}

static int tls_attach(struct conn *c)
{
	struct tls_server *s = c->tr->ctx;
	SSL *ssl = SSL_new(s->ctx[0]);
	BIO *rb;

	if (ssl && s->ktls != KTLS_KERNEL) {
		/* OpenSSL opens the records: a BIO a batch can feed (tlsbio.c). */
		rb = tls_bio_new(c->fd);
		if (!rb) {
			SSL_free(ssl);
			ERR_clear_error();
			return -ENOMEM;
		}
		SSL_set_bio(ssl, rb, rb);
	} else if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_accept_state(ssl);
	c->tr_conn = ssl;
	c->tr_flags = 0;
	return 0;
}

static void tls_detach(struct conn *c)
{
	struct tls_server *s = c->tr->ctx;
	SSL *ssl = c->tr_conn;

	if (!(c->tr_flags & TLS_FAILED) && !SSL_is_init_finished(ssl))
		count_fail(s, c, TLS_FAIL_ABORTED);
	else if (!(c->tr_flags & TLS_FAILED))
		tls_conn_close(c);
	SSL_free(ssl);
	c->tr_conn = NULL;
}

/* SNI: switch to the first certificate that covers the name; the default otherwise. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *s = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	if (!name || s->n_ctx < 2)
		return SSL_TLSEXT_ERR_OK;
	for (size_t i = 0; i < s->n_ctx; i++) {
		X509 *x = SSL_CTX_get0_certificate(s->ctx[i]);

		if (X509_check_host(x, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1) {
			if (i && !SSL_set_SSL_CTX(ssl, s->ctx[i]))
				return SSL_TLSEXT_ERR_ALERT_FATAL;
			break;
		}
	}
	return SSL_TLSEXT_ERR_OK;
}

/* ALPN: the first of our protocols the client offers; none in common goes on without. */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	const unsigned char *in, unsigned int inlen, void *arg)
{
	struct tls_server *s = arg;
	unsigned char *sel;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, s->alpn, s->alpn_len, in, inlen) !=
		OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

void tls_ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(err, errlen, "%s: %s", what, r ? r : "unknown OpenSSL error");
	ERR_clear_error();
}

/* Can <path> be opened for reading? Otherwise say why in <err>. */
static bool readable(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

/* Parse the comma-separated ALPN list <list> into wire format. */
static int alpn_wire(struct tls_server *s, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	s->alpn_len = 0;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (!n || n > 255 || s->alpn_len + 1 + n > ALPN_MAX) {
			snprintf(err, errlen, "alpn: bad protocol list '%s'", list);
			return -EINVAL;
		}
		s->alpn[s->alpn_len++] = (unsigned char)n;
		memcpy(s->alpn + s->alpn_len, p, n);
		s->alpn_len += (unsigned int)n;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* The TLS 1.3 suites of <ctx>: <list>, colon-separated, preferred first. Each name must be
 * one OpenSSL knows (it would skip an unknown one without a word). */
static int suites_setup(SSL_CTX *ctx, const char *list, char *err, size_t errlen)
{
	char name[64];

	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ":");

		if (!n || n >= sizeof(name)) {
			snprintf(err, errlen, "ciphersuites: bad list '%s'", list);
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (!SSL_CTX_set_ciphersuites(ctx, name)) {
			ERR_clear_error();
			snprintf(err, errlen, "ciphersuites: unknown TLS 1.3 suite '%s'", name);
			return -1;
		}
		p += n;
		if (*p == ':' && !*++p) {
			snprintf(err, errlen, "ciphersuites: bad list '%s'", list);
			return -1;
		}
	}
	if (!SSL_CTX_set_ciphersuites(ctx, list)) {
		tls_ssl_err(err, errlen, "ciphersuites");
		return -1;
	}
	return 0;
}

/* Resumption on <ctx> as <o> says. Tickets (TLS 1.2 tickets, TLS 1.3 PSKs) come from the
 * process's key ring, so any worker, any later generation and a successor process resume
 * them; the session cache is this server's, so a reload empties it. Every certificate's
 * context gets the same settings: OpenSSL resumes with the context the handshake began with.
 * Returns 0 or -1 (an OpenSSL error queued). */
static int session_setup(struct tls_server *s, SSL_CTX *ctx, const struct tls_server_opts *o)
{
	const char *id = o->id && *o->id ? o->id : "pingd";
	size_t idlen = strlen(id);

	if (idlen > SSL_MAX_SID_CTX_LENGTH) {
		id += idlen - SSL_MAX_SID_CTX_LENGTH;
		idlen = SSL_MAX_SID_CTX_LENGTH;
	}
	if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)id, (unsigned int)idlen) !=
		1)
		return -1;
	if (o->session_cache) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		(void)SSL_CTX_sess_set_cache_size(ctx, o->session_cache); /* the old size */
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	/* Each TLS 1.3 ticket costs the server a resumption secret, a sealed session and a
	 * record (about 6 % of a full handshake's instructions); a client resumes with one. */
	(void)SSL_CTX_set_num_tickets(ctx, o->tickets_sent ? o->tickets_sent : TLS_TICKETS_SENT);
	if (o->no_tickets) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		/* TLS 1.3 tickets would be stateful: cached sessions, or none without a cache. */
		if (!o->session_cache)
			(void)SSL_CTX_set_num_tickets(ctx, 0); /* cannot fail on a server */
		return 0;
	}
	SSL_CTX_set_timeout(ctx, (long)tls_keys_lifetime());
	if (s->keys) {
		/* The keys of the files; the session ID context is set once every certificate
		 * is loaded (sid_ctx_shared()). */
		SSL_CTX_set_app_data(ctx, s->keys);
		return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_keyfiles_ticket_cb) == 1 ? 0 :
												 -1;
	}
	if (tls_keys_setup(0) < 0)
		return -1;
	return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_keys_ticket_cb) == 1 ? 0 : -1;
}

/* With ticket keys from files, sessions resume on every listener and machine that shares
 * them, whatever address it listens on: the session ID context (which a resumed session must
 * match) says what a session was verified against rather than where, the certificates and
 * how client certificates are checked, as nginx's does. Returns 0 or -1. */
static int sid_ctx_shared(struct tls_server *s, const struct tls_server_opts *o)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int mode = (int)o->client_verify, ok;

	ok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(m, "pingd-tickets", 13) && EVP_DigestUpdate(m, &mode, sizeof(mode));
	for (size_t i = 0; ok && i < s->n_ctx; i++) {
		STACK_OF(X509_NAME) *cas = SSL_CTX_get_client_CA_list(s->ctx[i]);
		unsigned char *der = NULL;
		int len = i2d_X509(SSL_CTX_get0_certificate(s->ctx[i]), &der);

		ok = len > 0 && EVP_DigestUpdate(m, der, (size_t)len);
		OPENSSL_free(der);
		for (int j = 0; ok && cas && j < sk_X509_NAME_num(cas); j++) {
			der = NULL;
			len = i2d_X509_NAME(sk_X509_NAME_value(cas, j), &der);
			ok = len > 0 && EVP_DigestUpdate(m, der, (size_t)len);
			OPENSSL_free(der);
		}
	}
	ok = ok && EVP_DigestFinal_ex(m, md, &mdlen);
	EVP_MD_CTX_free(m);
	if (mdlen > SSL_MAX_SID_CTX_LENGTH)
		mdlen = SSL_MAX_SID_CTX_LENGTH;
	for (size_t i = 0; ok && i < s->n_ctx; i++)
		ok = SSL_CTX_set_session_id_context(s->ctx[i], md, mdlen) == 1;
	return ok ? 0 : -1;
}

/* The client asked for the certificate's status: staple the response read at load. */
static int on_status(SSL *ssl, void *arg)
{
	const struct tls_ocsp *r = arg;
	unsigned char *copy;

	if (!r->der)
		return SSL_TLSEXT_ERR_NOACK;
	copy = OPENSSL_memdup(r->der, (size_t)r->len);
	if (!copy || SSL_set_tlsext_status_ocsp_resp(ssl, copy, r->len) != 1) {
		OPENSSL_free(copy);
		return SSL_TLSEXT_ERR_NOACK; /* the handshake goes on without */
	}
	return SSL_TLSEXT_ERR_OK;
}

/* Read the OCSP response of <cp> into <r> and staple it from <ctx>, whose certificate (and
 * chain, with the issuer) are loaded: it must be a successful response covering that
 * certificate, and current. Returns 0, or -1 with why in <err>. */
static int ocsp_setup(SSL_CTX *ctx, const struct tls_cert_pair *cp, struct tls_ocsp *r,
	char *err, size_t errlen)
{
	X509 *x = SSL_CTX_get0_certificate(ctx), *issuer = NULL;
	STACK_OF(X509) *chain = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *basic = NULL;
	OCSP_CERTID *id = NULL;
	ASN1_GENERALIZEDTIME *thisupd, *nextupd;
	int status, reason, ret = -1;
	BIO *b;

	b = BIO_new_file(cp->ocsp, "rb");
	if (!b) {
		snprintf(err, errlen, "%s: %s", cp->ocsp, strerror(errno ? errno : ENOENT));
		ERR_clear_error();
		return -1;
	}
	r->len = 0;
	resp = d2i_OCSP_RESPONSE_bio(b, NULL);
	BIO_free(b);
	if (!resp) {
		snprintf(err, errlen, "%s: not a DER OCSP response", cp->ocsp);
		goto out;
	}
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
		!(basic = OCSP_response_get1_basic(resp))) {
		snprintf(err, errlen, "%s: the OCSP response is not a successful one", cp->ocsp);
		goto out;
	}
	SSL_CTX_get0_chain_certs(ctx, &chain);
	for (int i = 0; chain && i < sk_X509_num(chain) && !issuer; i++)
		if (X509_check_issued(sk_X509_value(chain, i), x) == X509_V_OK)
			issuer = sk_X509_value(chain, i);
	if (!issuer && X509_check_issued(x, x) == X509_V_OK)
		issuer = x;
	if (!issuer) {
		snprintf(err, errlen, "%s: the issuer of %s is not in its chain", cp->ocsp, cp->cert);
		goto out;
	}
	id = OCSP_cert_to_id(NULL, x, issuer);
	if (!id || OCSP_resp_find_status(basic, id, &status, &reason, NULL, &thisupd,
			   &nextupd) != 1) {
		snprintf(err, errlen, "%s: the OCSP response is not about %s", cp->ocsp, cp->cert);
		goto out;
	}
	if (!OCSP_check_validity(thisupd, nextupd, 300, -1)) {
		snprintf(err, errlen, "%s: the OCSP response is out of date", cp->ocsp);
		goto out;
	}
	r->len = i2d_OCSP_RESPONSE(resp, &r->der);
	if (r->len <= 0) {
		r->der = NULL;
		snprintf(err, errlen, "%s: out of memory", cp->ocsp);
		goto out;
	}
	SSL_CTX_set_tlsext_status_cb(ctx, on_status);
	SSL_CTX_set_tlsext_status_arg(ctx, r);
	ret = 0;
out:
	ERR_clear_error();
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(basic);
	OCSP_RESPONSE_free(resp);
	return ret;
}

/* Client certificates on <ctx> as <o> says: the CA bundle they are verified with (and whose
 * names are sent to the client as acceptable issuers), the depth, required or optional.
 * Returns 0, or -1 with why in <err>. */
static int client_verify_setup(
	SSL_CTX *ctx, const struct tls_server_opts *o, char *err, size_t errlen)
{
	STACK_OF(X509_NAME) *names;

	if (!o->client_ca || !*o->client_ca) {
		snprintf(err, errlen, "client certificates need a CA file (client_ca)");
		return -1;
	}
	if (!readable(o->client_ca, err, errlen))
		return -1;
	if (SSL_CTX_load_verify_locations(ctx, o->client_ca, NULL) != 1) {
		tls_ssl_err(err, errlen, o->client_ca);
		return -1;
	}
	names = SSL_load_client_CA_file(o->client_ca);
	if (!names) {
		tls_ssl_err(err, errlen, o->client_ca);
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx,
		SSL_VERIFY_PEER |
			(o->client_verify == TLS_VERIFY_REQUIRED ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT :
								   0),
		NULL);
	SSL_CTX_set_verify_depth(ctx, (int)o->verify_depth);
	return 0;
}

/* An SSL_CTX for certificate pair <cp> with the options of <o>, its OCSP response in <r>. */
static SSL_CTX *ctx_new(struct tls_server *s, const struct tls_server_opts *o,
	const struct tls_cert_pair *cp, struct tls_ocsp *r, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (!readable(cp->cert, err, errlen) || !readable(cp->key, err, errlen)) {
		errno = ENOENT;
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		tls_ssl_err(err, errlen, "SSL_CTX_new");
		errno = ENOMEM;
		return NULL;
	}
	/* No renegotiation, and a client closing without close_notify is an end of stream as
	 * with plain TCP. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_PRIORITIZE_CHACHA | SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (session_setup(s, ctx, o)) {
		tls_ssl_err(err, errlen, "session resumption");
		goto err;
	}
	if (o->client_verify && client_verify_setup(ctx, o, err, errlen))
		goto err;
	/* Records are read ahead, as many as one read(2) of a record's size brings, rather than
	 * a header and then a body with two. Not where the kernel may open records: bytes
	 * read ahead past the handshake would keep the receive side in userspace. */
	if (s->ktls == KTLS_KERNEL)
		SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
	else
		SSL_CTX_set_read_ahead(ctx, 1);
	/* The chain sent is the certificate file's, never one OpenSSL would complete from the
	 * client CA file at every handshake. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
	if (!SSL_CTX_set_min_proto_version(ctx, o->min_version ? o->min_version : TLS1_2_VERSION) ||
		!SSL_CTX_set_max_proto_version(ctx, o->max_version)) {
		tls_ssl_err(err, errlen, "protocols");
		goto err;
	}
	if (!SSL_CTX_set_cipher_list(ctx, o->ciphers ? o->ciphers : TLS_DEFAULT_CIPHERS)) {
		tls_ssl_err(err, errlen, "ciphers");
		goto err;
	}
	if (suites_setup(ctx, o->ciphersuites ? o->ciphersuites : TLS_DEFAULT_SUITES, err, errlen))
		goto err;
	if (SSL_CTX_use_certificate_chain_file(ctx, cp->cert) != 1) {
		tls_ssl_err(err, errlen, cp->cert);
		goto err;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cp->key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
			tls_ssl_err(err, errlen, cp->key);
			goto err;
		}
		ERR_clear_error();
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s: the key does not match the certificate %s", cp->key,
			cp->cert);
		ERR_clear_error();
		goto err;
	}
	if (cp->ocsp && *cp->ocsp && ocsp_setup(ctx, cp, r, err, errlen))
		goto err;
	SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(ctx, s);
	SSL_CTX_set_alpn_select_cb(ctx, on_alpn, s);
	return ctx;
err:
	SSL_CTX_free(ctx);
	errno = EINVAL;
	return NULL;
}

struct tls_server *tls_server_new(
	const struct tls_server_opts *o, char *err, size_t errlen, size_t *bad)
{
	struct tls_server *s;
	int e;

	*bad = o->n_certs;
	if (!o->n_certs) {
		snprintf(err, errlen, "no certificate");
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto err_nomem;
	s->ctx = calloc(o->n_certs, sizeof(*s->ctx));
	s->ocsp = calloc(o->n_certs, sizeof(*s->ocsp));
	if (!s->ctx || !s->ocsp) {
		free(s->ctx);
		free(s->ocsp);
		free(s);
		goto err_nomem;
	}
	e = alpn_wire(s, o->alpn ? o->alpn : "http/1.1", err, errlen);
	if (e) {
		tls_server_free(s);
		errno = -e;
		return NULL;
	}
	if (o->ciphersuites) {
		/* Checked once here, so that a bad list is the listener's fault, not a
		 * certificate's. */
		SSL_CTX *t = SSL_CTX_new(TLS_server_method());

		e = EINVAL;
		if (!t) {
			tls_ssl_err(err, errlen, "SSL_CTX_new");
			e = ENOMEM;
		} else if (!suites_setup(t, o->ciphersuites, err, errlen)) {
			e = 0;
		}
		SSL_CTX_free(t);
		if (e) {
			tls_server_free(s);
			errno = e;
			return NULL;
		}
	}
	s->ktls = KTLS_OFF;
	if (o->ktls)
		s->ktls = ktls_available(s->ktls_why, sizeof(s->ktls_why)) ? KTLS_KERNEL :
									       KTLS_NO_KERNEL;
	else
		snprintf(s->ktls_why, sizeof(s->ktls_why), "off in the configuration");
	if (!o->no_tickets && o->n_ticket_keys) {
		s->keys = tls_keyfiles_load(o->ticket_keys, o->n_ticket_keys, err, errlen);
		if (!s->keys) {
			e = errno;
			*bad = TLS_BAD_TICKET_KEYS(o);
			tls_server_free(s);
			errno = e;
			return NULL;
		}
	}
	for (size_t i = 0; i < o->n_certs; i++) {
		s->ctx[i] = ctx_new(s, o, &o->certs[i], &s->ocsp[i], err, errlen);
		if (!s->ctx[i]) {
			e = errno;
			*bad = i;
			tls_server_free(s);
			errno = e;
			return NULL;
		}
		s->n_ctx++;
	}
	if (s->keys && sid_ctx_shared(s, o)) {
		tls_ssl_err(err, errlen, "session ID context");
		tls_server_free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->kl = ktls_listener(o->id && *o->id ? o->id : "?");
	s->t_handshake = clock_ms_tv(o->handshake_ms);
	s->tr = (struct conn_transport){
		.name = "tls",
		.recv = tls_conn_recv,
		.sendv = tls_conn_sendv,
		.attach = tls_attach,
		.handshake = tls_handshake,
		.pending = tls_conn_pending,
		.shutdown = tls_conn_shutdown,
		.detach = tls_detach,
		.feed = s->ktls != KTLS_KERNEL ? tls_conn_feed : NULL,
		.t_handshake = o->handshake_ms ? &s->t_handshake : NULL,
		.ctx = s,
	};
	return s;
err_nomem:
	snprintf(err, errlen, "out of memory");
	errno = ENOMEM;
	return NULL;
}

const struct conn_transport *tls_server_transport(const struct tls_server *s)
{
	return &s->tr;
}

void tls_server_stats(const struct tls_server *s, struct tls_stats *st)
{
	st->handshakes = atomic_load_explicit(&s->handshakes, memory_order_relaxed);
	st->resumed = atomic_load_explicit(&s->resumed, memory_order_relaxed);
	for (int i = 0; i < TLS_FAIL_MAX; i++)
		st->failed[i] = atomic_load_explicit(&s->failed[i], memory_order_relaxed);
}

int tls_server_ktls(struct tls_server *s, const char **why)
{
	*why = s->ktls_why;
	if (s->kl)
		atomic_store(&s->kl->mode, (int)s->ktls);
	return s->ktls;
}

void tls_stats_total(struct tls_stats *st)
{
	st->handshakes = atomic_load_explicit(&total_handshakes, memory_order_relaxed);
	st->resumed = atomic_load_explicit(&total_resumed, memory_order_relaxed);
	for (int i = 0; i < TLS_FAIL_MAX; i++)
		st->failed[i] = atomic_load_explicit(&total_failed[i], memory_order_relaxed);
}

const char *tls_fail_name(enum tls_fail why)
{
	return why < TLS_FAIL_MAX ? fail_names[why] : "?";
}

void tls_server_free(struct tls_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_ctx; i++)
		SSL_CTX_free(s->ctx[i]);
	for (size_t i = 0; s->ocsp && i < s->n_ctx; i++)
		OPENSSL_free(s->ocsp[i].der); /* set only once nothing else can fail */
	free(s->ocsp);
	free(s->ctx);
	tls_keyfiles_free(s->keys);
	free(s);
}

int tls_version(const char *name)
{
	if (!strcmp(name, "TLSv1.2"))
		return TLS1_2_VERSION;
	if (!strcmp(name, "TLSv1.3"))
		return TLS1_3_VERSION;
	return 0;
}

/* The verified client certificate of <c> (not a reference), or NULL. */
static X509 *peer_cert(const struct conn *c)
{
	SSL *ssl = c ? c->tr_conn : NULL;
	X509 *x;

	if (!ssl || c->tr->attach != tls_attach || c->handshaking)
		return NULL;
	x = SSL_get0_peer_certificate(ssl);
	if (!x || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	return x;
}

bool tls_peer_verified(const struct conn *c)
{
	return peer_cert(c) != NULL;
}

const char *tls_peer_subject(const struct conn *c, char *buf, size_t len)
{
	X509 *x = peer_cert(c);
	BIO *b;
	int n;

	if (!x || !len)
		return NULL;
	b = BIO_new(BIO_s_mem());
	if (!b)
		return NULL;
	n = X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	n = n < 0 ? 0 : BIO_read(b, buf, (int)len - 1);
	BIO_free(b);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

const char *tls_peer_san(const struct conn *c, char *buf, size_t len)
{
	X509 *x = peer_cert(c);
	GENERAL_NAMES *gens;
	size_t used = 0;

	if (!x || !len)
		return NULL;
	buf[0] = '\0';
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *kind = g->type == GEN_DNS	? "DNS" :
				   g->type == GEN_EMAIL ? "email" :
				   g->type == GEN_URI	? "URI" :
							  NULL;
		const ASN1_STRING *v = g->d.ia5;
		int n;

		if (!kind)
			continue;
		n = snprintf(buf + used, len - used, "%s%s:%.*s", used ? ", " : "", kind,
			ASN1_STRING_length(v), (const char *)ASN1_STRING_get0_data(v));
		if (n < 0 || (size_t)n >= len - used)
			break; /* what fits */
		used += (size_t)n;
	}
	GENERAL_NAMES_free(gens);
	return buf;
}

const char *tls_peer_fingerprint(const struct conn *c, char *buf, size_t len)
{
	X509 *x = peer_cert(c);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1 || !n || len < 3 * (size_t)n)
		return NULL;
	for (unsigned int i = 0; i < n; i++) {
		buf[3 * i] = "0123456789ABCDEF"[md[i] >> 4];
		buf[3 * i + 1] = "0123456789ABCDEF"[md[i] & 15];
		buf[3 * i + 2] = i + 1 < n ? ':' : '\0';
	}
	return buf;
}
