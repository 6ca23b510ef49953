/* SPDX-License-Identifier: GPL-2.0 */
/* What the TLS server (tls.c) and client (tlsclient.c) transports share: the per-connection
 * state and the byte-moving functions, which do not care which side the handshake was. */
#ifndef USERSPACE_NET_TLS_INT_H
#define USERSPACE_NET_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "userspace/net/conn-t.h"

#define TLS_RECORD 16384 /* the largest TLS record payload: what one write coalesces */

/* Per connection: conn.tr_conn is the SSL, and conn.tr_flags holds these (no allocation of
 * its own beside OpenSSL's). */
enum tls_conn_flag {
	TLS_FAILED = 0x1,   /* the handshake failed and was counted */
	TLS_NOTIFIED = 0x2, /* our close_notify went (or was tried): not again */
};

/* The conn_transport recv, sendv, pending and shutdown of a TLS connection (either side). */
ssize_t tls_conn_recv(struct conn *c, void *buf, size_t len);
ssize_t tls_conn_sendv(struct conn *c, const struct iovec *iov, int n);
size_t tls_conn_pending(struct conn *c);
void tls_conn_shutdown(struct conn *c);

/* The BIO of a listener's connection where OpenSSL opens the records (tlsbio.c): socket
 * <fd>, and first the bytes tls_bio_feed() gave it, for the SSL_read that follows. <keep>
 * keeps them for a later read instead; n <= 0 feeds the end of the stream (0) or an error
 * (-errno); <more>: the socket may hold more once they are used. tls_bio_done() ends the
 * read (what it left is kept), tls_bio_pending() counts what is kept. Writes go to the
 * socket; after tls_bio_more() (the closing alert's) they wait there for the FIN. */
BIO *tls_bio_new(int fd);
void tls_bio_feed(BIO *b, const void *buf, ssize_t n, bool more, bool keep);
void tls_bio_done(BIO *b);
size_t tls_bio_pending(BIO *b);
void tls_bio_more(BIO *b);

/* Before freeing <c>'s SSL after a completed handshake: a closing alert unless one was
 * sent, and the session kept good for resumption. */
void tls_conn_close(struct conn *c);

/* Empty the thread's OpenSSL error queue before an SSL call whose failure SSL_get_error()
 * will read: a look first, since clearing it costs more than the look and it is nearly always
 * empty (every path that leaves an error clears it). */
static inline void tls_err_reset(void)
{
	if (ERR_peek_error())
		ERR_clear_error();
}

/* Write the last OpenSSL error into <err> after <what>, and clear the queue. */
void tls_ssl_err(char *err, size_t errlen, const char *what);

#endif /* USERSPACE_NET_TLS_INT_H */
