// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.x codec: llhttp (built in strict mode) does the tokenizing and body framing; our own
 * byte scanner checks the start line and field sections first, because llhttp accepts
 * obs-fold, NUL in values, bare LF and HTTP/0.9 forms that a proxy must refuse. llhttp must be
 * built with LLHTTP_STRICT_MODE=1: loose mode skips the CRLF after chunk data unchecked. Common
 * heads that arrive whole take a fast path that does both in one pass (see fast_head()). */
#include "userspace/http/h1.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>

#include "userspace/http/h1_common.h"
#include "userspace/http/h1_scan.h"

_Static_assert(H1_METHOD_GET == (int)HTTP_GET, "method numbering follows llhttp");
_Static_assert(H1_METHOD_HEAD == (int)HTTP_HEAD, "method numbering follows llhttp");
_Static_assert(H1_METHOD_CONNECT == (int)HTTP_CONNECT, "method numbering follows llhttp");
_Static_assert(H1_METHOD_OPTIONS == (int)HTTP_OPTIONS, "method numbering follows llhttp");
_Static_assert(H1_METHOD_PATCH == (int)HTTP_PATCH, "method numbering follows llhttp");
_Static_assert(H1_METHOD_EXT == (int)HTTP_SOURCE + 1, "method numbering follows llhttp");

/* ------------------------------------------------------------------------------------------
 * Parser
 */

enum pstate {
	P_IDLE = 0, /* between messages (nothing of the next one seen) */
	P_HEAD,	    /* in the start line / header section */
	P_METHOD,   /* llhttp refused the method: scanning on to tell 400 from 501 */
	P_BODY,	    /* in the body (including chunk framing) */
	P_TRAILERS, /* in the trailer section */
	P_DONE,	    /* message complete and reported; waiting for the next call with data */
	P_UPGRADE,  /* stopped at a protocol switch */
	P_ERROR,    /* stopped on an error */
	P_MAX,	    /* must stay last */
};

/* Events queued by one llhttp_execute() run, reported one per h1_parse() call in this
 * order. */
enum pend {
	PEND_HEAD = 1u << 0,
	PEND_BODY = 1u << 1,
	PEND_DONE = 1u << 2,
	PEND_UPGRADE = 1u << 3,
};

struct h1_parser {
	llhttp_t ll;		     /* must stay first: callbacks cast llhttp_t * back */
	enum h1_kind kind;	     /* H1_REQUEST or H1_RESPONSE */
	struct h1_limits lim;	     /* effective limits */
	enum pstate st;		     /* see enum pstate */
	unsigned pend;		     /* enum pend bits */
	bool ll_paused;		     /* llhttp returned HPE_PAUSED: resume before executing */
	bool ll_stale;		     /* reset since llhttp last ran: llhttp_init() before it
				      * does (ll_ready()); most messages never need it */
	bool started;		     /* a byte of the current message beyond empty lines seen */
	bool in_trailers;	     /* callbacks fill the trailer list */
	bool xmeth;		     /* llhttp was given a stand-in for an extension method */
	enum h1_method req_method;   /* response parser: method of the request answered */
	struct scan sc;		     /* head / trailer scanner */
	struct h1_msg msg;	     /* current message; msg.hdrs is the head arena */
	struct h1_hdrs trailers;     /* trailer fields of the current message */
	char *line;		     /* start-line pieces (method, target, reason) */
	size_t line_len;	     /* bytes used in line */
	size_t line_cap;	     /* bytes allocated for line */
	size_t meth_off, meth_len;   /* method within line */
	size_t tgt_off, tgt_len;     /* target within line */
	size_t rsn_off, rsn_len;     /* reason within line */
	size_t fname_off, fname_len; /* field being parsed: name within the arena ... */
	size_t fval_off, fval_len;   /* ... and value */
	bool fval_started;	     /* value bytes of the current field arrived */
	bool own_body;		     /* head taken by fast_head(): the codec counts the
				      * Content-Length body itself, llhttp saw nothing */
	uint64_t body_left;	     /* own_body: body bytes still to come */
	uint64_t body_seen;	     /* body bytes announced so far (CL or chunk sizes) */
	struct h1_str body;	     /* PEND_BODY slice */
	enum h1_err cb_err;	     /* error raised inside a callback */
	enum h1_err err;	     /* P_ERROR: the error */
};

static struct h1_parser *parser_of(llhttp_t *ll)
{
	return (struct h1_parser *)ll;
}

/* Record an error raised in a callback; the callback then returns -1 (HPE_USER path). */
static int cb_fail(struct h1_parser *p, enum h1_err e)
{
	p->cb_err = e;
	return -1;
}

static int line_append(struct h1_parser *p, const char *at, size_t n)
{
	if (n > p->line_cap - p->line_len) {
		size_t cap = p->line_cap ? p->line_cap : 128;
		char *nl;

		while (cap - p->line_len < n)
			cap *= 2;
		nl = realloc(p->line, cap);
		if (!nl)
			return -ENOMEM;
		p->line = nl;
		p->line_cap = cap;
	}
	memcpy(p->line + p->line_len, at, n);
	p->line_len += n;
	return 0;
}

static int on_method(llhttp_t *ll, const char *at, size_t n)
{
	struct h1_parser *p = parser_of(ll);

	if (p->xmeth) {
		/* llhttp parses the stand-in; the line keeps the method as received */
		if (p->meth_len)
			return 0;
		at = p->sc.meth;
		n = p->sc.meth_len;
	}
	if (!p->meth_len)
		p->meth_off = p->line_len;
	p->meth_len += n;
	return line_append(p, at, n) ? cb_fail(p, H1_E_NOMEM) : 0;
}

static int on_url(llhttp_t *ll, const char *at, size_t n)
{
	struct h1_parser *p = parser_of(ll);

	if (!p->tgt_len)
		p->tgt_off = p->line_len;
	p->tgt_len += n;
	return line_append(p, at, n) ? cb_fail(p, H1_E_NOMEM) : 0;
}

static int on_status(llhttp_t *ll, const char *at, size_t n)
{
	struct h1_parser *p = parser_of(ll);

	if (!p->rsn_len)
		p->rsn_off = p->line_len;
	p->rsn_len += n;
	return line_append(p, at, n) ? cb_fail(p, H1_E_NOMEM) : 0;
}

static struct h1_hdrs *cur_list(struct h1_parser *p)
{
	return p->in_trailers ? &p->trailers : &p->msg.hdrs;
}

/* Append field bytes to the arena of the list being filled; the name and value of one field
 * are contiguous, name first. */
static int field_bytes(struct h1_parser *p, const char *at, size_t n)
{
	struct h1_hdrs *h = cur_list(p);

	if (n > h->size - h->used) {
		int err = hdrs_reserve(h, n);

		if (err)
			return cb_fail(p, err == -ENOMEM ? H1_E_NOMEM : H1_E_HEAD_TOO_BIG);
	}
	memcpy(h->buf + h->used, at, n);
	h->used += n;
	return 0;
}

static int on_header_field(llhttp_t *ll, const char *at, size_t n)
{
	struct h1_parser *p = parser_of(ll);

	if (!p->fname_len)
		p->fname_off = cur_list(p)->used;
	p->fname_len += n;
	return field_bytes(p, at, n);
}

static int on_header_value(llhttp_t *ll, const char *at, size_t n)
{
	struct h1_parser *p = parser_of(ll);

	if (!p->fval_started) {
		p->fval_off = cur_list(p)->used;
		p->fval_started = true;
	}
	p->fval_len += n;
	return field_bytes(p, at, n);
}

static int on_header_value_complete(llhttp_t *ll)
{
	struct h1_parser *p = parser_of(ll);
	struct h1_hdrs *h = cur_list(p);
	size_t voff = p->fval_started ? p->fval_off : h->used, vlen = p->fval_len;
	int err;

	while (vlen && is_ows(h->buf[voff]))
		voff++, vlen--;
	while (vlen && is_ows(h->buf[voff + vlen - 1]))
		vlen--;
	err = hdrs_push(h, p->fname_off, p->fname_len, voff, vlen);
	p->fname_len = p->fval_len = 0;
	p->fval_started = false;
	if (err)
		return cb_fail(p, err == -ENOMEM ? H1_E_NOMEM : H1_E_TOO_MANY_HEADERS);
	if (p->in_trailers) {
		/* RFC 9110 §6.5.1: these cannot come after the content; a hop that merged them
		 * into the header section would read the message differently */
		const struct h1_str *name = &h->v[h->n - 1].name;
		enum fname k = fname_kind(name->p, name->len);

		if (k == FN_CONTENT_LENGTH || k == FN_TRANSFER_ENCODING || k == FN_HOST)
			return cb_fail(p, H1_E_TRAILER);
	}
	return 0;
}

/* Check a Transfer-Encoding list (all TE fields in order, the first at <first>). Only
 * "chunked" as the final and only coding is accepted; anything else would make the proxy
 * forward a body it cannot delimit or decode. */
static enum h1_err check_te(const struct h1_hdrs *h, unsigned first)
{
	unsigned codings = 0, chunked = 0;
	bool last_chunked = false;

	for (unsigned i = first; i < h->n; i++) {
		struct h1_str el;
		size_t pos = 0;

		if (fname_kind(h->v[i].name.p, h->v[i].name.len) != FN_TRANSFER_ENCODING)
			continue;
		while (list_next(&h->v[i].value, &pos, &el)) {
			if (!el.len)
				continue;
			codings++;
			last_chunked = STR_IEQ(&el, "chunked");
			chunked += last_chunked;
		}
	}
	if (!codings || !last_chunked || chunked > 1)
		return H1_E_TE_INVALID;
	if (codings > 1)
		return H1_E_TE_UNSUPPORTED;
	return H1_E_NONE;
}

/* Host (RFC 9110 §7.2): uri-host [ ":" port ], without whitespace or delimiters that would
 * let it mean different things to different hops. Empty is allowed. */
static bool host_ok(const struct h1_str *v)
{
	for (size_t i = 0; i < v->len; i++)
		if (!(char_class[(unsigned char)v->p[i]] & C_HOST))
			return false;
	return true;
}

/* Request-target form for the method (RFC 9112 §3.2). */
static enum h1_err check_target(struct h1_parser *p)
{
	const struct h1_str *t = &p->msg.target;

	if (!t->len || memchr(t->p, '#', t->len))
		return H1_E_TARGET;
	if (p->msg.method == H1_METHOD_CONNECT) {
		/* authority-form: host:port */
		if (t->p[0] == '/' || !memchr(t->p, ':', t->len) || !host_ok(t))
			return H1_E_TARGET;
		return H1_E_NONE;
	}
	if (t->p[0] == '/')
		return H1_E_NONE;
	if (t->len == 1 && t->p[0] == '*')
		return p->msg.method == H1_METHOD_OPTIONS ? H1_E_NONE : H1_E_TARGET;
	if ((t->len > 7 && ieq(t->p, 7, "http://", 7)) ||
		(t->len > 8 && ieq(t->p, 8, "https://", 8))) {
		p->msg.flags |= H1_F_ABS_TARGET;
		return H1_E_NONE;
	}
	return H1_E_TARGET;
}

/* What on_headers_complete() needs from the field list, gathered in one pass. */
struct head_sum {
	int te;		/* first Transfer-Encoding field, or -1 */
	int cl;		/* first Content-Length field, or -1 */
	unsigned ncl;	/* Content-Length fields */
	int host;	/* first Host field, or -1 */
	unsigned nhost; /* Host fields */
	int expect;	/* first Expect field, or -1 */
	unsigned conn;	/* H1_F_CONN_* tokens found in Connection fields */
};

static void head_summary(const struct h1_hdrs *h, struct head_sum *sum)
{
	*sum = (struct head_sum){-1, -1, 0, -1, 0, -1, 0};
	for (unsigned i = 0; i < h->n; i++) {
		const struct h1_header *f = &h->v[i];
		struct h1_str el;
		size_t pos = 0;

		switch (fname_kind(f->name.p, f->name.len)) {
		case FN_TRANSFER_ENCODING:
			if (sum->te < 0)
				sum->te = (int)i;
			break;
		case FN_CONTENT_LENGTH:
			if (!sum->ncl++)
				sum->cl = (int)i;
			break;
		case FN_HOST:
			if (!sum->nhost++)
				sum->host = (int)i;
			break;
		case FN_EXPECT:
			if (sum->expect < 0)
				sum->expect = (int)i;
			break;
		case FN_CONNECTION:
			while (list_next(&f->value, &pos, &el)) {
				if (STR_IEQ(&el, "close"))
					sum->conn |= H1_F_CONN_CLOSE;
				else if (STR_IEQ(&el, "keep-alive"))
					sum->conn |= H1_F_CONN_KEEPALIVE;
				else if (STR_IEQ(&el, "upgrade"))
					sum->conn |= H1_F_CONN_UPGRADE;
			}
			break;
		default:
			break;
		}
	}
}

/* Content-Length values are 1*DIGIT, once (llhttp rejects others, and any duplicate,
 * already; this keeps the rule independent of it). Returns H1_E_NONE or the error. */
static enum h1_err cl_check(const struct h1_hdrs *h, const struct head_sum *sum)
{
	const struct h1_str *v;

	if (!sum->ncl)
		return H1_E_NONE;
	v = &h->v[sum->cl].value;
	if (!v->len)
		return H1_E_CL_INVALID;
	for (size_t k = 0; k < v->len; k++)
		if (!is_digit((unsigned char)v->p[k]))
			return H1_E_CL_INVALID;
	return sum->ncl > 1 ? H1_E_CL_DUP : H1_E_NONE;
}

/* A start-line piece; "" when empty (the line buffer may not exist yet). */
static struct h1_str line_str(const struct h1_parser *p, size_t off, size_t len)
{
	struct h1_str r = {len ? p->line + off : "", len};

	return r;
}

/* What the start line and llhttp's own header handling said about a head. */
struct head_info {
	uint8_t major, minor; /* HTTP version */
	unsigned method;      /* request: llhttp method number */
	unsigned status;      /* response: status code */
	bool upgrade;	      /* llhttp's upgrade flag (Upgrade + Connection: upgrade, CONNECT) */
	uint64_t content_length;    /* Content-Length value (0 when absent) */
	const struct head_sum *sum; /* the field summary when already known, else NULL */
};

/* Fill the message summary and decide framing. Returns the llhttp on_headers_complete code
 * (0 body as llhttp sees it, 1 no body, 2 no body and protocol switch) or -1 on error
 * (p->cb_err says which). */
static int head_complete(struct h1_parser *p, const struct head_info *hi)
{
	struct h1_msg *m = &p->msg;
	struct h1_hdrs *h = &m->hdrs;
	bool request = p->kind == H1_REQUEST;
	struct head_sum sum;
	bool has_te;
	unsigned ncl;
	enum h1_err e;
	int ret = 0;

	m->major = hi->major;
	m->minor = hi->minor;
	if (m->major != 1 || m->minor > 1)
		return cb_fail(p, H1_E_VERSION_UNSUP);
	m->method_name = line_str(p, p->meth_off, p->meth_len);
	m->target = line_str(p, p->tgt_off, p->tgt_len);
	m->reason = line_str(p, p->rsn_off, p->rsn_len);
	if (request) {
		/* PRI (the HTTP/2 preface's) and RTSP methods, which llhttp also knows */
		if (hi->method >= H1_METHOD_EXT)
			return cb_fail(p, H1_E_METHOD_UNKNOWN);
		m->method = p->xmeth ? H1_METHOD_EXT : (enum h1_method)hi->method;
		e = check_target(p);
		if (e)
			return cb_fail(p, e);
	} else {
		m->method = p->req_method;
		m->status = (uint16_t)hi->status;
		if (m->status < 100)
			return cb_fail(p, H1_E_STATUS);
	}

	if (hi->sum)
		sum = *hi->sum;
	else
		head_summary(h, &sum);
	has_te = sum.te >= 0;
	ncl = sum.ncl;
	m->flags |= sum.conn;
	if (m->minor == 1 ? !(m->flags & H1_F_CONN_CLOSE) :
			    ((m->flags & H1_F_CONN_KEEPALIVE) && !(m->flags & H1_F_CONN_CLOSE)))
		m->flags |= H1_F_KEEP_ALIVE;

	e = cl_check(h, &sum);
	if (e)
		return cb_fail(p, e);
	if (ncl && has_te)
		return cb_fail(p, H1_E_CL_TE);
	if (has_te) {
		if (m->minor == 0)
			return cb_fail(p, H1_E_TE_INVALID);
		e = check_te(h, (unsigned)sum.te);
		if (e)
			return cb_fail(p, e);
	}

	if (request) {
		if ((!sum.nhost && m->minor == 1) || sum.nhost > 1)
			return cb_fail(p, H1_E_HOST);
		if (sum.nhost && !host_ok(&h->v[sum.host].value))
			return cb_fail(p, H1_E_HOST);
		if (sum.expect >= 0 && m->minor == 1) /* RFC 9110 §10.1.1: ignored in HTTP/1.0 */
			m->flags |= STR_IEQ(&h->v[sum.expect].value, "100-continue") ?
					    H1_F_EXPECT_CONTINUE :
					    H1_F_EXPECT_OTHER;
		if (m->method == H1_METHOD_CONNECT) {
			/* the bytes after the head belong to the tunnel, if the upstream agrees */
			m->flags |= H1_F_UPGRADE;
			m->framing = H1_BODY_NONE;
		} else {
			if (hi->upgrade)
				m->flags |= H1_F_UPGRADE;
			if (has_te)
				m->framing = H1_BODY_CHUNKED;
			else if (ncl && hi->content_length)
				m->framing = H1_BODY_LENGTH;
			else
				m->framing = H1_BODY_NONE;
		}
	} else if (m->status == 101) {
		m->framing = H1_BODY_TUNNEL;
		ret = 2;
	} else if (p->req_method == H1_METHOD_CONNECT && m->status / 100 == 2) {
		m->framing = H1_BODY_TUNNEL;
		ret = 2;
	} else if (m->status / 100 == 1 || m->status == 204 || m->status == 304 ||
		   p->req_method == H1_METHOD_HEAD) {
		m->framing = H1_BODY_NONE;
		ret = 1;
	} else if (has_te) {
		m->framing = H1_BODY_CHUNKED;
	} else if (ncl) {
		m->framing = hi->content_length ? H1_BODY_LENGTH : H1_BODY_NONE;
	} else {
		m->framing = H1_BODY_CLOSE;
		m->flags &= ~(unsigned)H1_F_KEEP_ALIVE;
	}
	if (m->framing == H1_BODY_LENGTH) {
		m->content_length = hi->content_length;
		if (p->lim.max_body && m->content_length > p->lim.max_body)
			return cb_fail(p, H1_E_BODY_TOO_BIG);
		p->body_seen = m->content_length;
	}
	p->pend |= PEND_HEAD;
	p->st = P_BODY;
	return ret;
}

static int on_headers_complete(llhttp_t *ll)
{
	struct head_info hi = {
		.major = ll->http_major,
		.minor = ll->http_minor,
		.method = ll->method,
		.status = ll->status_code,
		.upgrade = ll->upgrade,
		.content_length = ll->content_length,
	};

	return head_complete(parser_of(ll), &hi);
}

static int on_body(llhttp_t *ll, const char *at, size_t n)
{
	struct h1_parser *p = parser_of(ll);

	/* close-delimited bodies have no size up front: feed_body() bounds them */
	if (p->msg.framing == H1_BODY_CLOSE)
		p->body_seen += n;
	p->body.p = at;
	p->body.len = n;
	p->pend |= PEND_BODY;
	/* The last piece of a Content-Length body: let llhttp go on to on_message_complete,
	 * which needs no more input, so H1_EV_DONE follows without another byte. */
	if (p->msg.framing == H1_BODY_LENGTH && ll->content_length == 0)
		return 0;
	return HPE_PAUSED;
}

static int on_chunk_header(llhttp_t *ll)
{
	struct h1_parser *p = parser_of(ll);
	uint64_t size = ll->content_length;

	if (p->lim.max_body && (size > p->lim.max_body || p->body_seen > p->lim.max_body - size))
		return cb_fail(p, H1_E_BODY_TOO_BIG);
	p->body_seen += size;
	if (size == 0) {
		/* last chunk: the trailer section follows and goes through the scanner */
		p->st = P_TRAILERS;
		p->in_trailers = true;
		h1_scan_init(&p->sc, p->kind == H1_REQUEST, true, &p->lim);
		return HPE_PAUSED;
	}
	return 0;
}

static int on_message_complete(llhttp_t *ll)
{
	struct h1_parser *p = parser_of(ll);

	if (p->trailers.n)
		p->msg.flags |= H1_F_HAS_TRAILERS;
	p->pend |= PEND_DONE;
	p->st = P_DONE;
	/* llhttp stops by itself (HPE_PAUSED_UPGRADE) after a protocol switch */
	return ll->upgrade ? 0 : HPE_PAUSED;
}

static const llhttp_settings_t h1_settings = {
	.on_method = on_method,
	.on_url = on_url,
	.on_status = on_status,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_header_value_complete = on_header_value_complete,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_chunk_header = on_chunk_header,
	.on_message_complete = on_message_complete,
};

static void limits_fill(struct h1_limits *dst, const struct h1_limits *src)
{
	if (src)
		*dst = *src;
	else
		memset(dst, 0, sizeof(*dst));
	if (!dst->max_head)
		dst->max_head = H1_DEFAULT_MAX_HEAD;
	if (!dst->max_headers)
		dst->max_headers = H1_DEFAULT_MAX_HEADERS;
	if (!dst->head_extra)
		dst->head_extra = H1_DEFAULT_HEAD_EXTRA;
	if (!dst->extra_fields)
		dst->extra_fields = H1_DEFAULT_EXTRA_FIELDS;
}

/* Prepare for a new message, keeping allocated storage. */
static void msg_begin(struct h1_parser *p)
{
	struct h1_hdrs hdrs = p->msg.hdrs;

	h1_hdrs_clear(&hdrs);
	memset(&p->msg, 0, sizeof(p->msg));
	p->msg.hdrs = hdrs;
	p->msg.kind = p->kind;
	p->msg.method = p->kind == H1_REQUEST ? H1_METHOD_MAX : p->req_method;
	h1_hdrs_clear(&p->trailers);
	p->line_len = 0;
	p->meth_off = p->meth_len = p->tgt_off = p->tgt_len = p->rsn_off = p->rsn_len = 0;
	p->fname_off = p->fname_len = p->fval_off = p->fval_len = 0;
	p->fval_started = false;
	p->own_body = false;
	p->body_left = 0;
	p->in_trailers = false;
	p->xmeth = false;
	p->body_seen = 0;
	p->started = false;
	p->cb_err = H1_E_NONE;
	h1_scan_init(&p->sc, p->kind == H1_REQUEST, false, &p->lim);
	p->st = P_HEAD;
}

struct h1_parser *h1_parser_new(enum h1_kind kind, const struct h1_limits *lim)
{
	struct h1_parser *p;

	if (kind != H1_REQUEST && kind != H1_RESPONSE) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->kind = kind;
	limits_fill(&p->lim, lim);
	p->req_method = H1_METHOD_GET;
	h1_hdrs_init(&p->msg.hdrs, p->lim.max_headers + p->lim.extra_fields,
		(size_t)p->lim.max_head + p->lim.head_extra);
	h1_hdrs_init(&p->trailers, p->lim.max_headers, p->lim.max_head);
	h1_parser_reset(p);
	return p;
}

void h1_parser_free(struct h1_parser *p)
{
	if (!p)
		return;
	h1_hdrs_free(&p->msg.hdrs);
	h1_hdrs_free(&p->trailers);
	free(p->line);
	free(p);
}

/* llhttp in the state h1_parser_reset() left it in, before anything uses it. */
static void ll_ready(struct h1_parser *p)
{
	if (!p->ll_stale)
		return;
	llhttp_init(&p->ll, p->kind == H1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE, &h1_settings);
	p->ll_stale = false;
}

void h1_parser_reset(struct h1_parser *p)
{
	p->ll_stale = true;
	p->ll_paused = false;
	p->pend = 0;
	p->err = H1_E_NONE;
	msg_begin(p);
	p->st = P_IDLE;
}

int h1_parser_set_method(struct h1_parser *p, enum h1_method method)
{
	if (p->kind != H1_RESPONSE || (unsigned)method >= H1_METHOD_MAX)
		return -EINVAL;
	p->req_method = method;
	return 0;
}

struct h1_msg *h1_parser_msg(struct h1_parser *p)
{
	switch (p->st) {
	case P_BODY:
	case P_TRAILERS:
	case P_DONE:
	case P_UPGRADE:
		return &p->msg;
	default:
		return NULL;
	}
}

bool h1_parser_in_body(const struct h1_parser *p)
{
	return (p->st == P_BODY || p->st == P_TRAILERS) && !(p->pend & PEND_HEAD);
}

bool h1_parser_idle(const struct h1_parser *p)
{
	return (p->st == P_IDLE || p->st == P_DONE || (p->st == P_HEAD && !p->sc.bytes)) &&
	       !p->pend;
}

void h1_parser_trim(struct h1_parser *p)
{
	if (!h1_parser_idle(p))
		return;
	h1_hdrs_free(&p->msg.hdrs);
	h1_hdrs_free(&p->trailers);
	free(p->line);
	p->line = NULL;
	p->line_cap = p->line_len = 0;
	p->msg.method_name = p->msg.target = p->msg.reason = (struct h1_str){"", 0};
}

static const struct {
	const char *reason;
	int req_status;
} err_info[H1_E_MAX] = {
	[H1_E_NONE] = {"no error", 0},
	[H1_E_SYNTAX] = {"malformed message", 400},
	[H1_E_METHOD] = {"malformed method", 400},
	[H1_E_TARGET] = {"invalid request-target", 400},
	[H1_E_VERSION] = {"malformed HTTP version", 400},
	[H1_E_VERSION_UNSUP] = {"unsupported HTTP version", 505},
	[H1_E_STATUS] = {"malformed status line", 400},
	[H1_E_HEADER_NAME] = {"invalid header field name", 400},
	[H1_E_HEADER_VALUE] = {"invalid byte in header field value", 400},
	[H1_E_SPACE_COLON] = {"whitespace before colon in header field", 400},
	[H1_E_OBS_FOLD] = {"obsolete line folding", 400},
	[H1_E_BARE_LF] = {"bare LF", 400},
	[H1_E_BARE_CR] = {"bare CR", 400},
	[H1_E_CL_INVALID] = {"invalid Content-Length", 400},
	[H1_E_CL_DUP] = {"duplicate Content-Length", 400},
	[H1_E_CL_TE] = {"both Content-Length and Transfer-Encoding", 400},
	[H1_E_TE_INVALID] = {"invalid Transfer-Encoding", 400},
	[H1_E_TE_UNSUPPORTED] = {"unsupported transfer coding", 501},
	[H1_E_CHUNK] = {"invalid chunk framing", 400},
	[H1_E_HOST] = {"missing, duplicate or invalid Host", 400},
	[H1_E_HEAD_TOO_BIG] = {"header section too large", 431},
	[H1_E_TOO_MANY_HEADERS] = {"too many header fields", 431},
	[H1_E_BODY_TOO_BIG] = {"body too large", 413},
	[H1_E_TRUNCATED] = {"connection closed inside a message", 400},
	[H1_E_NOMEM] = {"out of memory", 500},
	[H1_E_METHOD_UNKNOWN] = {"method not implemented", 501},
	[H1_E_LINE_TOO_LONG] = {"request line too long", 414},
	[H1_E_TRAILER] = {"framing or routing field in trailers", 400},
};

const char *h1_err_str(enum h1_err err)
{
	if ((unsigned)err >= H1_E_MAX)
		return "unknown error";
	return err_info[err].reason;
}

/* Enter the error state; the event is rebuilt from p->err on every later call. */
static void set_error(struct h1_parser *p, enum h1_err e)
{
	p->st = P_ERROR;
	p->err = e;
	p->pend = 0;
}

static void error_event(const struct h1_parser *p, struct h1_event *ev)
{
	ev->type = H1_EV_ERROR;
	ev->err = p->err;
	ev->reason = h1_err_str(p->err);
	if ((unsigned)p->err >= H1_E_MAX || p->err == H1_E_NOMEM)
		ev->status = 500;
	else
		ev->status = p->kind == H1_REQUEST ? err_info[p->err].req_status : 502;
}

/* Classify an llhttp error. Callback errors carry their own cause in p->cb_err. */
static enum h1_err map_llhttp_error(struct h1_parser *p, llhttp_errno_t e)
{
	const char *why = llhttp_get_error_reason(&p->ll);
	bool body = p->st == P_BODY || p->st == P_TRAILERS;

	if (p->cb_err != H1_E_NONE)
		return p->cb_err;
	switch (e) {
	case HPE_INVALID_METHOD:
		return H1_E_METHOD;
	case HPE_INVALID_URL:
		return H1_E_TARGET;
	case HPE_INVALID_VERSION:
		/* "Invalid HTTP version" is a well-formed x.y that llhttp does not know */
		return why && !strcmp(why, "Invalid HTTP version") ? H1_E_VERSION_UNSUP :
								     H1_E_VERSION;
	case HPE_INVALID_CONSTANT:
		return p->kind == H1_RESPONSE ? H1_E_STATUS : H1_E_VERSION;
	case HPE_INVALID_STATUS:
		return H1_E_STATUS;
	case HPE_INVALID_HEADER_TOKEN:
		return why && strstr(why, "value") ? H1_E_HEADER_VALUE : H1_E_HEADER_NAME;
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return why && strstr(why, "Duplicate") ? H1_E_CL_DUP : H1_E_CL_TE;
	case HPE_INVALID_CONTENT_LENGTH:
		return H1_E_CL_INVALID;
	case HPE_INVALID_TRANSFER_ENCODING:
		return H1_E_TE_INVALID;
	case HPE_INVALID_CHUNK_SIZE:
		return H1_E_CHUNK;
	case HPE_STRICT:
	case HPE_LF_EXPECTED:
	case HPE_CR_EXPECTED:
		return body ? H1_E_CHUNK : H1_E_SYNTAX;
	default:
		return H1_E_SYNTAX;
	}
}

/* Run llhttp over <n> bytes. Returns the bytes consumed; on an error enters P_ERROR. */
static size_t ll_feed(struct h1_parser *p, const char *data, size_t n)
{
	llhttp_errno_t e;

	ll_ready(p);
	if (p->ll_paused) {
		llhttp_resume(&p->ll);
		p->ll_paused = false;
	}
	if (!n)
		return 0;
	e = llhttp_execute(&p->ll, data, n);
	switch (e) {
	case HPE_OK:
		return n;
	case HPE_PAUSED:
		p->ll_paused = true;
		return (size_t)(llhttp_get_error_pos(&p->ll) - data);
	case HPE_PAUSED_UPGRADE:
		p->pend |= PEND_UPGRADE;
		return (size_t)(llhttp_get_error_pos(&p->ll) - data);
	default:
		set_error(p, map_llhttp_error(p, e));
		return 0;
	}
}

/* llhttp knows a fixed list of methods. A well-formed token it does not know is an
 * extension method (ext_restart()), unless it is longer than H1_SCAN_METH_MAX: that one gets
 * 501 (RFC 9110 §9.1), anything else 400. The whole token is needed to tell them apart, so
 * when it is not complete yet the parser keeps scanning (P_METHOD) and decides when it is;
 * <scan_failed> means the scanner stopped on a bad byte. Returns the bytes consumed. */
static size_t method_error(struct h1_parser *p, bool scan_failed, size_t scanned)
{
	if (p->sc.meth_done || p->sc.meth_bad || scan_failed) {
		set_error(
			p, p->sc.meth_done && !p->sc.meth_bad ? H1_E_METHOD_UNKNOWN : H1_E_METHOD);
		return 0;
	}
	p->st = P_METHOD;
	p->err = H1_E_NONE;
	return scanned;
}

/* ------------------------------------------------------------------------------------------
 * Fast path for whole heads. When one input starts with a complete head, the common case,
 * the head is checked and split here in one pass instead of by the scanner and then llhttp,
 * and its body (none, or Content-Length) is counted here too. It takes only heads that the
 * scanner accepts and whose every byte llhttp would take the same way, with the same callback
 * spans: a method among the common ones, an origin-form target, HTTP/1.0 or /1.1, a status
 * line with a reason, "token: field-vchar" lines within the limits, no Transfer-Encoding,
 * Upgrade or Proxy-Connection field, at most one plain Content-Length, Connection naming one
 * known token. Anything else, and any head head_complete() refuses, goes the usual way from
 * its first byte, so errors and unusual heads are handled exactly as before.
 */

/* Request methods taken by the fast path; numbers are llhttp's (see enum h1_method). */
static int fast_method(const char *p, size_t n)
{
	switch (n) {
	case 3:
		if (!memcmp(p, "GET", 3))
			return H1_METHOD_GET;
		if (!memcmp(p, "PUT", 3))
			return H1_METHOD_PUT;
		return -1;
	case 4:
		if (!memcmp(p, "POST", 4))
			return H1_METHOD_POST;
		if (!memcmp(p, "HEAD", 4))
			return H1_METHOD_HEAD;
		return -1;
	case 5:
		return memcmp(p, "PATCH", 5) ? -1 : H1_METHOD_PATCH;
	case 6:
		return memcmp(p, "DELETE", 6) ? -1 : H1_METHOD_DELETE;
	case 7:
		return memcmp(p, "OPTIONS", 7) ? -1 : H1_METHOD_OPTIONS;
	default:
		return -1;
	}
}

/* "HTTP/1.0" or "HTTP/1.1" at <p>: the minor version, or -1. */
static int fast_version(const char *p)
{
	if (memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1'))
		return -1;
	return p[7] - '0';
}

/* Append a start-line piece the way the llhttp span callbacks do. */
static bool fast_line(struct h1_parser *p, const char *at, size_t n, size_t *off, size_t *len)
{
	*off = p->line_len;
	*len = n;
	return !line_append(p, at, n);
}

/* End of the run of <class> bytes from <q> (before <end>). */
static const char *fast_run(const char *q, const char *end, unsigned class)
{
	if (class == C_FIELD)
		q += skip_field_words(q, 0, (size_t)(end - q));
	while (q < end && (char_class[(unsigned char)*q] & class))
		q++;
	return q;
}

/* The start line at <q>: request "METHOD SP /target SP HTTP/1.x CRLF" or response
 * "HTTP/1.x SP ddd SP reason CRLF", within what the scanner accepts. Fills <hi> and the line
 * buffer; returns the first byte after the CRLF, or NULL. */
static const char *fast_start(
	struct h1_parser *p, const char *q, const char *end, struct head_info *hi)
{
	const char *a, *b;
	int v;

	hi->major = 1;
	if (p->kind == H1_REQUEST) {
		a = fast_run(q, end, C_TCHAR);
		if (end - a < 2 || *a != ' ' || a[1] != '/')
			return NULL;
		v = fast_method(q, (size_t)(a - q));
		if (v < 0)
			return NULL;
		hi->method = (unsigned)v;
		b = fast_run(a + 1, end, C_VIS);
		if (end - b < 11 || *b != ' ' || b[9] != '\r' || b[10] != '\n')
			return NULL;
		v = fast_version(b + 1);
		if (v < 0 || !fast_line(p, q, (size_t)(a - q), &p->meth_off, &p->meth_len) ||
			!fast_line(p, a + 1, (size_t)(b - a - 1), &p->tgt_off, &p->tgt_len))
			return NULL;
		hi->minor = (uint8_t)v;
		return b + 11;
	}
	/* a reason is required: llhttp reports an empty one differently */
	if (end - q < 16 || q[8] != ' ' || q[12] != ' ' || q[9] == '0' ||
		!is_digit((unsigned char)q[9]) || !is_digit((unsigned char)q[10]) ||
		!is_digit((unsigned char)q[11]))
		return NULL;
	v = fast_version(q);
	b = fast_run(q + 13, end, C_FIELD);
	if (v < 0 || b == q + 13 || end - b < 2 || b[0] != '\r' || b[1] != '\n' ||
		!fast_line(p, q + 13, (size_t)(b - q - 13), &p->rsn_off, &p->rsn_len))
		return NULL;
	hi->minor = (uint8_t)v;
	hi->status = (unsigned)((q[9] - '0') * 100 + (q[10] - '0') * 10 + (q[11] - '0'));
	return b + 2;
}

/* Content-Length value <v> (from its first non-OWS byte to the CR) into <*cl>: digits, few
 * enough that llhttp cannot overflow either, then only SP; llhttp refuses an HTAB there. */
static bool fast_cl(const char *v, size_t n, uint64_t *cl)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && is_digit((unsigned char)v[i]); i++)
		x = x * 10 + (uint64_t)(v[i] - '0');
	if (!i || i > 18)
		return false;
	for (; i < n; i++)
		if (v[i] != ' ')
			return false;
	*cl = x;
	return true;
}

/* The field lines at <q> up to and including the final CRLF, each "token: value CRLF" with
 * field-vchar values, as the scanner demands. They are copied into the arena as llhttp's
 * callbacks would (the name, then the value from its first non-OWS byte up to the CR: the
 * trailing OWS is in the arena, trimmed in the list), and summed up in <sum>. Returns the
 * first byte after the head, or NULL. */
static const char *fast_fields(struct h1_parser *p, const char *q, const char *end,
	struct head_info *hi, struct head_sum *sum)
{
	struct h1_hdrs *h = &p->msg.hdrs;

	*sum = (struct head_sum){-1, -1, 0, -1, 0, -1, 0};
	for (;;) {
		const char *colon, *v, *eol;
		size_t nlen, vlen, off;
		struct h1_str val;
		int idx = (int)h->n;

		if (end - q < 2)
			return NULL;
		if (q[0] == '\r')
			return q[1] == '\n' ? q + 2 : NULL;
		colon = fast_run(q, end, C_TCHAR);
		if (colon == q || colon == end || *colon != ':' || h->n >= p->lim.max_headers)
			return NULL;
		for (v = colon + 1; v < end && is_ows(*v); v++)
			;
		eol = fast_run(v, end, C_FIELD);
		if (end - eol < 2 || eol[0] != '\r' || eol[1] != '\n')
			return NULL;
		nlen = (size_t)(colon - q);
		vlen = (size_t)(eol - v);
		val.p = v;
		val.len = vlen;
		while (val.len && is_ows(val.p[val.len - 1]))
			val.len--;
		switch (fname_kind(q, nlen)) {
		case FN_TRANSFER_ENCODING:
		case FN_UPGRADE:
		case FN_PROXY_CONNECTION:
			return NULL;
		case FN_CONTENT_LENGTH:
			if (sum->ncl++ || !fast_cl(v, vlen, &hi->content_length))
				return NULL;
			sum->cl = idx;
			break;
		case FN_CONNECTION:
			/* llhttp does not see the token before an HTAB: it would take
			 * "keep-alive<HTAB>" as no keep-alive and the codec as one */
			if (memchr(val.p + val.len, '\t', vlen - val.len))
				return NULL;
			if (STR_IEQ(&val, "keep-alive"))
				sum->conn |= H1_F_CONN_KEEPALIVE;
			else if (STR_IEQ(&val, "close"))
				sum->conn |= H1_F_CONN_CLOSE;
			else if (STR_IEQ(&val, "upgrade"))
				sum->conn |= H1_F_CONN_UPGRADE;
			else
				return NULL;
			break;
		case FN_HOST:
			if (!sum->nhost++)
				sum->host = idx;
			break;
		case FN_EXPECT:
			if (sum->expect < 0)
				sum->expect = idx;
			break;
		default:
			break;
		}
		if (nlen + vlen > h->size - h->used && hdrs_reserve(h, nlen + vlen))
			return NULL;
		off = h->used;
		copy_bytes(h->buf + off, q, nlen);
		copy_bytes(h->buf + off + nlen, v, vlen);
		h->used += nlen + vlen;
		if (hdrs_push(h, off, nlen, off + nlen + (size_t)(val.p - v), val.len))
			return NULL;
		q = eol + 2;
	}
}

/* Take a complete head at the start of <d> (<len> bytes) without the scanner and llhttp.
 * Returns its length, or 0 with the message as msg_begin() left it when the head is not
 * complete in <d> or not one for the fast path; the caller then takes the usual way. */
static size_t fast_head(struct h1_parser *p, const char *d, size_t len)
{
	struct head_info hi = {0};
	const char *end = d + len, *q;
	struct head_sum sum;
	size_t n;

	q = fast_start(p, d, end, &hi);
	if (!q)
		goto slow;
	q = fast_fields(p, q, end, &hi, &sum);
	if (!q)
		goto slow;
	n = (size_t)(q - d);
	hi.sum = &sum;
	/* over the limit: the scanner finds the exact byte */
	if (n > p->lim.max_head || head_complete(p, &hi) < 0 || (p->msg.flags & H1_F_UPGRADE) ||
		(p->msg.framing != H1_BODY_NONE && p->msg.framing != H1_BODY_LENGTH))
		goto slow;
	/* as if the scanner had run: h1_parser_idle() and the next message look at it */
	p->sc.st = SC_DONE;
	p->sc.bytes = (uint32_t)n;
	p->sc.fields = p->msg.hdrs.n;
	p->started = true;
	if (p->msg.framing == H1_BODY_NONE) {
		/* what llhttp's on_message_complete would do right after the head */
		p->pend |= PEND_DONE;
		p->st = P_DONE;
	} else {
		p->own_body = true;
		p->body_left = p->msg.content_length;
	}
	return n;
slow:
	msg_begin(p);
	p->pend = 0;
	return 0;
}

/* Body bytes of a head fast_head() took: Content-Length framing, counted here. */
static size_t feed_own_body(struct h1_parser *p, const char *data, size_t len)
{
	size_t n = len < p->body_left ? len : (size_t)p->body_left;

	p->body_left -= n;
	p->body.p = data;
	p->body.len = n;
	p->pend |= PEND_BODY;
	if (!p->body_left) {
		p->pend |= PEND_DONE;
		p->st = P_DONE;
	}
	return n;
}

/* The method just scanned is a well-formed token that llhttp does not know as an HTTP
 * method (llhttp refuses it, or takes it only with an RTSP version): an extension method. */
static bool ext_method(const struct h1_parser *p)
{
	const struct scan *sc = &p->sc;

	if (p->kind != H1_REQUEST || p->xmeth || !sc->meth_done || sc->meth_bad ||
		sc->meth_len > H1_SCAN_METH_MAX)
		return false;
	for (unsigned m = 0; m <= HTTP_PRI; m++) {
		const char *name = llhttp_method_name((llhttp_method_t)m);

		if (strlen(name) == sc->meth_len && !memcmp(name, sc->meth, sc->meth_len))
			return false;
	}
	return true;
}

static size_t feed_head_rest(
	struct h1_parser *p, const char *data, size_t n, enum h1_err serr, bool head);

/* An extension method is complete in <data> (its SP is the first there): llhttp starts the
 * head again with GET standing in for it, which frames a request like any method but
 * CONNECT, and on_method() puts the real token in the line. The bytes from the SP on go to
 * llhttp as usual. <n>: the bytes the scanner took. */
static size_t ext_restart(struct h1_parser *p, const char *data, size_t n, enum h1_err serr)
{
	const char *sp = memchr(data, ' ', n);
	size_t off = sp ? (size_t)(sp - data) : n;

	llhttp_init(&p->ll, HTTP_REQUEST, &h1_settings);
	p->ll_stale = false;
	p->ll_paused = false;
	p->line_len = 0;
	p->meth_off = p->meth_len = 0;
	p->xmeth = true;
	p->st = P_HEAD;
	p->err = H1_E_NONE;
	(void)ll_feed(p, "GET", 3);
	return off + feed_head_rest(p, data + off, n - off, serr, true);
}

/* Feed a field section (head or trailers): scanner first, then llhttp up to the section end
 * or the first bad byte. */
static size_t feed_section(struct h1_parser *p, const char *data, size_t len)
{
	bool head = p->st == P_HEAD;
	bool meth_before = p->sc.meth_done;
	enum h1_err serr;
	size_t n;

	/* nothing of this head seen yet: try to take it whole */
	if (head && !p->sc.bytes) {
		n = fast_head(p, data, len);
		if (n)
			return n;
	}
	/* on an error, the bytes before the bad one still go to llhttp so its earlier errors
	 * win, as they would have with the input split there */
	n = h1_scan_run(&p->sc, data, len, &serr);
	if (head && p->sc.st >= SC_START)
		p->started = true;
	if (head && !meth_before && ext_method(p))
		return ext_restart(p, data, n, serr);
	return feed_head_rest(p, data, n, serr, head);
}

/* llhttp's part of feed_section(): the <n> bytes the scanner took (<serr>: what stopped it). */
static size_t feed_head_rest(
	struct h1_parser *p, const char *data, size_t n, enum h1_err serr, bool head)
{
	size_t used = ll_feed(p, data, n);

	if (p->st == P_ERROR && p->err == H1_E_METHOD)
		return method_error(p, serr != H1_E_NONE, n);
	if (p->st == P_ERROR)
		return 0;
	if (serr != H1_E_NONE) {
		set_error(p, serr);
		return 0;
	}
	if (p->sc.st == SC_DONE && p->st == (head ? P_HEAD : P_TRAILERS) && !p->pend) {
		/* llhttp took the whole section without completing it: the HTTP/2 preface
		 * ("PRI * HTTP/2.0"), which it waits to see the rest of */
		set_error(p, p->ll.http_major == 2 ? H1_E_VERSION_UNSUP : H1_E_METHOD_UNKNOWN);
		return 0;
	}
	return used;
}

/* Scanner-only state after llhttp refused the method, until the method token ends. */
static size_t feed_method(struct h1_parser *p, const char *data, size_t len)
{
	enum h1_err serr;
	size_t n = h1_scan_run(&p->sc, data, len, &serr);

	if (ext_method(p))
		return ext_restart(p, data, n, serr);
	return method_error(p, serr != H1_E_NONE, n);
}

/* Feed body bytes. A close-delimited body has no size up front: it is cut at the limit
 * exactly, so the bytes passed on before the 413/502 do not depend on how input arrived. */
static size_t feed_body(struct h1_parser *p, const char *data, size_t len)
{
	if (p->own_body)
		return feed_own_body(p, data, len);
	if (p->msg.framing == H1_BODY_CLOSE && p->lim.max_body) {
		uint64_t room = p->lim.max_body - p->body_seen;

		if (!room) {
			set_error(p, H1_E_BODY_TOO_BIG);
			return 0;
		}
		if (len > room)
			len = (size_t)room;
	}
	return ll_feed(p, data, len);
}

static void take_event(struct h1_parser *p, struct h1_event *ev)
{
	if (p->pend & PEND_HEAD) {
		p->pend &= ~(unsigned)PEND_HEAD;
		ev->type = H1_EV_HEAD;
		ev->msg = &p->msg;
	} else if (p->pend & PEND_BODY) {
		p->pend &= ~(unsigned)PEND_BODY;
		ev->type = H1_EV_BODY;
		ev->msg = &p->msg;
		ev->data = p->body;
	} else if (p->pend & PEND_DONE) {
		p->pend &= ~(unsigned)PEND_DONE;
		ev->type = H1_EV_DONE;
		ev->msg = &p->msg;
		ev->trailers = p->trailers.n ? &p->trailers : NULL;
	} else if (p->pend & PEND_UPGRADE) {
		/* stays set: the upgrade is reported until h1_parser_resume_http() */
		ev->type = H1_EV_UPGRADE;
		ev->msg = &p->msg;
		p->st = P_UPGRADE;
	}
}

size_t h1_parse(struct h1_parser *p, const char *data, size_t len, struct h1_event *ev)
{
	size_t used = 0;

	memset(ev, 0, sizeof(*ev));
	ev->reason = "";
	if (p->st == P_ERROR) {
		error_event(p, ev);
		return 0;
	}
	if (p->pend) {
		take_event(p, ev);
		return 0;
	}
	if (!len)
		return 0;
	if (p->st == P_IDLE || p->st == P_DONE) {
		if (p->st == P_DONE && !(p->msg.flags & H1_F_KEEP_ALIVE)) {
			/* nothing may follow a message that ends the connection */
			set_error(p, H1_E_SYNTAX);
			error_event(p, ev);
			return 0;
		}
		msg_begin(p);
	}
	/* A chunked body switches to the trailer scanner midway, so keep going until an event,
	 * an error or the end of the input. */
	while (used < len && !p->pend) {
		enum pstate before = p->st;
		size_t n;

		if (p->st == P_HEAD || p->st == P_TRAILERS)
			n = feed_section(p, data + used, len - used);
		else if (p->st == P_METHOD)
			n = feed_method(p, data + used, len - used);
		else if (p->st == P_BODY)
			n = feed_body(p, data + used, len - used);
		else
			break;
		used += n;
		if (p->st == P_ERROR || (!n && p->st == before))
			break;
	}
	if (p->st == P_ERROR)
		error_event(p, ev);
	else if (p->pend)
		take_event(p, ev);
	return used;
}

void h1_parse_eof(struct h1_parser *p, struct h1_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->reason = "";
	if (p->st == P_ERROR) {
		error_event(p, ev);
		return;
	}
	if (p->pend) {
		take_event(p, ev);
		return;
	}
	switch (p->st) {
	case P_IDLE:
	case P_DONE:
	case P_UPGRADE:
		return;
	case P_HEAD:
		if (!p->started)
			return;
		break;
	case P_METHOD:
		set_error(p, H1_E_METHOD);
		error_event(p, ev);
		return;
	case P_BODY:
		if (p->msg.framing == H1_BODY_CLOSE) {
			llhttp_errno_t e;

			ll_ready(p);
			if (p->ll_paused) {
				llhttp_resume(&p->ll);
				p->ll_paused = false;
			}
			e = llhttp_finish(&p->ll);
			if ((e == HPE_OK || e == HPE_PAUSED) && (p->pend & PEND_DONE)) {
				take_event(p, ev);
				return;
			}
		}
		break;
	default:
		break;
	}
	set_error(p, H1_E_TRUNCATED);
	error_event(p, ev);
}

int h1_parser_resume_http(struct h1_parser *p)
{
	if (p->st != P_UPGRADE)
		return -EINVAL;
	p->pend = 0;
	ll_ready(p);
	llhttp_resume_after_upgrade(&p->ll);
	/* a declined CONNECT or Upgrade leaves an ordinary completed message */
	p->msg.flags &= ~(unsigned)H1_F_UPGRADE;
	p->st = P_DONE;
	return 0;
}

const char *h1_method_str(enum h1_method m)
{
	if (m == H1_METHOD_EXT)
		return "<extension>";
	if ((unsigned)m >= H1_METHOD_MAX)
		return "<unknown>";
	return llhttp_method_name((llhttp_method_t)m);
}
