/* SPDX-License-Identifier: GPL-2.0 */
/* The client's verified TLS certificate (mTLS) for the built-in hooks: request headers to
 * the upstream. (The framework's accessors are in <pingx/pingx.h>.) */
#ifndef USERSPACE_PROXY_TLSINFO_H
#define USERSPACE_PROXY_TLSINFO_H

struct h1_hdrs;
struct session;

/* On a listener with tls.client_cert_headers: replace any X-Client-Verify, -Subject, -SAN
 * and -Fingerprint of <h> with the verified certificate of <s>'s client (Verify: SUCCESS),
 * or X-Client-Verify: NONE without one. Returns 0 or an h1_hdrs_* error (-ENOSPC). */
int tlsinfo_headers(const struct session *s, struct h1_hdrs *h);

#endif /* USERSPACE_PROXY_TLSINFO_H */
