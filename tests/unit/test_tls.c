// SPDX-License-Identifier: GPL-2.0
/* The TLS transport on a socket pair: an OpenSSL client in the test thread against a conn
 * on a real event base. Handshake with SNI and ALPN, data both ways, a client that is not
 * TLS, a handshake timeout, certificate files that cannot be used, and connections read in
 * batches (conn_batch_io()). */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tests/unit/unit.h"
#include "userspace/lib/clock.h"
#include "userspace/net/conn.h"
#include "userspace/net/tls.h"

struct seen {
	int reads, events;
	short what;
	int err;
	bool echo; /* send back what arrives */
};

static char dir[] = "/tmp/pingx-tls-XXXXXX";
static char cert_a[64], key_a[64], cert_b[64], key_b[64];

static void t_read(struct conn *c, void *arg)
{
	struct seen *s = arg;

	s->reads++;
	if (s->echo) {
		struct evbuffer *stage = evbuffer_new();

		evbuffer_add_buffer(stage, c->in);
		conn_send(c, stage);
		evbuffer_free(stage);
	}
}

static void t_event(struct conn *c, short what, void *arg)
{
	struct seen *s = arg;

	(void)c;
	s->events++;
	s->what = what;
	s->err = errno;
}

/* A self-signed P-256 certificate for <san> with common name <cn>, as PEM files. */
static int make_pair(const char *cn, const char *san, const char *cert, const char *key)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_EXTENSION *ext;
	X509_NAME *n;
	FILE *f;
	int ok = 0;

	if (!pk || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (!ext)
		goto out;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!X509_sign(x, pk, EVP_sha256()))
		goto out;
	f = fopen(cert, "w");
	if (!f)
		goto out;
	ok = PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key, "w");
	if (!f)
		goto out;
	ok = ok && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	return ok ? 0 : -1;
}

static int suite_init(void)
{
	/* The client's writes to a closed pair end must not end the test run. */
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return -1;
	snprintf(cert_a, sizeof(cert_a), "%s/a.crt", dir);
	snprintf(key_a, sizeof(key_a), "%s/a.key", dir);
	snprintf(cert_b, sizeof(cert_b), "%s/b.crt", dir);
	snprintf(key_b, sizeof(key_b), "%s/b.key", dir);
	if (make_pair("a.test", "DNS:a.test", cert_a, key_a) ||
		make_pair("b.test", "DNS:*.b.test", cert_b, key_b))
		return -1;
	return 0;
}

static int suite_clean(void)
{
	unlink(cert_a);
	unlink(key_a);
	unlink(cert_b);
	unlink(key_b);
	rmdir(dir);
	return 0;
}

static struct tls_server *server(unsigned int hs_ms)
{
	struct tls_cert_pair certs[] = {{cert_a, key_a, NULL}, {cert_b, key_b, NULL}};
	struct tls_server_opts o = {.certs = certs, .n_certs = 2, .handshake_ms = hs_ms};
	char err[256] = "";
	size_t bad;
	struct tls_server *s = tls_server_new(&o, err, sizeof(err), &bad);

	CU_ASSERT_FATAL(s != NULL);
	return s;
}

/* A TLS conn of <ts> on one end of a socket pair; the other end goes to <*peer>. */
static struct conn *pair_conn(
	struct event_base *base, struct tls_server *ts, int *peer, struct seen *s)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int sv[2];
	struct conn *c;

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	c = conn_accepted(
		base, tls_server_transport(ts), sv[0], (struct sockaddr *)&sin, sizeof(sin));
	CU_ASSERT_FATAL(c != NULL);
	conn_set_cbs(c, t_read, NULL, t_event, s);
	*peer = sv[1];
	return c;
}

/* One pass of the loop: at most 5 ms. */
static void loop_once(struct event_base *base)
{
	struct timeval tv = {0, 5000};

	event_base_loopexit(base, &tv);
	event_base_loop(base, EVLOOP_ONCE);
}

/* A client over <fd> for <sni> (NULL: none), offering http/1.1; handshaken against the
 * loop, or NULL. */
static SSL *client(struct event_base *base, SSL_CTX **cctx, int fd, const char *sni)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL *ssl;
	int r = 0;

	*cctx = SSL_CTX_new(TLS_client_method());
	CU_ASSERT_FATAL(*cctx != NULL);
	ssl = SSL_new(*cctx);
	SSL_set_fd(ssl, fd);
	SSL_set_connect_state(ssl);
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1);
	for (int i = 0; i < 400 && r != 1; i++) {
		r = SSL_do_handshake(ssl);
		if (r != 1) {
			int e = SSL_get_error(ssl, r);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				break;
			loop_once(base);
		}
	}
	if (r != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* The common name of the certificate <ssl> was given. */
static void peer_cn(SSL *ssl, char *cn, size_t len)
{
	X509 *x = SSL_get1_peer_certificate(ssl);

	cn[0] = '\0';
	if (x) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)len);
		X509_free(x);
	}
}

static void test_handshake_sni_alpn(void)
{
	struct event_base *base = event_base_new();
	struct tls_server *ts = server(0);
	const char *snis[] = {NULL, "a.test", "x.b.test", "b.test"};
	const char *want[] = {"a.test", "a.test", "b.test", "a.test"};
	struct tls_stats st;

	for (int i = 0; i < 4; i++) {
		struct seen s = {0};
		int peer;
		struct conn *c = pair_conn(base, ts, &peer, &s);
		SSL_CTX *cctx;
		SSL *ssl = client(base, &cctx, peer, snis[i]);
		const unsigned char *proto;
		unsigned int plen = 0;
		char cn[64];

		CU_ASSERT_FATAL(ssl != NULL);
		peer_cn(ssl, cn, sizeof(cn));
		CU_ASSERT_STRING_EQUAL(cn, want[i]);
		SSL_get0_alpn_selected(ssl, &proto, &plen);
		CU_ASSERT(plen == 8 && !memcmp(proto, "http/1.1", 8));
		CU_ASSERT(SSL_version(ssl) == TLS1_3_VERSION);
		/* The server's side ends with the client's Finished: a byte through proves it. */
		CU_ASSERT(SSL_write(ssl, "x", 1) == 1);
		for (int k = 0; k < 400 && !s.reads; k++)
			loop_once(base);
		CU_ASSERT_EQUAL(s.reads, 1);
		SSL_free(ssl);
		SSL_CTX_free(cctx);
		conn_free(c);
		close(peer);
	}
	tls_server_stats(ts, &st);
	CU_ASSERT_EQUAL(st.handshakes, 4);
	tls_server_free(ts);
	event_base_free(base);
}

/* Bytes both ways, much more than a record and than a socket buffer: the echo conn queues,
 * the client drains. */
static void test_echo_large(void)
{
	struct event_base *base = event_base_new();
	struct tls_server *ts = server(0);
	struct seen s = {.echo = true};
	int peer;
	struct conn *c = pair_conn(base, ts, &peer, &s);
	SSL_CTX *cctx;
	SSL *ssl = client(base, &cctx, peer, NULL);
	size_t total = 1 << 20, sent = 0, got = 0;
	unsigned char *out = malloc(total), *in = malloc(total);

	CU_ASSERT_FATAL(ssl && out && in);
	for (size_t i = 0; i < total; i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	for (int i = 0; i < 20000 && got < total; i++) {
		size_t n;

		if (sent < total && SSL_write_ex(ssl, out + sent, total - sent, &n) == 1)
			sent += n;
		while (got < total && SSL_read_ex(ssl, in + got, total - got, &n) == 1)
			got += n;
		loop_once(base);
	}
	CU_ASSERT_EQUAL(got, total);
	CU_ASSERT(!memcmp(in, out, total));
	CU_ASSERT_EQUAL(s.events, 0);
	/* A clean close from the client is an end of stream. */
	SSL_shutdown(ssl);
	for (int i = 0; i < 400 && !s.events; i++)
		loop_once(base);
	CU_ASSERT_EQUAL(s.what, CONN_READING | CONN_EOF);
	SSL_free(ssl);
	SSL_CTX_free(cctx);
	conn_free(c);
	close(peer);
	free(out);
	free(in);
	tls_server_free(ts);
	event_base_free(base);
}

static void test_not_tls(void)
{
	struct event_base *base = event_base_new();
	struct tls_server *ts = server(0);
	struct seen s = {0};
	int peer;
	struct conn *c = pair_conn(base, ts, &peer, &s);
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct tls_stats st;

	CU_ASSERT(write(peer, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1);
	for (int i = 0; i < 400 && !s.events; i++)
		loop_once(base);
	CU_ASSERT_EQUAL(s.what, CONN_READING | CONN_ERROR);
	CU_ASSERT_EQUAL(s.err, EPROTO);
	CU_ASSERT_EQUAL(s.reads, 0);
	conn_free(c);
	close(peer);
	tls_server_stats(ts, &st);
	CU_ASSERT_EQUAL(st.handshakes, 0);
	CU_ASSERT_EQUAL(st.failed[TLS_FAIL_NOT_TLS], 1);
	CU_ASSERT_EQUAL(st.failed[TLS_FAIL_ABORTED], 0);
	tls_server_free(ts);
	event_base_free(base);
}

static void test_handshake_timeout(void)
{
	struct event_base *base = event_base_new();
	struct tls_server *ts = server(20);
	struct seen s = {0};
	int peer;
	struct conn *c = pair_conn(base, ts, &peer, &s);
	struct tls_stats st;

	/* Half a record header, then silence. */
	CU_ASSERT(write(peer, "\x16\x03", 2) == 2);
	for (int i = 0; i < 1000 && !s.events; i++)
		loop_once(base);
	CU_ASSERT_EQUAL(s.what, CONN_READING | CONN_TIMEOUT);
	conn_free(c);
	close(peer);
	tls_server_stats(ts, &st);
	CU_ASSERT_EQUAL(st.failed[TLS_FAIL_ABORTED], 1);
	tls_server_free(ts);
	event_base_free(base);
}

/* A ClientHello for a.test, written by a client on memory BIOs, into <buf>: its length. */
static size_t client_hello(unsigned char *buf, size_t len)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(cctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	int n;

	SSL_set_bio(ssl, rb, wb);
	SSL_set_connect_state(ssl);
	SSL_set_tlsext_host_name(ssl, "a.test");
	(void)SSL_do_handshake(ssl); /* wants the server's answer */
	n = BIO_read(wb, buf, (int)len);
	SSL_free(ssl);
	SSL_CTX_free(cctx);
	return n > 0 ? (size_t)n : 0;
}

/* The deadline is the whole handshake's: a byte every 20 ms against a 100 ms deadline is
 * closed long before the ClientHello is complete (a timeout restarted by each byte never
 * fires, and the handshake would go on). */
static void test_handshake_deadline(void)
{
	struct event_base *base = event_base_new();
	struct tls_server *ts = server(100);
	struct seen s = {0};
	int peer;
	struct conn *c = pair_conn(base, ts, &peer, &s);
	unsigned char hello[2048];
	size_t n = client_hello(hello, sizeof(hello)), sent = 0;

	CU_ASSERT_FATAL(n > 100);
	while (sent < n && !s.events) {
		uint64_t until = clock_mono_ms() + 20;

		CU_ASSERT_FATAL(write(peer, hello + sent, 1) == 1);
		sent++;
		while (!s.events && clock_mono_ms() < until)
			loop_once(base);
	}
	CU_ASSERT_EQUAL(s.what, CONN_READING | CONN_TIMEOUT);
	CU_ASSERT(sent < n);
	conn_free(c);
	close(peer);
	tls_server_free(ts);
	event_base_free(base);
}

static void test_bad_files(void)
{
	struct tls_cert_pair missing[] = {{"/nonexistent/x.crt", key_a, NULL}};
	struct tls_cert_pair mismatch[] = {{cert_a, key_a, NULL}, {cert_b, key_a, NULL}};
	struct tls_cert_pair swapped[] = {{key_a, cert_a, NULL}};
	struct tls_server_opts o = {.certs = missing, .n_certs = 1};
	char err[256];
	size_t bad;

	CU_ASSERT(tls_server_new(&o, err, sizeof(err), &bad) == NULL);
	CU_ASSERT(strstr(err, "/nonexistent/x.crt: No such file") != NULL);
	o.certs = mismatch;
	o.n_certs = 2;
	CU_ASSERT(tls_server_new(&o, err, sizeof(err), &bad) == NULL);
	CU_ASSERT(strstr(err, "does not match") != NULL);
	CU_ASSERT_EQUAL(bad, 1);
	o.certs = swapped;
	o.n_certs = 1;
	CU_ASSERT(tls_server_new(&o, err, sizeof(err), &bad) == NULL);
	CU_ASSERT(strstr(err, key_a) != NULL);
	o.certs = missing + 0;
	o.n_certs = 0;
	CU_ASSERT(tls_server_new(&o, err, sizeof(err), &bad) == NULL);
	CU_ASSERT_EQUAL(tls_version("TLSv1.3"), TLS1_3_VERSION);
	CU_ASSERT_EQUAL(tls_version("TLSv1.1"), 0);
}

/* Batched reads (conn_batch_io()) of TLS connections: the handshakes here, the batched part
 * in a thread of its own (the batching is a thread's; CU_ASSERT_FATAL cannot jump out of
 * another thread), which stops at its first failed check. */
#define BT_N 4
static struct conn *bt_c[BT_N];
static int bt_reads[BT_N], bt_events[BT_N];
static short bt_what[BT_N];
static bool bt_stop; /* 0 and 1: the first to read stops the other's reading */

static void bt_read(struct conn *c, void *arg)
{
	int i = (int)(intptr_t)arg;
	struct evbuffer *stage = evbuffer_new();

	bt_reads[i]++;
	evbuffer_add_buffer(stage, c->in);
	conn_send(c, stage);
	evbuffer_free(stage);
	if (bt_stop && i < 2) {
		bt_stop = false;
		conn_disable(bt_c[1 - i], CONN_READING);
	}
}

static void bt_event(struct conn *c, short what, void *arg)
{
	int i = (int)(intptr_t)arg;

	(void)c;
	bt_events[i]++;
	bt_what[i] = what;
}

struct bt {
	struct event_base *base;
	SSL *ssl[BT_N];
	bool ok;
};

static void bt_pass(struct event_base *base)
{
	loop_once(base);
	conn_flush_deferred();
}

/* What <ssl> reads back within the loop's passes, until <want> bytes. */
static size_t bt_back(struct event_base *base, SSL *ssl, unsigned char *buf, size_t want)
{
	size_t got = 0, n;

	for (int i = 0; i < 400 && got < want; i++) {
		while (got < want && SSL_read_ex(ssl, buf + got, want - got, &n) == 1)
			got += n;
		if (got < want)
			bt_pass(base);
	}
	return got;
}

#define BT_CHECK(cond)               \
	do {                         \
		CU_ASSERT(cond);     \
		if (!(cond))         \
			return NULL; \
	} while (0)

static void *bt_body(void *arg)
{
	enum { BIG = 200000 };
	struct bt *b = arg;
	static unsigned char out[BIG], in[BIG];
	unsigned char buf[16];
	size_t sent = 0, got = 0, n;

	conn_defer_writes();
	/* This kernel offers io_uring: a failure here is a failure, not a skip. */
	BT_CHECK(conn_batch_io() == 0);
	/* Every client at once: read in one batch, each echoed. */
	for (int i = 0; i < BT_N; i++)
		BT_CHECK(SSL_write(b->ssl[i], "ping", 4) == 4);
	for (int i = 0; i < BT_N; i++) {
		BT_CHECK(bt_back(b->base, b->ssl[i], buf, 4) == 4);
		BT_CHECK(!memcmp(buf, "ping", 4));
	}
	/* One stops the other's reading after the batch took its bytes: they reach its owner
	 * once reading resumes. */
	memset(bt_reads, 0, sizeof(bt_reads));
	bt_stop = true;
	BT_CHECK(SSL_write(b->ssl[0], "stop", 4) == 4);
	BT_CHECK(SSL_write(b->ssl[1], "stop", 4) == 4);
	for (int i = 0; i < 400 && !bt_reads[0] && !bt_reads[1]; i++)
		bt_pass(b->base);
	for (int i = 0; i < 20; i++)
		bt_pass(b->base);
	BT_CHECK(bt_reads[0] + bt_reads[1] == 1);
	int held = bt_reads[0] ? 1 : 0;

	conn_enable(bt_c[held], CONN_READING);
	BT_CHECK(bt_back(b->base, b->ssl[held], buf, 4) == 4);
	BT_CHECK(!memcmp(buf, "stop", 4));
	BT_CHECK(bt_back(b->base, b->ssl[1 - held], buf, 4) == 4);
	/* A large echo beside a small one: every byte back, in order. */
	for (size_t i = 0; i < BIG; i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	BT_CHECK(SSL_write(b->ssl[3], "x", 1) == 1);
	for (int i = 0; i < 20000 && got < BIG; i++) {
		if (sent < BIG && SSL_write_ex(b->ssl[2], out + sent, BIG - sent, &n) == 1)
			sent += n;
		while (got < BIG && SSL_read_ex(b->ssl[2], in + got, BIG - got, &n) == 1)
			got += n;
		bt_pass(b->base);
	}
	BT_CHECK(got == BIG);
	BT_CHECK(!memcmp(in, out, BIG));
	BT_CHECK(bt_back(b->base, b->ssl[3], buf, 1) == 1);
	/* A clean close read in a batch is an end of stream. */
	SSL_shutdown(b->ssl[3]);
	BT_CHECK(SSL_write(b->ssl[2], "y", 1) == 1);
	for (int i = 0; i < 400 && !bt_events[3]; i++)
		bt_pass(b->base);
	BT_CHECK(bt_events[3] == 1 && bt_what[3] == (CONN_READING | CONN_EOF));
	BT_CHECK(bt_back(b->base, b->ssl[2], buf, 1) == 1);
	for (int i = 0; i < BT_N; i++)
		BT_CHECK(i == 3 || bt_events[i] == 0);
	conn_batch_end();
	b->ok = true;
	return NULL;
}

static void test_batch_reads(void)
{
	struct bt b = {.base = event_base_new()};
	struct tls_server *ts = server(0);
	SSL_CTX *cctx[BT_N];
	struct seen unused;
	int peer[BT_N];
	pthread_t t;

	CU_ASSERT_FATAL(b.base != NULL);
	for (int i = 0; i < BT_N; i++) {
		bt_c[i] = pair_conn(b.base, ts, &peer[i], &unused);
		conn_set_cbs(bt_c[i], bt_read, NULL, bt_event, (void *)(intptr_t)i);
		b.ssl[i] = client(b.base, &cctx[i], peer[i], NULL);
		CU_ASSERT_FATAL(b.ssl[i] != NULL);
	}
	CU_ASSERT_FATAL(pthread_create(&t, NULL, bt_body, &b) == 0);
	pthread_join(t, NULL);
	CU_ASSERT(b.ok);
	for (int i = 0; i < BT_N; i++) {
		SSL_free(b.ssl[i]);
		SSL_CTX_free(cctx[i]);
		conn_free(bt_c[i]);
		close(peer[i]);
	}
	tls_server_free(ts);
	event_base_free(b.base);
}

int test_tls_register(void)
{
	static const CU_TestInfo tests[] = {
		{"handshake, SNI and ALPN", test_handshake_sni_alpn},
		{"large echo and clean close", test_echo_large},
		{"not TLS", test_not_tls},
		{"handshake timeout", test_handshake_timeout},
		{"handshake deadline against a slow client", test_handshake_deadline},
		{"bad certificate files", test_bad_files},
		{"batched reads", test_batch_reads},
		CU_TEST_INFO_NULL,
	};

	CU_pSuite su = CU_add_suite("tls", suite_init, suite_clean);

	if (!su)
		return CU_get_error();
	for (const CU_TestInfo *t = tests; t->pName; t++)
		if (!CU_add_test(su, t->pName, t->pTestFunc))
			return CU_get_error();
	return CUE_SUCCESS;
}
