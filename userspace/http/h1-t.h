/* SPDX-License-Identifier: GPL-2.0 */
/* HTTP/1.x codec types: messages, header lists, parser events and limits.
 * No libevent and no llhttp types: the stream layer and the tests use these directly. */
#ifndef USERSPACE_HTTP_H1_T_H
#define USERSPACE_HTTP_H1_T_H

#include <stddef.h>
#include <stdint.h>

/* Default limits (struct h1_limits); the config layer may override each. */
#define H1_DEFAULT_MAX_HEAD	16384u /* bytes: request/status line + header section */
#define H1_DEFAULT_MAX_HEADERS	100u   /* header fields (and separately trailer fields) */
#define H1_DEFAULT_HEAD_EXTRA	4096u  /* bytes of room for fields the proxy adds */
#define H1_DEFAULT_EXTRA_FIELDS 32u    /* field slots for fields the proxy adds */

/* Longest output of h1_chunk_header(): 16 hex digits + CRLF + NUL. */
#define H1_CHUNK_HDR_MAX 19

/* A byte string that is not NUL-terminated. Where it points is documented per use. */
struct h1_str {
	const char *p; /* first byte; may be NULL when len == 0 */
	size_t len;    /* bytes */
};

/* One header (or trailer) field. Names keep the case they arrived in; every lookup compares
 * names case-insensitively. Values have leading and trailing OWS removed. */
struct h1_header {
	struct h1_str name;
	struct h1_str value;
};

/* An ordered, bounded list of fields with its own byte arena. Parsed fields and fields added
 * with h1_hdrs_add()/h1_hdrs_set() are copied into the arena; the arena and the field array
 * grow on demand (pointers are rebased) up to max_bytes and max_fields, beyond which adding
 * fails with -ENOSPC. Owned by whoever called h1_hdrs_init() (the parser for parsed
 * messages). Do not edit the fields directly; use the h1_hdrs_* functions in h1.h. */
struct h1_hdrs {
	struct h1_header *v; /* fields, in order; v[0..n) valid */
	unsigned n;	     /* fields in use */
	unsigned cap;	     /* slots allocated in v */
	unsigned max_fields; /* hard limit on n */
	char *buf;	     /* arena holding copied names and values */
	size_t used;	     /* arena bytes in use */
	size_t size;	     /* arena bytes allocated */
	size_t max_bytes;    /* hard limit on size */
};

/* Request methods. Values below H1_METHOD_EXT equal llhttp's enum llhttp_method (checked at
 * build time in h1.c); every other method token is H1_METHOD_EXT. */
enum h1_method {
	H1_METHOD_DELETE = 0,
	H1_METHOD_GET = 1,
	H1_METHOD_HEAD = 2,
	H1_METHOD_POST = 3,
	H1_METHOD_PUT = 4,
	H1_METHOD_CONNECT = 5,
	H1_METHOD_OPTIONS = 6,
	H1_METHOD_TRACE = 7,
	/* 8..27: WebDAV and other registered methods, see llhttp_method_name() */
	H1_METHOD_PATCH = 28,
	H1_METHOD_PURGE = 29,
	/* 30..33: MKCALENDAR, LINK, UNLINK, SOURCE */
	H1_METHOD_EXT = 34, /* any other well-formed method token: method_name holds it */
	H1_METHOD_MAX = 35, /* must stay last; also "unknown" for a response parser */
};

/* Which side a parser reads. */
enum h1_kind {
	H1_REQUEST = 0,	 /* reads requests from a client */
	H1_RESPONSE = 1, /* reads responses from an upstream */
	H1_KIND_MAX,	 /* must stay last */
};

/* How the body of a message is delimited (RFC 9112 §6.3). */
enum h1_framing {
	H1_BODY_NONE = 0,    /* no body: no CL/TE request, HEAD/1xx/204/304 response, CL: 0 */
	H1_BODY_LENGTH = 1,  /* Content-Length: msg->content_length bytes (> 0) */
	H1_BODY_CHUNKED = 2, /* Transfer-Encoding: chunked */
	H1_BODY_CLOSE = 3,   /* response body runs until the upstream closes */
	H1_BODY_TUNNEL = 4,  /* after this head the connection carries another protocol:
			      * 2xx to CONNECT, 101 Switching Protocols */
	H1_BODY_MAX,	     /* must stay last */
};

/* msg->flags bits. */
enum h1_msg_flags {
	H1_F_KEEP_ALIVE = 1u << 0,	/* connection may carry another message after this one */
	H1_F_CONN_CLOSE = 1u << 1,	/* "Connection: close" present */
	H1_F_CONN_KEEPALIVE = 1u << 2,	/* "Connection: keep-alive" present */
	H1_F_CONN_UPGRADE = 1u << 3,	/* "Connection: upgrade" present */
	H1_F_UPGRADE = 1u << 4,		/* request: Upgrade header + "Connection: upgrade"
					 * (the parser stops after it, see H1_EV_UPGRADE) */
	H1_F_EXPECT_CONTINUE = 1u << 5, /* request: "Expect: 100-continue" */
	H1_F_EXPECT_OTHER = 1u << 6,	/* request: an Expect value other than 100-continue */
	H1_F_HAS_TRAILERS = 1u << 7,	/* chunked message that carried trailer fields */
	H1_F_ABS_TARGET = 1u << 8,	/* request-target in absolute-form (http://host/...) */
};

/* One message head. For a parsed message every h1_str points into the parser's storage and
 * stays valid until the parser starts the next message (h1_parse() after H1_EV_DONE). The
 * caller may edit a parsed message in place before serializing it: point target/reason at
 * its own memory, and change hdrs with the h1_hdrs_* functions. A message the caller builds
 * (e.g. a response of its own) is filled in by hand, with hdrs from h1_hdrs_init(). */
struct h1_msg {
	enum h1_kind kind;	   /* H1_REQUEST or H1_RESPONSE */
	enum h1_method method;	   /* request method; for a response, the method of the request
				    * it answers (as given to h1_parser_set_method()) */
	struct h1_str method_name; /* request: method token as received (or to send) */
	struct h1_str target;	   /* request: request-target as received (or to send) */
	uint8_t major;		   /* HTTP version: always 1 ... */
	uint8_t minor;		   /* ... and 0 or 1 */
	uint16_t status;	   /* response: status code 100..999 */
	struct h1_str reason;	   /* response: reason phrase (may be empty) */
	enum h1_framing framing;   /* body framing, decided by the parser */
	uint64_t content_length;   /* H1_BODY_LENGTH: body bytes; else 0 */
	unsigned flags;		   /* enum h1_msg_flags */
	struct h1_hdrs hdrs;	   /* header fields, in order of arrival */
};

/* Event kinds returned by h1_parse() and h1_parse_eof(). */
enum h1_ev_type {
	H1_EV_NONE = 0,	   /* all given bytes consumed, nothing to report: feed more */
	H1_EV_HEAD = 1,	   /* ev->msg: a complete message head */
	H1_EV_BODY = 2,	   /* ev->data: decoded body bytes (chunk framing removed) */
	H1_EV_DONE = 3,	   /* ev->msg complete; ev->trailers if any. The parser stops here:
			    * the next h1_parse() call starts the next message */
	H1_EV_UPGRADE = 4, /* the message was an accepted upgrade/CONNECT (or a CONNECT/Upgrade
			    * request): the bytes after it are not HTTP. Consumes nothing and
			    * is returned again until h1_parser_resume_http() */
	H1_EV_ERROR = 5,   /* ev->err/status/reason; the parser stays in error */
	H1_EV_MAX,	   /* must stay last */
};

/* Why a message was rejected (ev->err). */
enum h1_err {
	H1_E_NONE = 0,
	H1_E_SYNTAX = 1,	/* malformed start line or header section (generic) */
	H1_E_METHOD = 2,	/* malformed method token (an unknown token: H1_E_METHOD_UNKNOWN) */
	H1_E_TARGET = 3,	/* malformed request-target or one not allowed for the method */
	H1_E_VERSION = 4,	/* malformed HTTP version */
	H1_E_VERSION_UNSUP = 5, /* well-formed but unsupported version (HTTP/2.0, HTTP/0.9) */
	H1_E_STATUS = 6,	/* malformed status line (responses) */
	H1_E_HEADER_NAME = 7,	/* invalid byte in a field name, empty name */
	H1_E_HEADER_VALUE = 8,	/* NUL or another control byte in a field value */
	H1_E_SPACE_COLON = 9,	/* whitespace between field name and colon */
	H1_E_OBS_FOLD = 10,	/* obsolete line folding */
	H1_E_BARE_LF = 11,	/* LF not preceded by CR in the head or chunk framing */
	H1_E_BARE_CR = 12,	/* CR not followed by LF */
	H1_E_CL_INVALID = 13,	/* Content-Length not a plain decimal number */
	H1_E_CL_DUP = 14,	/* more than one Content-Length field (even if identical) */
	H1_E_CL_TE = 15,	/* both Content-Length and Transfer-Encoding */
	H1_E_TE_INVALID = 16,	/* Transfer-Encoding whose final coding is not chunked, or
				 * chunked twice, or TE in an HTTP/1.0 message */
	H1_E_TE_UNSUPPORTED = 17,   /* codings before chunked (e.g. "gzip, chunked") */
	H1_E_CHUNK = 18,	    /* invalid chunk size line or chunk framing */
	H1_E_HOST = 19,		    /* HTTP/1.1 request without Host, or with several */
	H1_E_HEAD_TOO_BIG = 20,	    /* head over limits.max_head */
	H1_E_TOO_MANY_HEADERS = 21, /* more than limits.max_headers fields */
	H1_E_BODY_TOO_BIG = 22,	    /* body over limits.max_body */
	H1_E_TRUNCATED = 23,	    /* EOF inside a message */
	H1_E_NOMEM = 24,	    /* allocation failed */
	H1_E_METHOD_UNKNOWN = 25,   /* well-formed method token that llhttp does not know */
	H1_E_LINE_TOO_LONG = 26,    /* request line alone over limits.max_head */
	H1_E_TRAILER = 27,	    /* framing or routing field (Content-Length, Transfer-Encoding,
				     * Host) in the trailers */
	H1_E_MAX,		    /* must stay last */
};

/* What h1_parse() reports. Pointers are valid until the next h1_parse*() call on the same
 * parser, except ev->msg which follows the struct h1_msg lifetime rule above. */
struct h1_event {
	enum h1_ev_type type;
	struct h1_msg *msg;		/* HEAD, DONE, UPGRADE: the current message */
	struct h1_str data;		/* BODY: bytes inside the caller's input buffer */
	const struct h1_hdrs *trailers; /* DONE: trailer fields, NULL when there were none */
	enum h1_err err;		/* ERROR: the cause */
	int status;			/* ERROR: status to answer: request parser 400, 413,
					 * 431, 501 or 505; response parser 502 */
	const char *reason;		/* ERROR: static text for logs, never NULL */
};

/* Parser limits. Zero in any field means its H1_DEFAULT_* value, except max_body where 0
 * means unlimited. */
struct h1_limits {
	uint32_t max_head;     /* bytes of start line + header section (+ trailers) → 431 */
	uint32_t max_headers;  /* fields in the header section, and in the trailers → 431 */
	uint64_t max_body;     /* decoded body bytes → 413 (0: unlimited) */
	uint32_t head_extra;   /* extra arena bytes for fields the caller adds to msg->hdrs */
	uint32_t extra_fields; /* extra field slots for fields the caller adds */
};

/* h1_hdrs_strip_hop() options. */
enum h1_hop_flags {
	H1_HOP_KEEP_UPGRADE = 1u << 0, /* keep Upgrade (and "Connection: upgrade") for a tunnel */
};

/* h1_write_head() additions, written after msg->hdrs. */
enum h1_write_flags {
	H1_W_CHUNKED = 1u << 0,	       /* add "Transfer-Encoding: chunked" */
	H1_W_CONTENT_LENGTH = 1u << 1, /* add "Content-Length: <msg->content_length>" */
	H1_W_CLOSE = 1u << 2,	       /* add "Connection: close" */
	H1_W_KEEP_ALIVE = 1u << 3,     /* add "Connection: keep-alive" (HTTP/1.0 peers) */
	H1_W_UPGRADE = 1u << 4,	       /* add "Connection: upgrade" */
};

/* A growable byte buffer for serializing, with a hard size limit. */
struct h1_buf {
	char *p;    /* bytes [0, len) */
	size_t len; /* bytes in use */
	size_t cap; /* bytes allocated */
	size_t max; /* appends that would grow past this fail with -ENOSPC; 0 = 1 MiB */
};

#endif /* USERSPACE_HTTP_H1_T_H */
