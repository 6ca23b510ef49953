/* SPDX-License-Identifier: GPL-2.0 */
/* HTTP/2 <-> HTTP/1.1 message translation: an HTTP/2 request's header list (as nghttp2 hands
 * it over, already checked against RFC 9113 §8: pseudo-headers, lower-case names, no
 * connection-specific fields) becomes an HTTP/1.1 request head, and an HTTP/1.1 response head
 * becomes an HTTP/2 header list. No I/O and no libevent. */
#ifndef USERSPACE_HTTP_H2_H
#define USERSPACE_HTTP_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "userspace/http/h1-t.h"

/* The client connection preface (RFC 9113 §3.4), which starts every HTTP/2 connection. */
#define H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

/* Whether <data> (<len> bytes) is the preface (1), a beginning of it (0: wait for more) or
 * something else (-1). */
int h2_preface_match(const char *data, size_t len);

/* An HTTP/2 request head being collected field by field. */
struct h2_req {
	struct h1_hdrs hdrs; /* regular fields, then Host */
	struct h1_buf pseudo; /* :path */
	char method[32];      /* :method */
	struct h1_buf cookie; /* cookie crumbs joined with "; " (RFC 9113 §8.2.3) */
	size_t method_len, path_len, authority_len, scheme_len;
	char authority[256];
	bool has_cl;	   /* content-length given */
	size_t bytes;	   /* name and value bytes so far, against max_bytes */
	size_t max_bytes;  /* the header list limit */
	unsigned int max_fields;
};

/* Start collecting a request with at most <max_fields> fields of <max_bytes> bytes in all
 * (names and values, 32 bytes of overhead each as RFC 9113 §6.5.2 counts them). */
void h2_req_init(struct h2_req *r, unsigned int max_fields, size_t max_bytes);

/* Make <r> empty for another request with the same limits, keeping its buffers. */
void h2_req_reset(struct h2_req *r);

/* Release what <r> holds; it may be initialised again. */
void h2_req_free(struct h2_req *r);

/* Add one field (names lower-case, pseudo-headers first, as nghttp2 checked them). Returns
 * 0, -ENOSPC past the limits (the caller refuses the stream: 431's HTTP/2 form), or -EINVAL
 * for a pseudo-header pingd does not take. */
int h2_req_field(struct h2_req *r, const uint8_t *name, size_t nl, const uint8_t *value,
	size_t vl);

/* Write the HTTP/1.1 request head into <out>: "METHOD target HTTP/1.1", the fields, Host from
 * :authority, and the framing: Content-Length as given, none when <end_stream> (the request
 * has no body), else "Transfer-Encoding: chunked" (*chunked set: the caller frames each DATA
 * frame as a chunk). <flags> are further h1_write_flags (H1_W_CLOSE). Returns 0, -EINVAL for
 * a request with no :method or no :path (nor :authority for CONNECT), -ENOSPC. */
int h2_req_write(struct h2_req *r, bool end_stream, unsigned int flags, struct h1_buf *out,
	bool *chunked);

/* Whether <r> is a CONNECT (after its :method came). */
bool h2_req_is_connect(const struct h2_req *r);

/* Fill <nva> (room for <cap> entries) with the HTTP/2 form of response head <m>: ":status",
 * then its fields with lower-cased names (copied into <names>, <nsize> bytes), without the
 * connection-specific ones (Connection and what it names, Keep-Alive, Proxy-Connection,
 * Transfer-Encoding, Upgrade, TE). Values point into <m>, names into <names>: the entries
 * carry no NO_COPY flag, so nghttp2 copies both when the frame is submitted (it is packed
 * later, after these buffers are gone). Returns the entry count, or -ENOSPC.
 * <status> holds the three digits of :status (4 bytes). */
int h2_resp_nva(const struct h1_msg *m, nghttp2_nv *nva, size_t cap, char *names, size_t nsize,
	char *status);

/* Fill <nva> (room for <cap> entries) with the HTTP/2 form of request head <m> for an
 * upstream: ":method", ":scheme" (<scheme>), ":authority" from Host (Host itself dropped),
 * ":path" from the target (its path part for an absolute-form one), then the fields as
 * h2_resp_nva() takes them, plus "te: trailers" for gRPC (its servers want it; TE is
 * hop-by-hop in HTTP/1.1 and never arrives here). Returns the entry count, -EINVAL for a
 * request HTTP/2 cannot carry (CONNECT, no Host, an asterisk-form target), or -ENOSPC. */
int h2_req_nva(const struct h1_msg *m, const char *scheme, nghttp2_nv *nva, size_t cap,
	char *names, size_t nsize);

/* Whether request head <m> is gRPC (content-type application/grpc, +proto or other). */
bool h2_is_grpc(const struct h1_hdrs *h);

/* gRPC status codes pingd answers with (grpc/doc/statuscodes.md). */
enum h2_grpc_status {
	H2_GRPC_UNKNOWN = 2,
	H2_GRPC_DEADLINE_EXCEEDED = 4,
	H2_GRPC_PERMISSION_DENIED = 7,
	H2_GRPC_RESOURCE_EXHAUSTED = 8,
	H2_GRPC_UNIMPLEMENTED = 12,
	H2_GRPC_INTERNAL = 13,
	H2_GRPC_UNAVAILABLE = 14,
	H2_GRPC_UNAUTHENTICATED = 16,
};

/* The gRPC status of a pingd answer with HTTP <status> (gRPC's HTTP-to-gRPC mapping, with
 * 504 as DEADLINE_EXCEEDED when <deadline>: the call's own grpc-timeout ran out). */
int h2_grpc_status(int status, bool deadline);

/* Write into <buf> (<size> bytes) the HTTP/1.1 form of a gRPC "trailers-only" answer for
 * HTTP <status>: 200, content-type application/grpc, grpc-status and grpc-message, no
 * body, Connection: close. Returns its length (0 when <size> is too small). */
size_t h2_grpc_answer(char *buf, size_t size, int status, bool deadline);

/* The grpc-timeout value <v> in milliseconds (rounded up, at least 1), or 0 when it is not
 * one (1 to 8 digits and a unit of H, M, S, m, u or n). */
uint64_t h2_grpc_timeout_ms(const struct h1_str *v);

/* The same for trailer fields <t> (no :status). */
int h2_trailer_nva(const struct h1_hdrs *t, nghttp2_nv *nva, size_t cap, char *names,
	size_t nsize);

#endif /* USERSPACE_HTTP_H2_H */
