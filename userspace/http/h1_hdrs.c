// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.x header lists: one arena per list, fields pointing into it; lookups, edits, list
 * values and the removal of hop-by-hop fields. */
#include "userspace/http/h1.h"

#include "userspace/http/h1_common.h"

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

bool h1_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}
