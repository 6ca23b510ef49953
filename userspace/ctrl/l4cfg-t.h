/* SPDX-License-Identifier: GPL-2.0 */
/* Types of the l4: configuration section (docs/pingctl.md, "The l4: section"): what
 * `pingctl save` prints, `pingctl restore` applies and pingd reads from its config file. */
#ifndef USERSPACE_CTRL_L4CFG_T_H
#define USERSPACE_CTRL_L4CFG_T_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "userspace/ctrl/ctrl-t.h"

/* A backend of a service: address, port, family, weight, state and mac of <be> are set. */
struct ctrl_l4cfg_backend {
	struct lb_backend be;
	unsigned int line; /* where it is written, for messages */
};

/* A service: key, and mode, algo, fwd, flags and table_size of <conf>; <syn> its per-source
 * new-flow guard (syn_rate, syn_burst; rate 0 = off). */
struct ctrl_l4cfg_service {
	struct lb_svc_key key;
	struct lb_svc conf;
	struct lb_src_rate syn;
	struct ctrl_l4cfg_backend *backends; /* owned */
	size_t n_backends;
	unsigned int line;
};

/* The whole section. */
struct ctrl_l4cfg {
	bool has_node;		  /* a node: mapping was given; otherwise the node stays */
	struct lb_node node;	  /* egress_ifindex is resolved from <egress> on apply */
	char egress[IF_NAMESIZE]; /* "" = none */
	unsigned int node_line;
	struct ctrl_l4cfg_service *services; /* owned */
	size_t n_services;
};

/* What ctrl_l4cfg_apply() changed. */
struct ctrl_l4cfg_changes {
	unsigned int node;
	unsigned int svc_add, svc_set, svc_del;
	unsigned int be_add, be_set, be_del;
	unsigned int syn_set; /* services whose syn_rate/syn_burst changed */
};

#endif /* USERSPACE_CTRL_L4CFG_T_H */
