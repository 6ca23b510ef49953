// SPDX-License-Identifier: GPL-2.0
/* The flow tables' sets and slots, read and written through the map fds (flowtab.h). */
#include "userspace/ctrl/flowtab.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bpf/hash.h"

/* One set of either table, with the widened key of each slot. */
struct ft_set {
	union {
		struct lb_flow4_set v4;
		struct lb_flow6_set v6;
	} u;
	bool v6;
};

static int ft_read(int fd, __u32 idx, struct ft_set *s)
{
	return bpf_map_lookup_elem(fd, &idx, &s->u) ? -errno : 0;
}

static int ft_write(int fd, __u32 idx, const struct ft_set *s)
{
	return bpf_map_update_elem(fd, &idx, &s->u, BPF_ANY) ? -errno : 0;
}

/* Slot <w> of <s>: its key widened into *<k> (when not NULL) and its state; false when free. */
static struct lb_flow *ft_slot(struct ft_set *s, int w, struct lb_flow_key *k)
{
	if (s->v6) {
		struct lb_flow6_slot *sl = &s->u.v6.way[w];

		if (!sl->key.proto)
			return NULL;
		if (k)
			*k = sl->key;
		return &sl->flow;
	}
	struct lb_flow4_slot *sl = &s->u.v4.way[w];

	if (!sl->key.proto)
		return NULL;
	if (k) {
		*k = (struct lb_flow_key){.family = LB_AF_INET,
			.sport = sl->key.sport,
			.dport = sl->key.dport,
			.proto = sl->key.proto};
		k->src.v4 = sl->key.src.v4;
		k->dst.v4 = sl->key.dst.v4;
	}
	return &sl->flow;
}

/* Whether slot <w> of <s> holds a flow (its key into *<k>) whose check holds under <seed>. */
static struct lb_flow *ft_valid(struct ft_set *s, int w, struct lb_flow_key *k, __u64 seed)
{
	struct lb_flow *f = ft_slot(s, w, k);

	if (!f || f->check != hash_ct_check(hash_ct(k, seed), f->backend))
		return NULL;
	return f;
}

static bool ft_same(const struct lb_flow_key *a, const struct lb_flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* The table, set and slot of flow <k> (*<w> = -1: none holds it). */
static int ft_find(const struct flowtab *t, const struct lb_flow_key *k, int *fd, __u32 *idx,
	struct ft_set *s, int *w)
{
	struct lb_flow_key got;
	int i, err;

	s->v6 = k->family != LB_AF_INET;
	*fd = s->v6 ? t->fd6 : t->fd4;
	*idx = hash_ct_set(hash_ct(k, t->seed));
	*w = -1;
	err = ft_read(*fd, *idx, s);
	if (err)
		return err;
	for (i = 0; i < LB_FLOW_WAYS; i++) {
		if (ft_valid(s, i, &got, t->seed) && ft_same(&got, k)) {
			*w = i;
			break;
		}
	}
	return 0;
}

/* ft_find() for a flow that must be there: -ENOENT when no slot holds it. */
static int ft_find_held(const struct flowtab *t, const struct lb_flow_key *k, int *fd,
	__u32 *idx, struct ft_set *s, int *w)
{
	int err = ft_find(t, k, fd, idx, s, w);

	return err ? err : *w < 0 ? -ENOENT : 0;
}

int flowtab_get(const struct flowtab *t, const struct lb_flow_key *k, struct lb_flow *val)
{
	struct ft_set s;
	__u32 idx;
	int fd, w, err = ft_find_held(t, k, &fd, &idx, &s, &w);

	if (!err)
		*val = *ft_slot(&s, w, NULL);
	return err;
}

int flowtab_put(
	const struct flowtab *t, const struct lb_flow_key *k, const struct lb_flow *val, bool evict)
{
	struct lb_flow *f;
	struct ft_set s;
	__u32 idx;
	int fd, w, i, err = ft_find(t, k, &fd, &idx, &s, &w);

	if (err)
		return err;
	for (i = 0; w < 0 && i < LB_FLOW_WAYS; i++)
		if (!ft_slot(&s, i, NULL))
			w = i;
	if (w < 0 && !evict)
		return -ENOSPC;
	if (w < 0)
		w = 0;
	if (s.v6) {
		s.u.v6.way[w].key = *k;
		f = &s.u.v6.way[w].flow;
	} else {
		lb_flow4_key_of(&s.u.v4.way[w].key, k);
		f = &s.u.v4.way[w].flow;
	}
	*f = *val;
	f->check = hash_ct_check(hash_ct(k, t->seed), val->backend);
	return ft_write(fd, idx, &s);
}

int flowtab_del(const struct flowtab *t, const struct lb_flow_key *k)
{
	struct ft_set s;
	__u32 idx;
	int fd, w, err = ft_find_held(t, k, &fd, &idx, &s, &w);

	if (err)
		return err;
	if (s.v6)
		memset(&s.u.v6.way[w], 0, sizeof(s.u.v6.way[w]));
	else
		memset(&s.u.v4.way[w], 0, sizeof(s.u.v4.way[w]));
	return ft_write(fd, idx, &s);
}

/* Sets read or written per batch call. */
#define FT_BATCH 1024

int flowtab_walk(const struct flowtab *t,
	int (*fn)(const struct lb_flow_key *k, const struct lb_flow *val, void *arg), void *arg)
{
	size_t vsize[2] = {sizeof(struct lb_flow4_set), sizeof(struct lb_flow6_set)};
	__u32 keys[FT_BATCH], n, i;
	struct lb_flow_key k;
	struct lb_flow *f;
	struct ft_set s;
	uint8_t *buf;
	int v6, w, ret = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	buf = malloc(FT_BATCH * vsize[1]);
	if (!buf)
		return -ENOMEM;
	for (v6 = 0; v6 < 2 && !ret; v6++) {
		__u32 batch = 0;
		bool first = true, end = false;

		s.v6 = v6;
		while (!end && !ret) {
			/* From the set after the last one read; ENOENT: this was the last batch. */
			n = FT_BATCH;
			if (bpf_map_lookup_batch(v6 ? t->fd6 : t->fd4, first ? NULL : &batch, &batch, keys,
				    buf, &n, &bo)) {
				if (errno != ENOENT) {
					ret = -errno;
					break;
				}
				end = true;
			}
			first = false;
			if (!n)
				break;
			for (i = 0; i < n && !ret; i++) {
				memcpy(&s.u, buf + i * vsize[v6], vsize[v6]);
				for (w = 0; w < LB_FLOW_WAYS && !ret; w++) {
					f = ft_valid(&s, w, &k, t->seed);
					if (f)
						ret = fn(&k, f, arg);
				}
			}
		}
	}
	free(buf);
	return ret;
}

int flowtab_clear(const struct flowtab *t)
{
	size_t vsize[2] = {sizeof(struct lb_flow4_set), sizeof(struct lb_flow6_set)};
	__u32 keys[FT_BATCH], pos, n, i;
	uint8_t *zero;
	int v6, err = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	zero = calloc(FT_BATCH, vsize[1]);
	if (!zero)
		return -ENOMEM;
	for (v6 = 0; v6 < 2 && !err; v6++) {
		for (pos = 0; pos < LB_FLOW_SETS; pos += n) {
			n = LB_FLOW_SETS - pos < FT_BATCH ? LB_FLOW_SETS - pos : FT_BATCH;
			for (i = 0; i < n; i++)
				keys[i] = pos + i;
			if (bpf_map_update_batch(v6 ? t->fd6 : t->fd4, keys, zero, &n, &bo)) {
				err = -errno;
				break;
			}
		}
	}
	free(zero);
	return err;
}
