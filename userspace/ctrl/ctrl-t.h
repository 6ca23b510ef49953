/* SPDX-License-Identifier: GPL-2.0 */
/* Types of the control-plane library shared with its users (pingctl, pingd). */
#ifndef USERSPACE_CTRL_CTRL_T_H
#define USERSPACE_CTRL_CTRL_T_H

#include <linux/types.h>
#include <stdbool.h>

#include "bpf/lb_abi.h"

/* ctrl_open() flags. */
#define CTRL_F_CREATE 0x1 /* create the pin directory and missing maps */

/* Where an XDP program runs. */
enum ctrl_xdp_mode {
	CTRL_XDP_AUTO = 0, /* native, else generic */
	CTRL_XDP_NATIVE,   /* driver mode */
	CTRL_XDP_GENERIC,  /* skb mode */
	CTRL_XDP_MODE_MAX  /* must stay last */
};

/* What a pinned bpf_link attaches. */
enum ctrl_link_kind {
	CTRL_LINK_XDP = 0,  /* the balancer, lb_xdp: link_xdp_<ifname>:<netns> */
	CTRL_LINK_DECAP,    /* the backend-side decapsulation: link_decap_<ifname>:<netns> */
	CTRL_LINK_KIND_MAX  /* must stay last */
};

/* A bpf_link pinned in a pin directory, as ctrl_link_list() finds it. */
struct ctrl_link {
	char pin[64];		  /* its file name in the pin directory */
	char ifname[16];	  /* the interface name it was attached to (IF_NAMESIZE) */
	__u64 netns;		  /* inode of the network namespace it was attached in; 0 for a
				   * pin named by an older version (no namespace in the name) */
	enum ctrl_link_kind kind; /* which program */
	__u32 link_id;		  /* the kernel's link id */
	__u32 prog_id;		  /* the program it runs */
	__u32 ifindex;		  /* its interface's index in its namespace; 0 when severed */
	bool severed;		  /* the interface went away: the link runs nothing any more */
	bool here;		  /* attached in the caller's network namespace */
};

/* A service as stored: its key and value. */
struct ctrl_service {
	struct lb_svc_key key;
	struct lb_svc val;
};

/* A backend as stored: its id (index into lb_backends) and value. */
struct ctrl_backend {
	__u32 id;
	struct lb_backend be;
};

/* A tracked flow: its key (an IPv4 flow's lb_conntrack4 key widened) and its value. */
struct ctrl_flow {
	struct lb_flow_key key;
	struct lb_flow val;
};

/* A deny entry: its key and value in lb_deny, and what is left of its time. */
struct ctrl_deny {
	struct lb_deny_key key;
	struct lb_deny val;
	__u64 ttl_ms; /* until it expires; 0 = never */
};

/* Length of text buffers for addresses as "ADDR" or "[ADDR]:PORT/PROTO". */
#define CTRL_ADDRSTRLEN 64

#endif /* USERSPACE_CTRL_CTRL_T_H */
