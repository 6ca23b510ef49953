// SPDX-License-Identifier: GPL-2.0
/* The client's verified TLS certificate (mTLS) where the proxy shows it: the framework's
 * accessors, the request headers to the upstream, the routes that require one. */
#include "userspace/proxy/tlsinfo.h"

#include <string.h>

#include "pingx/pingx.h"
#include "userspace/http/h1.h"
#include "userspace/net/tls.h"
#include "userspace/proxy/session.h"

/* The headers, in the order they are sent. */
static const char *const hdr_names[] = {
	"X-Client-Verify", "X-Client-Subject", "X-Client-SAN", "X-Client-Fingerprint"};

int tlsinfo_headers(const struct session *s, struct h1_hdrs *h)
{
	const struct cfg_listener *l = &s->cfg->listeners[s->listener];
	char subj[TLS_SUBJECT_MAX], san[TLS_SAN_MAX], fpr[TLS_FPR_MAX];
	const char *v[4];
	int err = 0;

	if (!l->tls.n_certificates || !l->tls.client_cert_headers)
		return 0;
	/* The client's own copies would pass for ours. */
	for (size_t i = 0; i < 4; i++)
		h1_hdrs_remove(h, hdr_names[i], strlen(hdr_names[i]));
	v[1] = tls_peer_subject(s->tls_cli, subj, sizeof(subj));
	if (!v[1])
		return h1_hdrs_set(h, hdr_names[0], strlen(hdr_names[0]), "NONE", 4);
	v[0] = "SUCCESS";
	v[2] = tls_peer_san(s->tls_cli, san, sizeof(san));
	v[3] = tls_peer_fingerprint(s->tls_cli, fpr, sizeof(fpr));
	for (size_t i = 0; i < 4 && !err; i++)
		if (v[i] && *v[i])
			err = h1_hdrs_set(h, hdr_names[i], strlen(hdr_names[i]), v[i], strlen(v[i]));
	return err < 0 ? err : 0;
}

bool pingx_client_cert_verified(const struct pingx_ctx *ctx)
{
	return tls_peer_verified(px_session(ctx)->tls_cli);
}

const char *pingx_client_cert_subject(const struct pingx_ctx *ctx, char *buf, size_t len)
{
	return tls_peer_subject(px_session(ctx)->tls_cli, buf, len);
}

const char *pingx_client_cert_san(const struct pingx_ctx *ctx, char *buf, size_t len)
{
	return tls_peer_san(px_session(ctx)->tls_cli, buf, len);
}

const char *pingx_client_cert_fingerprint(const struct pingx_ctx *ctx, char *buf, size_t len)
{
	return tls_peer_fingerprint(px_session(ctx)->tls_cli, buf, len);
}
