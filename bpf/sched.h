/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: backend choice. The flow table keeps an established flow on its backend while
 * that backend is usable; a new flow takes the slot of its hash in the service's Maglev table
 * or the first point at or after its hash on the service's ketama ring, and is recorded while
 * the per-CPU flow guard allows. */
#ifndef BPF_SCHED_H
#define BPF_SCHED_H

#include <bpf/bpf_core_read.h>

#include "bpf/hash.h"
#include "bpf/parse.h"

#define SCHED_NS_PER_S 1000000000ull
/* Refresh a UDP flow's last_seen at most once a second: fewer writes to a shared entry. */
#define SCHED_UDP_REFRESH SCHED_NS_PER_S
#define SCHED_NONE	  0xffffffffu
/* Past the flow guard's rate, the refused flows between two reads of the clock (a power of
 * two). */
#define SCHED_GUARD_CLOCK_EVERY 64

/* The backend id for hash <h> in the Maglev table of <svc>, or SCHED_NONE. */
static __always_inline __u32 sched_maglev(const struct lb_svc *svc, __u32 h)
{
	struct lb_mg_slot *slot;
	__u32 id = svc->id, idx;
	void *table;

	/* Never true: the type ids make clang keep the full lb_mg_slot and lb_ring_point in the
	 * object's BTF (it emits only forward declarations for types reached through an outer
	 * map's values), so that the control plane can type the inner maps it creates. */
	if (!bpf_core_type_id_local(struct lb_mg_slot) ||
		!bpf_core_type_id_local(struct lb_ring_point))
		return SCHED_NONE;
	table = bpf_map_lookup_elem(&lb_maglev, &id);
	if (!table || !svc->table_size)
		return SCHED_NONE;
	idx = hash_slot(h, svc->table_size);
	slot = bpf_map_lookup_elem(table, &idx);
	return slot ? slot->backend : SCHED_NONE;
}

/* The backend id of the first point >= <h> (wrapping) on the ketama ring of <svc>, or
 * SCHED_NONE. A binary search of at most LB_RING_SEARCH_STEPS lookups. */
static __always_inline __u32 sched_ketama(const struct lb_svc *svc, __u32 h)
{
	struct lb_ring_point *pt;
	__u32 id = svc->id, lo = 1, hi, mid, n, i;
	void *ring;

	ring = bpf_map_lookup_elem(&lb_ring, &id);
	if (!ring)
		return SCHED_NONE;
	mid = 0;
	pt = bpf_map_lookup_elem(ring, &mid);
	if (!pt)
		return SCHED_NONE;
	n = pt->hash;
	if (!n || n > LB_RING_MAX_POINTS)
		return SCHED_NONE;
	hi = n + 1;
	/* Search [lo, hi) for the first point >= h; the count bound satisfies the verifier. */
	for (i = 0; i < LB_RING_SEARCH_STEPS && lo < hi; i++) {
		mid = lo + (hi - lo) / 2;
		pt = bpf_map_lookup_elem(ring, &mid);
		if (!pt)
			return SCHED_NONE;
		if (pt->hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > n)
		lo = 1;
	pt = bpf_map_lookup_elem(ring, &lo);
	return pt ? pt->backend : SCHED_NONE;
}

/* True when backend <be> may keep a flow of service <svc_id>: it still belongs to the
 * service and is up or draining. */
static __always_inline bool sched_keeps(const struct lb_backend *be, __u32 svc_id)
{
	return be->svc == svc_id && (be->state == LB_BE_UP || be->state == LB_BE_DRAIN);
}

/* True when conntrack entry <f> of a flow with <proto> has expired; reads the clock into
 * *<now> only when the answer depends on it (an open TCP flow never expires). */
static __always_inline bool sched_expired(
	const struct lb_flow *f, __u8 proto, __u64 *now, const struct lb_node *node)
{
	__u64 ttl;

	if (f->flags & LB_FLOW_F_FIN)
		ttl = LB_FIN_TIMEOUT * SCHED_NS_PER_S;
	else if (proto == IPPROTO_UDP)
		ttl = (node->udp_timeout ? node->udp_timeout : LB_DEFAULT_UDP_TIMEOUT) *
		      SCHED_NS_PER_S;
	else
		return false;
	*now = bpf_ktime_get_ns();
	return *now - f->last_seen > ttl;
}

/* The flow guard of this CPU, or NULL when the node runs without one. *<rate> is the node's
 * limit: new conntrack entries per second per CPU. Past it, a new flow goes to the backend of
 * its hash without an entry: a SYN flood then costs no table writes and evicts no
 * established flow. The window is restarted lazily, when its count has reached the rate and
 * it has ended: below the rate the answer cannot depend on the clock, which is not read (a
 * flow found in the table, or a new one in a quiet second, costs no clock read). The count
 * then runs from the last restart, at most a second before the window's end, so no second
 * sees more than the rate. */
static __always_inline struct lb_guard *sched_guard(const struct lb_node *node, __u32 *rate)
{
	struct lb_guard *g;
	__u32 zero = 0;
	__u64 now;

	*rate = node->flow_rate ? node->flow_rate : LB_DEFAULT_FLOW_RATE;
	if (*rate == LB_FLOW_RATE_OFF)
		return NULL;
	g = bpf_map_lookup_elem(&lb_guard, &zero);
	if (!g || g->inserts < *rate)
		return g;
	/* Past the rate, every flow that asks is refused (refused++): one in
	 * SCHED_GUARD_CLOCK_EVERY reads the clock, so that a flood pays for no clock read per SYN
	 * and a window restarts at most that many refused flows late. */
	if (g->refused & (SCHED_GUARD_CLOCK_EVERY - 1))
		return g;
	/* The coarse clock (tick resolution) is plenty for a one-second window and much
	 * cheaper than bpf_ktime_get_ns() under a hypervisor's clock source. */
	now = bpf_ktime_get_coarse_ns();
	/* Per-CPU value, softirq: no other writer. */
	if (now >= g->window_end) {
		g->window_end = now + SCHED_NS_PER_S;
		g->inserts = 0;
	}
	return g;
}

/* What lb_service() learnt before the service was known, handed on to sched_pick() so that it
 * is not repeated: the flow-table lookup (a non-SYN packet's, or a SYN's while the flow guard
 * lets new flows in) and, for a SYN, the flow guard. */
struct sched_ct {
	struct lb_flow *f;	/* the flow's entry, or NULL */
	__u8 *proto;		/* and its slot's key proto (0 frees the slot) */
	void *set;		/* the flow's set in its family's table (NULL: none) */
	struct lb_backend *be;	/* the entry's backend, when the service was found through it */
	__u32 be_id;		/* and that backend's id */
	__u32 hash;		/* hash_ct() of the flow */
	struct lb_guard *guard; /* a SYN's sched_guard() (NULL: no guard), when <guarded> */
	__u32 rate;		/* and its rate */
	bool looked;		/* f, proto, set and hash hold the lookup's answer */
	bool guarded;		/* guard and rate hold sched_guard()'s answer */
};

/* The per-source new-flow guard of <svc>: LB_CONTINUE when the source of <p> may open a new
 * flow now (its bucket pays for it), else a counted drop. One array read when the service has
 * no guard. The bucket is shared by the source's CPUs; two CPUs racing on it may both pass on
 * the last token, which costs a flow too many, never a legitimate one. */
static __always_inline int sched_src_guard(const struct parse_pkt *p, const struct lb_svc *svc)
{
	struct lb_src_key key = {};
	struct lb_src_bucket *b, nb;
	struct lb_src_rate *r;
	__u32 id = svc->id;
	__u64 now, t, tau;

	r = bpf_map_lookup_elem(&lb_src_rate, &id);
	if (!r || !r->rate)
		return LB_CONTINUE;
	key.svc = id;
	key.family = p->flow.family;
	key.addr = p->flow.src;
	t = SCHED_NS_PER_S / r->rate;
	tau = (__u64)r->burst * t;
	now = bpf_ktime_get_ns();
	b = bpf_map_lookup_elem(&lb_src_bucket, &key);
	if (!b) {
		/* A new source: its bucket is full, this flow takes one token. Failure to insert
		 * (out of memory) lets the flow through unmetered. */
		nb.tat = now + t;
		(void)bpf_map_update_elem(&lb_src_bucket, &key, &nb, BPF_ANY);
		return LB_CONTINUE;
	}
	if (b->tat > now + tau)
		return stats_drop(LB_DROP_SRC_RATE);
	b->tat = (b->tat > now ? b->tat : now) + t;
	return LB_CONTINUE;
}

/* 1 when <x> is 0, else 0, without a branch: clang would turn a comparison into one, and a
 * way index known to the verifier on each branch would have it walk the rest of the program
 * once per way. */
static __always_inline __u32 sched_is_zero(__u64 x)
{
	__u64 t = x | -x;

	asm volatile("" : "+r"(t));
	return (__u32)(t >> 63) ^ 1;
}

/* The lowest way in the non-zero way mask <m>, without a branch. */
static __always_inline __u32 sched_first_way(__u32 m)
{
	__u32 b = m & -m; /* 1, 2, 4 or 8 */

	return ((b >> 1) - (b >> 3)) & (LB_FLOW_WAYS - 1);
}

/* The set of table <map> for hash <h>, into <set> and <ct>; returns from the caller when the
 * lookup fails. */
#define SCHED_CT_SET(map, h, set, ct)                                                       \
	do {                                                                                \
		__u32 idx_ = hash_ct_set(h);                                                \
		(ct)->hash = (h);                                                           \
		set = bpf_map_lookup_elem(&(map), &idx_);                                   \
		if (!set)                                                                   \
			return;                                                             \
		(ct)->set = set;                                                            \
	} while (0)

/* The slot of <set> (lb_flow4_set or lb_flow6_set) of the lowest way in match mask <m>: its
 * flow into <f> and its key's proto into <ct>; returns from the caller when <m> is 0. */
#define SCHED_CT_TAKE(set, m, ct, f)                                                        \
	do {                                                                                \
		__u32 w_;                                                                   \
		if (!(m))                                                                   \
			return;                                                             \
		w_ = sched_first_way(m);                                                    \
		f = &(set)->way[w_].flow;                                                   \
		(ct)->proto = &(set)->way[w_].key.proto;                                    \
	} while (0)

/* hash_ct() of the flow of <p> (<k4>: its lb_conntrack4 form when IPv4) under <node>'s
 * ct_seed, for a packet that did not look its flow up (sched_ct_get() leaves it in <ct>). */
static __always_inline __u32 sched_ct_hash(
	const struct parse_pkt *p, const struct lb_flow4_key *k4, const struct lb_node *node)
{
	const __u64 *k = (const __u64 *)k4;

	if (p->flow.family == LB_AF_INET)
		return hash_ct4_words(k[0], k[1], node->ct_seed);
	return hash_ct6_words((const __u64 *)&p->flow, node->ct_seed);
}

/* Look the flow of <p> (<k4>: its lb_conntrack4 form when IPv4) up in its family's table,
 * hashed under <node>'s ct_seed: fills <ct>'s f, proto, set and hash. A slot holds the flow
 * when its key is the flow's, word by word, and its check matches the key's hash and the
 * slot's backend. Every way's key is compared, without a branch, into a mask; the first
 * match's check is verified. */
static __always_inline void sched_ct_get(const struct parse_pkt *p, const struct lb_flow4_key *k4,
	const struct lb_node *node, struct sched_ct *ct)
{
	__u64 seed = node->ct_seed;
	struct lb_flow *f;
	__u32 h, m = 0;
	int i;

	ct->looked = true;
	ct->f = NULL;
	ct->set = NULL;
	if (p->flow.family == LB_AF_INET) {
		const __u64 *k = (const __u64 *)k4;
		struct lb_flow4_set *set;
		__u64 k0 = k[0], k1 = k[1];

		h = hash_ct4_words(k0, k1, seed);
		SCHED_CT_SET(lb_conntrack4, h, set, ct);
#pragma unroll
		for (i = 0; i < LB_FLOW_WAYS; i++) {
			const __u64 *sk = (const __u64 *)&set->way[i].key;

			m |= sched_is_zero((sk[0] ^ k0) | (sk[1] ^ k1)) << i;
		}
		SCHED_CT_TAKE(set, m, ct, f);
	} else {
		const __u64 *k = (const __u64 *)&p->flow;
		struct lb_flow6_set *set;

		h = hash_ct6_words(k, seed);
		SCHED_CT_SET(lb_conntrack, h, set, ct);
#pragma unroll
		for (i = 0; i < LB_FLOW_WAYS; i++) {
			const __u64 *sk = (const __u64 *)&set->way[i].key;

			m |= sched_is_zero((sk[0] ^ k[0]) | (sk[1] ^ k[1]) | (sk[2] ^ k[2]) |
				(sk[3] ^ k[3]) | (sk[4] ^ k[4]))
			     << i;
		}
		SCHED_CT_TAKE(set, m, ct, f);
	}
	/* A slot torn by two writers, or read while written, fails its check: no entry. */
	if (f->check == hash_ct_check(h, f->backend))
		ct->f = f;
}

/* The way of <set> (lb_flow4_set or lb_flow6_set) a new flow of hash <h> takes, into <w>: a
 * free one, else one not seen again since it was stored; else every slot's LB_FLOW_F_REF is
 * cleared and the hash picks one. */
#define SCHED_CT_VICTIM(set, h, w)                                                          \
	do {                                                                                \
		__u32 free_ = 0, cold_ = 0;                                                 \
		int i_;                                                                     \
		_Pragma("unroll") for (i_ = 0; i_ < LB_FLOW_WAYS; i_++)                     \
		{                                                                           \
			free_ |= sched_is_zero((set)->way[i_].key.proto) << i_;             \
			cold_ |= sched_is_zero((set)->way[i_].flow.flags & LB_FLOW_F_REF)   \
				 << i_;                                                     \
		}                                                                           \
		if (free_) {                                                                \
			w = sched_first_way(free_);                                         \
		} else if (cold_) {                                                         \
			w = sched_first_way(cold_);                                         \
		} else {                                                                    \
			_Pragma("unroll") for (i_ = 0; i_ < LB_FLOW_WAYS; i_++)             \
				(set)->way[i_].flow.flags &= ~LB_FLOW_F_REF;                \
			w = ((h) >> 30) & (LB_FLOW_WAYS - 1);                               \
		}                                                                           \
	} while (0)

/* Store new flow <f> of <p> (<k4>: its lb_conntrack4 form when IPv4) in the set <ct> found.
 * The key and state go first and the check last, so that a reader meanwhile sees no entry. */
static __always_inline void sched_ct_put(const struct parse_pkt *p, const struct lb_flow4_key *k4,
	const struct sched_ct *ct, const struct lb_flow *f)
{
	__u32 h = ct->hash, w;
	struct lb_flow *dst;

	if (!ct->set)
		return;
	if (p->flow.family == LB_AF_INET) {
		struct lb_flow4_set *set = ct->set;
		struct lb_flow4_slot *s;

		SCHED_CT_VICTIM(set, h, w);
		s = &set->way[w];
		s->key = *k4;
		dst = &s->flow;
	} else {
		struct lb_flow6_set *set = ct->set;
		struct lb_flow6_slot *s;

		SCHED_CT_VICTIM(set, h, w);
		s = &set->way[w];
		s->key = p->flow;
		dst = &s->flow;
	}
	dst->last_seen = f->last_seen;
	dst->backend = f->backend;
	dst->flags = f->flags;
	asm volatile("" ::: "memory");
	dst->check = hash_ct_check(h, f->backend);
}

/* The backend of the flow in <p> for service <svc>. Sets *<be_id>, *<new_flow> (the table
 * chose it), *<bep> (the backend's entry when conntrack chose it and it was read already,
 * or the table chose the backend conntrack had, and it was read already, else NULL) and
 * returns LB_CONTINUE, or returns a counted verdict. A conntrack hit costs no hashing of the
 * flow beyond its table's. A TCP SYN
 * always consults the table (a new connection, maybe reusing a 4-tuple); an RST removes the
 * flow after this packet; a FIN starts its expiry. ICMP errors follow the flow but never
 * create one. New entries are subject to the flow guard (sched_guard()). */
static __always_inline int sched_pick(struct parse_pkt *p, const struct lb_svc *svc,
	const struct lb_node *node, const struct lb_flow4_key *k4, struct sched_ct *ct,
	__u32 *be_id, bool *new_flow, struct lb_backend **bep)
{
	bool syn = (p->tcp_flags & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN;
	struct lb_flow *f = NULL, nf = {};
	struct lb_guard *guard = NULL;
	struct lb_backend *be;
	__u32 id, hash, rate = 0;
	__u64 now = 0;

	/* A SYN past the guard's limit is not looked up either: it takes the table's backend
	 * and leaves conntrack as it is (a retransmitted SYN keeps its entry unchanged). */
	if (syn) {
		int ret = sched_src_guard(p, svc);

		if (ret != LB_CONTINUE)
			return ret;
		if (ct->guarded) {
			guard = ct->guard;
			rate = ct->rate;
		} else {
			guard = sched_guard(node, &rate);
		}
		if (guard && guard->inserts >= rate)
			goto table;
	}
	if (!ct->looked)
		sched_ct_get(p, k4, node, ct);
	f = ct->f;
	/* A UDP packet without an entry opens a flow (ICMP errors never do). */
	if (!f && p->flow.proto == IPPROTO_UDP && !p->icmp_err) {
		int ret = sched_src_guard(p, svc);

		if (ret != LB_CONTINUE)
			return ret;
	}
	if (f && !syn) {
		id = f->backend;
		be = ct->be ? ct->be : bpf_map_lookup_elem(&lb_backends, &id);
		if (be && sched_keeps(be, svc->id) &&
			!sched_expired(f, p->flow.proto, &now, node)) {
			if (!(f->flags & LB_FLOW_F_REF))
				f->flags |= LB_FLOW_F_REF;
			if (p->tcp_flags & TCP_F_RST) {
				*ct->proto = 0; /* frees the slot */
			} else if ((p->tcp_flags & TCP_F_FIN) && !(f->flags & LB_FLOW_F_FIN)) {
				f->flags |= LB_FLOW_F_FIN;
				f->last_seen = bpf_ktime_get_ns();
			} else if (p->flow.proto == IPPROTO_UDP &&
				   now - f->last_seen > SCHED_UDP_REFRESH) {
				f->last_seen = now;
			}
			*be_id = id;
			*new_flow = false;
			*bep = be;
			return LB_CONTINUE;
		}
	}
table:
	hash = hash_flow(&p->flow, node->hash_seed, svc->flags & LB_SVC_F_HASH_SRC);
	if (svc->algo == LB_ALGO_KETAMA)
		id = sched_ketama(svc, hash);
	else
		id = sched_maglev(svc, hash);
	if (id == SCHED_NONE)
		return stats_drop(LB_DROP_NO_BACKEND);
	*be_id = id;
	/* A tracked flow's SYN whose slot names its backend already: that entry was read. */
	if (ct->be && ct->be_id == id)
		*bep = ct->be;
	*new_flow = !p->icmp_err;
	if (p->icmp_err)
		return LB_CONTINUE;
	if (p->tcp_flags & TCP_F_RST) {
		if (f)
			*ct->proto = 0;
		return LB_CONTINUE;
	}
	/* Only a new entry counts against the guard; rewriting one in place evicts nothing. */
	if (!f) {
		if (!syn)
			guard = sched_guard(node, &rate);
		if (guard && guard->inserts >= rate) {
			guard->refused++; /* per-CPU, softirq */
			return LB_CONTINUE;
		}
		if (guard)
			guard->inserts++;
	}
	nf.backend = id;
	/* Only UDP and closing TCP flows expire, so only they need the clock. */
	if (p->flow.proto == IPPROTO_UDP || (p->tcp_flags & TCP_F_FIN))
		nf.last_seen = now ? now : bpf_ktime_get_ns();
	if (p->tcp_flags & TCP_F_FIN)
		nf.flags = LB_FLOW_F_FIN;
	if (f) {
		/* A SYN reusing a tracked 4-tuple, or an entry whose backend is gone or that
		 * expired: rewrite it in place, the check after the backend. Only changed fields
		 * are written, so an unchanged entry's cache line stays clean; each field is
		 * written whole. */
		nf.flags |= LB_FLOW_F_REF;
		if (f->backend != nf.backend) {
			f->backend = nf.backend;
			asm volatile("" ::: "memory");
			f->check = hash_ct_check(ct->hash, nf.backend);
		}
		if (f->flags != nf.flags)
			f->flags = nf.flags;
		if (nf.last_seen)
			f->last_seen = nf.last_seen;
		return LB_CONTINUE;
	}
	sched_ct_put(p, k4, ct, &nf);
	return LB_CONTINUE;
}

#endif /* BPF_SCHED_H */
