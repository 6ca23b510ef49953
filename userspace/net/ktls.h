/* SPDX-License-Identifier: GPL-2.0 */
/* kTLS: whether the kernel can take TLS records over (the "tls" TCP upper layer protocol),
 * and, per listener, whether its connections use it, for the startup log and /metrics. */
#ifndef USERSPACE_NET_KTLS_H
#define USERSPACE_NET_KTLS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KTLS_LISTENERS_MAX 64 /* as many as a configuration has listeners */

/* How a listener's TLS records are sealed and opened. */
enum ktls_mode {
	KTLS_OFF = 0,	  /* in userspace, as configured (tls.ktls: false) */
	KTLS_NO_KERNEL,	  /* in userspace: the kernel has no tls ULP (or OpenSSL no kTLS) */
	KTLS_KERNEL,	  /* by the kernel where the cipher allows (SSL_OP_ENABLE_KTLS) */
	KTLS_MODE_MAX	  /* must stay last */
};

/* A listener's kTLS state, kept across reloads by its address. */
struct ktls_listener {
	char id[64];		   /* the listener's address */
	_Atomic int mode;	   /* enum ktls_mode of its newest configuration */
	atomic_uint_fast64_t send; /* handshakes after which the kernel sends the records */
	atomic_uint_fast64_t recv; /* ... and receives them */
};

/* Whether this kernel accepts the tls ULP on a TCP socket (probed once, on loopback), and
 * OpenSSL was built with kTLS. <why> (<len> bytes) says why not. */
bool ktls_available(char *why, size_t len);

/* The entry of the listener named <id> (made on first use), or NULL when the table is
 * full. Entries live as long as the process. */
struct ktls_listener *ktls_listener(const char *id);

/* Call <fn> with <arg> for every listener entry made so far; stops at a non-zero return,
 * which it returns. */
int ktls_each(int (*fn)(const struct ktls_listener *l, void *arg), void *arg);

/* The label of <m>: "off", "userspace" or "kernel". */
const char *ktls_mode_name(enum ktls_mode m);

#endif /* USERSPACE_NET_KTLS_H */
