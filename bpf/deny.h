/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: the deny check. A packet whose source lies in a prefix of lb_deny is dropped and
 * counted under the entry's reason, before any service lookup. lb_deny holds exact prefixes
 * (an LRU hash, which an LPM trie cannot be); lb_deny_plens lists the lengths in use, so a
 * packet tries those only, none while the map is empty, and lb_deny_filter (a bit per entry)
 * spares it the hash lookup of a length whose bit is clear. */
#ifndef BPF_DENY_H
#define BPF_DENY_H

#include "bpf/lb_maps.h"
/* hash.h needs lb_abi.h first. */
#include "bpf/hash.h"
#include "bpf/parse.h"
#include "bpf/stats.h"

/* <a> (network order) with the bits past <plen> cleared, <words> 32-bit words of it. */
static __always_inline void deny_mask(union lb_addr *out, const union lb_addr *a, __u32 plen,
	int words)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 bits = plen > (__u32)i * 32 ? plen - (__u32)i * 32 : 0;
		__u32 m = bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0;

		out->v6[i] = i < words ? a->v6[i] & bpf_htonl(m) : 0;
	}
}

/* The drop verdict of an entry of <reason>, counted. */
static __always_inline int deny_drop(__u8 reason)
{
	return stats_drop(reason == LB_DENY_LIMIT ? LB_DROP_DENY_LIMIT : LB_DROP_DENY_ADMIN);
}

/* Whether <src> of <words> words lies in the prefix cached in <last>. */
static __always_inline bool deny_last_match(
	const struct lb_deny_last *last, const union lb_addr *src, int words)
{
	union lb_addr m;
	int i;

	deny_mask(&m, src, last->key.plen, words);
#pragma unroll
	for (i = 0; i < 4; i++)
		if (m.v6[i] != last->key.addr.v6[i])
			return false;
	return true;
}

/* Drop the packet <p> when its source is denied: XDP_DROP (counted) or LB_CONTINUE. */
static __always_inline int deny_check(const struct parse_pkt *p)
{
	struct lb_deny_key key = {};
	struct lb_deny_last *last;
	struct lb_deny_plens *pl;
	struct lb_deny_word *w;
	const __u8 *lens;
	struct lb_deny *d;
	__u32 zero = 0, n, bit, word;
	__u64 now = 0;
	int i, words;

	/* An ICMP error's flow is the quoted one: its sender is a router, not the client. */
	if (p->icmp_err)
		return LB_CONTINUE;
	pl = bpf_map_lookup_elem(&lb_deny_plens, &zero);
	if (!pl)
		return LB_CONTINUE;
	if (p->flow.family == LB_AF_INET) {
		n = pl->n4;
		lens = pl->v4;
		words = 1;
	} else {
		n = pl->n6;
		lens = pl->v6;
		words = 4;
	}
	if (!n)
		return LB_CONTINUE;
	/* A flood comes from few prefixes: this CPU's last match first. Per-CPU value,
	 * softirq: no other writer. */
	last = bpf_map_lookup_elem(&lb_deny_last, &zero);
	if (last && last->gen == pl->gen && last->key.family == p->flow.family &&
		deny_last_match(last, &p->flow.src, words)) {
		if (!last->expires || last->expires > (now = bpf_ktime_get_coarse_ns())) {
			last->packets++;
			return deny_drop(last->reason);
		}
	}
	key.family = p->flow.family;
	/* Bounded by LB_DENY_MAX_PLENS (the array's size), which the verifier needs to see. */
	for (i = 0; i < LB_DENY_MAX_PLENS; i++) {
		if ((__u32)i >= n)
			break;
		key.plen = lens[i];
		deny_mask(&key.addr, &p->flow.src, key.plen, words);
		bit = hash_deny_bit(&key.addr, key.plen);
		word = bit / 64;
		/* An array read (inlined by the verifier) instead of a hash lookup for most
		 * prefixes that are not denied. */
		w = bpf_map_lookup_elem(&lb_deny_filter, &word);
		if (w && !(w->bits & (1ull << (bit % 64))))
			continue;
		d = bpf_map_lookup_elem(&lb_deny, &key);
		if (!d)
			continue;
		if (!now)
			now = bpf_ktime_get_coarse_ns();
		if (d->expires && d->expires <= now) {
			/* Expired: out of the way now rather than when the LRU gets to it. */
			bpf_map_delete_elem(&lb_deny, &key);
			continue;
		}
		/* Shared entry, any CPU: a lost increment costs a count, never a packet. */
		d->packets++;
		if (last) {
			/* The replaced prefix's drops go to its entry, if it still has one. */
			if (last->packets && last->gen == pl->gen) {
				struct lb_deny *old = bpf_map_lookup_elem(&lb_deny, &last->key);

				if (old)
					old->packets += last->packets;
			}
			last->key = key;
			last->gen = pl->gen;
			last->expires = d->expires;
			last->reason = d->reason;
			last->packets = 0;
		}
		return deny_drop(d->reason);
	}
	return LB_CONTINUE;
}

#endif /* BPF_DENY_H */
