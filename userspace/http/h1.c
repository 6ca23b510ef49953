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

_Static_assert(H1_METHOD_GET == (int)HTTP_GET, "method numbering follows llhttp");
_Static_assert(H1_METHOD_HEAD == (int)HTTP_HEAD, "method numbering follows llhttp");
_Static_assert(H1_METHOD_CONNECT == (int)HTTP_CONNECT, "method numbering follows llhttp");
_Static_assert(H1_METHOD_OPTIONS == (int)HTTP_OPTIONS, "method numbering follows llhttp");
_Static_assert(H1_METHOD_PATCH == (int)HTTP_PATCH, "method numbering follows llhttp");
_Static_assert(H1_METHOD_MAX == (int)HTTP_SOURCE + 1, "method numbering follows llhttp");

#define H1_BUF_DEFAULT_MAX (1u << 20)

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

static bool is_tchar(unsigned char c)
{
	return char_class[c] & C_TCHAR;
}

bool h1_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

static bool is_field_char(unsigned char c)
{
	return char_class[c] & C_FIELD;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (a[i] != b[i] && lower(a[i]) != lower(b[i]))
			return false;
	return true;
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
#define IS(c, lit, kind) (c0 == (c) && ieq(p, len, (lit), sizeof(lit) - 1) ? (kind) : FN_OTHER)
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
 * Header lists
 */

void h1_hdrs_init(struct h1_hdrs *h, unsigned max_fields, size_t max_bytes)
{
	memset(h, 0, sizeof(*h));
	h->max_fields = max_fields;
	h->max_bytes = max_bytes;
}

void h1_hdrs_free(struct h1_hdrs *h)
{
	free(h->v);
	free(h->buf);
	h->v = NULL;
	h->buf = NULL;
	h->n = h->cap = 0;
	h->used = h->size = 0;
}

void h1_hdrs_clear(struct h1_hdrs *h)
{
	h->n = 0;
	h->used = 0;
}

/* First arena and field-array sizes: a small request plus the fields a proxy adds fits. Kept
 * small because every head in flight holds them; larger ones measured no faster. */
#define HDRS_ARENA_FIRST 256u
#define HDRS_SLOTS_FIRST 16u

/* Make room for <more> arena bytes. Every field points into the arena, so after moving it
 * the pointers are rebased by offset (the old block is still valid while we do it). */
static int hdrs_reserve(struct h1_hdrs *h, size_t more)
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

static int hdrs_slot(struct h1_hdrs *h)
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
static int hdrs_push(struct h1_hdrs *h, size_t noff, size_t nlen, size_t voff, size_t vlen)
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

int h1_hdrs_find(const struct h1_hdrs *h, const char *name, size_t name_len, unsigned from)
{
	char c0;

	if (!name_len)
		return -1;
	c0 = lower(name[0]);
	/* length and first byte first: most fields differ there */
	for (unsigned i = from; i < h->n; i++)
		if (h->v[i].name.len == name_len && lower(h->v[i].name.p[0]) == c0 &&
			ieq(h->v[i].name.p, name_len, name, name_len))
			return (int)i;
	return -1;
}

const struct h1_str *h1_hdrs_get(const struct h1_hdrs *h, const char *name)
{
	int i = h1_hdrs_find(h, name, strlen(name), 0);

	return i < 0 ? NULL : &h->v[i].value;
}

/* Offset of <p> in the arena of <h>, or SIZE_MAX when it points elsewhere. Compared as
 * integers: <p> usually points into another object. */
static size_t arena_off(const struct h1_hdrs *h, const char *p)
{
	uintptr_t b = (uintptr_t)h->buf, x = (uintptr_t)p;

	return h->buf && x >= b && x < b + h->used ? (size_t)(x - b) : SIZE_MAX;
}

/* Make room for <more> bytes; <*name> and <*value> may point into the arena (a field of this
 * list being copied) and follow it when it moves. */
static int hdrs_reserve_args(struct h1_hdrs *h, size_t more, const char **name, const char **value)
{
	size_t noff = arena_off(h, *name), voff = arena_off(h, *value);
	int err = hdrs_reserve(h, more);

	if (err)
		return err;
	if (noff != SIZE_MAX)
		*name = h->buf + noff;
	if (voff != SIZE_MAX)
		*value = h->buf + voff;
	return 0;
}

int h1_hdrs_add(
	struct h1_hdrs *h, const char *name, size_t name_len, const char *value, size_t value_len)
{
	size_t off;
	int err;

	if (!name_len)
		return -EINVAL;
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)name[i]))
			return -EINVAL;
	for (size_t i = 0; i < value_len; i++)
		if (!is_field_char((unsigned char)value[i]))
			return -EINVAL;
	/* Reserve the slot first so a failure leaves the arena untouched. */
	err = hdrs_slot(h);
	if (err)
		return err;
	err = hdrs_reserve_args(h, name_len + value_len, &name, &value);
	if (err)
		return err;
	off = h->used;
	memcpy(h->buf + off, name, name_len);
	if (value_len)
		memcpy(h->buf + off + name_len, value, value_len);
	h->used += name_len + value_len;
	return hdrs_push(h, off, name_len, off + name_len, value_len);
}

void h1_hdrs_remove_at(struct h1_hdrs *h, unsigned idx)
{
	if (idx >= h->n)
		return;
	memmove(&h->v[idx], &h->v[idx + 1], (h->n - idx - 1) * sizeof(h->v[0]));
	h->n--;
}

unsigned h1_hdrs_remove(struct h1_hdrs *h, const char *name, size_t name_len)
{
	unsigned removed = 0;
	int i;

	while ((i = h1_hdrs_find(h, name, name_len, 0)) >= 0) {
		h1_hdrs_remove_at(h, (unsigned)i);
		removed++;
	}
	return removed;
}

int h1_hdrs_set(
	struct h1_hdrs *h, const char *name, size_t name_len, const char *value, size_t value_len)
{
	int i = h1_hdrs_find(h, name, name_len, 0), err;

	/* Validate before removing anything, so a bad value leaves the list as it was. */
	if (i < 0)
		return h1_hdrs_add(h, name, name_len, value, value_len);
	for (size_t k = 0; k < value_len; k++)
		if (!is_field_char((unsigned char)value[k]))
			return -EINVAL;
	/* removing frees a slot but no arena bytes: reserve them first so a failure leaves the
	 * old fields in place (the removed fields' bytes stay, so <name> and <value> may still
	 * point at them) */
	err = hdrs_reserve_args(h, name_len + value_len, &name, &value);
	if (err)
		return err;
	h1_hdrs_remove_at(h, (unsigned)i);
	h1_hdrs_remove(h, name, name_len);
	return h1_hdrs_add(h, name, name_len, value, value_len);
}

/* Iterate the elements of a comma-separated list: returns false at the end, otherwise sets
 * <el> to the next element with OWS trimmed (possibly empty). <pos> starts at 0. */
static bool list_next(const struct h1_str *v, size_t *pos, struct h1_str *el)
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

bool h1_value_has_token(const struct h1_str *value, const char *token)
{
	size_t pos = 0, tlen = strlen(token);
	struct h1_str el;

	while (list_next(value, &pos, &el))
		if (ieq(el.p, el.len, token, tlen))
			return true;
	return false;
}

/* Connection elements remembered by h1_hdrs_strip_hop() on its stack; a list naming more
 * fields than this (never seen in practice) is walked again for each field instead. */
#define HOP_NAMED_MAX 8

/* True for a field h1_hdrs_strip_hop() removes by name alone. */
static bool hop_fixed(enum fname k, bool keep_upgrade)
{
	switch (k) {
	case FN_CONNECTION:
	case FN_KEEP_ALIVE:
	case FN_TE:
	case FN_TRAILER:
	case FN_TRANSFER_ENCODING:
	case FN_PROXY_CONNECTION:
		return true;
	case FN_UPGRADE:
		return !keep_upgrade;
	default:
		return false;
	}
}

/* A Connection element that names a field to remove. Framing and routing fields are never
 * hop-by-hop, whatever a peer claims: dropping them would change how the next hop reads the
 * message. */
static bool hop_named(const struct h1_str *el, bool keep_upgrade)
{
	enum fname k = fname_kind(el->p, el->len);

	return el->len && k != FN_CONTENT_LENGTH && k != FN_HOST &&
	       !(keep_upgrade && k == FN_UPGRADE);
}

/* Whether some Connection field of <h> names field <name> (the slow path for long lists). */
static bool hop_listed(const struct h1_hdrs *h, const struct h1_str *name, bool keep_upgrade)
{
	for (unsigned i = 0; i < h->n; i++) {
		struct h1_str el;
		size_t pos = 0;

		if (fname_kind(h->v[i].name.p, h->v[i].name.len) != FN_CONNECTION)
			continue;
		while (list_next(&h->v[i].value, &pos, &el))
			if (hop_named(&el, keep_upgrade) && ieq(name->p, name->len, el.p, el.len))
				return true;
	}
	return false;
}

int h1_hdrs_strip_hop(struct h1_hdrs *h, unsigned flags)
{
	bool keep_upgrade = flags & H1_HOP_KEEP_UPGRADE;
	bool had_upgrade_token = false, overflow = false;
	struct h1_str named[HOP_NAMED_MAX];
	unsigned removed = 0, w = 0, nnamed = 0;
	bool *drops = NULL;

	/* Pass 1: the fields the Connection fields name. Names removed anyway (Keep-Alive,
	 * TE, ...) are not remembered, so the usual "keep-alive" costs no comparison later. */
	for (unsigned i = 0; i < h->n; i++) {
		const struct h1_str *name = &h->v[i].name;
		struct h1_str el;
		size_t pos = 0;

		if (name->len != 10 || fname_kind(name->p, name->len) != FN_CONNECTION)
			continue;
		while (list_next(&h->v[i].value, &pos, &el)) {
			enum fname k = fname_kind(el.p, el.len);

			if (k == FN_UPGRADE)
				had_upgrade_token = true;
			if (!hop_named(&el, keep_upgrade) || hop_fixed(k, keep_upgrade))
				continue;
			if (nnamed < HOP_NAMED_MAX)
				named[nnamed++] = el;
			else
				overflow = true;
		}
	}
	/* A long list is read again for each field, so the decisions are all taken before
	 * compacting overwrites the Connection fields. */
	if (overflow) {
		drops = calloc(h->n, sizeof(*drops));
		if (!drops)
			return -ENOMEM;
		for (unsigned i = 0; i < h->n; i++)
			drops[i] = hop_listed(h, &h->v[i].name, keep_upgrade);
	}
	/* Pass 2: drop and compact in place; the arena does not move, so <named> stays valid. */
	for (unsigned i = 0; i < h->n; i++) {
		const struct h1_str *name = &h->v[i].name;
		bool drop = hop_fixed(fname_kind(name->p, name->len), keep_upgrade);

		for (unsigned k = 0; !drop && k < nnamed; k++)
			drop = ieq(name->p, name->len, named[k].p, named[k].len);
		if (drop || (drops && drops[i])) {
			removed++;
			continue;
		}
		h->v[w++] = h->v[i];
	}
	h->n = w;
	free(drops);
	if (keep_upgrade && had_upgrade_token) {
		int err = h1_hdrs_add(h, "Connection", 10, "upgrade", 7);

		if (err)
			return err;
	}
	return (int)removed;
}

/* ------------------------------------------------------------------------------------------
 * Field-section scanner. llhttp tokenizes, but accepts things a proxy must not forward
 * (obs-fold, NUL truncating a value, bare LF line ends, "GET /" without a version, double
 * spaces), so every head and trailer byte passes this scanner first, and llhttp is fed only
 * up to the end of the section the scanner found.
 */

enum scan_state {
	SC_LEAD = 0,   /* before a request line: empty lines (CRLF) are skipped */
	SC_LEAD_CR,    /* CR of a leading empty line */
	SC_START,      /* in the start line */
	SC_START_CR,   /* CR ending the start line */
	SC_LINE_BEGIN, /* at the start of a field line or of the final CRLF */
	SC_NAME,       /* in a field name */
	SC_VALUE,      /* after the colon */
	SC_VALUE_CR,   /* CR ending a field line */
	SC_END_CR,     /* CR of the empty line ending the section */
	SC_DONE,       /* section complete */
	SC_MAX,	       /* must stay last */
};

struct scan {
	enum scan_state st;
	bool request;	     /* request line rules (else status line rules) */
	bool first_line;     /* no field line yet: whitespace here is not obs-fold */
	uint32_t line_pos;   /* bytes of the start line so far */
	uint32_t sp;	     /* spaces in the request line */
	bool prev_sp;	     /* previous start-line byte was SP */
	uint32_t bytes;	     /* bytes of this section, leading empty lines included */
	uint32_t fields;     /* field lines seen */
	uint32_t start_line; /* length of the start line once complete */
	uint32_t max_bytes;  /* limit on bytes: the byte past it is an error */
	uint32_t max_fields; /* limit on field lines */
	bool meth_done;	     /* request: the SP after the method was seen */
	bool meth_bad;	     /* request: a non-tchar byte before that SP */
	uint32_t ver_start;  /* request: line position where the version starts */
};

static void scan_init(struct scan *s, bool request, bool trailers, const struct h1_limits *lim)
{
	memset(s, 0, sizeof(*s));
	s->max_bytes = lim->max_head;
	s->max_fields = lim->max_headers;
	s->request = request;
	s->first_line = true;
	if (trailers)
		s->st = SC_LINE_BEGIN;
	else
		s->st = request ? SC_LEAD : SC_START;
}

/* Start-line byte <c> at position s->line_pos. Returns an error or H1_E_NONE. */
static enum h1_err scan_start_byte(struct scan *s, unsigned char c)
{
	uint32_t i = s->line_pos;

	if (s->request) {
		/* method SP request-target SP HTTP-version, single spaces, visible ASCII */
		if (c == ' ') {
			if (i == 0 || s->prev_sp || ++s->sp > 2)
				return H1_E_SYNTAX;
			s->meth_done = true;
			s->prev_sp = true;
			if (s->sp == 2)
				s->ver_start = i + 1;
			return H1_E_NONE;
		}
		if (!s->sp && !is_tchar(c))
			s->meth_bad = true;
		/* llhttp also takes RTSP/ and ICE/ request lines */
		if (s->sp == 2 && i - s->ver_start < 5 && c != "HTTP/"[i - s->ver_start])
			return H1_E_VERSION;
		s->prev_sp = false;
		return (c > 0x20 && c < 0x7f) ? H1_E_NONE : H1_E_SYNTAX;
	}
	/* HTTP-version SP 3DIGIT SP reason; llhttp checks the version bytes */
	if (i == 8)
		return c == ' ' ? H1_E_NONE : H1_E_STATUS;
	if (i >= 9 && i <= 11)
		return (c >= '0' && c <= '9') ? H1_E_NONE : H1_E_STATUS;
	if (i == 12)
		return c == ' ' ? H1_E_NONE : H1_E_STATUS;
	if (i > 12)
		return is_field_char(c) ? H1_E_NONE : H1_E_STATUS;
	return (c > 0x20 && c < 0x7f) ? H1_E_NONE : H1_E_STATUS;
}

/* Bytes from <j> up to <stop> are skipped 8 at a time while none of them can end or break a
 * field value (a control byte or DEL); the byte loop after it finds where the run ends
 * exactly (HTAB, which is allowed, also stops the word loop). Returns the first byte not
 * skipped. */
static size_t skip_field_words(const char *data, size_t j, size_t stop)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	while (stop - j >= 8) {
		uint64_t x, y;

		memcpy(&x, data + j, 8);
		y = x ^ (ones * 0x7f);
		/* exact "some byte < 0x20" and "some byte == 0x7f" tests */
		if (((x - ones * 0x20) & ~x & highs) | ((y - ones) & ~y & highs))
			break;
		j += 8;
	}
	return j;
}

/* Scan <len> bytes. Returns how many belong to the section (up to and including its final
 * LF when it ends here, else all). Sets <*err> and returns the offset of the bad byte on an
 * error. */
static size_t scan_run(struct scan *s, const char *data, size_t len, enum h1_err *err)
{
	enum scan_state st = s->st; /* hot state in locals: stores through <s> could alias <data> */
	uint32_t bytes = s->bytes, max = s->max_bytes;
	size_t i;

/* Skip the run of <class> bytes after byte i (itself already checked), within the byte
 * limit; the loop's own increments then count the last byte of the run. */
#define SKIP_RUN(class)                                                               \
	do {                                                                          \
		size_t stop_ = max - bytes, j_ = i + 1;                               \
		stop_ = stop_ < len - i ? i + stop_ : len;                            \
		if ((class) == C_FIELD)                                               \
			j_ = skip_field_words(data, j_, stop_);                       \
		while (j_ < stop_ && (char_class[(unsigned char)data[j_]] & (class))) \
			j_++;                                                         \
		bytes += (uint32_t)(j_ - i - 1);                                      \
		i = j_ - 1;                                                           \
	} while (0)

	*err = H1_E_NONE;
	for (i = 0; i < len && st != SC_DONE; i++) {
		unsigned char c = (unsigned char)data[i];
		enum h1_err e = H1_E_NONE;

		/* limits are checked at the exact byte, so the error does not depend on how the
		 * input was split */
		if (bytes >= max) {
			bool in_line = st == SC_START || st == SC_START_CR;

			*err = s->request && in_line ? H1_E_LINE_TOO_LONG : H1_E_HEAD_TOO_BIG;
			break;
		}
		switch (st) {
		case SC_LEAD:
			if (c == '\r')
				st = SC_LEAD_CR;
			else if (c == '\n')
				e = H1_E_BARE_LF;
			else {
				st = SC_START;
				e = scan_start_byte(s, c);
				s->line_pos++;
			}
			break;
		case SC_LEAD_CR:
			if (c == '\n')
				st = SC_LEAD;
			else
				e = H1_E_BARE_CR;
			break;
		case SC_START:
			if (c == '\r') {
				/* a status line may end right after the code: "HTTP/1.1 200" */
				if (s->request ? (s->sp != 2 || s->prev_sp) : s->line_pos < 12)
					e = s->request ? H1_E_SYNTAX : H1_E_STATUS;
				st = SC_START_CR;
			} else if (c == '\n') {
				e = H1_E_BARE_LF;
			} else if (s->request && s->sp == 1 && (char_class[c] & C_VIS)) {
				/* the target: visible bytes up to the next SP or CR */
				size_t from = i;

				SKIP_RUN(C_VIS);
				s->line_pos += (uint32_t)(i - from + 1);
				s->prev_sp = false;
			} else {
				e = scan_start_byte(s, c);
				s->line_pos++;
			}
			break;
		case SC_START_CR:
			if (c == '\n') {
				s->start_line = s->line_pos;
				st = SC_LINE_BEGIN;
			} else {
				e = H1_E_BARE_CR;
			}
			break;
		case SC_LINE_BEGIN:
			if (c == '\r')
				st = SC_END_CR;
			else if (c == '\n')
				e = H1_E_BARE_LF;
			else if (is_ows((char)c))
				/* RFC 9112 §5.2 (obs-fold) and §2.2 (whitespace after start line)
				 */
				e = s->first_line ? H1_E_SYNTAX : H1_E_OBS_FOLD;
			else if (is_tchar(c)) {
				if (++s->fields > s->max_fields)
					e = H1_E_TOO_MANY_HEADERS;
				s->first_line = false;
				st = SC_NAME;
			} else
				e = H1_E_HEADER_NAME;
			break;
		case SC_NAME:
			if (is_tchar(c))
				SKIP_RUN(C_TCHAR);
			else if (c == ':')
				st = SC_VALUE;
			else if (is_ows((char)c))
				e = H1_E_SPACE_COLON;
			else if (!is_tchar(c))
				e = H1_E_HEADER_NAME;
			break;
		case SC_VALUE:
			if (is_field_char(c))
				SKIP_RUN(C_FIELD);
			else if (c == '\r')
				st = SC_VALUE_CR;
			else if (c == '\n')
				e = H1_E_BARE_LF;
			else
				e = H1_E_HEADER_VALUE;
			break;
		case SC_VALUE_CR:
			if (c == '\n')
				st = SC_LINE_BEGIN;
			else
				e = H1_E_BARE_CR;
			break;
		case SC_END_CR:
			if (c == '\n')
				st = SC_DONE;
			else
				e = H1_E_BARE_CR;
			break;
		case SC_DONE:
		case SC_MAX:
			break;
		}
		if (e != H1_E_NONE) {
			*err = e;
			break;
		}
		bytes++;
	}
#undef SKIP_RUN
	s->st = st;
	s->bytes = bytes;
	return i;
}

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
	bool started;		     /* a byte of the current message beyond empty lines seen */
	bool in_trailers;	     /* callbacks fill the trailer list */
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
		if (v->p[k] < '0' || v->p[k] > '9')
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
		/* RTSP methods and PRI, which llhttp also knows */
		if (hi->method >= H1_METHOD_MAX)
			return cb_fail(p, H1_E_METHOD_UNKNOWN);
		m->method = (enum h1_method)hi->method;
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
		scan_init(&p->sc, p->kind == H1_REQUEST, true, &p->lim);
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
	p->body_seen = 0;
	p->started = false;
	p->cb_err = H1_E_NONE;
	scan_init(&p->sc, p->kind == H1_REQUEST, false, &p->lim);
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

void h1_parser_reset(struct h1_parser *p)
{
	llhttp_init(&p->ll, p->kind == H1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE, &h1_settings);
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

/* llhttp knows a fixed list of methods. A well-formed token it does not know gets 501
 * (RFC 9110 §9.1), anything else 400. The whole token is needed to tell them apart, so when
 * it is not complete yet the parser keeps scanning (P_METHOD) and reports the error when it
 * is; <scan_failed> means the scanner stopped on a bad byte. Returns the bytes consumed. */
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
	if (end - q < 16 || q[8] != ' ' || q[12] != ' ' || q[9] < '1' || q[9] > '9' ||
		q[10] < '0' || q[10] > '9' || q[11] < '0' || q[11] > '9')
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

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
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

/* Feed a field section (head or trailers): scanner first, then llhttp up to the section end
 * or the first bad byte. */
static size_t feed_section(struct h1_parser *p, const char *data, size_t len)
{
	bool head = p->st == P_HEAD;
	enum h1_err serr;
	size_t n, used;

	/* nothing of this head seen yet: try to take it whole */
	if (head && !p->sc.bytes) {
		n = fast_head(p, data, len);
		if (n)
			return n;
	}
	/* on an error, the bytes before the bad one still go to llhttp so its earlier errors
	 * win, as they would have with the input split there */
	n = scan_run(&p->sc, data, len, &serr);
	if (head && p->sc.st >= SC_START)
		p->started = true;
	used = ll_feed(p, data, n);
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
	size_t n = scan_run(&p->sc, data, len, &serr);

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
	llhttp_resume_after_upgrade(&p->ll);
	/* a declined CONNECT or Upgrade leaves an ordinary completed message */
	p->msg.flags &= ~(unsigned)H1_F_UPGRADE;
	p->st = P_DONE;
	return 0;
}

const char *h1_method_str(enum h1_method m)
{
	if ((unsigned)m >= H1_METHOD_MAX)
		return "<unknown>";
	return llhttp_method_name((llhttp_method_t)m);
}

/* ------------------------------------------------------------------------------------------
 * Serializer
 */

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
