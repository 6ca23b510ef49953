// SPDX-License-Identifier: GPL-2.0
/* Scale-out: VIP readiness, the drain switch, the announcement table (rtnetlink) and table
 * digests. The announcement is a blackhole route per ready VIP in a routing table no rule
 * points at: it changes no forwarding on this node, needs no tunnel or dummy device, and the
 * routing daemon sees it at once (BIRD's kernel protocol learns alien routes from netlink
 * notifications). */
#include "userspace/ctrl/announce.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <openssl/evp.h>

#include "userspace/ctrl/ctrl-int.h"

int ctrl_node_drain(struct ctrl *c, bool on)
{
	struct lb_node n;
	__u32 zero = 0;
	int err = ctrl_lock(c);

	if (err)
		return err;
	if (bpf_map_lookup_elem(c->fds[CM_NODE], &zero, &n)) {
		err = -errno;
	} else {
		if (on)
			n.flags |= LB_NODE_F_DRAIN;
		else
			n.flags &= (__u8)~LB_NODE_F_DRAIN;
		err = bpf_map_update_elem(c->fds[CM_NODE], &zero, &n, BPF_ANY) ? -errno : 0;
	}
	ctrl_unlock(c);
	return err;
}

int ctrl_node_draining(struct ctrl *c, bool *on)
{
	struct lb_node n;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(c->fds[CM_NODE], &zero, &n))
		return -errno;
	*on = n.flags & LB_NODE_F_DRAIN;
	return 0;
}

bool ctrl_xdp_attached(const char *pin_dir)
{
	struct ctrl_link *v = NULL;
	bool yes = false;
	size_t n = 0;

	if (ctrl_link_list(pin_dir, &v, &n))
		return false;
	for (size_t i = 0; i < n && !yes; i++)
		yes = v[i].kind == CTRL_LINK_XDP && !v[i].severed;
	free(v);
	return yes;
}

const char *ctrl_vip_state_name(enum ctrl_vip_state s)
{
	static const char *const names[CTRL_VIP_STATE_MAX] = {
		[CTRL_VIP_READY] = "ready",
		[CTRL_VIP_DRAINING] = "draining",
		[CTRL_VIP_DETACHED] = "detached",
		[CTRL_VIP_NO_BACKEND] = "no_backend",
		[CTRL_VIP_CHECKING] = "checking",
	};

	return (unsigned int)s < CTRL_VIP_STATE_MAX ? names[s] : "unknown";
}

static int vip_cmp(__u8 fa, const union lb_addr *a, __u8 fb, const union lb_addr *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(a->bytes, b->bytes, fa == LB_AF_INET ? 4 : 16);
}

static int cmp_vip(const void *pa, const void *pb)
{
	const struct ctrl_vip *a = pa, *b = pb;

	return vip_cmp(a->family, &a->addr, b->family, &b->addr);
}

int ctrl_vip_list(struct ctrl *c, struct ctrl_vip **out, size_t *n)
{
	struct ctrl_service *svcs = NULL;
	struct ctrl_backend *bes = NULL;
	struct ctrl_vip *v = NULL;
	size_t ns = 0, nb = 0, cnt = 0;
	bool drain = false, attached;
	int err;

	*out = NULL;
	*n = 0;
	err = ctrl_node_draining(c, &drain);
	if (!err)
		err = ctrl_svc_list(c, &svcs, &ns);
	if (!err)
		err = ctrl_be_list(c, NULL, &bes, &nb);
	if (err)
		goto out;
	attached = ctrl_xdp_attached(ctrl_pin_dir(c));
	v = calloc(ns + 1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ns; i++) {
		const struct ctrl_service *s = &svcs[i];
		bool serving = s->val.mode == LB_MODE_L7;
		size_t j;

		for (j = 0; !serving && j < nb; j++)
			serving = bes[j].be.svc == s->val.id && bes[j].be.state == LB_BE_UP &&
				  bes[j].be.weight > 0;
		for (j = 0; j < cnt; j++)
			if (!vip_cmp(v[j].family, &v[j].addr, s->key.family, &s->key.addr))
				break;
		if (j == cnt) {
			v[cnt].family = s->key.family;
			v[cnt].addr = s->key.addr;
			cnt++;
		}
		v[j].services++;
		v[j].serving += serving;
	}
	for (size_t j = 0; j < cnt; j++) {
		if (drain)
			v[j].state = CTRL_VIP_DRAINING;
		else if (!attached)
			v[j].state = CTRL_VIP_DETACHED;
		else if (!v[j].serving)
			v[j].state = CTRL_VIP_NO_BACKEND;
		else
			v[j].state = CTRL_VIP_READY;
	}
	qsort(v, cnt, sizeof(*v), cmp_vip);
	*out = v;
	*n = cnt;
	v = NULL;
out:
	free(v);
	free(svcs);
	free(bes);
	return err;
}

/* rtnetlink: one request at a time on a fresh socket, acknowledged. */

struct nl_req {
	struct nlmsghdr h;
	struct rtmsg r;
	char attrs[64];
};

static void nl_attr(struct nl_req *q, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	q->h.nlmsg_len = NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int nl_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Send <q> on <fd> and read until its ack or the end of its dump; for a dump, call <fn> with
 * each route message. Returns 0 or the negative errno the kernel answered. */
static int nl_talk(int fd, struct nl_req *q,
	void (*fn)(const struct rtmsg *r, struct rtattr **tb, void *arg), void *arg)
{
	static __u32 seq;
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	q->h.nlmsg_seq = ++seq ? seq : ++seq;
	if (sendto(fd, q, q->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != q->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ? -EPROTO : e->error;
			}
			if (h->nlmsg_type == RTM_NEWROUTE && fn &&
				h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg))) {
				struct rtmsg *r = NLMSG_DATA(h);
				struct rtattr *tb[RTA_MAX + 1] = {0}, *a;
				int alen = (int)RTM_PAYLOAD(h);

				for (a = RTM_RTA(r); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
					if (a->rta_type <= RTA_MAX)
						tb[a->rta_type] = a;
				fn(r, tb, arg);
			}
		}
	}
}

/* A route of pingx's in the table, as a dump finds it. */
struct nl_found {
	__u32 table;
	struct ctrl_vip *have; /* grown array */
	size_t n, cap;
	int err;
};

static void on_route(const struct rtmsg *r, struct rtattr **tb, void *arg)
{
	struct nl_found *f = arg;
	__u32 table = r->rtm_table;
	struct ctrl_vip v = {0};
	size_t alen = r->rtm_family == AF_INET ? 4 : 16;

	if (tb[RTA_TABLE] && RTA_PAYLOAD(tb[RTA_TABLE]) >= sizeof(__u32))
		memcpy(&table, RTA_DATA(tb[RTA_TABLE]), sizeof(table));
	if (table != f->table || r->rtm_protocol != CTRL_ANNOUNCE_PROTO || !tb[RTA_DST] ||
		r->rtm_dst_len != alen * 8 || RTA_PAYLOAD(tb[RTA_DST]) < alen)
		return;
	v.family = r->rtm_family == AF_INET ? LB_AF_INET : LB_AF_INET6;
	memcpy(v.addr.bytes, RTA_DATA(tb[RTA_DST]), alen);
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct ctrl_vip *p = realloc(f->have, cap * sizeof(*p));

		if (!p) {
			f->err = -ENOMEM;
			return;
		}
		f->have = p;
		f->cap = cap;
	}
	f->have[f->n++] = v;
}

/* pingx's routes in <table>, both families. */
static int nl_dump(int fd, struct nl_found *f)
{
	static const unsigned char fams[] = {AF_INET, AF_INET6};
	int err = 0;

	for (size_t i = 0; i < sizeof(fams) && !err; i++) {
		struct nl_req q = {
			.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
				.nlmsg_type = RTM_GETROUTE,
				.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
			.r = {.rtm_family = fams[i]},
		};

		err = nl_talk(fd, &q, on_route, f);
		if (!err)
			err = f->err;
	}
	return err;
}

/* Add or remove the route of <v> in <table>. */
static int nl_route(int fd, __u32 table, const struct ctrl_vip *v, bool add)
{
	struct nl_req q = {
		.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
			.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
				       (add ? NLM_F_CREATE | NLM_F_REPLACE : 0)},
		.r = {.rtm_family = v->family == LB_AF_INET ? AF_INET : AF_INET6,
			.rtm_dst_len = v->family == LB_AF_INET ? 32 : 128,
			.rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC,
			.rtm_protocol = CTRL_ANNOUNCE_PROTO,
			.rtm_scope = RT_SCOPE_UNIVERSE,
			.rtm_type = RTN_BLACKHOLE},
	};

	nl_attr(&q, RTA_DST, v->addr.bytes, v->family == LB_AF_INET ? 4 : 16);
	nl_attr(&q, RTA_TABLE, &table, sizeof(table));
	return nl_talk(fd, &q, NULL, NULL);
}

static int find_vip(const struct ctrl_vip *vips, size_t n, const struct ctrl_vip *v)
{
	for (size_t i = 0; i < n; i++)
		if (!vip_cmp(vips[i].family, &vips[i].addr, v->family, &v->addr))
			return (int)i;
	return -1;
}

static int announce(
	__u32 table, struct ctrl_vip *vips, size_t n, bool write, struct ctrl_announce_changes *ch)
{
	struct nl_found f = {.table = table};
	struct ctrl_announce_changes none;
	int fd, err;

	if (!ch)
		ch = &none;
	*ch = (struct ctrl_announce_changes){0};
	if (!table || table == RT_TABLE_MAIN || table == RT_TABLE_LOCAL ||
		table == RT_TABLE_DEFAULT)
		return -EINVAL;
	fd = nl_open();
	if (fd < 0)
		return fd;
	err = nl_dump(fd, &f);
	for (size_t i = 0; i < n && !err; i++) {
		bool have = find_vip(f.have, f.n, &vips[i]) >= 0;
		bool want = vips[i].state == CTRL_VIP_READY;

		vips[i].announced = have;
		if (!write || have == want)
			continue;
		err = nl_route(fd, table, &vips[i], want);
		/* Removed meanwhile by someone else: the goal is reached. */
		if (err == -ESRCH && !want)
			err = 0;
		if (err)
			break;
		vips[i].announced = want;
		if (want)
			ch->added++;
		else
			ch->removed++;
	}
	/* pingx's routes for addresses that are no longer services. */
	for (size_t i = 0; write && i < f.n && !err; i++) {
		if (find_vip(vips, n, &f.have[i]) >= 0)
			continue;
		err = nl_route(fd, table, &f.have[i], false);
		if (err == -ESRCH)
			err = 0;
		else if (!err)
			ch->removed++;
	}
	free(f.have);
	close(fd);
	return err;
}

int ctrl_announce_sync(
	__u32 table, struct ctrl_vip *vips, size_t n, struct ctrl_announce_changes *ch)
{
	return announce(table, vips, n, true, ch);
}

int ctrl_announce_read(__u32 table, struct ctrl_vip *vips, size_t n)
{
	return announce(table, vips, n, false, NULL);
}

/* Digest: each slot or point is named by its backend's address, so node-local ids (the order
 * backends were added in) do not matter. */

struct digest_be {
	__u8 family;
	__u8 pad;
	__be16 port;
	union lb_addr addr;
};

static int digest_ids(struct ctrl *c, __u32 svc_id, struct digest_be **out)
{
	struct ctrl_backend *bes = NULL;
	struct digest_be *map;
	size_t nb = 0;
	int err;

	map = calloc(LB_MAX_REALS, sizeof(*map));
	if (!map)
		return -ENOMEM;
	err = ctrl_be_list(c, NULL, &bes, &nb);
	for (size_t i = 0; !err && i < nb; i++) {
		if (bes[i].id >= LB_MAX_REALS || bes[i].be.svc != svc_id)
			continue;
		map[bes[i].id] = (struct digest_be){
			.family = bes[i].be.family, .port = bes[i].be.port, .addr = bes[i].be.addr};
	}
	free(bes);
	if (err) {
		free(map);
		return err;
	}
	*out = map;
	return 0;
}

/* Read the <entries> values of <vsize> bytes of inner map <fd> into <vals>. */
static int read_inner(int fd, void *vals, __u32 entries, size_t vsize)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 *keys, count = entries, out_batch, i;
	int err = 0;

	keys = calloc(entries, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	if (!bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &count, &bo) ||
		(errno == ENOENT && count == entries))
		goto out;
	for (i = 0; i < entries && !err; i++)
		if (bpf_map_lookup_elem(fd, &i, (char *)vals + i * vsize))
			err = -errno;
out:
	free(keys);
	return err;
}

int ctrl_table_digest(struct ctrl *c, const struct lb_svc_key *key, char out[CTRL_DIGEST_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	struct digest_be *names = NULL;
	struct lb_node node;
	struct lb_svc svc;
	bool ring;
	__u32 inner_id, entries;
	struct bpf_map_info info = {0};
	__u32 info_len = sizeof(info);
	EVP_MD_CTX *md_ctx = NULL;
	void *vals = NULL;
	size_t vsize;
	int fd = -1, err;
	struct {
		__u8 algo, flags;
		__u8 pad[2];
		__u32 table_size, seed, entries;
	} head = {0};

	err = ctrl_svc_get(c, key, &svc);
	if (!err)
		err = ctrl_node_get(c, &node);
	if (err)
		return err;
	ring = svc.algo == LB_ALGO_KETAMA;
	if (bpf_map_lookup_elem(c->fds[ring ? CM_RING : CM_MAGLEV], &svc.id, &inner_id)) {
		if (errno != ENOENT)
			return -errno;
		memcpy(out, "none", 5);
		return 0;
	}
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		err = -errno;
		goto out;
	}
	entries = info.max_entries;
	vsize = ring ? sizeof(struct lb_ring_point) : sizeof(struct lb_mg_slot);
	vals = calloc(entries ? entries : 1, vsize);
	if (!vals) {
		err = -ENOMEM;
		goto out;
	}
	err = read_inner(fd, vals, entries, vsize);
	if (!err)
		err = digest_ids(c, svc.id, &names);
	if (err)
		goto out;
	/* A ring's entry 0 says how many points follow; the rest of the array is unused. */
	if (ring) {
		__u32 pts = ((struct lb_ring_point *)vals)[0].hash;

		entries = pts < entries ? pts + 1 : entries;
	}
	head.algo = svc.algo;
	head.flags = svc.flags & LB_SVC_F_HASH_SRC;
	head.table_size = ring ? 0 : svc.table_size;
	head.seed = node.hash_seed;
	head.entries = entries;
	md_ctx = EVP_MD_CTX_new();
	if (!md_ctx || !EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL) ||
		!EVP_DigestUpdate(md_ctx, &head, sizeof(head))) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 i = ring ? 1 : 0; i < entries; i++) {
		__u32 id = ring ? ((struct lb_ring_point *)vals)[i].backend :
				  ((struct lb_mg_slot *)vals)[i].backend;
		struct digest_be none = {0};
		const struct digest_be *b = id < LB_MAX_REALS ? &names[id] : &none;

		if (ring && !EVP_DigestUpdate(md_ctx, &((struct lb_ring_point *)vals)[i].hash,
				    sizeof(__u32))) {
			err = -ENOMEM;
			goto out;
		}
		if (!EVP_DigestUpdate(md_ctx, b, sizeof(*b))) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(md_ctx, md, NULL)) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < (CTRL_DIGEST_LEN - 1) / 2; i++) {
		static const char hex[] = "0123456789abcdef";

		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[CTRL_DIGEST_LEN - 1] = '\0';
out:
	EVP_MD_CTX_free(md_ctx);
	free(names);
	free(vals);
	if (fd >= 0)
		close(fd);
	return err;
}
