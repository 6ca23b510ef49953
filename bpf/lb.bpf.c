// SPDX-License-Identifier: GPL-2.0
/* The XDP L4 load balancer: parse, find the service, pick the backend (conntrack, then the
 * Maglev table or ketama ring), encapsulate or rewrite the MAC, send. Only the flow lives
 * here; the steps are in the headers beside it. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/deny.h"
#include "bpf/encap.h"
#include "bpf/fwd.h"
#include "bpf/hash.h"
#include "bpf/icmp.h"
#include "bpf/lb_maps.h"
#include "bpf/parse.h"
#include "bpf/sched.h"
#include "bpf/stats.h"

/* Whether <k>, a service's key, is the destination of the flow in <p>: its port or all
 * ports. An IPv4 address is its first word: the others are zero in an IPv4 service's key (it
 * is also looked up in lb_services by the packet's, which the parser leaves zero). */
static __always_inline bool lb_svc_is_dst(const struct lb_svc_key *k, const struct parse_pkt *p)
{
	if (k->family != p->flow.family || k->proto != p->flow.proto ||
		(k->port != p->flow.dport && k->port) || k->addr.v6[0] != p->flow.dst.v6[0])
		return false;
	return p->flow.family == LB_AF_INET ||
	       (k->addr.v6[1] == p->flow.dst.v6[1] && k->addr.v6[2] == p->flow.dst.v6[2] &&
		       k->addr.v6[3] == p->flow.dst.v6[3]);
}

/* The service of the flow in <p>: none when lb_vip_filter says no service has its address.
 * A packet looks for its flow first (*<ct>; a SYN only while the flow guard lets new flows
 * in): a tracked flow's backend carries a copy of its service, checked against the packet's
 * destination, so an established packet makes one hash lookup (its flow) and reads one entry
 * more (its backend, which it needs anyway). Otherwise lb_services: the
 * exact port first, then the all-ports service when <node> says there may be one (a packet to
 * no service then costs at most one hash lookup, not two). */
static __always_inline struct lb_svc *lb_service(const struct parse_pkt *p,
	const struct lb_node *node, const struct lb_flow4_key *k4, struct sched_ct *ct)
{
	__u32 bit = hash_vip_bit(&p->flow.dst), word = bit / 64;
	bool syn = (p->tcp_flags & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN;
	struct lb_svc_key key = {};
	struct lb_vip_word *w;
	struct lb_svc *svc;

	/* A clear bit: no service has this address, on any port (an array read instead of a
	 * hash lookup for the host's own traffic). */
	w = bpf_map_lookup_elem(&lb_vip_filter, &word);
	if (w && !(w->bits & (1ull << (bit % 64))))
		return NULL;
	/* A SYN past the flow guard's limit is not looked up (sched_pick(), which reuses the
	 * guard's answer). */
	if (syn) {
		ct->guard = sched_guard(node, &ct->rate);
		ct->guarded = true;
	}
	if (!syn || !ct->guard || ct->guard->inserts < ct->rate) {
		sched_ct_get(p, k4, node, ct);
		if (ct->f) {
			struct lb_backend *be;
			__u32 id = ct->f->backend;

			/* A SYN opens a new connection: it takes its service from a tracked
			 * 4-tuple only when that is an exact port's, which lb_services would
			 * give it too (an all-ports one may since have been joined by one for
			 * its port). */
			be = bpf_map_lookup_elem(&lb_backends, &id);
			if (be && lb_svc_is_dst(&be->vip.key, p) && be->vip.svc.id == be->svc &&
				(!syn || be->vip.key.port)) {
				ct->be = be;
				ct->be_id = id;
				return &be->vip.svc;
			}
		}
	}
	key.addr = p->flow.dst;
	key.port = p->flow.dport;
	key.proto = p->flow.proto;
	key.family = p->flow.family;
	svc = bpf_map_lookup_elem(&lb_services, &key);
	if (svc || !(node->flags & LB_NODE_F_ALL_PORTS))
		return svc;
	key.port = 0;
	return bpf_map_lookup_elem(&lb_services, &key);
}

/* Forward the parsed packet <p> of <pkt_len> bytes to its backend. */
static __always_inline int lb_forward(struct xdp_md *ctx, struct parse_pkt *p, __u32 pkt_len)
{
	struct sched_ct ct = {};
	struct lb_flow4_key k4 __attribute__((aligned(8)));
	struct fwd_hop hop = {};
	struct lb_backend *be = NULL;
	struct lb_node *node;
	struct lb_svc *svc;
	__u32 zero = 0, be_id, hash = 0;
	bool new_flow;
	int ret;

	node = bpf_map_lookup_elem(&lb_node, &zero);
	if (!node)
		return stats_drop(LB_DROP_INTERNAL);
	lb_flow4_key_of(&k4, &p->flow);
	svc = lb_service(p, node, &k4, &ct);
	if (!svc)
		return stats_pass(p->icmp_err ? LB_PASS_ICMP : LB_PASS_NO_SERVICE);
	if (svc->mode == LB_MODE_L7)
		return stats_pass(LB_PASS_L7);
	ret = sched_pick(p, svc, node, &k4, &ct, &be_id, &new_flow, &be);
	if (ret != LB_CONTINUE)
		return ret;
	if (!be)
		be = bpf_map_lookup_elem(&lb_backends, &be_id);
	if (!be || be->family == 0)
		return stats_drop(LB_DROP_NO_BACKEND);

	if (svc->fwd == LB_FWD_L2) {
		__builtin_memcpy(hop.dmac, be->mac, ETH_ALEN);
		if (!fwd_mac_zero(node->src_mac)) {
			__builtin_memcpy(hop.smac, node->src_mac, ETH_ALEN);
			hop.smac_set = 1;
		}
		hop.ifindex = node->egress_ifindex;
	} else {
		const union lb_addr *src = be->family == LB_AF_INET ? &node->src4 : &node->src6;

		if (be->family == LB_AF_INET && p->flow.family == LB_AF_INET6)
			return stats_drop(LB_DROP_FAMILY);
		/* An IPv4 source is its first word (src4's others are unused). */
		if (be->family == LB_AF_INET ? !src->v4 :
					       !(src->v6[0] | src->v6[1] | src->v6[2] | src->v6[3]))
			return stats_drop(LB_DROP_NO_CONFIG);
		ret = fwd_resolve(ctx, node, be->family, src, &be->addr, &hop);
		if (ret != LB_CONTINUE)
			return ret;
		/* GUE's source port, the IPv6 flow label and the host bits of a prefix of outer
		 * sources come from the flow's hash in the flow tables, which a packet that
		 * looked its flow up has already: a conntrack hit hashes the flow once. */
		if (svc->fwd == LB_FWD_GUE || be->family == LB_AF_INET6 ||
			(node->src4_plen && node->src4_plen < 32))
			hash = ct.looked ? ct.hash : sched_ct_hash(p, &k4, node);
		ret = encap_ip(ctx, p, be, node, hash, svc->fwd == LB_FWD_GUE, &hop);
		if (ret == ENCAP_TOO_BIG)
			return icmp_too_big(ctx, p,
				(node->mtu ? node->mtu : LB_DEFAULT_MTU) -
					encap_len(be->family, svc->fwd == LB_FWD_GUE));
		if (ret != LB_CONTINUE)
			return ret;
	}
	ret = fwd_xmit(ctx, &hop, svc->fwd != LB_FWD_L2);
	if (ret != XDP_DROP)
		stats_fwd(be_id, pkt_len, new_flow);
	return ret;
}

SEC("xdp")
int lb_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct parse_cursor c = {.pos = data, .end = end};
	struct parse_pkt p = {};
	__be16 proto;
	int ret;

	ret = parse_eth(&c, &p, &proto);
	if (ret != LB_CONTINUE)
		return ret;
	if (proto == bpf_htons(ETH_P_IP))
		ret = parse_ipv4(&c, &p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = parse_ipv6(&c, &p);
	else
		return stats_pass(LB_PASS_NOT_IP);
	if (ret != LB_CONTINUE)
		return ret;
	ret = deny_check(&p);
	if (ret != LB_CONTINUE)
		return ret;
	return lb_forward(ctx, &p, end - data);
}

char LICENSE[] SEC("license") = "GPL";
