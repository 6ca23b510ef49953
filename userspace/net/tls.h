/* SPDX-License-Identifier: GPL-2.0 */
/* TLS termination as a conn transport over OpenSSL: a server made from certificate files
 * and options, its transport for conn_accepted(), its counters. */
#ifndef USERSPACE_NET_TLS_H
#define USERSPACE_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "userspace/net/conn-t.h"
#include "userspace/net/tls-t.h"

struct tls_server;

/* Load the certificates and keys of <o> and make a server. On failure returns NULL with
 * errno, writes why into <err> (<errlen> bytes), naming the file at fault, and sets <*bad>
 * to the index of the certificate pair at fault, TLS_BAD_TICKET_KEYS(o) for a ticket key
 * file, o->n_certs for the other options. */
#define TLS_BAD_TICKET_KEYS(o) ((o)->n_certs + 1)
struct tls_server *tls_server_new(
	const struct tls_server_opts *o, char *err, size_t errlen, size_t *bad);

/* The transport that terminates TLS with <s>, for conn_accepted(); lives as long as <s>. */
const struct conn_transport *tls_server_transport(const struct tls_server *s);

/* Copy the counters of <s> into <st>. */
void tls_server_stats(const struct tls_server *s, struct tls_stats *st);

/* How <s> seals and opens records (enum ktls_mode of ktls.h), why not in the kernel in
 * <*why>; publishes it as its listener's mode for /metrics (call when <s> goes live). */
int tls_server_ktls(struct tls_server *s, const char **why);

/* Copy the counters of every server since the process started into <st>. */
void tls_stats_total(struct tls_stats *st);

/* The metric label of failure reason <why>: "protocol", "cipher", "not_tls", ... */
const char *tls_fail_name(enum tls_fail why);

/* Whether connection <c> (of a TLS listener) presented a client certificate that verified;
 * false for plain TCP and for clients without one. */
bool tls_peer_verified(const struct conn *c);

/* The verified client certificate of <c>, written into <buf> (<len> bytes, NUL-terminated):
 * its subject (RFC 2253), its subject alternative names ("DNS:a.example, email:x@y, ..."),
 * or its SHA-256 fingerprint (hex pairs with colons). Returns <buf>, or NULL when <c> has
 * no verified certificate. */
const char *tls_peer_subject(const struct conn *c, char *buf, size_t len);
const char *tls_peer_san(const struct conn *c, char *buf, size_t len);
const char *tls_peer_fingerprint(const struct conn *c, char *buf, size_t len);

/* Free <s> (NULL is accepted) once no connection uses its transport. */
void tls_server_free(struct tls_server *s);

/* The version for <name> ("TLSv1.2" or "TLSv1.3"), or 0 when it is neither. */
int tls_version(const char *name);

#endif /* USERSPACE_NET_TLS_H */
