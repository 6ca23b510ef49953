/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: every map of the data plane, BTF-typed with the structs of lb_abi.h and pinned by
 * name under the pin directory. Each comment says what the key is and who writes the map.
 * decap.bpf.c defines LB_MAPS_DECAP to get only its own map. */
#ifndef BPF_LB_MAPS_H
#define BPF_LB_MAPS_H

#include "bpf/lb_abi.h"

#ifndef LB_MAX_TX_PORTS
#define LB_MAX_TX_PORTS 64 /* egress interfaces for XDP_REDIRECT */
#endif

#ifndef LB_MAPS_DECAP

/* Key 0 only. Holds LB_ABI_VERSION; written by the control plane when it creates the maps. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_meta SEC(".maps");

/* Key 0 only. Per-node settings (outer sources, next hop, MTU, seed); written by pingctl. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_node);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_node SEC(".maps");

/* Key: {VIP, port, protocol, family}, port 0 = all ports. Written by pingctl. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, struct lb_svc_key);
	__type(value, struct lb_svc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_services SEC(".maps");

/* Key: service id. The service's key and value (struct lb_svc_ent), a copy of its lb_services
 * entry, which the control plane also copies into the service's backends (lb_backend.vip,
 * where tracked flows read it). Written by the control plane with lb_services (after an add
 * or update, before a delete). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct lb_svc_ent);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_svc_by_id SEC(".maps");

/* Key: word index, LB_VIP_FILTER_WORDS words. A bit per hash_vip_bit() of every service's
 * address; a clear bit means no service has the address. Written by the control plane: the
 * bit is set before the service is added, and the words are recomputed after a delete. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_VIP_FILTER_WORDS);
	__type(key, __u32);
	__type(value, struct lb_vip_word);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_vip_filter SEC(".maps");

/* Key: backend id. Written by pingctl; the state also by pingd's health checks. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct lb_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_backends SEC(".maps");

/* Inner Maglev table: key slot 0..M-1. BPF_F_INNER_MAP lets each service have its own M. */
struct lb_mg_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_DEFAULT_TABLE_SIZE);
	__uint(map_flags, BPF_F_INNER_MAP);
	__type(key, __u32);
	__type(value, struct lb_mg_slot);
};

/* Key: service id. Value: the service's Maglev table. The control plane fills a fresh inner
 * array and publishes it with one update of this map, so a packet sees either the old table
 * or the new one, never a mix; the old array is freed once no program can hold it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct lb_mg_inner); /* a flexible array: must stay last */
} lb_maglev SEC(".maps");

/* Inner ketama ring: entry 0 = header (point count), 1..n = points sorted by hash. */
struct lb_ring_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_RING_MAX_POINTS + 1);
	__uint(map_flags, BPF_F_INNER_MAP);
	__type(key, __u32);
	__type(value, struct lb_ring_point);
};

/* Key: service id. Value: the service's ketama ring, published like lb_maglev. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct lb_ring_inner); /* a flexible array: must stay last */
} lb_ring SEC(".maps");

/* The flow tables, IPv4 flows in lb_conntrack4 and IPv6 flows in lb_conntrack: arrays of
 * LB_FLOW_SETS sets of LB_FLOW_WAYS slots; a flow lives in the set of its hash_ct() and holds
 * its backend. Written by bpf; cleared by pingctl. Every CPU reads and writes the same table
 * without a lock: storing a flow writes one slot of 32 or 56 bytes (no allocation, no list),
 * and a slot torn by two writers fails its check, which reads as no entry. A full set gives
 * up a slot that has not been seen again since it was stored (LB_FLOW_F_REF clear, as a
 * flood's SYNs), and only when all have been does it clear them and give up one by the
 * hash. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_FLOW_SETS);
	__type(key, __u32);
	__type(value, struct lb_flow4_set);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_conntrack4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_FLOW_SETS);
	__type(key, __u32);
	__type(value, struct lb_flow6_set);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_conntrack SEC(".maps");

/* Key 0 only. Per-CPU flow guard: the current window's conntrack inserts and the new flows
 * refused an entry. Written by bpf. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_guard);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_guard SEC(".maps");

/* Key: service id. Per-CPU forwarded packets, bytes, new flows of the service's deleted
 * backends: the control plane adds a backend's lb_be_stats in when it frees the backend, and
 * adds the live backends' to it for the service's totals. Not written by bpf. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct lb_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_svc_stats SEC(".maps");

/* Key: backend id. Per-CPU forwarded packets, bytes, new flows. Written by bpf. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct lb_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_be_stats SEC(".maps");

/* Key: enum lb_reason. Per-CPU packet count of every forward, pass and drop reason. Written
 * by bpf, but for LB_FWD_TX, which the control plane derives from lb_be_stats. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_REASON_MAX);
	__type(key, __u32);
	__type(value, struct lb_reason_ctr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_reasons SEC(".maps");

/* Key: a source prefix. Value: when it expires, who added it, its drops. Written by pingctl
 * (deny add/del/flush) and pingd (clients far over a rate limit); bpf deletes expired entries
 * it meets. LRU: when full, the least recently matched entry makes room. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_MAX_DENY);
	__type(key, struct lb_deny_key);
	__type(value, struct lb_deny);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_deny SEC(".maps");

/* Key: word index. A bit per lb_deny entry (hash_deny_bit()): a clear bit spares a packet the
 * lb_deny lookup of that length. Written by pingctl and pingd with lb_deny; a bit may outlive
 * its entry (an expired or evicted one) until the next deny del, flush or list. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_DENY_FILTER_WORDS);
	__type(key, __u32);
	__type(value, struct lb_deny_word);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_deny_filter SEC(".maps");

/* Key 0 only. Per CPU, the lb_deny entry last matched (struct lb_deny_last). Written by
 * bpf. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_deny_last);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_deny_last SEC(".maps");

/* Key 0 only. The prefix lengths in lb_deny. Written by pingctl and pingd with lb_deny. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_deny_plens);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_deny_plens SEC(".maps");

/* Key: service id. Value: the per-source new-flow rate of the service (0: none). Written by
 * pingctl. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct lb_src_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_src_rate SEC(".maps");

/* Key: service and source address. Value: the source's token bucket. Written by bpf. LRU
 * with an LRU list per CPU (BPF_F_NO_COMMON_LRU), as lb_conntrack: new sources on different
 * CPUs never share a list lock, and a source whose flows hash to several CPUs has one bucket.
 * When full, the least recently seen source starts again with a full bucket. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_MAX_SRC_BUCKETS);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct lb_src_key);
	__type(value, struct lb_src_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_src_bucket SEC(".maps");

/* Key: ifindex. Value: struct lb_tx_port (the same ifindex). Egress interfaces other than the
 * receiving one; written by pingctl attach. Device maps refuse BTF, hence the sizes. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, LB_MAX_TX_PORTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct lb_tx_port));
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_tx_ports SEC(".maps");

#else /* LB_MAPS_DECAP */

/* Key 0 only. Per-CPU counters of the backend-side decapsulation program. Written by bpf. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_decap_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_decap_stats SEC(".maps");

#endif /* LB_MAPS_DECAP */

#endif /* BPF_LB_MAPS_H */
