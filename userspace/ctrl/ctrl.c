// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: opening or creating the pinned maps, the ABI check, the pin
 * directory lock, per-node settings, stats and conntrack. */
#include "userspace/ctrl/ctrl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/hash.h"
#include "bpf/lb.skel.h"
#include "maglev/maglev.h"
#include "userspace/ctrl/ctrl-int.h"
#include "userspace/ctrl/flowtab.h"

const char *const ctrl_map_names[CM_MAX] = {
	[CM_META] = "lb_meta",
	[CM_NODE] = "lb_node",
	[CM_SERVICES] = "lb_services",
	[CM_BACKENDS] = "lb_backends",
	[CM_MAGLEV] = "lb_maglev",
	[CM_RING] = "lb_ring",
	[CM_CONNTRACK] = "lb_conntrack",
	[CM_CONNTRACK4] = "lb_conntrack4",
	[CM_SVC_BY_ID] = "lb_svc_by_id",
	[CM_SVC_STATS] = "lb_svc_stats",
	[CM_BE_STATS] = "lb_be_stats",
	[CM_REASONS] = "lb_reasons",
	[CM_TX_PORTS] = "lb_tx_ports",
	[CM_GUARD] = "lb_guard",
	[CM_VIP_FILTER] = "lb_vip_filter",
	[CM_DENY] = "lb_deny",
	[CM_DENY_PLENS] = "lb_deny_plens",
	[CM_DENY_FILTER] = "lb_deny_filter",
	[CM_DENY_LAST] = "lb_deny_last",
	[CM_SRC_RATE] = "lb_src_rate",
	[CM_SRC_BUCKET] = "lb_src_bucket",
};

static const char *const reason_names[LB_REASON_MAX] = {
	[LB_FWD_TX] = "fwd_tx",
	[LB_FWD_REDIRECT] = "fwd_redirect",
	[LB_PASS_NOT_IP] = "pass_not_ip",
	[LB_PASS_VLAN_DEPTH] = "pass_vlan_depth",
	[LB_PASS_NOT_L4] = "pass_not_l4",
	[LB_PASS_FRAGMENT] = "pass_fragment",
	[LB_PASS_IPV6_EXT] = "pass_ipv6_ext",
	[LB_PASS_NO_SERVICE] = "pass_no_service",
	[LB_PASS_L7] = "pass_l7",
	[LB_PASS_ICMP] = "pass_icmp",
	[LB_DROP_TRUNCATED] = "drop_truncated",
	[LB_DROP_MALFORMED] = "drop_malformed",
	[LB_DROP_NO_BACKEND] = "drop_no_backend",
	[LB_DROP_FAMILY] = "drop_family",
	[LB_DROP_NO_CONFIG] = "drop_no_config",
	[LB_DROP_TOO_BIG] = "drop_too_big",
	[LB_DROP_ADJUST] = "drop_adjust",
	[LB_DROP_NO_ROUTE] = "drop_no_route",
	[LB_DROP_NO_TX_PORT] = "drop_no_tx_port",
	[LB_DROP_INTERNAL] = "drop_internal",
	[LB_DROP_DENY_ADMIN] = "drop_deny_admin",
	[LB_DROP_DENY_LIMIT] = "drop_deny_limit",
	[LB_DROP_SRC_RATE] = "drop_src_rate",
	[LB_REPLY_TOO_BIG] = "reply_too_big",
};

const char *ctrl_reason_name(unsigned int r)
{
	return r < LB_REASON_MAX && reason_names[r] ? reason_names[r] : "unknown";
}

int ctrl_bpffs_ensure(const char *path)
{
	size_t mnt_len = strlen(PINGX_BPF_DIR_MNT);
	struct statfs st;

	if (strncmp(path, PINGX_BPF_DIR_MNT, mnt_len) || (path[mnt_len] && path[mnt_len] != '/'))
		return 0;
	if (statfs(PINGX_BPF_DIR_MNT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", PINGX_BPF_DIR_MNT, "bpf", 0, "mode=0700"))
		return -errno;
	return 1;
}

int ctrl_mkdir_p(const char *dir)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) && errno != EEXIST ? -errno : 0;
}

int ctrl_reuse_devmap(struct bpf_map *m, const char *pin_dir)
{
	char path[PATH_MAX];
	int fd, err;

	/* libbpf 1.1 refuses to reuse a pinned DEVMAP: the kernel adds BPF_F_RDONLY_PROG to its
	 * flags and the comparison fails. Hand libbpf the pinned map ourselves. */
	snprintf(path, sizeof(path), "%s/lb_tx_ports", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	err = bpf_map__reuse_fd(m, fd);
	close(fd);
	return err;
}

struct lb_bpf *ctrl_load_lb(const char *pin_dir, bool with_prog)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	struct lb_bpf *skel;
	int err;

	skel = lb_bpf__open_opts(&oo);
	if (!skel)
		return NULL;
	if (!with_prog)
		bpf_program__set_autoload(skel->progs.lb_xdp, false);
	err = ctrl_reuse_devmap(skel->maps.lb_tx_ports, pin_dir);
	if (err)
		goto err;
	err = lb_bpf__load(skel);
	if (err)
		goto err;
	return skel;
err:
	lb_bpf__destroy(skel);
	errno = err < 0 ? -err : err;
	return NULL;
}

/* Open every pinned map of <c>. Returns -ENOENT when one is missing. */
static int open_maps(struct ctrl *c)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < CM_MAX; i++) {
		if (c->fds[i] >= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->pin_dir, ctrl_map_names[i]);
		c->fds[i] = bpf_obj_get(path);
		if (c->fds[i] < 0)
			return -errno;
	}
	return 0;
}

/* Find the BTF of the maps so that inner tables get named types in `bpftool map dump`. Best
 * effort: without it the tables print as hex. */
static void load_btf(struct ctrl *c)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct btf *btf;
	int id;

	if (bpf_obj_get_info_by_fd(c->fds[CM_BACKENDS], &info, &len) || !info.btf_id)
		return;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return;
	id = btf__find_by_name_kind(btf, "__u32", BTF_KIND_TYPEDEF);
	c->btf_u32 = id > 0 ? (__u32)id : 0;
	id = btf__find_by_name_kind(btf, "lb_mg_slot", BTF_KIND_STRUCT);
	c->btf_mg_slot = id > 0 ? (__u32)id : 0;
	id = btf__find_by_name_kind(btf, "lb_ring_point", BTF_KIND_STRUCT);
	c->btf_ring_point = id > 0 ? (__u32)id : 0;
	btf__free(btf);
	if (c->btf_u32 && c->btf_mg_slot && c->btf_ring_point)
		c->btf_fd = bpf_btf_get_fd_by_id(info.btf_id);
}

struct ctrl *ctrl_open(const char *pin_dir, unsigned int flags)
{
	struct lb_meta meta = {};
	struct ctrl *c;
	__u32 zero = 0;
	int err, i;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->dir_fd = -1;
	c->btf_fd = -1;
	for (i = 0; i < CM_MAX; i++)
		c->fds[i] = -1;
	c->pin_dir = strdup(pin_dir);
	if (!c->pin_dir) {
		err = -ENOMEM;
		goto err;
	}
	c->ncpu = libbpf_num_possible_cpus();
	if (c->ncpu <= 0) {
		err = c->ncpu ? c->ncpu : -EINVAL;
		goto err;
	}
	if (flags & CTRL_F_CREATE) {
		err = ctrl_bpffs_ensure(pin_dir);
		if (err < 0)
			goto err;
		err = ctrl_mkdir_p(pin_dir);
		if (err)
			goto err;
	}
	c->dir_fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0) {
		err = -errno;
		goto err;
	}
	err = ctrl_lock(c);
	if (err)
		goto err;
	err = open_maps(c);
	if (err == -ENOENT && (flags & CTRL_F_CREATE)) {
		struct lb_bpf *skel = ctrl_load_lb(pin_dir, false);

		if (!skel) {
			err = -errno;
			goto err_unlock;
		}
		lb_bpf__destroy(skel);
		err = open_maps(c);
	}
	if (err)
		goto err_unlock;
	err = bpf_map_lookup_elem(c->fds[CM_META], &zero, &meta) ? -errno : 0;
	if (err)
		goto err_unlock;
	if (meta.abi_version == 0 && (flags & CTRL_F_CREATE)) {
		/* New maps: the flow tables' seed, kept for their life (node_write()). */
		struct lb_node n = {};

		if (getrandom(&n.ct_seed, sizeof(n.ct_seed), 0) != sizeof(n.ct_seed)) {
			err = errno ? -errno : -EIO;
			goto err_unlock;
		}
		if (bpf_map_update_elem(c->fds[CM_NODE], &zero, &n, BPF_ANY)) {
			err = -errno;
			goto err_unlock;
		}
		meta.abi_version = LB_ABI_VERSION;
		if (bpf_map_update_elem(c->fds[CM_META], &zero, &meta, BPF_ANY)) {
			err = -errno;
			goto err_unlock;
		}
	}
	c->abi = meta.abi_version;
	if (c->abi != LB_ABI_VERSION) {
		err = -EPROTO;
		goto err_unlock;
	}
	load_btf(c);
	ctrl_unlock(c);
	return c;
err_unlock:
	ctrl_unlock(c);
err:
	ctrl_close(c);
	errno = -err;
	return NULL;
}

void ctrl_close(struct ctrl *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < CM_MAX; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	if (c->btf_fd >= 0)
		close(c->btf_fd);
	if (c->dir_fd >= 0)
		close(c->dir_fd); /* also drops a lock left held */
	maglev_free(c->mg);
	free(c->pin_dir);
	free(c);
}

const char *ctrl_pin_dir(const struct ctrl *c)
{
	return c->pin_dir;
}

__u32 ctrl_abi_version(const struct ctrl *c)
{
	return c->abi;
}

int ctrl_map_fd(const struct ctrl *c, const char *name)
{
	int i;

	for (i = 0; i < CM_MAX; i++)
		if (!strcmp(ctrl_map_names[i], name))
			return c->fds[i];
	return -ENOENT;
}

int ctrl_lock(struct ctrl *c)
{
	if (c->lock_depth++)
		return 0;
	/* Blocks until the holder (another pingctl, pingd) finishes its change. */
	while (flock(c->dir_fd, LOCK_EX)) {
		if (errno != EINTR) {
			c->lock_depth--;
			return -errno;
		}
	}
	return 0;
}

void ctrl_unlock(struct ctrl *c)
{
	if (c->lock_depth <= 0 || --c->lock_depth)
		return;
	/* Cannot fail on a valid descriptor we locked; nothing useful to do if it did. */
	(void)flock(c->dir_fd, LOCK_UN);
}

int ctrl_node_get(struct ctrl *c, struct lb_node *n)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(c->fds[CM_NODE], &zero, n))
		return -errno;
	/* The library's own flags and the flow tables' seed: not settings, so callers comparing
	 * settings never see them. */
	n->flags &= (__u8) ~(LB_NODE_F_ALL_PORTS | LB_NODE_F_DRAIN);
	n->ct_seed = 0;
	return 0;
}

/* True when lb_services holds a service with port 0. */
static bool any_all_ports(struct ctrl *c)
{
	struct lb_svc_key k, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(c->fds[CM_SERVICES], prev, &next)) {
		if (!next.port)
			return true;
		k = next;
		prev = &k;
	}
	return false;
}

/* Write <n> with LB_NODE_F_ALL_PORTS set from the services, and LB_NODE_F_DRAIN (which
 * ctrl_node_drain() owns) and the flow tables' seed kept as stored; the caller holds the
 * lock. */
static int node_write(struct ctrl *c, const struct lb_node *n)
{
	struct lb_node v = *n, cur;
	__u32 zero = 0;

	v.flags &= (__u8) ~(LB_NODE_F_ALL_PORTS | LB_NODE_F_DRAIN);
	if (any_all_ports(c))
		v.flags |= LB_NODE_F_ALL_PORTS;
	if (bpf_map_lookup_elem(c->fds[CM_NODE], &zero, &cur))
		return -errno;
	v.flags |= cur.flags & LB_NODE_F_DRAIN;
	v.ct_seed = cur.ct_seed;
	return bpf_map_update_elem(c->fds[CM_NODE], &zero, &v, BPF_ANY) ? -errno : 0;
}

int ctrl_node_set(struct ctrl *c, const struct lb_node *n)
{
	int err = ctrl_lock(c);

	if (err)
		return err;
	err = node_write(c, n);
	ctrl_unlock(c);
	return err;
}

int ctrl_all_ports_sync(struct ctrl *c)
{
	struct lb_node n;
	int err;

	err = ctrl_node_get(c, &n);
	return err ? err : node_write(c, &n);
}

int ctrl_vip_filter_add(struct ctrl *c, const union lb_addr *a)
{
	__u32 bit = hash_vip_bit(a), w = bit / 64;
	struct lb_vip_word v;

	if (bpf_map_lookup_elem(c->fds[CM_VIP_FILTER], &w, &v))
		return -errno;
	v.bits |= 1ull << (bit % 64);
	return bpf_map_update_elem(c->fds[CM_VIP_FILTER], &w, &v, BPF_ANY) ? -errno : 0;
}

int ctrl_vip_filter_sync(struct ctrl *c)
{
	struct lb_svc_key k, next;
	struct lb_vip_word *want, cur;
	void *prev = NULL;
	__u32 w, bit;
	int err = 0;

	want = calloc(LB_VIP_FILTER_WORDS, sizeof(*want));
	if (!want)
		return -ENOMEM;
	while (!bpf_map_get_next_key(c->fds[CM_SERVICES], prev, &next)) {
		bit = hash_vip_bit(&next.addr);
		want[bit / 64].bits |= 1ull << (bit % 64);
		k = next;
		prev = &k;
	}
	/* Only changed words are written: each write is one word, so a packet sees every
	 * service still present either way. */
	for (w = 0; w < LB_VIP_FILTER_WORDS && !err; w++) {
		if (bpf_map_lookup_elem(c->fds[CM_VIP_FILTER], &w, &cur))
			err = -errno;
		else if (cur.bits != want[w].bits &&
			 bpf_map_update_elem(c->fds[CM_VIP_FILTER], &w, &want[w], BPF_ANY))
			err = -errno;
	}
	free(want);
	return err;
}

int ctrl_percpu_sum(struct ctrl *c, int map, __u32 key, size_t words, __u64 *out)
{
	__u64 *vals;
	size_t cpu, w;
	int err = 0;

	vals = calloc((size_t)c->ncpu * words, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(out, 0, words * sizeof(*out));
	if (bpf_map_lookup_elem(map, &key, vals)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < (size_t)c->ncpu; cpu++)
		for (w = 0; w < words; w++)
			out[w] += vals[cpu * words + w];
out:
	free(vals);
	return err;
}

int ctrl_percpu_zero(struct ctrl *c, int map, __u32 key, size_t value_size)
{
	/* Per-CPU values are laid out in 8-byte rounded slots, one per possible CPU. */
	void *zero = calloc((size_t)c->ncpu, (value_size + 7) & ~(size_t)7);
	int err;

	if (!zero)
		return -ENOMEM;
	err = bpf_map_update_elem(map, &key, zero, BPF_ANY) ? -errno : 0;
	free(zero);
	return err;
}

int ctrl_stats_be(struct ctrl *c, __u32 be_id, struct lb_stats *out)
{
	return ctrl_percpu_sum(c, c->fds[CM_BE_STATS], be_id, 3, (__u64 *)out);
}

/* The packets of every lb_be_stats slot, over all CPUs, into *<out>. */
static int be_packets(struct ctrl *c, __u64 *out)
{
	size_t slot = 3 * sizeof(__u64), per = (size_t)c->ncpu * slot, n, i;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 count = LB_MAX_REALS, out_batch, k, *keys;
	__u64 *vals;
	int err = 0;

	*out = 0;
	keys = calloc(LB_MAX_REALS, sizeof(*keys));
	vals = calloc(LB_MAX_REALS, per);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	if (!bpf_map_lookup_batch(c->fds[CM_BE_STATS], NULL, &out_batch, keys, vals, &count, &bo) ||
		(errno == ENOENT && count == LB_MAX_REALS)) {
		n = count;
	} else {
		/* No batch operations: one lookup per slot. */
		for (k = 0; k < LB_MAX_REALS; k++)
			if (bpf_map_lookup_elem(c->fds[CM_BE_STATS], &k, (char *)vals + k * per)) {
				err = -errno;
				goto out;
			}
		n = LB_MAX_REALS;
	}
	for (i = 0; i < n * (size_t)c->ncpu; i++)
		*out += vals[i * 3]; /* packets: the first word of each CPU's lb_stats */
out:
	free(keys);
	free(vals);
	return err;
}

int ctrl_stats_reasons(struct ctrl *c, __u64 *out)
{
	__u64 be;
	__u32 r;
	int err;

	for (r = 0; r < LB_REASON_MAX; r++) {
		err = ctrl_percpu_sum(c, c->fds[CM_REASONS], r, 1, &out[r]);
		if (err)
			return err;
	}
	/* The data plane counts a forwarded packet only for its backend: fwd_tx is what the
	 * backends forwarded (the live ones in lb_be_stats, the deleted ones in the reason's own
	 * counter) less what went out through a redirect. */
	err = be_packets(c, &be);
	if (err)
		return err;
	out[LB_FWD_TX] += be;
	out[LB_FWD_TX] = out[LB_FWD_TX] > out[LB_FWD_REDIRECT] ?
				 out[LB_FWD_TX] - out[LB_FWD_REDIRECT] :
				 0;
	return 0;
}

int ctrl_be_stats_retire(struct ctrl *c, __u32 be_id, __u32 svc_id)
{
	size_t n = (size_t)c->ncpu, i;
	__u64 *be, *svc, *tx;
	__u32 r = LB_FWD_TX;
	int err = 0;

	be = calloc(n, 3 * sizeof(*be));
	svc = calloc(n, 3 * sizeof(*svc));
	tx = calloc(n, sizeof(*tx));
	if (!be || !svc || !tx) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(c->fds[CM_BE_STATS], &be_id, be) ||
		bpf_map_lookup_elem(c->fds[CM_SVC_STATS], &svc_id, svc) ||
		bpf_map_lookup_elem(c->fds[CM_REASONS], &r, tx)) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < n; i++) {
		svc[i * 3] += be[i * 3];
		svc[i * 3 + 1] += be[i * 3 + 1];
		svc[i * 3 + 2] += be[i * 3 + 2];
		tx[i] += be[i * 3];
	}
	if (bpf_map_update_elem(c->fds[CM_SVC_STATS], &svc_id, svc, BPF_ANY) ||
		bpf_map_update_elem(c->fds[CM_REASONS], &r, tx, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	err = ctrl_percpu_zero(c, c->fds[CM_BE_STATS], be_id, sizeof(struct lb_stats));
out:
	free(be);
	free(svc);
	free(tx);
	return err;
}

int ctrl_stats_guard(struct ctrl *c, struct lb_guard *out)
{
	return ctrl_percpu_sum(c, c->fds[CM_GUARD], 0, 3, (__u64 *)out);
}

struct ct_collect {
	size_t max, n, cap;
	struct ctrl_flow *list; /* NULL: count only */
};

static int ct_collect_one(const struct lb_flow_key *k, const struct lb_flow *val, void *arg)
{
	struct ct_collect *cc = arg;

	if (cc->n >= cc->max)
		return 1;
	if (cc->list) {
		if (cc->n == cc->cap) {
			struct ctrl_flow *bigger = realloc(cc->list, 2 * cc->cap * sizeof(*bigger));

			if (!bigger)
				return -ENOMEM;
			cc->list = bigger;
			cc->cap *= 2;
		}
		cc->list[cc->n].key = *k;
		cc->list[cc->n].val = *val;
	}
	cc->n++;
	return 0;
}

/* The flow tables of <c>, with the seed lb_node holds, into *<t>. */
static int ct_tables(struct ctrl *c, struct flowtab *t)
{
	struct lb_node n;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(c->fds[CM_NODE], &zero, &n))
		return -errno;
	*t = (struct flowtab){.fd4 = c->fds[CM_CONNTRACK4], .fd6 = c->fds[CM_CONNTRACK],
		.seed = n.ct_seed};
	return 0;
}

int ctrl_ct_count(struct ctrl *c, size_t max, size_t *n)
{
	struct ct_collect cc = {.max = max};
	struct flowtab t;
	int err = ct_tables(c, &t);

	if (!err)
		err = flowtab_walk(&t, ct_collect_one, &cc);
	*n = cc.n;
	return err < 0 ? err : 0;
}

int ctrl_ct_list(struct ctrl *c, size_t max, struct ctrl_flow **out, size_t *n)
{
	struct ct_collect cc = {.max = max, .cap = 64};
	struct flowtab t;
	int err;

	*out = NULL;
	*n = 0;
	err = ct_tables(c, &t);
	if (err)
		return err;
	cc.list = malloc(cc.cap * sizeof(*cc.list));
	if (!cc.list)
		return -ENOMEM;
	err = flowtab_walk(&t, ct_collect_one, &cc);
	if (err < 0) {
		free(cc.list);
		return err;
	}
	*out = cc.list;
	*n = cc.n;
	return 0;
}

int ctrl_ct_get(struct ctrl *c, const struct lb_flow_key *k, struct lb_flow *val)
{
	struct flowtab t;
	int err = ct_tables(c, &t);

	return err ? err : flowtab_get(&t, k, val);
}

int ctrl_ct_put(struct ctrl *c, const struct lb_flow_key *k, const struct lb_flow *val)
{
	struct flowtab t;
	int err = ct_tables(c, &t);

	return err ? err : flowtab_put(&t, k, val, true);
}

int ctrl_ct_flush(struct ctrl *c)
{
	struct flowtab t;
	int err = ct_tables(c, &t);

	return err ? err : flowtab_clear(&t);
}

int ctrl_destroy(const char *pin_dir)
{
	char path[PATH_MAX];
	int i, err = 0;

	for (i = 0; i < CM_MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, ctrl_map_names[i]);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	snprintf(path, sizeof(path), "%s/lb_decap_stats", pin_dir);
	if (unlink(path) && errno != ENOENT)
		err = -errno;
	if (rmdir(pin_dir) && errno != ENOENT)
		err = -errno; /* ENOTEMPTY: links still pinned */
	return err;
}
