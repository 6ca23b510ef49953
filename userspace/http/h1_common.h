/* SPDX-License-Identifier: GPL-2.0 */
/* What the HTTP/1.x codec's files share, inline because the parser's hot paths use it: the
 * character classes (RFC 9110 tchar, field-vchar), the field names the codec acts on, short
 * copies, and the header-list primitives. Internal to userspace/http/. */
#ifndef USERSPACE_HTTP_H1_COMMON_H
#define USERSPACE_HTTP_H1_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/http/h1-t.h"

/* ------------------------------------------------------------------------------------------
 * Character classes (RFC 9110 §5.6.2 tchar, §5.5 field-vchar)
 */

enum char_class {
	C_TCHAR = 1u << 0, /* token character */
	C_FIELD = 1u << 1, /* field-vchar / SP / HTAB; obs-text allowed as RFC 9110 §5.5 permits */
	C_VIS = 1u << 2,   /* visible ASCII (VCHAR) */
	C_HOST = 1u << 3,  /* uri-host and port characters (see host_ok()) */
};

#define IS_TCHAR(c)                                                                                \
	(((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || \
		(c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' ||              \
		(c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' ||             \
		(c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' || (c) == '~')
#define IS_HOSTCHAR(c)                                                                             \
	(((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || \
		(c) == '-' || (c) == '.' || (c) == '_' || (c) == '~' || (c) == '!' ||              \
		(c) == '$' || (c) == '&' || (c) == '\'' || (c) == '(' || (c) == ')' ||             \
		(c) == '*' || (c) == '+' || (c) == ',' || (c) == ';' || (c) == '=' ||              \
		(c) == ':' || (c) == '[' || (c) == ']' || (c) == '%')
#define CLASS(c)                                                                \
	((IS_TCHAR(c) ? C_TCHAR : 0) |                                          \
		(((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f)) ? C_FIELD : 0) | \
		(((c) > 0x20 && (c) < 0x7f) ? C_VIS : 0) | (IS_HOSTCHAR(c) ? C_HOST : 0))
#define CLASS4(c)  CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define CLASS16(c) CLASS4(c), CLASS4((c) + 4), CLASS4((c) + 8), CLASS4((c) + 12)
#define CLASS64(c) CLASS16(c), CLASS16((c) + 16), CLASS16((c) + 32), CLASS16((c) + 48)

/* One table lookup per byte: the scanner sees every head byte, so this is its hot path. */
static const uint8_t char_class[256] = {CLASS64(0), CLASS64(64), CLASS64(128), CLASS64(192)};

static inline bool is_tchar(unsigned char c)
{
	return char_class[c] & C_TCHAR;
}

static inline bool is_field_char(unsigned char c)
{
	return char_class[c] & C_FIELD;
}

/* A visible ASCII byte (VCHAR): what the start line holds outside its spaces. */
static inline bool is_vchar(unsigned char c)
{
	return char_class[c] & C_VIS;
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static inline char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static inline bool ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (a[i] != b[i] && lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* Bytes <p> (<len>, at least 2) equal lower-case literal <lit> of the same length, ignoring
 * ASCII case, a word at a time: for field names and list elements, which never hold a CR,
 * against literals of letters and '-' only. OR-ing 0x20 into a byte maps only 'A'-'Z' onto
 * 'a'-'z' (and CR onto '-'), so no other byte can pass for a letter or a '-'. Overlapping
 * loads cover the tail, all within the <len> bytes. */
static inline uint64_t load_or20(const char *p, size_t n)
{
	uint64_t x = 0;

	memcpy(&x, p, n);
	return x | (0x2020202020202020ull >> (8 * (8 - n)));
}

static inline uint64_t load_n(const char *p, size_t n)
{
	uint64_t x = 0;

	memcpy(&x, p, n);
	return x;
}

static inline bool ieq_lc(const char *p, const char *lit, size_t len)
{
	size_t w = len >= 8 ? 8 : len >= 4 ? 4 : 2, i;

	for (i = 0; i + w < len; i += w)
		if (load_or20(p + i, w) != load_n(lit + i, w))
			return false;
	return load_or20(p + len - w, w) == load_n(lit + len - w, w);
}

/* <s> equals string literal <lit>, ignoring case; the length comes from the literal. */
#define STR_IEQ(s, lit) ieq((s)->p, (s)->len, (lit), sizeof(lit) - 1)

/* Field names the codec acts on. Knowing the class takes one length switch and at most one
 * comparison, so the per-field passes (framing checks, hop-by-hop stripping) stay cheap. */
enum fname {
	FN_OTHER = 0,
	FN_CONNECTION,
	FN_CONTENT_LENGTH,
	FN_TRANSFER_ENCODING,
	FN_HOST,
	FN_EXPECT,
	FN_KEEP_ALIVE,
	FN_TE,
	FN_TRAILER,
	FN_UPGRADE,
	FN_PROXY_CONNECTION,
	FN_MAX, /* must stay last */
};

static inline enum fname fname_kind(const char *p, size_t len)
{
	char c0;

	/* the length, then the first byte, rule out nearly every other field before a full
	 * comparison */
	static const char first[18][2] = {[2] = "t",
		[4] = "h",
		[6] = "e",
		[7] = "tu",
		[10] = "ck",
		[14] = "c",
		[16] = "p",
		[17] = "t"};

	if (len < 2 || len > 17)
		return FN_OTHER;
	c0 = lower(p[0]);
	if (c0 != first[len][0] && c0 != first[len][1])
		return FN_OTHER;
	/* each case's literal has the length switched on */
#define IS(c, lit, kind) (c0 == (c) && ieq_lc(p, (lit), len) ? (kind) : FN_OTHER)
	switch (len) {
	case 2:
		return IS('t', "te", FN_TE);
	case 4:
		return IS('h', "host", FN_HOST);
	case 6:
		return IS('e', "expect", FN_EXPECT);
	case 7:
		return c0 == 't' ? IS('t', "trailer", FN_TRAILER) : IS('u', "upgrade", FN_UPGRADE);
	case 10:
		return c0 == 'c' ? IS('c', "connection", FN_CONNECTION) :
				   IS('k', "keep-alive", FN_KEEP_ALIVE);
	case 14:
		return IS('c', "content-length", FN_CONTENT_LENGTH);
	case 16:
		return IS('p', "proxy-connection", FN_PROXY_CONNECTION);
	case 17:
		return IS('t', "transfer-encoding", FN_TRANSFER_ENCODING);
	default:
		return FN_OTHER;
	}
#undef IS
}

/* memcpy() for the short, variable-length pieces of a head (names, values), inline: a call
 * per piece costs more than the copy. Writes exactly [d, d + n); <d> and <s> do not overlap. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
	uint64_t x, y;
	uint32_t a, b;

	if (n >= 8) {
		size_t i;

		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&x, s + i, 8);
			memcpy(d + i, &x, 8);
		}
		/* the last 8 bytes, overlapping what was copied */
		memcpy(&y, s + n - 8, 8);
		memcpy(d + n - 8, &y, 8);
	} else if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

/* ------------------------------------------------------------------------------------------
 * Header-list primitives
 */

/* First arena and field-array sizes: a small request plus the fields a proxy adds fits. Kept
 * small because every head in flight holds them; larger ones measured no faster. */
#define HDRS_ARENA_FIRST 256u
#define HDRS_SLOTS_FIRST 16u

/* Make room for <more> arena bytes. Every field points into the arena, so after moving it
 * the pointers are rebased by offset (the old block is still valid while we do it). */
static inline int hdrs_reserve(struct h1_hdrs *h, size_t more)
{
	size_t need, size;
	char *nb;

	if (more <= h->size - h->used)
		return 0;
	if (more > h->max_bytes || h->used > h->max_bytes - more)
		return -ENOSPC;
	need = h->used + more;
	size = h->size ? h->size : HDRS_ARENA_FIRST;
	while (size < need)
		size *= 2;
	if (size > h->max_bytes)
		size = h->max_bytes;
	nb = malloc(size);
	if (!nb)
		return -ENOMEM;
	if (h->used)
		memcpy(nb, h->buf, h->used);
	for (unsigned i = 0; i < h->n; i++) {
		h->v[i].name.p = nb + (h->v[i].name.p - h->buf);
		h->v[i].value.p = nb + (h->v[i].value.p - h->buf);
	}
	free(h->buf);
	h->buf = nb;
	h->size = size;
	return 0;
}

static inline int hdrs_slot(struct h1_hdrs *h)
{
	struct h1_header *nv;
	unsigned cap;

	if (h->n < h->cap)
		return 0;
	if (h->n >= h->max_fields)
		return -ENOSPC;
	cap = h->cap ? h->cap * 2 : HDRS_SLOTS_FIRST;
	if (cap > h->max_fields)
		cap = h->max_fields;
	nv = realloc(h->v, cap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	h->v = nv;
	h->cap = cap;
	return 0;
}

/* Append a field whose name and value are already in the arena at the given offsets. */
static inline int hdrs_push(struct h1_hdrs *h, size_t noff, size_t nlen, size_t voff, size_t vlen)
{
	int err = hdrs_slot(h);

	if (err)
		return err;
	h->v[h->n].name.p = h->buf + noff;
	h->v[h->n].name.len = nlen;
	h->v[h->n].value.p = h->buf + voff;
	h->v[h->n].value.len = vlen;
	h->n++;
	return 0;
}

/* Iterate the elements of a comma-separated list: returns false at the end, otherwise sets
 * <el> to the next element with OWS trimmed (possibly empty). <pos> starts at 0. */
static inline bool list_next(const struct h1_str *v, size_t *pos, struct h1_str *el)
{
	size_t i = *pos, start, end;

	if (i > v->len || !v->p)
		return false;
	start = i;
	while (i < v->len && v->p[i] != ',')
		i++;
	end = i;
	*pos = i + 1;
	while (start < end && is_ows(v->p[start]))
		start++;
	while (end > start && is_ows(v->p[end - 1]))
		end--;
	el->p = v->p + start;
	el->len = end - start;
	return true;
}

#endif /* USERSPACE_HTTP_H1_COMMON_H */
