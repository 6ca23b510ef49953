/* SPDX-License-Identifier: GPL-2.0 */
/* The seeded flow hash, shared by the BPF program and userspace (pingctl hash, tests) so both
 * compute the same backend. Includes nothing: include lb_abi.h and the __u32 types first.
 * Words are the flow key's bytes loaded in host order, as the program loads them. */
#ifndef BPF_HASH_H
#define BPF_HASH_H

#ifdef __bpf__
#define HASH_INLINE static __always_inline
#else
#define HASH_INLINE static inline
#endif

#define HASH_INITVAL 0xdeadbeefu

HASH_INLINE __u32 hash_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

/* Bob Jenkins' lookup3 final mix of three words, as the kernel's jhash_3words(). */
HASH_INLINE __u32 hash_3words(__u32 a, __u32 b, __u32 c, __u32 seed)
{
	a += HASH_INITVAL;
	b += HASH_INITVAL;
	c += seed;
	c ^= b;
	c -= hash_rol32(b, 14);
	a ^= c;
	a -= hash_rol32(c, 11);
	b ^= a;
	b -= hash_rol32(a, 25);
	c ^= b;
	c -= hash_rol32(b, 16);
	a ^= c;
	a -= hash_rol32(c, 4);
	b ^= a;
	b -= hash_rol32(a, 14);
	c ^= b;
	c -= hash_rol32(b, 24);
	return c;
}

/* Fold an address to one word: IPv4 is itself (the other words are zero). */
HASH_INLINE __u32 hash_addr(const union lb_addr *a)
{
	return a->v6[0] ^ a->v6[1] ^ a->v6[2] ^ a->v6[3];
}

/* The lb_vip_filter bit of service address <a>: its words folded, as loaded in host order
 * (the program and the control plane run on the same host). */
HASH_INLINE __u32 hash_vip_bit(const union lb_addr *a)
{
	__u32 w = hash_addr(a);

	w ^= w >> 16;
	return w & (LB_VIP_FILTER_BITS - 1);
}

/* The lb_deny_filter bit of deny prefix <a>/<plen> (<a> with the bits past <plen> cleared):
 * the address folded, the length mixed in, then Fibonacci hashing (a multiply and a shift:
 * this runs for every packet while lb_deny is in use). */
HASH_INLINE __u32 hash_deny_bit(const union lb_addr *a, __u32 plen)
{
	__u32 w = hash_addr(a) ^ (plen * 0x85ebca6bu);

	return (w * 0x9e3779b1u) >> (32 - LB_DENY_FILTER_SHIFT);
}

/* The hash of flow <k> with <seed>. With <src_only>, only the source address counts, so every
 * connection of a client lands on the same backend. */
HASH_INLINE __u32 hash_flow(const struct lb_flow_key *k, __u32 seed, int src_only)
{
	__u32 ports;

	if (src_only)
		return hash_3words(hash_addr(&k->src), 0, 0, seed);
	ports = ((__u32)k->sport << 16) | k->dport;
	return hash_3words(hash_addr(&k->src), hash_addr(&k->dst), ports, seed ^ k->proto);
}

/* The slot of flow hash <h> in a Maglev table of <m> slots: the hash scaled to [0, m) by a
 * multiply and a shift (Lemire's range reduction) instead of h % m, a division on every
 * packet that consults the table. The jhash's high bits are as uniform as its low ones, so
 * the slots stay evenly hit. */
HASH_INLINE __u32 hash_slot(__u32 h, __u32 m)
{
	return (__u32)(((__u64)h * m) >> 32);
}

/* The flow tables' hash: each 8-byte word of the stored key (lb_flow4_key or lb_flow_key, as
 * loaded on this host) times its own odd constant, the products xored, then a multiply-xorshift
 * finaliser: a few multiplies instead of a jhash's 30-odd dependent steps on every packet.
 * <seed> is the node's ct_seed, random and secret, xored into the products before the
 * finaliser (after them, so that its load is off the multiplies' path): a sender cannot
 * compute which set a flow lands in, and so cannot aim its flows at one set. It is not the
 * node's hash_seed (which chooses backends and is the same on every node), so that a tracked
 * flow keeps its set whatever hash_seed becomes. The encapsulation takes its per-flow bits
 * (outer source, GUE source port, IPv6 flow label) from it too: an established packet has it
 * from its lookup. */
HASH_INLINE __u32 hash_ct_fin(__u64 x)
{
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (__u32)(x >> 32);
}

/* hash_ct() of an IPv4 flow from the two words of its lb_conntrack4 form. */
HASH_INLINE __u32 hash_ct4_words(__u64 w0, __u64 w1, __u64 seed)
{
	return hash_ct_fin((w0 * 0x9e3779b97f4a7c15ull) ^ (w1 * 0xc2b2ae3d27d4eb4full) ^ seed);
}

/* hash_ct() of an IPv6 flow from the five words of its lb_flow_key. */
HASH_INLINE __u32 hash_ct6_words(const __u64 *w, __u64 seed)
{
	return hash_ct_fin((w[0] * 0x9e3779b97f4a7c15ull) ^ (w[1] * 0xc2b2ae3d27d4eb4full) ^
			   (w[2] * 0x165667b19e3779f9ull) ^ (w[3] * 0xd6e8feb86659fd93ull) ^
			   (w[4] * 0xff51afd7ed558ccdull) ^ seed);
}

#ifndef __bpf__
/* The flow-table hash of flow <k> (either family) under the node's ct_seed <seed>: its set is
 * the low bits (hash_ct_set()), its slot's check comes from the high ones (hash_ct_check()).
 * Userspace only: the program hashes the words it has loaded already. */
HASH_INLINE __u32 hash_ct(const struct lb_flow_key *k, __u64 seed)
{
	__u64 w[5];

	if (k->family == LB_AF_INET) {
		struct lb_flow4_key k4;

		lb_flow4_key_of(&k4, k);
		__builtin_memcpy(w, &k4, sizeof(k4));
		return hash_ct4_words(w[0], w[1], seed);
	}
	__builtin_memcpy(w, k, sizeof(*k));
	return hash_ct6_words(w, seed);
}
#endif

HASH_INLINE __u32 hash_ct_set(__u32 h)
{
	return h & (LB_FLOW_SETS - 1);
}

/* The check of a slot holding the flow of hash <h> with <backend>: its bits are independent of
 * the set's. The multiplier is odd, so two backend ids below 65536 never give one check. */
HASH_INLINE __u16 hash_ct_check(__u32 h, __u32 backend)
{
	return (__u16)((h >> 16) ^ (backend * 0x9e37u));
}

#endif /* BPF_HASH_H */
