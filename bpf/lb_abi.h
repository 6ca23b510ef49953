/* SPDX-License-Identifier: GPL-2.0 */
/* The ABI between the XDP data plane and userspace: map keys and values, enums, limits.
 * Includes nothing: the includer supplies __u8..__u64, __be16 and __be32 (vmlinux.h in BPF
 * code, <linux/types.h> in userspace). Bump LB_ABI_VERSION on every layout change. */
#ifndef BPF_LB_ABI_H
#define BPF_LB_ABI_H

/* Held by the one entry of lb_meta; pingctl and pingd refuse maps with another version. */
#define LB_ABI_VERSION 13

/* Limits that size maps. The build may override them; maglev/ and ctrl see the same values. */
#ifndef LB_MAX_VIPS
#define LB_MAX_VIPS 512 /* services (VIP, port, protocol) */
#endif
#ifndef LB_MAX_REALS
#define LB_MAX_REALS 4096 /* backends, over all services */
#endif
#ifndef LB_MAX_FLOWS
#define LB_MAX_FLOWS 131072 /* flow-table entries, in each of lb_conntrack4 and lb_conntrack */
#endif
#ifndef LB_DEFAULT_TABLE_SIZE
#define LB_DEFAULT_TABLE_SIZE 65537 /* Maglev M; a prime, as MAGLEV_DEFAULT_SIZE */
#endif
#ifndef LB_MAX_TABLE_SIZE
#define LB_MAX_TABLE_SIZE 1000003 /* largest Maglev M, as MAGLEV_MAX_SIZE */
#endif
#ifndef LB_RING_MAX_POINTS
#define LB_RING_MAX_POINTS 65536 /* ketama points per service */
#endif
/* Bits of lb_vip_filter (a power of two), in 64-bit words. */
#define LB_VIP_FILTER_BITS  65536
#define LB_VIP_FILTER_WORDS (LB_VIP_FILTER_BITS / 64)
/* Binary search steps over LB_RING_MAX_POINTS points: ceil(log2(65536 + 1)). */
#define LB_RING_SEARCH_STEPS 17

/* Deny entries (source prefixes), and distinct prefix lengths per family among them: each
 * length in use costs a non-denied packet one hash lookup. */
#ifndef LB_MAX_DENY
#define LB_MAX_DENY 65536
#endif
#define LB_DENY_MAX_PLENS 8
/* lb_deny_filter: 2^LB_DENY_FILTER_SHIFT bits, one set per lb_deny entry, so that a packet
 * whose prefix has a clear bit skips the hash lookup (1 in 64 false positives at 16,384
 * entries). */
#define LB_DENY_FILTER_SHIFT 20
#define LB_DENY_FILTER_WORDS ((1u << LB_DENY_FILTER_SHIFT) / 64)

/* Sources tracked by the per-source new-flow guard, over all services. */
#ifndef LB_MAX_SRC_BUCKETS
#define LB_MAX_SRC_BUCKETS 65536
#endif
#define LB_SRC_RATE_MAX	 10000000u /* lb_src_rate.rate bound (new flows per second) */
#define LB_SRC_BURST_MAX 1000000u  /* lb_src_rate.burst bound */

/* Address families, equal to AF_INET / AF_INET6 (which vmlinux.h does not define). */
#define LB_AF_INET  2
#define LB_AF_INET6 10

/* Defaults for per-node settings left at 0 in lb_node. */
#define LB_DEFAULT_MTU	       1500 /* egress MTU in bytes */
#define LB_DEFAULT_GUE_PORT    6080 /* GUE destination port (host order) */
#define LB_DEFAULT_UDP_TIMEOUT 30   /* seconds a UDP flow stays pinned without packets */
#define LB_FIN_TIMEOUT	       10   /* seconds a TCP flow stays pinned after FIN */
/* New conntrack entries per second and per CPU that the flow guard lets in; past it, a new
 * flow is forwarded by its hash without an entry (none is evicted for it). */
#define LB_DEFAULT_FLOW_RATE 125000
#define LB_FLOW_RATE_OFF     0xffffffffu /* lb_node.flow_rate: no guard */

/* An IPv4 or IPv6 address in network order. IPv4 uses v4 with the other 12 bytes zero. The
 * byte view makes `bpftool map dump` readable. */
union lb_addr {
	__be32 v4;
	__be32 v6[4];
	__u8 bytes[16];
};
_Static_assert(sizeof(union lb_addr) == 16, "lb_addr size");

/* How a service's packets are handled. */
enum lb_mode {
	LB_MODE_L4 = 0, /* forward in XDP to a backend */
	LB_MODE_L7,	/* XDP_PASS to the local stack, where pingd listens */
	LB_MODE_MAX	/* must stay last */
};

/* How a service picks a backend for a new flow. */
enum lb_algo {
	LB_ALGO_MAGLEV = 0, /* slot hash % M of the service's lb_maglev table */
	LB_ALGO_KETAMA,	    /* first point >= hash on the service's lb_ring */
	LB_ALGO_MAX	    /* must stay last */
};

/* How a packet reaches its backend. */
enum lb_fwd {
	LB_FWD_IPIP = 0, /* IPv4-in-IPv4, IPv6-in-IPv6 or IPv4-in-IPv6 (by backend family) */
	LB_FWD_GUE,	 /* outer IP + UDP to lb_node.gue_port, then the inner IP packet */
	LB_FWD_L2,	 /* direct server return: rewrite the destination MAC only */
	LB_FWD_MAX	 /* must stay last */
};

/* A backend's state, written by pingctl (operator) or pingd (health checks). */
enum lb_be_state {
	LB_BE_FREE = 0, /* slot unused */
	LB_BE_UP,	/* usable: new flows and established ones */
	LB_BE_DRAIN,	/* keeps established flows, gets no new ones */
	LB_BE_DOWN,	/* established flows move to other backends */
	LB_BE_STATE_MAX /* must stay last */
};

/* Who last changed a backend's state (lb_backend.marked_by). */
enum lb_be_marker {
	LB_MARK_NONE = 0, /* never changed since the slot was written without a marker */
	LB_MARK_PINGCTL,  /* pingctl backend add/set */
	LB_MARK_HEALTH,	  /* pingd's health checker */
	LB_MARK_RESTORE,  /* pingctl restore/apply of a configuration */
	LB_MARK_MAX	  /* must stay last */
};

/* lb_svc.flags */
#define LB_SVC_F_HASH_SRC 0x01 /* hash the source address only (client affinity) */

/* lb_node.flags */
#define LB_NODE_F_GW_MAC 0x01 /* next hop is gw_mac; otherwise bpf_fib_lookup() */
/* Some service has port 0, so a packet that matches no exact port looks for one. Kept by the
 * control plane: set with the first all-ports service, cleared with the last, kept by writes
 * of the node settings. */
#define LB_NODE_F_ALL_PORTS 0x02
/* The node is drained: it withdraws the announcements of its VIPs (pingctl node drain). Kept
 * by the control plane across writes of the node settings; the data plane forwards as usual,
 * so flows the routers still send here keep their backends. */
#define LB_NODE_F_DRAIN 0x04

/* Why a packet was passed, dropped or forwarded: the index into lb_reasons. */
enum lb_reason {
	LB_FWD_TX = 0,	    /* forwarded with XDP_TX; not written by the data plane: the
			     * control plane reads it as the packets of lb_be_stats, plus what
			     * it holds (those of deleted backends), minus LB_FWD_REDIRECT */
	LB_FWD_REDIRECT,    /* forwarded through lb_tx_ports */
	LB_PASS_NOT_IP,	    /* neither IPv4 nor IPv6 (ARP, LLDP, ...) */
	LB_PASS_VLAN_DEPTH, /* more VLAN tags than LB_MAX_VLAN_DEPTH */
	LB_PASS_NOT_L4,	    /* IP but not TCP, UDP or ICMP */
	LB_PASS_FRAGMENT,   /* an IPv4 or IPv6 fragment: the stack reassembles */
	LB_PASS_IPV6_EXT,   /* IPv6 extension headers before the L4 header */
	LB_PASS_NO_SERVICE, /* destination is not a service */
	LB_PASS_L7,	    /* an l7 service: to the local stack */
	LB_PASS_ICMP,	    /* ICMP that is not an error about a service's flow */
	LB_DROP_TRUNCATED,  /* a header runs past the end of the packet */
	LB_DROP_MALFORMED,  /* bad IP version, header length or total length */
	LB_DROP_NO_BACKEND, /* the service has no table or the slot no backend */
	LB_DROP_FAMILY,	    /* IPv6 service with an IPv4 backend (no 6-in-4) */
	LB_DROP_NO_CONFIG,  /* lb_node lacks the outer source address */
	LB_DROP_TOO_BIG,    /* too big once encapsulated, and no ICMP error allowed (IPv4
			     * without DF, or itself an ICMP error) */
	LB_DROP_ADJUST,	    /* bpf_xdp_adjust_head() failed */
	LB_DROP_NO_ROUTE,   /* bpf_fib_lookup() found no route or neighbour */
	LB_DROP_NO_TX_PORT, /* egress interface missing from lb_tx_ports */
	LB_DROP_INTERNAL,   /* a lookup that cannot fail failed */
	LB_REPLY_TOO_BIG,   /* too big once encapsulated: answered with ICMP "fragmentation
			     * needed" or ICMPv6 "packet too big" (XDP_TX) */
	LB_DROP_DENY_ADMIN, /* the source is in lb_deny, added by an operator */
	LB_DROP_DENY_LIMIT, /* the source is in lb_deny, pushed by pingd's rate limits */
	LB_DROP_SRC_RATE,   /* a new flow over its source's rate for the service (lb_src_rate) */
	LB_REASON_MAX	    /* must stay last */
};

/* Who put an entry into lb_deny: the reason its drops are counted under. */
enum lb_deny_reason {
	LB_DENY_ADMIN = 0, /* pingctl deny add */
	LB_DENY_LIMIT,	   /* pingd: a client far over a rate limit for long */
	LB_DENY_REASON_MAX /* must stay last */
};

/* lb_meta value: one entry, written by the control plane when it creates the maps. */
struct lb_meta {
	__u32 abi_version; /* LB_ABI_VERSION of the maps' layout */
	__u32 pad;
};
_Static_assert(sizeof(struct lb_meta) == 8, "lb_meta size");

/* lb_node value: one entry of per-node settings, written by pingctl. */
struct lb_node {
	union lb_addr src4;   /* outer IPv4 source (v4 only), network order */
	union lb_addr src6;   /* outer IPv6 source, network order */
	__u8 gw_mac[6];	      /* next-hop MAC with LB_NODE_F_GW_MAC */
	__u8 src_mac[6];      /* source MAC on redirect; zero = the received dst MAC */
	__u32 egress_ifindex; /* 0: XDP_TX; else redirect via lb_tx_ports to this ifindex */
	__u32 mtu;	      /* egress MTU, bytes; 0 = LB_DEFAULT_MTU */
	__u32 hash_seed;      /* seed of the flow hash; same on every node of a cluster */
	__u32 udp_timeout;    /* seconds; 0 = LB_DEFAULT_UDP_TIMEOUT */
	__be16 gue_port;      /* GUE destination port, network order; 0 = default */
	__u8 flags;	      /* LB_NODE_F_*; LB_NODE_F_ALL_PORTS is the control plane's */
	__u8 pad;
	__u32 flow_rate;      /* new conntrack entries per second per CPU; 0 =
			       * LB_DEFAULT_FLOW_RATE, LB_FLOW_RATE_OFF = unlimited */
	__u8 src4_plen;	      /* outer IPv4 sources: src4's first src4_plen bits, the rest
			       * from the flow hash; 0 or 32 = src4 itself */
	__u8 src6_plen;	      /* the same for src6 (at most its last 32 bits vary); 0 or 128 =
			       * src6 itself */
	__u8 pad2[2];
	__u64 ct_seed; /* the flow tables' hash seed: random, chosen when the maps are created
			* and kept by every later write of the node (the control plane's) */
};
_Static_assert(sizeof(struct lb_node) == 80, "lb_node size");

/* lb_services key: a service. Port 0 matches every port of the address and protocol. */
struct lb_svc_key {
	union lb_addr addr; /* VIP, network order */
	__be16 port;	    /* network order; 0 = all ports */
	__u8 proto;	    /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;	    /* LB_AF_INET or LB_AF_INET6 */
};
_Static_assert(sizeof(struct lb_svc_key) == 20, "lb_svc_key size");

/* lb_services value, written by pingctl. */
struct lb_svc {
	__u32 id;	  /* index into lb_maglev, lb_ring, lb_svc_stats; < LB_MAX_VIPS */
	__u32 table_size; /* Maglev M (a prime), fixed for the life of the service */
	__u8 mode;	  /* enum lb_mode */
	__u8 algo;	  /* enum lb_algo */
	__u8 fwd;	  /* enum lb_fwd */
	__u8 flags;	  /* LB_SVC_F_* */
};
_Static_assert(sizeof(struct lb_svc) == 12, "lb_svc size");

/* lb_svc_by_id value, indexed by service id: the service's key and value as in lb_services.
 * A free id has family 0. Written by the control plane with lb_services, which copies it into
 * each of the service's backends (lb_backend.vip): a packet whose flow is tracked reaches its
 * service there, without a hash lookup or a read of this map. */
struct lb_svc_ent {
	struct lb_svc_key key;
	struct lb_svc svc;
};
_Static_assert(sizeof(struct lb_svc_ent) == 32, "lb_svc_ent size");

/* lb_backends value, indexed by backend id; written by pingctl, state also by pingd. The
 * control plane keeps <vip> equal to the backend's service's lb_svc_by_id entry, so that a
 * packet whose flow is tracked finds its service in its backend's entry. */
struct lb_backend {
	union lb_addr addr; /* network order */
	__be16 port;	    /* network order; informational (DSR keeps the VIP's port) */
	__u8 family;	    /* LB_AF_INET or LB_AF_INET6; 0 when the slot is free */
	__u8 state;	    /* enum lb_be_state */
	__u32 weight;	    /* relative share; 0 takes no new flows */
	__u32 svc;	    /* id of the service the backend belongs to */
	__u8 mac[6];	    /* destination MAC for LB_FWD_L2 */
	__u8 marked_by;	    /* enum lb_be_marker: who last changed the state */
	__u8 pad[5];	    /* explicit: marked_at must sit on an 8-byte boundary */
	__u64 marked_at;    /* when: CLOCK_REALTIME seconds, host order; 0 = never */
	struct lb_svc_ent vip; /* the service's key and value (family 0 until the control
				* plane fills it: the data plane then looks the service up) */
};
_Static_assert(sizeof(struct lb_backend) == 80, "lb_backend size");
_Static_assert(__builtin_offsetof(struct lb_backend, marked_at) == 40, "lb_backend marked_at");

/* Value of a Maglev table slot (inner arrays of lb_maglev, M entries). */
struct lb_mg_slot {
	__u32 backend; /* backend id */
};
_Static_assert(sizeof(struct lb_mg_slot) == 4, "lb_mg_slot size");

/* Value of a ketama ring entry (inner arrays of lb_ring). Entry 0 is a header whose hash
 * holds the number of points n; entries 1..n are the points sorted by hash. */
struct lb_ring_point {
	__u32 hash;    /* position on the ring (entry 0: point count) */
	__u32 backend; /* backend id */
};
_Static_assert(sizeof(struct lb_ring_point) == 8, "lb_ring_point size");

/* An IPv6 flow as the client sent it, as lb_conntrack stores it (IPv4 flows are in
 * lb_conntrack4); also the flow as the parser and userspace see it, whatever its family. */
struct lb_flow_key {
	union lb_addr src; /* client, network order */
	union lb_addr dst; /* VIP, network order */
	__be16 sport;	   /* network order */
	__be16 dport;	   /* network order */
	__u8 proto;	   /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;	   /* LB_AF_INET or LB_AF_INET6 */
	__u8 pad[2];
};
_Static_assert(sizeof(struct lb_flow_key) == 40, "lb_flow_key size");

/* An IPv4 flow as lb_conntrack4 stores it: the same fields as lb_flow_key in 16 bytes instead
 * of 40 (two words to compare per slot). */
union lb_addr4 {
	__be32 v4;
	__u8 bytes[4]; /* for `bpftool map dump` */
};

struct lb_flow4_key {
	union lb_addr4 src; /* client, network order */
	union lb_addr4 dst; /* VIP, network order */
	__be16 sport; /* network order */
	__be16 dport; /* network order */
	__u8 proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[3];
};
_Static_assert(sizeof(struct lb_flow4_key) == 16, "lb_flow4_key size");

/* The lb_conntrack4 form of IPv4 flow <k> (whose family is LB_AF_INET). */
static inline void lb_flow4_key_of(struct lb_flow4_key *out, const struct lb_flow_key *k)
{
	*out = (struct lb_flow4_key){.src.v4 = k->src.v4,
		.dst.v4 = k->dst.v4,
		.sport = k->sport,
		.dport = k->dport,
		.proto = k->proto};
}

/* lb_flow.flags */
#define LB_FLOW_F_FIN 0x01 /* a FIN was seen: the entry expires LB_FIN_TIMEOUT later */
#define LB_FLOW_F_REF 0x02 /* seen again since it was stored or the set last made room */

/* A tracked flow's state, in its slot of lb_conntrack4 or lb_conntrack; written by bpf (and
 * cleared by pingctl). */
struct lb_flow {
	__u64 last_seen; /* bpf_ktime_get_ns() at creation or refresh; UDP and FIN only */
	__u32 backend;	 /* backend id */
	__u8 flags;	 /* LB_FLOW_F_* */
	__u8 pad;
	__u16 check;	 /* lb_flow_check() of the slot's key and backend: a slot torn by two
			  * CPUs writing it at once, or read while written, fails it */
};
_Static_assert(sizeof(struct lb_flow) == 16, "lb_flow size");

/* The flow tables are set-associative: a flow's set is the low bits of lb_flow_hash() of its
 * key, and it may sit in any of the set's LB_FLOW_WAYS slots. A slot whose key has proto 0 is
 * free. */
#define LB_FLOW_WAYS 4
#define LB_FLOW_SETS (LB_MAX_FLOWS / LB_FLOW_WAYS)
_Static_assert((LB_FLOW_SETS & (LB_FLOW_SETS - 1)) == 0, "LB_MAX_FLOWS / LB_FLOW_WAYS: a power of two");

/* lb_conntrack4 value (key: the set's index): LB_FLOW_WAYS IPv4 flows. */
struct lb_flow4_slot {
	struct lb_flow4_key key;
	struct lb_flow flow;
};

struct lb_flow4_set {
	struct lb_flow4_slot way[LB_FLOW_WAYS];
};
_Static_assert(sizeof(struct lb_flow4_set) == 32 * LB_FLOW_WAYS, "lb_flow4_set size");

/* lb_conntrack value (key: the set's index): LB_FLOW_WAYS IPv6 flows. */
struct lb_flow6_slot {
	struct lb_flow_key key;
	struct lb_flow flow;
};

struct lb_flow6_set {
	struct lb_flow6_slot way[LB_FLOW_WAYS];
};
_Static_assert(sizeof(struct lb_flow6_set) == 56 * LB_FLOW_WAYS, "lb_flow6_set size");

/* lb_be_stats value (per CPU): what the data plane forwarded to a backend. lb_svc_stats holds
 * the same for a service's deleted backends (written by the control plane). */
struct lb_stats {
	__u64 packets;	 /* packets forwarded */
	__u64 bytes;	 /* bytes forwarded, as received (before encapsulation) */
	__u64 new_flows; /* flows that got a backend from the table */
};
_Static_assert(sizeof(struct lb_stats) == 24, "lb_stats size");

/* lb_reasons value (per CPU), indexed by enum lb_reason. */
struct lb_reason_ctr {
	__u64 packets;
};
_Static_assert(sizeof(struct lb_reason_ctr) == 8, "lb_reason_ctr size");

/* lb_vip_filter value: 64 bits of a bitmap with a bit set for the address of every service
 * (hash_vip_bit()), so that a packet to no service skips the services lookup. */
struct lb_vip_word {
	__u64 bits; /* bit b of word w stands for hash_vip_bit() == w * 64 + b */
};
_Static_assert(sizeof(struct lb_vip_word) == 8, "lb_vip_word size");

/* lb_guard value (per CPU, one entry): the flow guard's window, written by bpf. */
struct lb_guard {
	__u64 window_end; /* bpf_ktime_get_coarse_ns() when the current one-second window
			   * ends */
	__u64 inserts;	  /* conntrack entries created in the window */
	__u64 refused;	  /* new flows forwarded without an entry since the maps were made */
};
_Static_assert(sizeof(struct lb_guard) == 24, "lb_guard size");

/* lb_deny key: a source prefix, exact (one entry per prefix; lb_deny_plens says which
 * lengths to try). */
struct lb_deny_key {
	__u8 family;	    /* LB_AF_INET or LB_AF_INET6 */
	__u8 plen;	    /* prefix length: 0..32 or 0..128 */
	__u8 pad[2];
	union lb_addr addr; /* the prefix, network order, bits past plen zero */
};
_Static_assert(sizeof(struct lb_deny_key) == 20, "lb_deny_key size");

/* lb_deny value. */
struct lb_deny {
	__u64 expires; /* CLOCK_MONOTONIC ns (bpf_ktime_get_ns()) after which the entry is void
			* and removed by the next packet it matches; 0 = never */
	__u64 added;   /* CLOCK_MONOTONIC ns when it was written */
	__u64 packets; /* packets dropped, written by bpf (approximate: CPUs race) */
	__u8 reason;   /* enum lb_deny_reason */
	__u8 pad[7];
};
_Static_assert(sizeof(struct lb_deny) == 32, "lb_deny size");

/* lb_deny_filter value: 64 bits of the deny prefilter (hash_deny_bit()). */
struct lb_deny_word {
	__u64 bits; /* bit b of word w stands for hash_deny_bit() == w * 64 + b */
};
_Static_assert(sizeof(struct lb_deny_word) == 8, "lb_deny_word size");

/* lb_deny_last value (per CPU, one entry): the entry this CPU last dropped a packet for, so
 * that a flood from one prefix costs a compare instead of a hash lookup per packet. Valid
 * while gen equals lb_deny_plens.gen. Written by bpf. */
struct lb_deny_last {
	struct lb_deny_key key; /* the prefix */
	__u32 gen;		/* lb_deny_plens.gen when cached */
	__u64 expires;		/* the entry's, CLOCK_MONOTONIC ns; 0 = never */
	__u64 packets;		/* dropped through this cache since it was filled; added to the
				 * entry's count when it is replaced (pingctl adds the rest) */
	__u8 reason;		/* enum lb_deny_reason */
	__u8 pad[7];
};
_Static_assert(sizeof(struct lb_deny_last) == 48, "lb_deny_last size");

/* lb_deny_plens value, one entry: the prefix lengths lb_deny holds, so the data plane tries
 * those only (none: the deny check costs one array read). Written by the control plane with
 * every change of lb_deny, under the pin directory's lock. */
struct lb_deny_plens {
	__u8 n4;			/* lengths used in v4[] */
	__u8 n6;			/* lengths used in v6[] */
	__u8 pad[2];
	__u32 gen;			/* bumped by every change of lb_deny: voids lb_deny_last */
	__u8 v4[LB_DENY_MAX_PLENS];	/* IPv4 prefix lengths, longest first */
	__u8 v6[LB_DENY_MAX_PLENS];	/* IPv6 prefix lengths, longest first */
};
_Static_assert(sizeof(struct lb_deny_plens) == 8 + 2 * LB_DENY_MAX_PLENS, "lb_deny_plens size");

/* lb_src_rate value, by service id: the new flows (TCP SYNs, UDP flows without an entry) one
 * source address may open per second, a token bucket of <burst> more. Written by pingctl. */
struct lb_src_rate {
	__u32 rate;  /* new flows per second per source; 0 = no guard */
	__u32 burst; /* new flows beyond the rate a source may open at once */
};
_Static_assert(sizeof(struct lb_src_rate) == 8, "lb_src_rate size");

/* lb_src_bucket key: a source address of a service. */
struct lb_src_key {
	__u32 svc;	    /* service id */
	__u8 family;	    /* LB_AF_INET or LB_AF_INET6 */
	__u8 pad[3];
	union lb_addr addr; /* the source, network order */
};
_Static_assert(sizeof(struct lb_src_key) == 24, "lb_src_key size");

/* lb_src_bucket value: the source's token bucket as a theoretical arrival time (GCRA). */
struct lb_src_bucket {
	__u64 tat; /* bpf_ktime_get_ns() when the bucket is full again */
};
_Static_assert(sizeof(struct lb_src_bucket) == 8, "lb_src_bucket size");

/* lb_tx_ports value: an egress interface for XDP_REDIRECT, keyed by its ifindex. */
struct lb_tx_port {
	__u32 ifindex;
};
_Static_assert(sizeof(struct lb_tx_port) == 4, "lb_tx_port size");

/* lb_decap_stats value (per CPU), for the backend-side decapsulation program. */
struct lb_decap_stats {
	__u64 ipip;   /* IPv4-in-IPv4 and IPv4-in-IPv6 packets decapsulated */
	__u64 ip6ip6; /* IPv6-in-IPv6 packets decapsulated */
	__u64 gue;    /* GUE packets decapsulated */
	__u64 passed; /* other packets, passed untouched */
	__u64 errors; /* tunnel packets too short or malformed, dropped */
};
_Static_assert(sizeof(struct lb_decap_stats) == 40, "lb_decap_stats size");

#endif /* BPF_LB_ABI_H */
