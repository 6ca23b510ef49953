// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.x serializer: heads, chunk framing, growable output buffers, status texts and the
 * canned error responses. */
#include "userspace/http/h1.h"

#include "userspace/http/h1_common.h"

#define H1_BUF_DEFAULT_MAX (1u << 20)

/* Bytes go to dst only while they fit; len counts all of them. */
struct writer {
	char *dst;
	size_t cap;
	size_t len;
};

static void w_put(struct writer *w, const char *s, size_t n)
{
	if (w->dst && n <= w->cap - w->len && w->len <= w->cap)
		memcpy(w->dst + w->len, s, n);
	w->len += n;
}

static void w_fields(struct writer *w, const struct h1_hdrs *h)
{
	for (unsigned i = 0; h && i < h->n; i++) {
		w_put(w, h->v[i].name.p, h->v[i].name.len);
		w_put(w, ": ", 2);
		w_put(w, h->v[i].value.p, h->v[i].value.len);
		w_put(w, "\r\n", 2);
	}
}

/* Decimal digits of <v> written backwards ending at <end>; returns the first digit. */
static char *dec_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* A head's start-line pieces and numbers, worked out once: head_plan() sizes the head and
 * head_emit() writes it from the same plan, with no printf and no second strlen. */
struct head_plan {
	const char *meth; /* request: method token */
	size_t meth_len;
	const char *reason; /* response: reason phrase */
	size_t reason_len;
	const char *status; /* response: status code digits (at least 3) inside num_status */
	size_t status_len;
	const char *cl; /* H1_W_CONTENT_LENGTH: decimal digits inside num_cl */
	size_t cl_len;
	size_t len; /* bytes of the whole head */
	char num_status[8];
	char num_cl[24];
};

#define LIT(s) s, sizeof(s) - 1

/* Fill <hp> for <m> and <flags>; returns the head's length (also in hp->len). */
static size_t head_plan(const struct h1_msg *m, unsigned flags, struct head_plan *hp)
{
	const struct h1_hdrs *h = &m->hdrs;
	size_t len;

	if (m->kind == H1_REQUEST) {
		if (m->method_name.len) {
			hp->meth = m->method_name.p;
			hp->meth_len = m->method_name.len;
		} else {
			hp->meth = h1_method_str(m->method);
			hp->meth_len = strlen(hp->meth);
		}
		/* method SP target SP HTTP/1.x CRLF */
		len = hp->meth_len + 1 + m->target.len + 1 + 8 + 2;
	} else {
		char *end = hp->num_status + sizeof(hp->num_status), *d = dec_u64(end, m->status);

		while (end - d < 3)
			*--d = '0';
		hp->status = d;
		hp->status_len = (size_t)(end - d);
		if (m->reason.len) {
			hp->reason = m->reason.p;
			hp->reason_len = m->reason.len;
		} else {
			hp->reason = h1_status_reason(m->status);
			hp->reason_len = strlen(hp->reason);
		}
		/* HTTP/1.x SP status SP reason CRLF */
		len = 8 + 1 + hp->status_len + 1 + hp->reason_len + 2;
	}
	for (unsigned i = 0; i < h->n; i++)
		len += h->v[i].name.len + h->v[i].value.len + 4;
	if (flags & H1_W_CONTENT_LENGTH) {
		char *end = hp->num_cl + sizeof(hp->num_cl);

		hp->cl = dec_u64(end, m->content_length);
		hp->cl_len = (size_t)(end - hp->cl);
		len += sizeof("Content-Length: \r\n") - 1 + hp->cl_len;
	}
	if (flags & H1_W_CHUNKED)
		len += sizeof("Transfer-Encoding: chunked\r\n") - 1;
	if (flags & H1_W_CLOSE)
		len += sizeof("Connection: close\r\n") - 1;
	if (flags & H1_W_KEEP_ALIVE)
		len += sizeof("Connection: keep-alive\r\n") - 1;
	if (flags & H1_W_UPGRADE)
		len += sizeof("Connection: upgrade\r\n") - 1;
	hp->len = len + 2;
	return hp->len;
}

static char *put(char *d, const char *s, size_t n)
{
	copy_bytes(d, s, n);
	return d + n;
}

/* Write the head planned in <hp> at <d>, which has room for hp->len bytes. */
static void head_emit(char *d, const struct h1_msg *m, unsigned flags, const struct head_plan *hp)
{
	const char *ver = (m->major == 1 && m->minor == 0) ? "HTTP/1.0" : "HTTP/1.1";
	const struct h1_hdrs *h = &m->hdrs;

	if (m->kind == H1_REQUEST) {
		d = put(d, hp->meth, hp->meth_len);
		*d++ = ' ';
		if (m->target.len)
			d = put(d, m->target.p, m->target.len);
		*d++ = ' ';
		d = put(d, ver, 8);
	} else {
		d = put(d, ver, 8);
		*d++ = ' ';
		d = put(d, hp->status, hp->status_len);
		*d++ = ' ';
		d = put(d, hp->reason, hp->reason_len);
	}
	d = put(d, LIT("\r\n"));
	for (unsigned i = 0; i < h->n; i++) {
		const struct h1_header *f = &h->v[i];

		d = put(d, f->name.p, f->name.len);
		d = put(d, LIT(": "));
		if (f->value.len)
			d = put(d, f->value.p, f->value.len);
		d = put(d, LIT("\r\n"));
	}
	if (flags & H1_W_CONTENT_LENGTH) {
		d = put(d, LIT("Content-Length: "));
		d = put(d, hp->cl, hp->cl_len);
		d = put(d, LIT("\r\n"));
	}
	if (flags & H1_W_CHUNKED)
		d = put(d, LIT("Transfer-Encoding: chunked\r\n"));
	if (flags & H1_W_CLOSE)
		d = put(d, LIT("Connection: close\r\n"));
	if (flags & H1_W_KEEP_ALIVE)
		d = put(d, LIT("Connection: keep-alive\r\n"));
	if (flags & H1_W_UPGRADE)
		d = put(d, LIT("Connection: upgrade\r\n"));
	put(d, LIT("\r\n"));
}

static void w_last_chunk(struct writer *w, const struct h1_hdrs *trailers)
{
	w_put(w, "0\r\n", 3);
	w_fields(w, trailers);
	w_put(w, "\r\n", 2);
}

/* Size first, then write only when the whole output fits (snprintf-like contract). */
static size_t w_finish(struct writer *w, char *dst, size_t cap)
{
	if (w->len <= cap && dst && w->len < cap)
		dst[w->len] = '\0';
	return w->len;
}

size_t h1_write_head(char *dst, size_t cap, const struct h1_msg *m, unsigned flags)
{
	struct head_plan hp;
	size_t len = head_plan(m, flags, &hp);

	if (dst && len <= cap) {
		head_emit(dst, m, flags, &hp);
		if (len < cap)
			dst[len] = '\0';
	}
	return len;
}

size_t h1_chunk_header(char *dst, uint64_t size)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16], *d = tmp + sizeof(tmp);
	size_t n;

	do {
		*--d = hex[size & 15];
		size >>= 4;
	} while (size);
	n = (size_t)(tmp + sizeof(tmp) - d);
	memcpy(dst, d, n);
	memcpy(dst + n, "\r\n", 3);
	return n + 2;
}

size_t h1_write_last_chunk(char *dst, size_t cap, const struct h1_hdrs *trailers)
{
	struct writer w = {NULL, 0, 0};

	w_last_chunk(&w, trailers);
	if (dst && w.len <= cap) {
		w = (struct writer){dst, cap, 0};
		w_last_chunk(&w, trailers);
	}
	return w_finish(&w, dst, cap);
}

void h1_buf_init(struct h1_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : H1_BUF_DEFAULT_MAX;
}

void h1_buf_free(struct h1_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Ensure room for <more> bytes plus a NUL. */
static int buf_reserve(struct h1_buf *b, size_t more)
{
	size_t cap;
	char *np;

	if (more > b->max || b->len > b->max - more)
		return -ENOSPC;
	if (b->len + more < b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap <= b->len + more)
		cap *= 2;
	np = realloc(b->p, cap);
	if (!np)
		return -ENOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

int h1_buf_append(struct h1_buf *b, const void *data, size_t len)
{
	int err = buf_reserve(b, len);

	if (err)
		return err;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int h1_buf_write_head(struct h1_buf *b, const struct h1_msg *m, unsigned flags)
{
	struct head_plan hp;
	size_t n = head_plan(m, flags, &hp);
	int err = buf_reserve(b, n);

	if (err)
		return err;
	head_emit(b->p + b->len, m, flags, &hp);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int h1_buf_write_last_chunk(struct h1_buf *b, const struct h1_hdrs *trailers)
{
	size_t n = h1_write_last_chunk(NULL, 0, trailers);
	int err = buf_reserve(b, n);

	if (err)
		return err;
	h1_write_last_chunk(b->p + b->len, b->cap - b->len, trailers);
	b->len += n;
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Status texts and canned responses
 */

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{100, "Continue"},
	{101, "Switching Protocols"},
	{103, "Early Hints"},
	{200, "OK"},
	{201, "Created"},
	{202, "Accepted"},
	{204, "No Content"},
	{206, "Partial Content"},
	{301, "Moved Permanently"},
	{302, "Found"},
	{303, "See Other"},
	{304, "Not Modified"},
	{307, "Temporary Redirect"},
	{308, "Permanent Redirect"},
	{400, "Bad Request"},
	{401, "Unauthorized"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{408, "Request Timeout"},
	{409, "Conflict"},
	{411, "Length Required"},
	{413, "Content Too Large"},
	{414, "URI Too Long"},
	{417, "Expectation Failed"},
	{421, "Misdirected Request"},
	{426, "Upgrade Required"},
	{429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{502, "Bad Gateway"},
	{503, "Service Unavailable"},
	{504, "Gateway Timeout"},
	{505, "HTTP Version Not Supported"},
};

const char *h1_status_reason(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

/* Body = reason + "\n"; Content-Length is written out by hand (the unit tests parse every
 * canned response and compare). */
#define CANNED(code, reason, len)                         \
	{                                                 \
		code, "HTTP/1.1 " #code " " reason "\r\n" \
		      "Content-Type: text/plain\r\n"      \
		      "Content-Length: " #len "\r\n"      \
		      "Connection: close\r\n"             \
		      "\r\n" reason "\n"                  \
	}

static const struct {
	int status;
	const char *text;
} canned[] = {
	CANNED(400, "Bad Request", 12),
	CANNED(401, "Unauthorized", 13),
	CANNED(403, "Forbidden", 10),
	CANNED(404, "Not Found", 10),
	CANNED(405, "Method Not Allowed", 19),
	CANNED(408, "Request Timeout", 16),
	CANNED(411, "Length Required", 16),
	CANNED(413, "Content Too Large", 18),
	CANNED(414, "URI Too Long", 13),
	CANNED(417, "Expectation Failed", 19),
	CANNED(429, "Too Many Requests", 18),
	CANNED(431, "Request Header Fields Too Large", 32),
	CANNED(500, "Internal Server Error", 22),
	CANNED(501, "Not Implemented", 16),
	CANNED(502, "Bad Gateway", 12),
	CANNED(503, "Service Unavailable", 20),
	CANNED(504, "Gateway Timeout", 16),
	CANNED(505, "HTTP Version Not Supported", 27),
};

const char *h1_error_response(int status, size_t *len)
{
	size_t fallback = 0;

	for (size_t i = 0; i < sizeof(canned) / sizeof(canned[0]); i++) {
		if (canned[i].status == status) {
			*len = strlen(canned[i].text);
			return canned[i].text;
		}
		if (canned[i].status == 500)
			fallback = i;
	}
	*len = strlen(canned[fallback].text);
	return canned[fallback].text;
}
