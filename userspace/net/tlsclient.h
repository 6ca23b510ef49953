/* SPDX-License-Identifier: GPL-2.0 */
/* TLS to upstream servers as a conn transport over OpenSSL: a client (one SSL_CTX: the CA
 * bundle, the client certificate) per upstream pool, and a peer per server with its SNI, the
 * name its certificate must carry and its last session, resumed by the next connection. */
#ifndef USERSPACE_NET_TLSCLIENT_H
#define USERSPACE_NET_TLSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "userspace/net/conn-t.h"

struct tls_client;
struct tls_peer;

/* What a client is made of; the strings are only read during tls_client_new(). */
struct tls_client_opts {
	const char *ca;		   /* CA bundle (PEM) to verify servers; NULL: the system's */
	bool no_verify;		   /* accept any certificate (tests, private networks) */
	const char *cert;	   /* client certificate chain (PEM) for servers that ask; or NULL */
	const char *key;	   /* ... and its key */
	bool no_session_reuse;	   /* a full handshake on every connection */
	bool h2;		   /* offer h2 alone by ALPN (HTTP/2 servers); else http/1.1 */
	unsigned int handshake_ms; /* the handshake's deadline once connected; 0: none */
};

/* Counters of every client since the process started. */
struct tls_client_stats {
	uint64_t handshakes; /* completed */
	uint64_t resumed;    /* of which resumed a session */
	uint64_t failed;     /* failed, whatever the reason (verification among them) */
	uint64_t verify;     /* failed because the server's certificate was refused */
};

/* Make a client from <o>. On failure returns NULL with errno and says why in <err>. */
struct tls_client *tls_client_new(const struct tls_client_opts *o, char *err, size_t errlen);

/* A server of <cl> at <addr_text> (for messages): SNI <sni> (NULL or "": none), the
 * certificate checked for <verify_name> (a DNS name or an IP address; NULL: <sni>, else
 * <ip>). Returns NULL with errno. */
struct tls_peer *tls_peer_new(struct tls_client *cl, const char *addr_text, const char *sni,
	const char *verify_name, const char *ip);

/* The transport connecting to <p>, for conn_connect(); lives as long as <p>. */
const struct conn_transport *tls_peer_transport(const struct tls_peer *p);

/* Free <p> (NULL is accepted) once no connection uses its transport. */
void tls_peer_free(struct tls_peer *p);

/* Free <cl> (NULL is accepted) after its peers. */
void tls_client_free(struct tls_client *cl);

/* Copy the counters of every client since the process started into <st>. */
void tls_client_stats_total(struct tls_client_stats *st);

#endif /* USERSPACE_NET_TLSCLIENT_H */
