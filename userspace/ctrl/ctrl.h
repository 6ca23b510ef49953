/* SPDX-License-Identifier: GPL-2.0 */
/* The control-plane library: opens or creates the pinned maps of the XDP data plane, checks
 * their ABI version, manages services and backends, rebuilds and publishes their tables
 * atomically, reads stats, and attaches the programs. Every change that touches several maps
 * holds flock() on the pin directory. Never prints; returns 0 or a negative errno. */
#ifndef USERSPACE_CTRL_CTRL_H
#define USERSPACE_CTRL_CTRL_H

#include <stdbool.h>
#include <stddef.h>

#include "userspace/ctrl/ctrl-t.h"

/* An open set of pinned maps (opaque). */
struct ctrl;

/* Open the maps pinned in <pin_dir>. With CTRL_F_CREATE in <flags>, mount the BPF filesystem
 * at PINGX_BPF_DIR_MNT when it is missing, create <pin_dir> and any missing map, and stamp
 * lb_meta with LB_ABI_VERSION. Returns NULL with errno: ENOENT (no maps and no CREATE),
 * EPROTO (the maps have another ABI version), or the failing call's errno. */
struct ctrl *ctrl_open(const char *pin_dir, unsigned int flags);

/* Close <c>; NULL is accepted. */
void ctrl_close(struct ctrl *c);

/* The pin directory of <c>. */
const char *ctrl_pin_dir(const struct ctrl *c);

/* The ABI version found in lb_meta. */
__u32 ctrl_abi_version(const struct ctrl *c);

/* Take or release the exclusive lock on the pin directory. The library takes it itself for
 * each change; callers take it to group several changes (it nests within one handle). */
int ctrl_lock(struct ctrl *c);
void ctrl_unlock(struct ctrl *c);

/* Per-node settings. ctrl_node_get() leaves LB_NODE_F_ALL_PORTS and LB_NODE_F_DRAIN out and
 * ctrl_node_set() ignores them in <n>: the library keeps the first in step with the services,
 * and the second belongs to ctrl_node_drain() (announce.h). */
int ctrl_node_get(struct ctrl *c, struct lb_node *n);
int ctrl_node_set(struct ctrl *c, const struct lb_node *n);

/* Add service <key> with the settings of <conf> (mode, algo, fwd, flags, table_size; 0 table
 * size = LB_DEFAULT_TABLE_SIZE). Its id is chosen here and stored in *<id> when not NULL.
 * Returns -EEXIST, -ENOSPC (LB_MAX_VIPS reached), -EINVAL (bad settings) or 0. */
int ctrl_svc_add(
	struct ctrl *c, const struct lb_svc_key *key, const struct lb_svc *conf, __u32 *id);

/* Change mode, algo, fwd and flags of service <key> (the table size stays) and rebuild. */
int ctrl_svc_update(struct ctrl *c, const struct lb_svc_key *key, const struct lb_svc *conf);

/* Delete service <key>, its table and its backends. Returns -ENOENT or 0. */
int ctrl_svc_del(struct ctrl *c, const struct lb_svc_key *key);

/* Read service <key> into <out>. Returns -ENOENT or 0. */
int ctrl_svc_get(struct ctrl *c, const struct lb_svc_key *key, struct lb_svc *out);

/* All services, sorted by key, in a malloc'd array the caller frees; count in *<n>. */
int ctrl_svc_list(struct ctrl *c, struct ctrl_service **out, size_t *n);

/* Add backend <be> (addr, port, family, weight, mac; state UP unless set) to service <key>
 * and rebuild its table. The slot is marked with <be>'s marked_by (LB_MARK_PINGCTL when
 * LB_MARK_NONE) and the current time; <be>'s marked_at is ignored. Stores the new id in *<id> when
 * not NULL. Returns -ENOENT (no service), -EEXIST (same address in the service), -ENOSPC, -EINVAL
 * (family mismatch for IPIP/GUE: an IPv6 service needs IPv6 backends) or 0. */
int ctrl_be_add(
	struct ctrl *c, const struct lb_svc_key *key, const struct lb_backend *be, __u32 *id);

/* Delete the backend with address <addr> (of <family>) from service <key>; rebuilds first,
 * so no new flow can pick it once it is gone. */
int ctrl_be_del(
	struct ctrl *c, const struct lb_svc_key *key, __u8 family, const union lb_addr *addr);

/* Set the weight (when <weight> >= 0) and the state (when <state> >= 0, an enum
 * lb_be_state other than LB_BE_FREE) of a backend, and rebuild. A backend leaving the table
 * is taken out of the table before its state changes; one joining is stored first. */
int ctrl_be_set(struct ctrl *c, const struct lb_svc_key *key, __u8 family,
	const union lb_addr *addr, long weight, int state);

/* ctrl_be_set() recording <marker> (an enum lb_be_marker other than LB_MARK_NONE; ctrl_be_set()
 * uses LB_MARK_PINGCTL) and the current time as the backend's marked_by/marked_at when the
 * state changes. Returns -EINVAL for a bad marker, else as ctrl_be_set(). */
int ctrl_be_set_marked(struct ctrl *c, const struct lb_svc_key *key, __u8 family,
	const union lb_addr *addr, long weight, int state, __u8 marker);

/* Health write-back for pingd: mark every backend with <addr> (in all services, or only in
 * <key> when not NULL) up or down and rebuild the tables. A drained backend stays drained.
 * Each backend changed is marked LB_MARK_HEALTH with the current time.
 * Returns the number of backends changed, or a negative errno. */
int ctrl_health_set(struct ctrl *c, const struct lb_svc_key *key, __u8 family,
	const union lb_addr *addr, bool up);

/* The backends of service <key> (all when NULL), sorted by service then address, in a
 * malloc'd array; count in *<n>. */
int ctrl_be_list(
	struct ctrl *c, const struct lb_svc_key *key, struct ctrl_backend **out, size_t *n);

/* Rebuild and publish the table of service id <svc_id> from its usable backends. */
int ctrl_rebuild(struct ctrl *c, __u32 svc_id);

/* The backend id the data plane gives flow <flow> of service <key>: with <use_ct>, the
 * conntrack entry when there is one (as for any packet but a SYN); otherwise the service's
 * published table, hashed exactly as the program hashes. *<from_ct> (may be NULL) tells
 * which. Returns -ENOENT (no such service, or no table: no usable backend) or 0. */
int ctrl_flow_backend(struct ctrl *c, const struct lb_svc_key *key, const struct lb_flow_key *flow,
	bool use_ct, __u32 *be_id, bool *from_ct);

/* Stats summed over all possible CPUs. The data plane counts forwarded packets per backend
 * only: a service's totals are its backends' (and its deleted backends'), and the fwd_tx
 * reason is derived from them. */
int ctrl_stats_svc(struct ctrl *c, __u32 svc_id, struct lb_stats *out);
int ctrl_stats_be(struct ctrl *c, __u32 be_id, struct lb_stats *out);
/* <out> has LB_REASON_MAX entries, indexed by enum lb_reason. */
int ctrl_stats_reasons(struct ctrl *c, __u64 *out);
/* The flow guard's counters summed over CPUs: <out>->refused counts the new flows forwarded
 * without a conntrack entry (window_end and inserts are sums, meaningless but harmless). */
int ctrl_stats_guard(struct ctrl *c, struct lb_guard *out);
/* A stable snake_case name for <r> ("drop_truncated"), or "unknown". */
const char *ctrl_reason_name(unsigned int r);

/* The deny map. ctrl_deny_key() parses "ADDR" or "ADDR/LEN" (bits past LEN cleared) into
 * <key>, or writes why not into <err> and returns -EINVAL. ctrl_deny_add() writes <key> for
 * <ttl_ms> (0 = until removed) with <reason> (enum lb_deny_reason), replacing an entry of the
 * same prefix; -ENOSPC when the family already has LB_DENY_MAX_PLENS other prefix lengths.
 * ctrl_deny_del() returns -ENOENT when absent; ctrl_deny_flush() removes all, counting them in
 * *<n>. ctrl_deny_list() returns the live entries in a malloc'd array (count in *<n>) and
 * removes the expired ones it meets. ctrl_mono_ns() is the clock of lb_deny's times. */
int ctrl_deny_key(const char *text, struct lb_deny_key *key, char *err, size_t err_len);
int ctrl_deny_add(struct ctrl *c, const struct lb_deny_key *key, __u64 ttl_ms, __u8 reason);
int ctrl_deny_del(struct ctrl *c, const struct lb_deny_key *key);
int ctrl_deny_flush(struct ctrl *c, size_t *n);
int ctrl_deny_list(struct ctrl *c, struct ctrl_deny **out, size_t *n);
int ctrl_deny_plens(struct ctrl *c, struct lb_deny_plens *out);

/* How many entries lb_deny holds (expired ones not yet removed included), and whether it is
 * full: within the LRU's per-CPU free lists (128 entries a CPU) of LB_MAX_DENY, where each
 * new entry makes room by evicting the least recently matched one. */
int ctrl_deny_count(struct ctrl *c, size_t *n, bool *full);
__u64 ctrl_mono_ns(void);

/* The per-source new-flow guard of service <key>: <r>->rate new flows per second (0 = off)
 * with <r>->burst more at once, per source address. -ENOENT (no service), -EINVAL (above
 * LB_SRC_RATE_MAX or LB_SRC_BURST_MAX, or a burst without a rate) or 0. */
int ctrl_src_rate_set(struct ctrl *c, const struct lb_svc_key *key, const struct lb_src_rate *r);
int ctrl_src_rate_get(struct ctrl *c, const struct lb_svc_key *key, struct lb_src_rate *r);

/* The flow tables (lb_conntrack4 for IPv4 flows, then lb_conntrack for IPv6): number of
 * tracked flows (counted up to <max>), and flush (every slot freed). */
int ctrl_ct_count(struct ctrl *c, size_t max, size_t *n);
int ctrl_ct_flush(struct ctrl *c);

/* The state of tracked flow <k> into *<val> (-ENOENT: not tracked); store one (in a free slot
 * of its set, else in place of the set's first), as the data plane would. */
int ctrl_ct_get(struct ctrl *c, const struct lb_flow_key *k, struct lb_flow *val);
int ctrl_ct_put(struct ctrl *c, const struct lb_flow_key *k, const struct lb_flow *val);

/* Up to <max> tracked flows, IPv4 first, each table in set order, in a malloc'd array the caller frees; count
 * in *<n>. The data plane changes the table meanwhile: a flow may be missed or be gone. */
int ctrl_ct_list(struct ctrl *c, size_t max, struct ctrl_flow **out, size_t *n);

/* Map file descriptors, for readers such as tests and benchmarks. <name> is a map name
 * ("lb_maglev"). Returns the fd (owned by <c>) or -ENOENT. */
int ctrl_map_fd(const struct ctrl *c, const char *name);

/* Attach the balancer to <ifname> in <mode>, pinning the bpf_link at
 * <pin_dir>/link_xdp_<ifname>:<netns> (the inode of the caller's network namespace) so that it
 * outlives the caller and two namespaces' interfaces of one name do not meet. Attaching again
 * replaces the program in place; the maps and their flows stay. A severed link of that
 * interface is replaced. <egress>, when not NULL, is added to
 * lb_tx_ports. Returns -ENODEV (no such interface), -EOPNOTSUPP (mode refused) or 0. */
int ctrl_attach(struct ctrl *c, const char *ifname, enum ctrl_xdp_mode mode, const char *egress);

/* The run priority of the balancer in libxdp's dispatcher: after xdp-filter (10) and the
 * packet captures that sort before libxdp's default, at the default itself (50). Programs run
 * in increasing priority; each next one sees the packets the one before passed (XDP_PASS). */
#define CTRL_XDP_RUN_PRIO 50

struct ctrl_attach_opts {
	enum ctrl_xdp_mode mode;
	const char *egress;    /* as ctrl_attach()'s, or NULL */
	bool plain;	       /* a pinned bpf_link, never the dispatcher */
	unsigned int run_prio; /* 0: CTRL_XDP_RUN_PRIO */
};

/* How ctrl_attach_opts() attached. */
struct ctrl_attach_info {
	bool dispatcher;       /* through libxdp's dispatcher; else a pinned bpf_link */
	bool generic;	       /* in generic (skb) mode; else native */
	bool replaced;	       /* it replaced the balancer that ran there */
	unsigned int run_prio; /* in the dispatcher */
	int programs;	       /* programs in the dispatcher, the balancer included */
	char why[192];	       /* why not through the dispatcher */
};

/* Attach the balancer to <ifname> through libxdp's multi-program dispatcher, so that it runs
 * beside other XDP programs of the interface at run priority <o>->run_prio, in the dispatcher
 * libxdp pins under <bpffs>/xdp. A balancer already in the interface's dispatcher is replaced
 * (the new one runs before the old one goes). Falls back to ctrl_attach() (a pinned
 * bpf_link) when <o>->plain, when the interface already runs the balancer from a pinned link,
 * or when the dispatcher cannot load on this kernel, and says why in <info>->why. Returns
 * ctrl_attach()'s errors, or libxdp's (-EBUSY: another program holds the interface without a
 * dispatcher). */
int ctrl_attach_opts(struct ctrl *c, const char *ifname, const struct ctrl_attach_opts *o,
	struct ctrl_attach_info *info);

/* Whether libxdp's dispatcher can load and take an extension program here: 1, or 0 with the
 * failed step and its error in <why> (for example "loading an extension (freplace) program:
 * Operation not permitted"). */
int ctrl_dispatcher_probe(char *why, size_t len);

/* A balancer of <c> found in an interface's libxdp dispatcher (in the caller's namespace). */
struct ctrl_dispatched {
	char ifname[16];
	__u32 ifindex;
	__u32 prog_id;
	unsigned int run_prio;
	int programs; /* in that dispatcher, the balancer included */
	bool generic;
};

/* Every balancer of <c> (programs using its maps) in a libxdp dispatcher, in a malloc'd array
 * the caller frees; count in *<n>. */
int ctrl_dispatch_list(struct ctrl *c, struct ctrl_dispatched **out, size_t *n);

/* Take the balancer of <c> out of <ifname>'s dispatcher; the interface's other programs stay.
 * Returns -ENOENT when it is not there. */
int ctrl_dispatch_detach(struct ctrl *c, const char *ifname);

/* Add <ifname> to lb_tx_ports, so that packets whose next hop (bpf_fib_lookup) lies behind
 * it can be redirected there. Resolved in the caller's network namespace. */
int ctrl_tx_port_add(struct ctrl *c, const char *ifname);

/* Detach the balancer from <ifname> and remove its link pin. Returns -ENOENT when it was
 * not attached. */
int ctrl_detach(struct ctrl *c, const char *ifname);

/* Attach the backend-side decapsulation program to <ifname> with GUE port <gue_port> (host
 * order; 0 = LB_DEFAULT_GUE_PORT), link pinned at <pin_dir>/link_decap_<ifname>:<netns> and its
 * counters at <pin_dir>/lb_decap_stats. No lb_* balancer map is needed. */
int ctrl_decap_attach(
	const char *pin_dir, const char *ifname, enum ctrl_xdp_mode mode, __u16 gue_port);
int ctrl_decap_detach(const char *pin_dir, const char *ifname);

/* Remove every pin in <pin_dir> and the directory itself (after the last detach). */
int ctrl_destroy(const char *pin_dir);

/* Parse the pin file name <name> of a link (link_xdp_IF:NETNS, link_decap_IF:NETNS, or the
 * older link_xdp_IF) into <l>'s pin, ifname, netns and kind. Returns -EINVAL for any other
 * name. */
int ctrl_link_parse(const char *name, struct ctrl_link *l);

/* Every link pinned in <pin_dir>, with the kernel's view of each (program, interface,
 * severed, in the caller's namespace), in a malloc'd array the caller frees; count in *<n>.
 * Returns -ENOENT when <pin_dir> does not exist. */
int ctrl_link_list(const char *pin_dir, struct ctrl_link **out, size_t *n);

/* Unpin the severed links of <kind> on <ifname> in <pin_dir>, in any namespace: links whose
 * interface went away (a deleted namespace, a re-created veth). Returns how many, or a
 * negative errno. ctrl_attach() and ctrl_decap_attach() call it themselves. */
int ctrl_link_prune(const char *pin_dir, enum ctrl_link_kind kind, const char *ifname);

/* What ctrl_unload() removed. */
struct ctrl_unload_stats {
	unsigned int links;    /* links detached and unpinned (severed ones included) */
	unsigned int pins;     /* other pins removed (maps) */
	unsigned int dirs;     /* pin directories removed */
	unsigned int kept;     /* files left alone: not pingx's */
};

/* Remove everything pingx pinned in <pin_dir>: detach and unpin every link (in any
 * namespace), unpin every map, and remove the directory and pingx's subdirectories (decap
 * pin directories) when nothing else is left in them. Files that are not pingx's are left
 * and counted in <st>->kept. Returns -ENOENT when <pin_dir> does not exist. */
int ctrl_unload(const char *pin_dir, struct ctrl_unload_stats *st);

/* Whether <dir> holds pingx pins (maps or links) directly. */
bool ctrl_is_pin_dir(const char *dir);

/* Mount bpffs at PINGX_BPF_DIR_MNT when <path> lies under it and nothing is mounted there.
 * Returns 1 when it mounted it, 0 when there was nothing to do, or a negative errno. */
int ctrl_bpffs_ensure(const char *path);

/* Parse "ADDR", "ADDR:PORT", "[ADDR6]:PORT", optionally followed by "/tcp" or "/udp", into
 * <family>, <addr>, <port> (host order; 0 when absent) and <proto> (IPPROTO_TCP when absent).
 * <need_port> makes a missing port an error. Returns 0 or -EINVAL with a reason in <err>. */
int ctrl_parse_endpoint(const char *text, bool need_port, __u8 *family, union lb_addr *addr,
	__u16 *port, __u8 *proto, char *err, size_t err_len);

/* Parse an outer source "ADDR" or "ADDR/PLEN" of address family <af> (AF_INET or AF_INET6)
 * into <addr> and <plen> (0 without a length: the address itself; else 1..32 or 1..128).
 * Returns 0, -EINVAL (bad address) or -ERANGE (bad length) with a reason in <err>. */
int ctrl_parse_src_prefix(
	const char *text, int af, union lb_addr *addr, __u8 *plen, char *err, size_t err_len);

/* Format <family>/<addr> (and ":<port>" when port_h != 0) into <buf>. */
const char *ctrl_format_addr(
	__u8 family, const union lb_addr *addr, __u16 port_h, char *buf, size_t len);

#endif /* USERSPACE_CTRL_CTRL_H */
