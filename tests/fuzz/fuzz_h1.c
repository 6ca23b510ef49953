// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for the HTTP/1.x codec. The first bytes pick the parser kind, the request
 * method for responses, the piece size and limits; the rest is fed twice (whole and in
 * pieces), and the two runs must agree. Heads are edited, serialized and parsed again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/http/h1.h"

#define FUZZ_MAX_MSGS 64

/* What a run produced; compared between the whole and the piecewise run. */
struct summary {
	unsigned heads;
	unsigned dones;
	unsigned upgrade;
	int error;
	enum h1_err err;
	int status;
	uint64_t body_bytes;
	uint32_t body_hash; /* FNV-1a over every body byte, in order */
	uint32_t head_hash; /* over every part of every head: line, fields, framing, flags */
};

static void fnv(uint32_t *h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= c[i];
		*h *= 16777619u;
	}
}

/* A string with its length, so that "ab","c" and "a","bc" differ. */
static void hash_str(uint32_t *h, const struct h1_str *v)
{
	uint64_t n = v->len;

	fnv(h, &n, sizeof(n));
	if (v->len)
		fnv(h, v->p, v->len);
}

/* Serialize <m> (after stripping hop-by-hop fields and adding a few) and parse it again:
 * what the codec writes from a head it accepted must be accepted too. */
static void roundtrip(struct h1_msg *m, enum h1_method req_method)
{
	struct h1_limits lim = {0};
	struct h1_parser *q;
	struct h1_event ev;
	struct h1_buf b;
	unsigned flags = 0;
	int n;

	n = h1_hdrs_strip_hop(&m->hdrs, 0);
	if (n < 0)
		return;
	if (h1_hdrs_add(&m->hdrs, "Via", 3, "1.1 pingd", 9) < 0)
		return;
	/* names and values taken from the list itself, while its arena may move */
	if (m->hdrs.n > 1) {
		const struct h1_header *f = &m->hdrs.v[0];

		if (h1_hdrs_set(&m->hdrs, "X-Copy", 6, f->value.p, f->value.len) < 0)
			return;
		f = &m->hdrs.v[m->hdrs.n / 2];
		if (h1_hdrs_set(&m->hdrs, f->name.p, f->name.len, f->value.p, f->value.len) < 0)
			return;
	}
	if (m->framing == H1_BODY_CHUNKED)
		flags |= H1_W_CHUNKED;
	h1_buf_init(&b, 0);
	if (h1_buf_write_head(&b, m, flags) < 0) {
		h1_buf_free(&b);
		return;
	}
	/* the edited head may be larger than the limits the original was parsed with */
	lim.max_head = (uint32_t)b.len + 1;
	lim.max_headers = m->hdrs.n + 2;
	q = h1_parser_new(m->kind, &lim);
	if (!q)
		abort();
	if (m->kind == H1_RESPONSE)
		h1_parser_set_method(q, req_method);
	h1_parse(q, b.p, b.len, &ev);
	if (ev.type != H1_EV_HEAD) {
		fprintf(stderr, "re-parse of a serialized head failed: %d %s\n%.*s\n", ev.type,
			ev.reason, (int)b.len, b.p);
		abort();
	}
	if (ev.msg->hdrs.n != m->hdrs.n + (flags ? 1u : 0u) || ev.msg->status != m->status)
		abort();
	h1_parser_free(q);
	h1_buf_free(&b);
}

/* Re-frame <body> as chunks of varying sizes with <trailers> (NULL: none) in a request and
 * parse it back: the same bytes and the same number of trailers must come out. */
static void rechunk(const char *body, size_t len, const struct h1_hdrs *trailers)
{
	static const char head[] =
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct h1_parser *q = h1_parser_new(H1_REQUEST, NULL);
	uint32_t want = 2166136261u, got = 2166136261u;
	unsigned ntr = 0, done = 0;
	size_t off = 0, size = 1;
	struct h1_buf b;

	if (!q)
		abort();
	h1_buf_init(&b, 1u << 22);
	if (h1_buf_append(&b, head, sizeof(head) - 1))
		abort();
	while (off < len) {
		char hdr[H1_CHUNK_HDR_MAX];
		size_t n = size < len - off ? size : len - off;

		if (h1_buf_append(&b, hdr, h1_chunk_header(hdr, n)) ||
			h1_buf_append(&b, body + off, n) || h1_buf_append(&b, H1_CRLF, 2))
			abort();
		off += n;
		size = size * 3 % 101 + 1;
	}
	if (h1_buf_write_last_chunk(&b, trailers))
		abort();
	fnv(&want, body, len);
	off = 0;
	for (unsigned guard = 0; guard < 100000 && !done; guard++) {
		struct h1_event ev;

		off += h1_parse(q, b.p + off, b.len - off, &ev);
		if (ev.type == H1_EV_BODY)
			fnv(&got, ev.data.p, ev.data.len);
		else if (ev.type == H1_EV_DONE)
			done = 1, ntr = ev.trailers ? ev.trailers->n : 0;
		else if (ev.type != H1_EV_HEAD)
			break;
	}
	if (!done || got != want || off != b.len || ntr != (trailers ? trailers->n : 0)) {
		fprintf(stderr, "re-chunked body: done %u hash %u/%u trailers %u\n", done, got,
			want, ntr);
		abort();
	}
	h1_buf_free(&b);
	h1_parser_free(q);
}

static void run(const char *data, size_t len, enum h1_kind kind, enum h1_method method,
	const struct h1_limits *lim, size_t step, bool edit, struct summary *s)
{
	struct h1_parser *p = h1_parser_new(kind, lim);
	static char body[1 << 16];
	size_t off = 0, body_len = 0;
	bool in_msg = false;

	if (!p)
		abort();
	memset(s, 0, sizeof(*s));
	s->body_hash = s->head_hash = 2166136261u;
	if (kind == H1_RESPONSE && h1_parser_set_method(p, method))
		abort();
	for (unsigned guard = 0; guard < 1000000; guard++) {
		size_t piece = step && step < len - off ? step : len - off;
		struct h1_event ev;
		size_t n = h1_parse(p, data + off, piece, &ev);

		if (n > piece)
			abort();
		off += n;
		switch (ev.type) {
		case H1_EV_NONE:
			if (n != piece)
				abort(); /* NONE promises everything was consumed */
			if (off == len)
				goto eof;
			continue;
		case H1_EV_HEAD: {
			const struct h1_msg *m = ev.msg;
			uint64_t k[7] = {m->framing, m->status, m->method, m->hdrs.n, m->minor,
				m->flags, m->content_length};

			if (in_msg || !h1_parser_msg(p))
				abort();
			in_msg = true;
			s->heads++;
			/* Every part of the head, so a head taken whole (the fast path) and the
			 * same head in pieces (the general one) must match byte for byte. */
			fnv(&s->head_hash, k, sizeof(k));
			hash_str(&s->head_hash, &m->method_name);
			hash_str(&s->head_hash, &m->target);
			hash_str(&s->head_hash, &m->reason);
			for (unsigned i = 0; i < m->hdrs.n; i++) {
				hash_str(&s->head_hash, &m->hdrs.v[i].name);
				hash_str(&s->head_hash, &m->hdrs.v[i].value);
			}
			if (edit)
				roundtrip(ev.msg, method);
			break;
		}
		case H1_EV_BODY:
			/* a slice of this piece of the input, never empty */
			if (!in_msg || !ev.data.len || ev.data.p < data ||
				ev.data.p + ev.data.len > data + off)
				abort();
			s->body_bytes += ev.data.len;
			fnv(&s->body_hash, ev.data.p, ev.data.len);
			if (body_len + ev.data.len <= sizeof(body))
				memcpy(body + body_len, ev.data.p, ev.data.len);
			body_len += ev.data.len;
			break;
		case H1_EV_DONE:
			if (!in_msg)
				abort();
			in_msg = false;
			s->dones++;
			if (ev.trailers && !ev.trailers->n)
				abort();
			if (edit && body_len <= sizeof(body))
				rechunk(body, body_len, ev.trailers);
			body_len = 0;
			break;
		case H1_EV_UPGRADE:
			s->upgrade = 1;
			goto out;
		case H1_EV_ERROR:
			s->error = 1;
			s->err = ev.err;
			s->status = ev.status;
			if (!ev.reason || ev.status < 400 || ev.status > 599)
				abort();
			goto out;
		default:
			abort();
		}
		if (s->heads > FUZZ_MAX_MSGS)
			goto out;
	}
	abort(); /* no progress */
eof : {
	struct h1_event ev;

	h1_parse_eof(p, &ev);
	if (ev.type == H1_EV_DONE) {
		if (!in_msg)
			abort();
		s->dones++;
	} else if (ev.type == H1_EV_ERROR) {
		s->error = 2;
		s->err = ev.err;
		s->status = ev.status;
	} else if (ev.type != H1_EV_NONE && ev.type != H1_EV_UPGRADE) {
		abort();
	}
}
out:
	h1_parser_trim(p);
	h1_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct summary whole, pieces;
	struct h1_limits lim = {0};
	enum h1_kind kind;
	enum h1_method method;
	size_t step;

	if (size < 3)
		return 0;
	kind = data[0] & 1 ? H1_RESPONSE : H1_REQUEST;
	method = (enum h1_method)((data[0] >> 1) % H1_METHOD_MAX);
	step = (size_t)(data[1] % 17) + 1;
	if (data[2] & 1) {
		lim.max_head = 64 + data[2] * 4u;
		lim.max_headers = 1 + (data[2] >> 4);
		lim.max_body = data[2];
	}
	data += 3;
	size -= 3;
	run((const char *)data, size, kind, method, &lim, 0, true, &whole);
	run((const char *)data, size, kind, method, &lim, step, false, &pieces);
	if (memcmp(&whole, &pieces, sizeof(whole))) {
		fprintf(stderr,
			"whole vs pieces of %zu: heads %u/%u dones %u/%u up %u/%u err %d:%d/%d:%d "
			"body %llu/%llu\n",
			step, whole.heads, pieces.heads, whole.dones, pieces.dones, whole.upgrade,
			pieces.upgrade, whole.error, whole.err, pieces.error, pieces.err,
			(unsigned long long)whole.body_bytes,
			(unsigned long long)pieces.body_bytes);
		abort();
	}
	return 0;
}
