// SPDX-License-Identifier: GPL-2.0
/* The socket under a TLS listener's connections where OpenSSL opens the records (no kTLS): a
 * BIO that first gives OpenSSL the bytes a batch read from the socket for it
 * (conn_batch_io()), so a batch of TLS connections is read with one system call as plain ones
 * are, and writes what OpenSSL writes. */
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>

#include "userspace/net/tls-int.h"

/* The bytes fed for the SSL_read under way: one connection at a time per thread, from
 * tls_bio_feed() to tls_bio_done(), which the same call of the transport's recv brackets. */
static __thread struct {
	BIO *bio; /* whose they are; NULL: none */
	const char *p;
	size_t n;
	int err;   /* with nothing fed: 0 for the end of the stream, or the socket's errno */
	bool more; /* the socket may hold more: ask it once these are used */
} fed;

/* Per BIO: the socket, and bytes fed but not taken by the read they were fed for (kept for
 * the next one; OpenSSL reads ahead a whole buffer, so in practice never). */
struct tls_bio {
	int fd;
	char *left;
	size_t left_off, left_n;
	bool more; /* the end of the stream follows what is written: hold it for the FIN */
};

static int bio_read(BIO *b, char *out, int len)
{
	struct tls_bio *d = BIO_get_data(b);
	size_t k;
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (d->left_n) {
		k = d->left_n < (size_t)len ? d->left_n : (size_t)len;
		memcpy(out, d->left + d->left_off, k);
		d->left_off += k;
		d->left_n -= k;
		if (!d->left_n) {
			free(d->left);
			d->left = NULL;
			d->left_off = 0;
		}
		return (int)k;
	}
	if (fed.bio == b) {
		if (fed.n) {
			k = fed.n < (size_t)len ? fed.n : (size_t)len;
			memcpy(out, fed.p, k);
			fed.p += k;
			fed.n -= k;
			return (int)k;
		}
		if (!fed.more) {
			if (!fed.err && fed.p == NULL)
				return 0; /* the end of the stream was read */
			if (fed.err) {
				errno = fed.err;
				return -1;
			}
			/* The socket was empty when the batch read it. */
			BIO_set_retry_read(b);
			errno = EAGAIN;
			return -1;
		}
	}
	n = recv(d->fd, out, (size_t)len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)n;
}

/* A write goes out as OpenSSL makes it, except the closing alert: the close or shutdown right
 * after it sends the FIN, and the alert waits in the socket (MSG_MORE) to leave in the FIN's
 * segment, one segment less for both ends to handle. Should the FIN not come, the kernel sends
 * what it holds after a retransmission timeout. */
static int bio_write(BIO *b, const char *in, int len)
{
	struct tls_bio *d = BIO_get_data(b);
	int flags = MSG_NOSIGNAL;
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (d->more)
		flags |= MSG_MORE;
	n = send(d->fd, in, (size_t)len, flags);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_bio *d = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_C_GET_FD:
		if (ptr)
			*(int *)ptr = d ? d->fd : -1;
		return d ? d->fd : -1;
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int bio_destroy(BIO *b)
{
	struct tls_bio *d = BIO_get_data(b);

	if (fed.bio == b)
		fed.bio = NULL;
	if (d) {
		free(d->left);
		free(d);
	}
	BIO_set_data(b, NULL);
	return 1;
}

static BIO_METHOD *method;
static int method_type;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static void method_make(void)
{
	int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
	BIO_METHOD *m = BIO_meth_new(type, "pingx socket");

	if (m &&
		(!BIO_meth_set_read(m, bio_read) || !BIO_meth_set_write(m, bio_write) ||
			!BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_destroy(m, bio_destroy))) {
		BIO_meth_free(m);
		m = NULL;
	}
	method_type = type;
	method = m;
}

BIO *tls_bio_new(int fd)
{
	struct tls_bio *d;
	BIO *b;

	pthread_once(&method_once, method_make);
	if (!method)
		return NULL;
	d = calloc(1, sizeof(*d));
	b = d ? BIO_new(method) : NULL;
	if (!b) {
		free(d);
		return NULL;
	}
	d->fd = fd;
	BIO_set_data(b, d);
	BIO_set_init(b, 1);
	return b;
}

void tls_bio_feed(BIO *b, const void *buf, ssize_t n, bool more, bool keep)
{
	struct tls_bio *d = BIO_get_data(b);

	if (keep) {
		/* For a later read: added to what is kept (a stopped connection's bytes). */
		char *v;

		if (n <= 0 || !d)
			return;
		v = realloc(d->left_n ? d->left : NULL, d->left_off + d->left_n + (size_t)n);
		if (!v)
			return;
		memcpy(v + d->left_off + d->left_n, buf, (size_t)n);
		d->left = v;
		d->left_n += (size_t)n;
		return;
	}
	fed.bio = b;
	fed.p = n > 0 ? buf : NULL;
	fed.n = n > 0 ? (size_t)n : 0;
	fed.err = n < 0 ? (int)-n : 0;
	fed.more = more;
}

void tls_bio_done(BIO *b)
{
	if (fed.bio != b)
		return;
	if (fed.n)
		tls_bio_feed(b, fed.p, (ssize_t)fed.n, false, true);
	fed.bio = NULL;
}

void tls_bio_more(BIO *b)
{
	struct tls_bio *d;

	if (!method || !b || BIO_method_type(b) != method_type)
		return;
	d = BIO_get_data(b);
	if (d)
		d->more = true;
}

size_t tls_bio_pending(BIO *b)
{
	struct tls_bio *d;

	if (!method || !b || BIO_method_type(b) != method_type)
		return 0;
	d = BIO_get_data(b);
	return d ? d->left_n : 0;
}
