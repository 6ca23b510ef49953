// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: the deny map (lb_deny) and the list of prefix lengths it holds
 * (lb_deny_plens), kept in step under the pin directory's lock. */
#include "userspace/ctrl/ctrl-int.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "bpf/hash.h"
#include "userspace/lib/addr.h"

__u64 ctrl_mono_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC: expiries survive wall-clock jumps. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

int ctrl_deny_key(const char *text, struct lb_deny_key *key, char *err, size_t err_len)
{
	unsigned int plen;
	int af;

	memset(key, 0, sizeof(*key));
	if (addr_parse_prefix(text, &af, key->addr.bytes, &plen) < 0) {
		snprintf(err, err_len,
			"'%s': expected an IPv4 or IPv6 address or prefix (ADDR or ADDR/LEN)",
			text);
		return -EINVAL;
	}
	key->family = af == AF_INET ? LB_AF_INET : LB_AF_INET6;
	key->plen = (__u8)plen;
	return 0;
}

/* Add <plen> to the <n> lengths at <v> (longest first) when missing. -ENOSPC when full. */
static int plen_insert(__u8 *v, __u8 *n, __u8 plen)
{
	unsigned int i, j;

	for (i = 0; i < *n; i++)
		if (v[i] == plen)
			return 0;
	if (*n >= LB_DENY_MAX_PLENS)
		return -ENOSPC;
	for (i = 0; i < *n && v[i] > plen; i++)
		;
	for (j = *n; j > i; j--)
		v[j] = v[j - 1];
	v[i] = plen;
	(*n)++;
	return 0;
}

/* Set the lb_deny_filter bit of <key>. The caller holds the lock. */
static int filter_set(struct ctrl *c, const struct lb_deny_key *key)
{
	__u32 bit = hash_deny_bit(&key->addr, key->plen), w = bit / 64;
	struct lb_deny_word v = {};

	if (bpf_map_lookup_elem(c->fds[CM_DENY_FILTER], &w, &v))
		return -errno;
	if (v.bits & (1ull << (bit % 64)))
		return 0;
	v.bits |= 1ull << (bit % 64);
	return bpf_map_update_elem(c->fds[CM_DENY_FILTER], &w, &v, BPF_ANY) ? -errno : 0;
}

/* Write the words of lb_deny_filter that differ between <old> and <new> (both
 * LB_DENY_FILTER_WORDS). Words are written whole, so a packet reads the old or the new. */
static int filter_write(struct ctrl *c, const __u64 *old, const __u64 *new)
{
	for (__u32 w = 0; w < LB_DENY_FILTER_WORDS; w++) {
		struct lb_deny_word v = {.bits = new[w]};

		if (old[w] != new[w] &&
			bpf_map_update_elem(c->fds[CM_DENY_FILTER], &w, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Recompute lb_deny_plens and lb_deny_filter from what lb_deny holds. The caller holds the
 * lock. */
static int plens_sync(struct ctrl *c)
{
	struct lb_deny_plens pl = {}, cur = {};
	struct lb_deny_key k, next;
	__u64 *old = NULL, *new = NULL;
	__u32 zero = 0, count = LB_DENY_FILTER_WORDS;
	void *prev = NULL;
	int err = 0;

	old = calloc(LB_DENY_FILTER_WORDS, sizeof(*old));
	new = calloc(LB_DENY_FILTER_WORDS, sizeof(*new));
	if (!old || !new) {
		err = -ENOMEM;
		goto out;
	}
	while (!bpf_map_get_next_key(c->fds[CM_DENY], prev, &next)) {
		__u32 bit = hash_deny_bit(&next.addr, next.plen);

		k = next;
		prev = &k;
		new[bit / 64] |= 1ull << (bit % 64);
		if (k.family == LB_AF_INET)
			(void)plen_insert(pl.v4, &pl.n4, k.plen); /* at most 33 lengths: ... */
		else
			(void)plen_insert(pl.v6, &pl.n6, k.plen); /* ... adds refuse past 8 */
	}
	if (errno != ENOENT) {
		err = -errno;
		goto out;
	}
	/* The current filter in one call where the kernel can (arrays take batches). */
	{
		__u32 *keys = calloc(LB_DENY_FILTER_WORDS, sizeof(*keys)), out_batch = 0;
		LIBBPF_OPTS(bpf_map_batch_opts, bo);

		if (!keys ||
			bpf_map_lookup_batch(c->fds[CM_DENY_FILTER], NULL, &out_batch, keys, old,
				&count, &bo)) {
			/* Without batches, one word at a time. */
			for (__u32 w = 0; w < LB_DENY_FILTER_WORDS; w++)
				if (bpf_map_lookup_elem(c->fds[CM_DENY_FILTER], &w, &old[w]))
					old[w] = ~0ull; /* unknown: rewrite it */
		}
		free(keys);
	}
	/* The lengths first when they grow, the filter first when bits go: a packet never
	 * misses an entry it should find. Only removals happen here, so the order is free. */
	err = filter_write(c, old, new);
	/* A new generation voids every CPU's cached match (lb_deny_last). */
	(void)bpf_map_lookup_elem(c->fds[CM_DENY_PLENS], &zero, &cur); /* zero: gen starts */
	pl.gen = cur.gen + 1;
	if (!err && bpf_map_update_elem(c->fds[CM_DENY_PLENS], &zero, &pl, BPF_ANY))
		err = -errno;
out:
	free(old);
	free(new);
	return err;
}

int ctrl_deny_add(struct ctrl *c, const struct lb_deny_key *key, __u64 ttl_ms, __u8 reason)
{
	struct lb_deny_plens pl = {};
	struct lb_deny d = {};
	__u32 zero = 0;
	int err;

	if (!key || reason >= LB_DENY_REASON_MAX ||
		(key->family != LB_AF_INET && key->family != LB_AF_INET6) ||
		key->plen > (key->family == LB_AF_INET ? 32 : 128) || key->pad[0] || key->pad[1])
		return -EINVAL;
	d.added = ctrl_mono_ns();
	d.expires = ttl_ms ? d.added + ttl_ms * 1000000ull : 0;
	d.reason = reason;
	err = ctrl_lock(c);
	if (err)
		return err;
	if (bpf_map_lookup_elem(c->fds[CM_DENY_PLENS], &zero, &pl)) {
		err = -errno;
		goto out;
	}
	/* The length first: an entry the data plane does not look for would deny nothing. */
	err = key->family == LB_AF_INET ? plen_insert(pl.v4, &pl.n4, key->plen) :
					  plen_insert(pl.v6, &pl.n6, key->plen);
	/* A replaced entry may be cached with its old expiry: a new generation voids it. */
	pl.gen++;
	if (!err && bpf_map_update_elem(c->fds[CM_DENY_PLENS], &zero, &pl, BPF_ANY))
		err = -errno;
	if (!err)
		err = filter_set(c, key);
	if (!err && bpf_map_update_elem(c->fds[CM_DENY], key, &d, BPF_ANY))
		err = -errno;
out:
	ctrl_unlock(c);
	return err;
}

int ctrl_deny_del(struct ctrl *c, const struct lb_deny_key *key)
{
	int err = ctrl_lock(c);

	if (err)
		return err;
	err = bpf_map_delete_elem(c->fds[CM_DENY], key) ? -errno : 0;
	if (!err)
		err = plens_sync(c);
	ctrl_unlock(c);
	return err;
}

int ctrl_deny_flush(struct ctrl *c, size_t *n)
{
	struct lb_deny_key k, next;
	int err = ctrl_lock(c);

	*n = 0;
	if (err)
		return err;
	/* Delete from the start each time: deleting the key get_next_key stands on loses the
	 * walk. */
	while (!bpf_map_get_next_key(c->fds[CM_DENY], NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(c->fds[CM_DENY], &k) && errno != ENOENT) {
			err = -errno;
			break;
		}
		(*n)++;
	}
	if (!err)
		err = plens_sync(c);
	ctrl_unlock(c);
	return err;
}

int ctrl_deny_count(struct ctrl *c, size_t *n, bool *full)
{
	enum { BATCH = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	struct lb_deny_key k, next, *keys;
	struct lb_deny *vals;
	__u32 cnt, batch;
	size_t total = 0;
	void *prev = NULL;
	bool first = true;
	int err = 0;

	keys = malloc(BATCH * sizeof(*keys));
	vals = malloc(BATCH * sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* Batches of 4096: a full map in 16 calls rather than 65,536. */
	for (;;) {
		cnt = BATCH;
		err = bpf_map_lookup_batch(
			c->fds[CM_DENY], first ? NULL : &batch, &batch, keys, vals, &cnt, &bo);
		err = err ? -errno : 0;
		first = false;
		total += cnt;
		if (err)
			break;
	}
	if (err == -ENOENT) {
		err = 0; /* the end */
	} else if (err == -EINVAL || err == -EOPNOTSUPP) {
		/* No batch operations: one key at a time. */
		for (err = 0, total = 0; !bpf_map_get_next_key(c->fds[CM_DENY], prev, &next);) {
			k = next;
			prev = &k;
			total++;
		}
	}
out:
	free(keys);
	free(vals);
	if (err)
		return err;
	*n = total;
	if (full)
		*full = total + 128 * (size_t)c->ncpu >= LB_MAX_DENY;
	return 0;
}

int ctrl_deny_list(struct ctrl *c, struct ctrl_deny **out, size_t *n)
{
	struct lb_deny_key k, next, *old = NULL, *ot;
	struct ctrl_deny *v = NULL, *t;
	size_t cap = 0, cnt = 0, n_old = 0, cap_old = 0;
	__u64 now = ctrl_mono_ns();
	void *prev = NULL;
	int err = 0;

	while (!err && !bpf_map_get_next_key(c->fds[CM_DENY], prev, &next)) {
		struct lb_deny d;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(c->fds[CM_DENY], &k, &d))
			continue; /* gone meanwhile (expired, evicted, deleted) */
		if (d.expires && d.expires <= now) {
			if (n_old == cap_old) {
				cap_old = cap_old ? 2 * cap_old : 16;
				ot = realloc(old, cap_old * sizeof(*old));
				if (!ot) {
					err = -ENOMEM;
					break;
				}
				old = ot;
			}
			old[n_old++] = k;
			continue;
		}
		if (cnt == cap) {
			cap = cap ? 2 * cap : 64;
			t = realloc(v, cap * sizeof(*v));
			if (!t) {
				err = -ENOMEM;
				break;
			}
			v = t;
		}
		v[cnt].key = k;
		v[cnt].val = d;
		v[cnt].ttl_ms = d.expires ? (d.expires - now) / 1000000ull : 0;
		cnt++;
	}
	/* Drops counted by the CPUs' caches of the current generation belong to their entry. */
	if (!err && cnt) {
		struct lb_deny_last *last = calloc((size_t)c->ncpu, sizeof(*last));
		struct lb_deny_plens pl = {};
		__u32 zero = 0;

		if (last && !bpf_map_lookup_elem(c->fds[CM_DENY_PLENS], &zero, &pl) &&
			!bpf_map_lookup_elem(c->fds[CM_DENY_LAST], &zero, last))
			for (int cpu = 0; cpu < c->ncpu; cpu++)
				for (size_t i = 0; last[cpu].packets && last[cpu].gen == pl.gen &&
						   i < cnt; i++)
					if (!memcmp(&v[i].key, &last[cpu].key, sizeof(v[i].key)))
						v[i].val.packets += last[cpu].packets;
		free(last);
	}
	/* Expired entries the data plane has not met again: removed here, as it would. */
	if (!err && n_old && !ctrl_lock(c)) {
		for (size_t i = 0; i < n_old; i++) {
			struct lb_deny d;

			/* Only when still expired: it may have been written again since. */
			if (!bpf_map_lookup_elem(c->fds[CM_DENY], &old[i], &d) && d.expires &&
				d.expires <= now)
				(void)bpf_map_delete_elem(c->fds[CM_DENY], &old[i]); /* may be gone */
		}
		(void)plens_sync(c); /* a stale length costs a lookup, no more */
		ctrl_unlock(c);
	}
	free(old);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int ctrl_deny_plens(struct ctrl *c, struct lb_deny_plens *out)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(c->fds[CM_DENY_PLENS], &zero, out) ? -errno : 0;
}
