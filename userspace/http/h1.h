/* SPDX-License-Identifier: GPL-2.0 */
/* HTTP/1.x codec on top of llhttp: incremental, strict parsers that take bytes and return one
 * event per call, a head serializer, chunked-encoding helpers, header-list helpers (find, add,
 * set, remove, hop-by-hop stripping) and canned error responses. No I/O, no libevent. */
#ifndef USERSPACE_HTTP_H1_H
#define USERSPACE_HTTP_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "userspace/http/h1-t.h"

/*
 * Parser
 * ------
 * One parser per direction of a connection: H1_REQUEST on the client side, H1_RESPONSE on
 * the upstream side. h1_parse() returns one event per call; call it until it returns
 * H1_EV_NONE (or stops at DONE/UPGRADE/ERROR), also when no input is left, because one
 * buffer can complete several events (a head, then DONE for a body-less message):
 *
 *	struct h1_event ev;
 *	for (;;) {
 *		size_t n = h1_parse(p, data, len, &ev);
 *		data += n, len -= n;	// n bytes are consumed whatever ev.type is
 *		switch (ev.type) {
 *		case H1_EV_NONE: return;		// all consumed: read more
 *		case H1_EV_HEAD: route(ev.msg); break;	// may edit ev.msg in place
 *		case H1_EV_BODY: forward(ev.data); break; // slice of the caller's input
 *		case H1_EV_DONE: answer, then loop again for the next pipelined request
 *		case H1_EV_UPGRADE: tunnel data/len;	// nothing consumed
 *		case H1_EV_ERROR: send h1_error_response(ev.status), close;
 *		}
 *	}
 *
 * Pipelining: after H1_EV_DONE the parser does not look at the following bytes until it is
 * called again, so the caller answers requests in order simply by not calling h1_parse()
 * for the next one before it is ready. The next call with len > 0 starts the next message
 * (and ends the lifetime of the previous message's head; calls with len 0 do not).
 * Backpressure: a body is returned in slices of at most the bytes passed in, so a caller
 * that can take only k more body bytes passes len <= k (at least 1); bytes not passed in
 * stay in the caller's buffer. h1_parser_in_body() says when the parser is in a body.
 * Byte-at-a-time feeding works: heads are copied into the parser as they arrive, and any
 * split of the input gives the same events and the same error.
 *
 * Strictness (all errors close the connection; the request parser's status is the one to
 * send, the response parser always gives 502):
 *   400 malformed start line or method token, a protocol other than HTTP/ (llhttp takes
 *       RTSP/ and ICE/ lines), target, field name/value (NUL, CTL, DEL), space
 *       before colon, obs-fold, bare CR, bare LF anywhere in the head or chunk framing, any
 *       duplicate Content-Length (identical duplicates are rejected too, not folded), invalid
 *       Content-Length, Content-Length with Transfer-Encoding, Transfer-Encoding whose final
 *       coding is not "chunked" (or chunked twice, or TE in HTTP/1.0), invalid chunk size
 *       (0x / + / - prefixes, non-hex, overflow), missing or duplicate Host in HTTP/1.1,
 *       Content-Length, Transfer-Encoding or Host in the trailers, EOF inside a request;
 *   413 body over max_body (Content-Length checked at the head, chunked at each chunk size,
 *       a close-delimited response body cut exactly at the limit);
 *   414 request line alone over max_head;
 *   431 head over max_head or more than max_headers fields (also for trailers);
 *   501 a method token llhttp does not know ("FOO", "get"), and codings before chunked
 *       (e.g. "gzip, chunked"), which the proxy does not implement;
 *   505 a well-formed version other than HTTP/1.0 and HTTP/1.1, the HTTP/2 preface.
 * Responses: body framing follows RFC 9112 §6.3 with the request method from
 * h1_parser_set_method(): HEAD, 1xx, 204 and 304 have no body; 2xx to CONNECT and 101 are
 * H1_BODY_TUNNEL; no CL/TE means H1_BODY_CLOSE. A 1xx other than 101 is a complete message
 * (H1_EV_HEAD then H1_EV_DONE) followed by the final response for the same request.
 * Requests: no CL/TE means no body; CONNECT and Upgrade requests end with H1_EV_UPGRADE
 * after H1_EV_DONE (see h1_parser_resume_http()).
 * Known limit: llhttp 8.1 refuses a chunk extension with a token value followed by another
 * extension ("5;a=1;b=2"), so such bodies get 400; single extensions and quoted values pass.
 */
struct h1_parser;

/* Create a parser for <kind> with <lim> (NULL: defaults; copied). Storage for heads is
 * allocated lazily on the first byte of a message. Returns NULL with errno EINVAL (bad kind)
 * or ENOMEM. */
struct h1_parser *h1_parser_new(enum h1_kind kind, const struct h1_limits *lim);

/* Release <p> and everything it owns; NULL is accepted. */
void h1_parser_free(struct h1_parser *p);

/* Forget all state, as if <p> were new (e.g. an upstream connection reused). */
void h1_parser_reset(struct h1_parser *p);

/* Response parser: the method of the request the next response answers; it decides the
 * framing of HEAD and CONNECT responses. Stays in effect until changed. Returns 0, or
 * -EINVAL for a request parser or a method >= H1_METHOD_MAX. */
int h1_parser_set_method(struct h1_parser *p, enum h1_method method);

/* Feed <len> bytes at <data> (<data> may be NULL when <len> is 0). Returns the number of
 * bytes consumed (0..len) and fills <ev> (see the event kinds in h1-t.h). Never blocks or
 * buffers body bytes: H1_EV_BODY's ev->data points inside <data>. After H1_EV_ERROR every
 * call returns the same error and consumes nothing. */
size_t h1_parse(struct h1_parser *p, const char *data, size_t len, struct h1_event *ev);

/* The peer closed its side. Fills <ev> with H1_EV_DONE when that completes a close-delimited
 * response, H1_EV_NONE between messages, or H1_EV_ERROR (H1_E_TRUNCATED) inside a message
 * (never a truncated body passed off as complete). */
void h1_parse_eof(struct h1_parser *p, struct h1_event *ev);

/* After H1_EV_UPGRADE, when the other side declined the upgrade (e.g. an Upgrade request
 * answered with 200), go on parsing HTTP on this connection. Returns 0, or -EINVAL when
 * <p> is not stopped at an upgrade. */
int h1_parser_resume_http(struct h1_parser *p);

/* The current message head (valid after H1_EV_HEAD until the next message starts), or NULL. */
struct h1_msg *h1_parser_msg(struct h1_parser *p);

/* True while <p> is inside a message body (between H1_EV_HEAD and H1_EV_DONE). */
bool h1_parser_in_body(const struct h1_parser *p);

/* True when <p> is between messages (nothing of the next message received). A keep-alive
 * connection is idle exactly then. */
bool h1_parser_idle(const struct h1_parser *p);

/* Free the head storage of an idle parser (to keep idle keep-alive connections small). It is
 * allocated again when the next message starts. No effect unless h1_parser_idle(). */
void h1_parser_trim(struct h1_parser *p);

/* Static text for <err> ("duplicate Content-Length", ...); never NULL. */
const char *h1_err_str(enum h1_err err);

/* Method name ("GET") for <m>, or "<unknown>". */
const char *h1_method_str(enum h1_method m);

/* True when <s> (NUL-terminated) is a non-empty RFC 9110 token: a method, a field name. */
bool h1_is_token(const char *s);

/*
 * Header lists
 * ------------
 * They live here because parsing fills them and serializing reads them; the proxy layer uses
 * them for its header add/set/remove rules and for Via / X-Forwarded-* fields. Names compare
 * case-insensitively (ASCII). Adding copies name and value into the list's arena, which
 * may move it: pointers taken from the list (h1_hdrs_get() results, v[i].name/value) are
 * invalid after an add or set, and indexes after a remove.
 */

/* Set up an empty list allowed to hold up to <max_fields> fields and <max_bytes> bytes of
 * names and values. Allocates nothing until the first add. */
void h1_hdrs_init(struct h1_hdrs *h, unsigned max_fields, size_t max_bytes);

/* Release the memory of <h> and leave it empty (reusable). */
void h1_hdrs_free(struct h1_hdrs *h);

/* Remove every field but keep memory and limits. */
void h1_hdrs_clear(struct h1_hdrs *h);

/* Index of the first field named <name> (<name_len> bytes) at index >= <from>, or -1. */
int h1_hdrs_find(const struct h1_hdrs *h, const char *name, size_t name_len, unsigned from);

/* Like h1_hdrs_find() with a NUL-terminated <name>, returning the value or NULL. */
const struct h1_str *h1_hdrs_get(const struct h1_hdrs *h, const char *name);

/* Append field <name>: <value> (copied). The name must be a token and the value must not
 * contain CR, LF or NUL: returns -EINVAL otherwise, -ENOSPC over the limits, -ENOMEM. */
int h1_hdrs_add(
	struct h1_hdrs *h, const char *name, size_t name_len, const char *value, size_t value_len);

/* Replace every field named <name> by one <name>: <value> (appended). Same returns as
 * h1_hdrs_add(). */
int h1_hdrs_set(
	struct h1_hdrs *h, const char *name, size_t name_len, const char *value, size_t value_len);

/* Remove the field at <idx> (keeps order). No effect when out of range. */
void h1_hdrs_remove_at(struct h1_hdrs *h, unsigned idx);

/* Remove every field named <name>; returns how many were removed. */
unsigned h1_hdrs_remove(struct h1_hdrs *h, const char *name, size_t name_len);

/* True when field value list <value> (comma-separated, OWS around elements) contains
 * <token> (case-insensitive), e.g. h1_value_has_token(conn_value, "close"). */
bool h1_value_has_token(const struct h1_str *value, const char *token);

/* Remove hop-by-hop fields before forwarding (RFC 9110 §7.6.1): Connection and every field
 * it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Proxy-Connection, and Upgrade unless
 * <flags> has H1_HOP_KEEP_UPGRADE (then Upgrade stays and, if Connection named "upgrade",
 * "Connection: upgrade" is added back). Content-Length stays: the caller re-frames.
 * Returns the number of fields removed, or -ENOSPC/-ENOMEM if re-adding failed. */
int h1_hdrs_strip_hop(struct h1_hdrs *h, unsigned flags);

/*
 * Serializer
 * ----------
 * Functions writing into a caller buffer work like snprintf: they return the length of the
 * full output and write it only when it fits in <cap> (then NUL-terminated when room allows);
 * call with cap 0 to size a buffer. Nothing is validated beyond what is documented: the
 * caller serializes what the parser produced or what it built itself.
 */

/* Write the head of <m>: request line (method_name or h1_method_str(method), target,
 * HTTP/1.<minor>) or status line (HTTP/1.1, status, reason or the standard reason), each
 * field of m->hdrs, the fields <flags> (enum h1_write_flags) ask for, then the empty line. */
size_t h1_write_head(char *dst, size_t cap, const struct h1_msg *m, unsigned flags);

/* Write "<hex size>\r\n" into <dst> (H1_CHUNK_HDR_MAX bytes). <size> must be > 0: a zero
 * size is the last chunk, see h1_write_last_chunk(). Returns the length. After the chunk
 * data the caller writes "\r\n" (H1_CRLF). */
size_t h1_chunk_header(char *dst, uint64_t size);
#define H1_CRLF "\r\n"

/* Write the last chunk: "0\r\n", the fields of <trailers> (NULL: none), "\r\n". */
size_t h1_write_last_chunk(char *dst, size_t cap, const struct h1_hdrs *trailers);

/* Growable buffer: init with a hard limit <max> (0: 1 MiB), free, append. Appends return 0,
 * -ENOSPC past the limit or -ENOMEM. */
void h1_buf_init(struct h1_buf *b, size_t max);
void h1_buf_free(struct h1_buf *b);
int h1_buf_append(struct h1_buf *b, const void *data, size_t len);
/* h1_write_head() / h1_write_last_chunk() appended to <b>. */
int h1_buf_write_head(struct h1_buf *b, const struct h1_msg *m, unsigned flags);
int h1_buf_write_last_chunk(struct h1_buf *b, const struct h1_hdrs *trailers);

/* "HTTP/1.1 100 Continue\r\n\r\n": what to send for Expect: 100-continue. */
#define H1_100_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

/* Standard reason phrase for <status> ("Not Found"), or "Unknown". */
const char *h1_status_reason(int status);

/* A complete canned response for <status> (400, 401, 403, 404, 405, 408, 411, 413, 414,
 * 417, 429, 431, 500, 501, 502, 503, 504, 505; any other gives 500): status line, Content-Type:
 * text/plain, Content-Length, Connection: close, and a one-line body. Static storage; its
 * length goes to <*len>. */
const char *h1_error_response(int status, size_t *len);

#endif /* USERSPACE_HTTP_H1_H */
