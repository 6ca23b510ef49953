/* SPDX-License-Identifier: GPL-2.0 */
/* Types of the control-plane library shared with its users (pingctl, pingd). */
#ifndef USERSPACE_CTRL_CTRL_T_H
#define USERSPACE_CTRL_CTRL_T_H

#include <linux/types.h>

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

/* A tracked flow: its key and value in lb_conntrack. */
struct ctrl_flow {
	struct lb_flow_key key;
	struct lb_flow val;
};

/* Length of text buffers for addresses as "ADDR" or "[ADDR]:PORT/PROTO". */
#define CTRL_ADDRSTRLEN 64

#endif /* USERSPACE_CTRL_CTRL_T_H */
