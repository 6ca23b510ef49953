/* SPDX-License-Identifier: GPL-2.0 */
/* TLS server transport: the options it is built from and the counters it keeps. */
#ifndef USERSPACE_NET_TLS_T_H
#define USERSPACE_NET_TLS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One certificate chain and its private key, both PEM files. */
struct tls_cert_pair {
	const char *cert;
	const char *key;
	const char *ocsp; /* a DER OCSP response for it, stapled when asked; NULL: none */
};

/* Client certificates (mTLS). */
enum tls_verify {
	TLS_VERIFY_OFF = 0,  /* not asked for */
	TLS_VERIFY_OPTIONAL, /* asked for; verified when given, a handshake without one goes on */
	TLS_VERIFY_REQUIRED, /* asked for, verified, and a handshake without one fails */
	TLS_VERIFY_MAX	     /* must stay last */
};

/* What a TLS server is made of; the strings are only read during tls_server_new(). */
struct tls_server_opts {
	const struct tls_cert_pair *certs; /* the first is the default, others by SNI */
	size_t n_certs;
	int min_version;	   /* TLS1_2_VERSION, TLS1_3_VERSION; 0: TLS 1.2 */
	int max_version;	   /* 0: the newest the library has */
	const char *ciphers;	   /* TLS 1.2 cipher list; NULL: TLS_DEFAULT_CIPHERS */
	const char *ciphersuites;  /* TLS 1.3 suites; NULL: TLS_DEFAULT_SUITES */
	const char *alpn;	   /* protocols offered, comma-separated; NULL: http/1.1 */
	unsigned int handshake_ms; /* the whole handshake's deadline; 0: none */
	bool no_tickets;	   /* no session tickets (TLS 1.2 tickets, TLS 1.3 PSKs) */
	const char *const *ticket_keys; /* key files (nginx's format) instead of the process's
					 * ring: the first seals, all open */
	size_t n_ticket_keys;
	unsigned int tickets_sent; /* TLS 1.3 tickets after a full handshake; 0: TLS_TICKETS_SENT */
	unsigned int session_cache; /* sessions kept in memory for resumption; 0: none */
	const char *id;		    /* names the listener in sessions (its address) */
	enum tls_verify client_verify; /* client certificates: asked for or not */
	const char *client_ca;	       /* CA bundle (PEM) client certificates are verified with */
	unsigned int verify_depth;     /* intermediates allowed in a client's chain */
	bool ktls;		       /* let the kernel seal and open records where it can */
};

/* Why a handshake failed. */
enum tls_fail {
	TLS_FAIL_PROTOCOL = 0, /* no common protocol version */
	TLS_FAIL_CIPHER,       /* no common cipher or ALPN protocol */
	TLS_FAIL_NOT_TLS,      /* the client spoke something else (plain HTTP, garbage) */
	TLS_FAIL_OTHER,	       /* any other TLS alert or error */
	TLS_FAIL_CLIENT_CERT,  /* a client certificate missing (required) or refused */
	TLS_FAIL_CLOSED,       /* the client closed or reset mid-handshake */
	TLS_FAIL_ABORTED,      /* freed mid-handshake: a timeout or the owner gave up */
	TLS_FAIL_MAX	       /* must stay last */
};

/* Handshakes since the server was made, summed over every thread. */
struct tls_stats {
	uint64_t handshakes;	       /* completed, full or resumed */
	uint64_t resumed;	       /* completed resuming a session (ticket, PSK or cache) */
	uint64_t failed[TLS_FAIL_MAX]; /* failed, by reason */
};

/* The default TLS 1.2 cipher list: forward secret AEAD suites only. */
/* A client's certificate as the listener verified it, for routes, hooks and headers. */
#define TLS_SUBJECT_MAX 512
#define TLS_SAN_MAX	1024
#define TLS_FPR_MAX	(32 * 3) /* SHA-256 as "AB:CD:..." */

/* TLS 1.3 tickets sent after a full handshake: a client resumes one connection with each
 * (OpenSSL sends 2; a resumed handshake sends 1 in any case). */
#define TLS_TICKETS_SENT 1

#define TLS_DEFAULT_CIPHERS                                          \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* TLS 1.3: AES-128-GCM first, as for TLS 1.2 (its key schedule and transcript hash are
 * SHA-256's, which CPUs run in hardware, where AES-256-GCM's are SHA-384's); a client that
 * puts ChaCha20-Poly1305 first (one without AES instructions) gets it. */
#define TLS_DEFAULT_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

#endif /* USERSPACE_NET_TLS_T_H */
