/* SPDX-License-Identifier: GPL-2.0 */
/* Scale-out: whether this node is ready to serve each of its VIPs, the node's drain switch,
 * the announcement of ready VIPs as routes in a kernel routing table of their own (which the
 * routing daemon, BIRD's kernel protocol with `learn`, imports and announces by BGP), and a
 * digest of each service's published table for comparing nodes. Never prints. */
#ifndef USERSPACE_CTRL_ANNOUNCE_H
#define USERSPACE_CTRL_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>

#include "userspace/ctrl/ctrl-t.h"

struct ctrl;

/* The kernel routing table that holds the announced VIPs unless configured otherwise, and the
 * route protocol number that marks pingx's routes in it (rtm_protocol; BIRD's krt_source). */
#define CTRL_ANNOUNCE_TABLE 4242
#define CTRL_ANNOUNCE_PROTO 176

/* Why a VIP is or is not announced, in order of precedence. */
enum ctrl_vip_state {
	CTRL_VIP_READY = 0,  /* announced */
	CTRL_VIP_DRAINING,   /* the node is drained (pingctl node drain) */
	CTRL_VIP_DETACHED,   /* the balancer runs on no interface */
	CTRL_VIP_NO_BACKEND, /* none of its services has a usable backend */
	CTRL_VIP_CHECKING,   /* ready, but pingd's first health verdicts are not in yet */
	CTRL_VIP_STATE_MAX   /* must stay last */
};

/* A service address and its readiness. */
struct ctrl_vip {
	__u8 family;		   /* LB_AF_INET or LB_AF_INET6 */
	union lb_addr addr;	   /* network order */
	enum ctrl_vip_state state; /* CTRL_VIP_READY when it should be announced */
	unsigned int services;	   /* services with this address */
	unsigned int serving;	   /* of them, those with a usable backend (or l7) */
	bool announced;		   /* its route is in the table (after a sync or a read) */
};

/* What ctrl_announce_sync() changed. */
struct ctrl_announce_changes {
	unsigned int added;   /* routes added */
	unsigned int removed; /* routes removed (VIPs not ready, or no longer services) */
};

/* The drain switch (LB_NODE_F_DRAIN in lb_node): set or clear it, or read it. */
int ctrl_node_drain(struct ctrl *c, bool on);
int ctrl_node_draining(struct ctrl *c, bool *on);

/* Whether the balancer program is attached through a link pinned in <pin_dir> whose
 * interface still exists. */
bool ctrl_xdp_attached(const char *pin_dir);

/* Every service address with its readiness, sorted by family then address, in a malloc'd
 * array the caller frees; count in *<n>. A VIP is ready when the node is attached and not
 * drained and at least one service on it has a usable backend (up, weight > 0) or is an l7
 * service. */
int ctrl_vip_list(struct ctrl *c, struct ctrl_vip **out, size_t *n);

/* A stable name for <s> ("ready", "draining", "detached", "no_backend", "checking"), or
 * "unknown". */
const char *ctrl_vip_state_name(enum ctrl_vip_state s);

/* Make kernel routing table <table> hold a blackhole route of protocol CTRL_ANNOUNCE_PROTO for
 * exactly the ready VIPs of <vips> (<n> of them), and set their announced fields: adds the
 * missing routes and removes pingx's other routes there (routes of other protocols are left
 * alone). <vips> may be NULL when <n> is 0 (withdraw everything). Returns 0 or a negative
 * errno (-EPERM without CAP_NET_ADMIN). */
int ctrl_announce_sync(
	__u32 table, struct ctrl_vip *vips, size_t n, struct ctrl_announce_changes *ch);

/* Only read: set the announced fields of <vips> from <table>. */
int ctrl_announce_read(__u32 table, struct ctrl_vip *vips, size_t n);

/* Length of a table digest as text, with its NUL. */
#define CTRL_DIGEST_LEN 17

/* A digest of the table that service <key> publishes (16 hex digits, the first 64 bits of a
 * SHA-256), into <out>: it covers everything that decides a new flow's backend (algorithm,
 * table size, the node's hash seed, the service's hash flags and every slot or ring point,
 * each named by the backend's address and port, not its node-local id), so two nodes give a
 * flow the same backend when their digests are equal. "none" when the service has no table
 * (no usable backend). Returns -ENOENT (no such service) or 0. */
int ctrl_table_digest(struct ctrl *c, const struct lb_svc_key *key, char out[CTRL_DIGEST_LEN]);

#endif /* USERSPACE_CTRL_ANNOUNCE_H */
