// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: services, backends, and their tables. A table is rebuilt from the
 * usable backends (up, weight > 0) sorted by address, written into a fresh inner array, and
 * published with one update of the outer map, so a reader sees the old or the new table. */
#include "userspace/ctrl/ctrl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/hash.h"
#include "ketama/ketama.h"
#include "maglev/maglev.h"
#include "userspace/ctrl/ctrl-int.h"

static int addr_cmp(const struct lb_backend *a, const struct lb_backend *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr.bytes, b->addr.bytes, 16);
	if (r)
		return r;
	return ntohs(a->port) - ntohs(b->port);
}

static int cmp_ctrl_backend(const void *pa, const void *pb)
{
	const struct ctrl_backend *a = pa, *b = pb;

	if (a->be.svc != b->be.svc)
		return a->be.svc < b->be.svc ? -1 : 1;
	return addr_cmp(&a->be, &b->be);
}

static int key_cmp(const struct lb_svc_key *a, const struct lb_svc_key *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr.bytes, b->addr.bytes, 16);
	if (r)
		return r;
	if (a->port != b->port)
		return ntohs(a->port) < ntohs(b->port) ? -1 : 1;
	return a->proto - b->proto;
}

static int cmp_ctrl_service(const void *pa, const void *pb)
{
	return key_cmp(
		&((const struct ctrl_service *)pa)->key, &((const struct ctrl_service *)pb)->key);
}

/* Read every lb_backends slot into <all> (LB_MAX_REALS entries): one batch call when the
 * kernel allows it, else one lookup per slot. */
static int read_backends(struct ctrl *c, struct lb_backend *all)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 keys[LB_MAX_REALS];
	__u32 count = LB_MAX_REALS, out_batch, i;
	int fd = c->fds[CM_BACKENDS];

	if (!bpf_map_lookup_batch(fd, NULL, &out_batch, keys, all, &count, &bo) ||
		(errno == ENOENT && count == LB_MAX_REALS))
		return 0;
	for (i = 0; i < LB_MAX_REALS; i++)
		if (bpf_map_lookup_elem(fd, &i, &all[i]))
			return -errno;
	return 0;
}

/* A copy of every lb_backends slot (LB_MAX_REALS entries) for the caller to free; NULL with
 * the error in <err> when it cannot be allocated or read. */
static struct lb_backend *load_backends(struct ctrl *c, int *err)
{
	struct lb_backend *all = calloc(LB_MAX_REALS, sizeof(*all));

	if (!all) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = read_backends(c, all);
	if (*err) {
		free(all);
		return NULL;
	}
	return all;
}

int ctrl_stats_svc(struct ctrl *c, __u32 svc_id, struct lb_stats *out)
{
	struct lb_backend *all;
	struct lb_stats be;
	__u32 i;
	int err;

	/* The data plane counts only per backend: the service's totals are its live backends'
	 * plus what lb_svc_stats holds (its deleted backends', ctrl_be_stats_retire()). */
	err = ctrl_percpu_sum(c, c->fds[CM_SVC_STATS], svc_id, 3, (__u64 *)out);
	if (err)
		return err;
	all = load_backends(c, &err);
	if (!all)
		return err;
	for (i = 0; i < LB_MAX_REALS && !err; i++) {
		if (!all[i].family || all[i].svc != svc_id)
			continue;
		err = ctrl_percpu_sum(c, c->fds[CM_BE_STATS], i, 3, (__u64 *)&be);
		out->packets += be.packets;
		out->bytes += be.bytes;
		out->new_flows += be.new_flows;
	}
	free(all);
	return err;
}

/* Find service id <svc_id>: its value into <out> (key into <key> when not NULL). */
static int svc_by_id(struct ctrl *c, __u32 svc_id, struct lb_svc_key *key, struct lb_svc *out)
{
	struct lb_svc_key k, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(c->fds[CM_SERVICES], prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(c->fds[CM_SERVICES], &k, out))
			continue; /* deleted meanwhile */
		if (out->id == svc_id) {
			if (key)
				*key = k;
			return 0;
		}
	}
	return -ENOENT;
}

/* Create an inner array for a table of <entries> values of <value_size> bytes, typed with
 * the maps' BTF when known, fill it with <vals> and publish it in <outer> at <svc_id>. */
static int publish(
	struct ctrl *c, int outer, __u32 svc_id, bool ring, const void *vals, __u32 entries)
{
	size_t vsize = ring ? sizeof(struct lb_ring_point) : sizeof(struct lb_mg_slot);
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_INNER_MAP);
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 *keys = NULL, i, count = entries;
	int fd, err;

	if (c->btf_fd >= 0) {
		o.btf_fd = c->btf_fd;
		o.btf_key_type_id = c->btf_u32;
		o.btf_value_type_id = ring ? c->btf_ring_point : c->btf_mg_slot;
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, ring ? "lb_ring_tbl" : "lb_maglev_tbl",
		sizeof(__u32), (__u32)vsize, entries, &o);
	if (fd < 0 && c->btf_fd >= 0) {
		o.btf_fd = 0;
		o.btf_key_type_id = o.btf_value_type_id = 0;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, ring ? "lb_ring_tbl" : "lb_maglev_tbl",
			sizeof(__u32), (__u32)vsize, entries, &o);
	}
	if (fd < 0)
		return -errno;
	keys = malloc((size_t)entries * sizeof(*keys));
	if (!keys) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < entries; i++)
		keys[i] = i;
	err = bpf_map_update_batch(fd, keys, vals, &count, &bo) ? -errno : 0;
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */) {
		for (i = 0, err = 0; i < entries && !err; i++)
			err = bpf_map_update_elem(fd, &i, (const char *)vals + i * vsize, BPF_ANY) ?
				      -errno :
				      0;
	}
	if (err)
		goto out;
	/* The one write that switches readers from the old table to the complete new one. */
	err = bpf_map_update_elem(outer, &svc_id, &fd, BPF_ANY) ? -errno : 0;
out:
	free(keys);
	close(fd); /* the outer map holds the table now */
	return err;
}

static bool usable(const struct lb_backend *b, __u32 svc_id)
{
	return b->family && b->svc == svc_id && b->state == LB_BE_UP && b->weight > 0;
}

/* Build the Maglev table of the <n> backends <ids>/<bes> with <m> slots and publish it. */
static int rebuild_maglev(struct ctrl *c, __u32 svc_id, __u32 m, const __u32 *ids,
	const struct lb_backend *bes, size_t n)
{
	uint8_t(*keys)[MAGLEV_KEY_MAX] = NULL;
	struct maglev_backend *mb = NULL;
	struct lb_mg_slot *slots = NULL;
	uint32_t *table = NULL;
	size_t i;
	int err;

	if (!c->mg || maglev_size(c->mg) != m) {
		maglev_free(c->mg);
		c->mg = maglev_new(m);
		if (!c->mg)
			return -errno;
	}
	keys = calloc(n, sizeof(*keys));
	mb = calloc(n, sizeof(*mb));
	table = calloc(m, sizeof(*table));
	slots = calloc(m, sizeof(*slots));
	if (!keys || !mb || !table || !slots) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		mb[i].key = keys[i];
		mb[i].key_len =
			maglev_addr_key(keys[i], bes[i].family == LB_AF_INET ? AF_INET : AF_INET6,
				bes[i].addr.bytes, ntohs(bes[i].port));
		mb[i].weight = bes[i].weight;
	}
	err = maglev_build(c->mg, mb, n, table);
	if (err)
		goto out;
	for (i = 0; i < m; i++)
		slots[i].backend = ids[table[i]];
	err = publish(c, c->fds[CM_MAGLEV], svc_id, false, slots, m);
out:
	free(slots);
	free(table);
	free(mb);
	free(keys);
	return err;
}

/* Build the ketama ring (nginx compatible points) of the <n> backends and publish it. */
static int rebuild_ketama(
	struct ctrl *c, __u32 svc_id, const __u32 *ids, const struct lb_backend *bes, size_t n)
{
	char(*names)[CTRL_ADDRSTRLEN] = NULL;
	struct ketama_server *srv = NULL;
	struct lb_ring_point *ring = NULL;
	const struct ketama_point *pts;
	struct ketama *r = NULL;
	size_t i, np;
	int err;

	names = calloc(n, sizeof(*names));
	srv = calloc(n, sizeof(*srv));
	if (!names || !srv) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ctrl_format_addr(bes[i].family, &bes[i].addr, ntohs(bes[i].port), names[i],
			sizeof(names[i]));
		srv[i].name = names[i];
		srv[i].weight = bes[i].weight;
	}
	r = ketama_new(KETAMA_NGINX, srv, n);
	if (!r) {
		err = -errno;
		goto out;
	}
	pts = ketama_points(r, &np);
	if (np == 0 || np > LB_RING_MAX_POINTS) {
		err = -E2BIG;
		goto out;
	}
	ring = calloc(np + 1, sizeof(*ring));
	if (!ring) {
		err = -ENOMEM;
		goto out;
	}
	ring[0].hash = (__u32)np; /* header: the point count */
	for (i = 0; i < np; i++) {
		ring[i + 1].hash = pts[i].hash;
		ring[i + 1].backend = ids[pts[i].server];
	}
	err = publish(c, c->fds[CM_RING], svc_id, true, ring, (__u32)np + 1);
out:
	free(ring);
	ketama_free(r);
	free(srv);
	free(names);
	return err;
}

struct be_sort {
	__u32 id;
	const struct lb_backend *be;
};

static int cmp_be_sort(const void *pa, const void *pb)
{
	return addr_cmp(((const struct be_sort *)pa)->be, ((const struct be_sort *)pb)->be);
}

/* Rebuild the table of service <svc> (id <svc_id>) for its algorithm, as if backend <ovr_id>
 * were <ovr> when <ovr> is not NULL. The caller holds the lock. */
static int rebuild_svc(struct ctrl *c, __u32 svc_id, const struct lb_svc *svcp, __u32 ovr_id,
	const struct lb_backend *ovr)
{
	struct lb_backend *all = NULL, *bes = NULL;
	struct be_sort *sorted = NULL;
	struct lb_svc svc = *svcp;
	__u32 *ids = NULL, i;
	size_t n = 0;
	int err;

	all = load_backends(c, &err);
	if (!all)
		goto out;
	sorted = calloc(LB_MAX_REALS, sizeof(*sorted));
	if (!sorted) {
		err = -ENOMEM;
		goto out;
	}
	if (ovr && ovr_id < LB_MAX_REALS)
		all[ovr_id] = *ovr;
	for (i = 0; i < LB_MAX_REALS; i++) {
		if (usable(&all[i], svc_id)) {
			sorted[n].id = i;
			sorted[n].be = &all[i];
			n++;
		}
	}
	if (n == 0) {
		/* No usable backend: no table, and new flows are dropped as drop_no_backend. */
		if (bpf_map_delete_elem(c->fds[CM_MAGLEV], &svc_id) && errno != ENOENT)
			err = -errno;
		if (bpf_map_delete_elem(c->fds[CM_RING], &svc_id) && errno != ENOENT)
			err = -errno;
		goto out;
	}
	/* Sorted by address: every node with the same configuration builds the same table. */
	qsort(sorted, n, sizeof(*sorted), cmp_be_sort);
	ids = calloc(n, sizeof(*ids));
	bes = calloc(n, sizeof(*bes));
	if (!ids || !bes) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ids[i] = sorted[i].id;
		bes[i] = *sorted[i].be;
	}
	if (svc.algo == LB_ALGO_KETAMA)
		err = rebuild_ketama(c, svc_id, ids, bes, n);
	else
		err = rebuild_maglev(c, svc_id, svc.table_size, ids, bes, n);
out:
	free(bes);
	free(ids);
	free(sorted);
	free(all);
	return err;
}

int ctrl_rebuild_with(struct ctrl *c, __u32 svc_id, __u32 ovr_id, const struct lb_backend *ovr)
{
	struct lb_svc svc;
	int err;

	err = ctrl_lock(c);
	if (err)
		return err;
	err = svc_by_id(c, svc_id, NULL, &svc);
	if (!err)
		err = rebuild_svc(c, svc_id, &svc, ovr_id, ovr);
	ctrl_unlock(c);
	return err;
}

int ctrl_rebuild(struct ctrl *c, __u32 svc_id)
{
	return ctrl_rebuild_with(c, svc_id, 0, NULL);
}

static int check_conf(const struct lb_svc_key *key, const struct lb_svc *conf)
{
	if (key->family != LB_AF_INET && key->family != LB_AF_INET6)
		return -EINVAL;
	if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP)
		return -EINVAL;
	if (conf->mode >= LB_MODE_MAX || conf->algo >= LB_ALGO_MAX || conf->fwd >= LB_FWD_MAX ||
		(conf->flags & ~LB_SVC_F_HASH_SRC))
		return -EINVAL;
	return 0;
}

/* Copy <e> into the entry of every backend of service <id> (lb_backend.vip), where the
 * packets of its tracked flows read their service. */
static int be_vip_sync(struct ctrl *c, __u32 id, const struct lb_svc_ent *e)
{
	struct lb_backend *all;
	__u32 i;
	int err;

	all = load_backends(c, &err);
	if (!all)
		return err;
	for (i = 0; i < LB_MAX_REALS && !err; i++) {
		if (!all[i].family || all[i].svc != id || !memcmp(&all[i].vip, e, sizeof(*e)))
			continue;
		all[i].vip = *e;
		if (bpf_map_update_elem(c->fds[CM_BACKENDS], &i, &all[i], BPF_ANY))
			err = -errno;
	}
	free(all);
	return err;
}

int ctrl_svc_by_id_set(struct ctrl *c, const struct lb_svc_key *key, const struct lb_svc *v)
{
	struct lb_svc_ent e = {.key = *key, .svc = *v};

	if (bpf_map_update_elem(c->fds[CM_SVC_BY_ID], &v->id, &e, BPF_ANY))
		return -errno;
	return be_vip_sync(c, v->id, &e);
}

int ctrl_svc_by_id_clear(struct ctrl *c, __u32 id)
{
	struct lb_svc_ent none = {};

	/* The backends' copies first: tracked flows stop matching the service there. */
	if (be_vip_sync(c, id, &none))
		return -errno;
	return bpf_map_update_elem(c->fds[CM_SVC_BY_ID], &id, &none, BPF_ANY) ? -errno : 0;
}

int ctrl_svc_add(struct ctrl *c, const struct lb_svc_key *key, const struct lb_svc *conf, __u32 *id)
{
	bool used[LB_MAX_VIPS];
	struct lb_svc_key k, next;
	struct lb_svc v = *conf, old;
	void *prev = NULL;
	__u32 i;
	int err;

	err = check_conf(key, conf);
	if (err)
		return err;
	if (!v.table_size)
		v.table_size = LB_DEFAULT_TABLE_SIZE;
	if (v.table_size < MAGLEV_MIN_SIZE || v.table_size > LB_MAX_TABLE_SIZE ||
		!maglev_is_prime(v.table_size))
		return -EINVAL;
	err = ctrl_lock(c);
	if (err)
		return err;
	if (!bpf_map_lookup_elem(c->fds[CM_SERVICES], key, &old)) {
		err = -EEXIST;
		goto out;
	}
	memset(used, 0, sizeof(used));
	while (!bpf_map_get_next_key(c->fds[CM_SERVICES], prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(c->fds[CM_SERVICES], &k, &old) && old.id < LB_MAX_VIPS)
			used[old.id] = true;
	}
	for (i = 0; i < LB_MAX_VIPS && used[i]; i++)
		;
	if (i == LB_MAX_VIPS) {
		err = -ENOSPC;
		goto out;
	}
	v.id = i;
	/* A reused id must not inherit the previous service's counters or table. */
	err = ctrl_percpu_zero(c, c->fds[CM_SVC_STATS], i, sizeof(struct lb_stats));
	if (err)
		goto out;
	if (bpf_map_delete_elem(c->fds[CM_MAGLEV], &i) && errno != ENOENT) {
		err = -errno;
		goto out;
	}
	if (bpf_map_delete_elem(c->fds[CM_RING], &i) && errno != ENOENT) {
		err = -errno;
		goto out;
	}
	/* The filter first: a packet to the new service must never be taken for a stranger. */
	err = ctrl_vip_filter_add(c, &key->addr);
	if (err)
		goto out;
	if (bpf_map_update_elem(c->fds[CM_SERVICES], key, &v, BPF_NOEXIST)) {
		err = -errno;
		goto out;
	}
	err = ctrl_svc_by_id_set(c, key, &v);
	if (err)
		goto out;
	if (id)
		*id = i;
	if (!key->port)
		err = ctrl_all_ports_sync(c);
out:
	ctrl_unlock(c);
	return err;
}

int ctrl_svc_get(struct ctrl *c, const struct lb_svc_key *key, struct lb_svc *out)
{
	return bpf_map_lookup_elem(c->fds[CM_SERVICES], key, out) ? -errno : 0;
}

int ctrl_svc_update(struct ctrl *c, const struct lb_svc_key *key, const struct lb_svc *conf)
{
	struct lb_svc v;
	int err;

	err = check_conf(key, conf);
	if (err)
		return err;
	err = ctrl_lock(c);
	if (err)
		return err;
	err = ctrl_svc_get(c, key, &v);
	if (err)
		goto out;
	v.mode = conf->mode;
	v.algo = conf->algo;
	v.fwd = conf->fwd;
	v.flags = conf->flags;
	/* The table of the new algorithm exists before the service points at it; the other
	 * algorithm's table goes only afterwards. */
	err = rebuild_svc(c, v.id, &v, 0, NULL);
	if (err)
		goto out;
	if (bpf_map_update_elem(c->fds[CM_SERVICES], key, &v, BPF_EXIST)) {
		err = -errno;
		goto out;
	}
	err = ctrl_svc_by_id_set(c, key, &v);
	if (err)
		goto out;
	if (bpf_map_delete_elem(c->fds[v.algo == LB_ALGO_KETAMA ? CM_MAGLEV : CM_RING], &v.id) &&
		errno != ENOENT)
		err = -errno;
out:
	ctrl_unlock(c);
	return err;
}

int ctrl_svc_del(struct ctrl *c, const struct lb_svc_key *key)
{
	struct lb_backend *all = NULL, none = {};
	struct lb_svc v;
	__u32 i;
	int err;

	err = ctrl_lock(c);
	if (err)
		return err;
	err = ctrl_svc_get(c, key, &v);
	if (err)
		goto out;
	all = load_backends(c, &err);
	if (!all)
		goto out;
	/* First stop matching packets (tracked flows, then all), then drop the tables and free
	 * the backends. */
	err = ctrl_svc_by_id_clear(c, v.id);
	if (err)
		goto out;
	if (bpf_map_delete_elem(c->fds[CM_SERVICES], key)) {
		err = -errno;
		goto out;
	}
	err = ctrl_vip_filter_sync(c);
	if (!err && !key->port)
		err = ctrl_all_ports_sync(c);
	if (bpf_map_delete_elem(c->fds[CM_MAGLEV], &v.id) && errno != ENOENT)
		err = -errno;
	if (bpf_map_delete_elem(c->fds[CM_RING], &v.id) && errno != ENOENT)
		err = -errno;
	if (!err)
		err = ctrl_src_rate_clear(c, v.id); /* the id's next service starts unguarded */
	for (i = 0; i < LB_MAX_REALS; i++) {
		if (!all[i].family || all[i].svc != v.id)
			continue;
		if (bpf_map_update_elem(c->fds[CM_BACKENDS], &i, &none, BPF_ANY))
			err = -errno;
		else if (ctrl_be_stats_retire(c, i, v.id))
			err = err ? err : -EIO;
	}
out:
	free(all);
	ctrl_unlock(c);
	return err;
}

int ctrl_svc_list(struct ctrl *c, struct ctrl_service **out, size_t *n)
{
	struct ctrl_service *list, *grown;
	struct lb_svc_key k, next;
	size_t cap = 16;
	void *prev = NULL;

	*n = 0;
	list = malloc(cap * sizeof(*list));
	if (!list)
		return -ENOMEM;
	while (!bpf_map_get_next_key(c->fds[CM_SERVICES], prev, &next)) {
		k = next;
		prev = &k;
		if (*n == cap) {
			cap *= 2;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				free(list);
				return -ENOMEM;
			}
			list = grown;
		}
		if (bpf_map_lookup_elem(c->fds[CM_SERVICES], &k, &list[*n].val))
			continue;
		list[*n].key = k;
		(*n)++;
	}
	qsort(list, *n, sizeof(*list), cmp_ctrl_service);
	*out = list;
	return 0;
}

/* The id of the backend of service <svc_id> with <family>/<addr> in <all>, or -ENOENT. */
static int find_be(
	const struct lb_backend *all, __u32 svc_id, __u8 family, const union lb_addr *addr)
{
	int i;

	for (i = 0; i < LB_MAX_REALS; i++)
		if (all[i].family == family && all[i].svc == svc_id &&
			!memcmp(all[i].addr.bytes, addr->bytes, 16))
			return i;
	return -ENOENT;
}

/* CLOCK_REALTIME in whole seconds, the unit of lb_backend.marked_at. */
static __u64 now_realtime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) || ts.tv_sec < 0)
		return 0;
	return (__u64)ts.tv_sec;
}

int ctrl_be_add(
	struct ctrl *c, const struct lb_svc_key *key, const struct lb_backend *be, __u32 *id)
{
	struct lb_backend *all = NULL, b = *be;
	struct lb_svc svc;
	__u32 i;
	int err;

	if (b.family != LB_AF_INET && b.family != LB_AF_INET6)
		return -EINVAL;
	if (b.state == LB_BE_FREE)
		b.state = LB_BE_UP;
	if (b.state >= LB_BE_STATE_MAX || b.marked_by >= LB_MARK_MAX)
		return -EINVAL;
	if (b.marked_by == LB_MARK_NONE)
		b.marked_by = LB_MARK_PINGCTL;
	b.marked_at = now_realtime();
	err = ctrl_lock(c);
	if (err)
		return err;
	err = ctrl_svc_get(c, key, &svc);
	if (err)
		goto out;
	/* No IPv6-in-IPv4: an IPv6 service needs IPv6 backends unless it rewrites MACs only. */
	if (key->family == LB_AF_INET6 && b.family == LB_AF_INET && svc.fwd != LB_FWD_L2) {
		err = -EINVAL;
		goto out;
	}
	all = load_backends(c, &err);
	if (!all)
		goto out;
	if (find_be(all, svc.id, b.family, &b.addr) >= 0) {
		err = -EEXIST;
		goto out;
	}
	for (i = 0; i < LB_MAX_REALS && all[i].family; i++)
		;
	if (i == LB_MAX_REALS) {
		err = -ENOSPC;
		goto out;
	}
	b.svc = svc.id;
	b.vip = (struct lb_svc_ent){.key = *key, .svc = svc};
	err = ctrl_percpu_zero(c, c->fds[CM_BE_STATS], i, sizeof(struct lb_stats));
	if (err)
		goto out;
	/* Stored before the table names it, so no packet finds a free slot. */
	if (bpf_map_update_elem(c->fds[CM_BACKENDS], &i, &b, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	err = ctrl_rebuild(c, svc.id);
	if (err) {
		/* Leave the maps as they were. */
		struct lb_backend none = {};

		(void)bpf_map_update_elem(c->fds[CM_BACKENDS], &i, &none, BPF_ANY);
		(void)ctrl_rebuild(c, svc.id);
		goto out;
	}
	if (id)
		*id = i;
out:
	free(all);
	ctrl_unlock(c);
	return err;
}

/* Store backend <id> as <nb> (previously <ob>) and rebuild service <svc_id> in the order that
 * never lets a new flow pick a backend that is not usable. */
static int be_store(struct ctrl *c, __u32 svc_id, __u32 id, const struct lb_backend *ob,
	const struct lb_backend *nb)
{
	int err;

	if (usable(nb, svc_id) && !usable(ob, svc_id)) {
		if (bpf_map_update_elem(c->fds[CM_BACKENDS], &id, nb, BPF_ANY))
			return -errno;
		return ctrl_rebuild(c, svc_id);
	}
	err = ctrl_rebuild_with(c, svc_id, id, nb);
	if (err)
		return err;
	return bpf_map_update_elem(c->fds[CM_BACKENDS], &id, nb, BPF_ANY) ? -errno : 0;
}

/* With the lock held: find the backend <family>/<addr> of service <key>. On success *<svc> is
 * the service, *<all> a copy of every backend slot (the caller frees it) and the return value
 * the backend's id; otherwise a negative errno and *<all> is NULL. */
static int be_locate(struct ctrl *c, const struct lb_svc_key *key, __u8 family,
	const union lb_addr *addr, struct lb_svc *svc, struct lb_backend **all)
{
	int err, id;

	*all = NULL;
	err = ctrl_svc_get(c, key, svc);
	if (err)
		return err;
	*all = calloc(LB_MAX_REALS, sizeof(**all));
	if (!*all)
		return -ENOMEM;
	err = read_backends(c, *all);
	id = err ? err : find_be(*all, svc->id, family, addr);
	if (id < 0) {
		free(*all);
		*all = NULL;
	}
	return id;
}

int ctrl_be_set(struct ctrl *c, const struct lb_svc_key *key, __u8 family,
	const union lb_addr *addr, long weight, int state)
{
	return ctrl_be_set_marked(c, key, family, addr, weight, state, LB_MARK_PINGCTL);
}

int ctrl_be_set_marked(struct ctrl *c, const struct lb_svc_key *key, __u8 family,
	const union lb_addr *addr, long weight, int state, __u8 marker)
{
	struct lb_backend *all, nb;
	struct lb_svc svc;
	int err, id;

	if (marker == LB_MARK_NONE || marker >= LB_MARK_MAX)
		return -EINVAL;
	if (weight > (long)UINT32_MAX ||
		(state >= 0 && (state == LB_BE_FREE || state >= LB_BE_STATE_MAX)))
		return -EINVAL;
	err = ctrl_lock(c);
	if (err)
		return err;
	id = be_locate(c, key, family, addr, &svc, &all);
	if (id < 0) {
		err = id;
		goto out;
	}
	nb = all[id];
	if (weight >= 0)
		nb.weight = (__u32)weight;
	if (state >= 0 && nb.state != (__u8)state) {
		nb.state = (__u8)state;
		nb.marked_by = marker;
		nb.marked_at = now_realtime();
	}
	err = be_store(c, svc.id, (__u32)id, &all[id], &nb);
out:
	free(all);
	ctrl_unlock(c);
	return err;
}

int ctrl_be_del(
	struct ctrl *c, const struct lb_svc_key *key, __u8 family, const union lb_addr *addr)
{
	struct lb_backend *all, none = {};
	struct lb_svc svc;
	int err, id;

	err = ctrl_lock(c);
	if (err)
		return err;
	id = be_locate(c, key, family, addr, &svc, &all);
	if (id < 0) {
		err = id;
		goto out;
	}
	err = be_store(c, svc.id, (__u32)id, &all[id], &none);
	if (!err)
		err = ctrl_be_stats_retire(c, (__u32)id, svc.id);
out:
	free(all);
	ctrl_unlock(c);
	return err;
}

int ctrl_health_set(struct ctrl *c, const struct lb_svc_key *key, __u8 family,
	const union lb_addr *addr, bool up)
{
	struct lb_backend *all = NULL, nb;
	struct lb_svc svc;
	int err, i, changed = 0;

	err = ctrl_lock(c);
	if (err)
		return err;
	if (key) {
		err = ctrl_svc_get(c, key, &svc);
		if (err)
			goto out;
	}
	all = load_backends(c, &err);
	if (!all)
		goto out;
	for (i = 0; i < LB_MAX_REALS; i++) {
		if (all[i].family != family || memcmp(all[i].addr.bytes, addr->bytes, 16) ||
			(key && all[i].svc != svc.id))
			continue;
		/* Drained backends stay drained whatever their health. */
		if ((up && all[i].state != LB_BE_DOWN) || (!up && all[i].state != LB_BE_UP))
			continue;
		nb = all[i];
		nb.state = up ? LB_BE_UP : LB_BE_DOWN;
		nb.marked_by = LB_MARK_HEALTH;
		nb.marked_at = now_realtime();
		err = be_store(c, nb.svc, (__u32)i, &all[i], &nb);
		if (err)
			goto out;
		changed++;
	}
out:
	free(all);
	ctrl_unlock(c);
	return err ? err : changed;
}

int ctrl_be_list(struct ctrl *c, const struct lb_svc_key *key, struct ctrl_backend **out, size_t *n)
{
	struct lb_backend *all;
	struct ctrl_backend *list = NULL;
	struct lb_svc svc;
	__u32 i;
	int err;

	*n = 0;
	if (key) {
		err = ctrl_svc_get(c, key, &svc);
		if (err)
			return err;
	}
	all = load_backends(c, &err);
	if (!all)
		return err;
	list = calloc(LB_MAX_REALS, sizeof(*list));
	if (!list) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < LB_MAX_REALS; i++) {
		if (!all[i].family || (key && all[i].svc != svc.id))
			continue;
		list[*n].id = i;
		list[*n].be = all[i];
		(*n)++;
	}
	qsort(list, *n, sizeof(*list), cmp_ctrl_backend);
	*out = list;
	list = NULL;
out:
	free(list);
	free(all);
	return err;
}

/* The value at <idx> of the inner map <map_fd> into <val>; 0 or a negative errno. */
static int inner_lookup(int map_fd, __u32 idx, void *val)
{
	return bpf_map_lookup_elem(map_fd, &idx, val) ? -errno : 0;
}

int ctrl_flow_backend(struct ctrl *c, const struct lb_svc_key *key, const struct lb_flow_key *flow,
	bool use_ct, __u32 *be_id, bool *from_ct)
{
	struct lb_ring_point pt;
	struct lb_mg_slot slot;
	struct lb_flow f;
	struct lb_node node;
	struct lb_svc svc;
	__u32 inner_id, h, lo, hi, mid, n;
	int fd, err;

	if (from_ct)
		*from_ct = false;
	err = ctrl_svc_get(c, key, &svc);
	if (!err)
		err = ctrl_node_get(c, &node);
	if (err)
		return err;
	if (use_ct && !ctrl_ct_get(c, flow, &f)) {
		*be_id = f.backend;
		if (from_ct)
			*from_ct = true;
		return 0;
	}
	h = hash_flow(flow, node.hash_seed, svc.flags & LB_SVC_F_HASH_SRC);
	if (bpf_map_lookup_elem(
		    c->fds[svc.algo == LB_ALGO_KETAMA ? CM_RING : CM_MAGLEV], &svc.id, &inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	if (svc.algo != LB_ALGO_KETAMA) {
		err = inner_lookup(fd, hash_slot(h, svc.table_size), &slot);
		*be_id = slot.backend;
		goto out;
	}
	/* The program's search: the first point >= h among entries 1..n, wrapping to 1. */
	err = inner_lookup(fd, 0, &pt);
	if (err)
		goto out;
	n = pt.hash;
	for (lo = 1, hi = n + 1; !err && lo < hi;) {
		mid = lo + (hi - lo) / 2;
		err = inner_lookup(fd, mid, &pt);
		if (pt.hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!err)
		err = inner_lookup(fd, lo > n ? 1 : lo, &pt);
	*be_id = pt.backend;
out:
	close(fd);
	return err;
}
