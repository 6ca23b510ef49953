/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF fixtures' environment: the loaded programs, their maps, helpers to configure them
 * and to run a packet through BPF_PROG_TEST_RUN, and the CHECK macro. */
#ifndef TESTS_BPF_ENV_H
#define TESTS_BPF_ENV_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bpf/lb_abi.h"
#include "tests/bpf/pkt.h"

/* Documentation addresses (RFC 5737, RFC 3849): packets never leave BPF_PROG_TEST_RUN. */
#define CLIENT4 "203.0.113.7"
#define VIP4	"192.0.2.100"
#define LBSRC4	"192.0.2.1"
#define CLIENT6 "2001:db8:cafe::7"
#define VIP6	"2001:db8:100::1"
#define LBSRC6	"2001:db8::1"
#define SEED	0x5eedu
#define CT_SEED 0x243f6a8885a308d3ull /* node_default()'s flow-table seed */
#define TBL_M	251u

extern const uint8_t MAC_CLIENT[6], MAC_LB[6], MAC_GW[6];
extern const char *const BE4[3], *const BE6[3];

struct env {
	int prog;	/* lb_xdp */
	int decap_prog; /* lb_decap */
	int meta, node, services, svc_by_id, backends, maglev, ring, ct, ct4, svc_stats, be_stats, reasons, tx;
	int guard, vip_filter;
	int deny, deny_plens, deny_filter, deny_last;
	int src_rate, src_bucket;
	int decap_stats;
	int ncpu;
};

extern struct env E;
extern int check_failed; /* failures in the running fixture */

#define CHECK(cond, ...)                                             \
	do {                                                         \
		if (!(cond)) {                                       \
			check_failed++;                              \
			printf("\n    %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                         \
		}                                                    \
	} while (0)

/* Configuration helpers; each returns 0 or a negative errno (and CHECKs it). */
void env_reset(void);
int node_set(const struct lb_node *n);
void node_default(struct lb_node *n);
int svc_add(int family, const char *vip, uint16_t port, uint8_t proto, uint32_t id, uint8_t mode,
	uint8_t algo, uint8_t fwd, uint8_t flags);
int svc_del(int family, const char *vip, uint16_t port, uint8_t proto);
/* Set (or clear) the lb_vip_filter bit of <a>; svc_add() sets it. */
int vip_bit_set(const union lb_addr *a, bool on);
int be_set(uint32_t id, int family, const char *addr, uint32_t svc, uint8_t state, uint32_t weight);
int mg_publish(uint32_t svc, const uint32_t *ids, size_t n);
int ring_publish(uint32_t svc, const struct lb_ring_point *pts, uint32_t n);

/* The backend id the Maglev table of mg_publish(ids, n) gives <key>. */
uint32_t mg_expect(const struct lb_flow_key *key, const uint32_t *ids, size_t n, bool src_only);
/* The flow key of <s> as the program builds it. */
void flow_of(const struct pkt_spec *s, struct lb_flow_key *key);
uint32_t flow_hash(const struct lb_flow_key *key, bool src_only);

/* Run <in> through <prog>; the output goes to <out> (PKT_MAX) and *<out_len>. Returns the
 * verdict, or -1 when the run itself failed. */
int run(int prog, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

/* Counters summed over CPUs. */
uint64_t reason_count(enum lb_reason r);
struct lb_stats svc_stats(uint32_t id);
struct lb_stats be_stats(uint32_t id);
/* The flow tables: <key> in lb_conntrack4 (IPv4) or lb_conntrack (IPv6), in its set under
 * lb_node's ct_seed (ct_seed()). */
uint64_t ct_seed(void);
bool ct_get(const struct lb_flow_key *key, struct lb_flow *val);
int ct_put(const struct lb_flow_key *key, const struct lb_flow *val, __u64 flags);
void ct_del(const struct lb_flow_key *key);
/* Set every CPU's flow-guard window to end far in the future (no reset during a fixture). */
void guard_freeze(void);
/* Set every CPU's flow guard to {<window_end>, <inserts>, <refused>}. */
void guard_set(uint64_t window_end, uint64_t inserts, uint64_t refused);
/* New flows the guard refused an entry, summed over CPUs. */
uint64_t guard_refused(void);
/* Flows in both tables. */
int ct_count(void);

/* Put <addr>/<plen> (<family> 4 or 6) into lb_deny with <expires> (CLOCK_MONOTONIC ns, 0 =
 * never) and <reason>, and list <plen> in lb_deny_plens unless <unlisted>. */
int deny_set(int family, const char *addr, uint8_t plen, uint64_t expires, uint8_t reason,
	bool unlisted);
/* The entry of <addr>/<plen> in lb_deny; false when absent. */
bool deny_get(int family, const char *addr, uint8_t plen, struct lb_deny *out);

/* Compare <got> with <want> and describe the first difference. */
bool same_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len);

/* Fixtures. */
struct fixture {
	const char *name;
	void (*fn)(void);
};
extern const struct fixture fixtures[];
extern const struct fixture ctrl_fixtures[];

#endif /* TESTS_BPF_ENV_H */
