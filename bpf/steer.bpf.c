// SPDX-License-Identifier: GPL-2.0
/* sk_lookup program of pingd: a TCP connection to a service of mode l7 in lb_services (the
 * XDP program passed its packets to the stack) goes to pingd's listening socket, whatever
 * address and port that socket is bound to. Anything else takes the normal socket lookup. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/steer_maps.h"

/* The service of the connection being looked up, as the XDP program finds it: the exact
 * {address, port, protocol} first, then the address's port-0 entry. NULL when none. */
static __always_inline const struct lb_svc *steer_find_service(struct bpf_sk_lookup *ctx)
{
	struct lb_svc_key key = {};
	const struct lb_svc *svc;

	if (ctx->family == LB_AF_INET) {
		key.addr.v4 = ctx->local_ip4;
	} else {
		key.addr.v6[0] = ctx->local_ip6[0];
		key.addr.v6[1] = ctx->local_ip6[1];
		key.addr.v6[2] = ctx->local_ip6[2];
		key.addr.v6[3] = ctx->local_ip6[3];
	}
	key.port = bpf_htons((__u16)ctx->local_port); /* local_port is in host order */
	key.proto = IPPROTO_TCP;
	key.family = (__u8)ctx->family;
	svc = bpf_map_lookup_elem(&lb_services, &key);
	if (svc)
		return svc;
	key.port = 0;
	return bpf_map_lookup_elem(&lb_services, &key);
}

SEC("sk_lookup")
int steer_l7(struct bpf_sk_lookup *ctx)
{
	const struct lb_svc *svc;
	struct bpf_sock *sk;
	__u32 slot;

	if (ctx->protocol != IPPROTO_TCP)
		return SK_PASS;
	if (ctx->family == LB_AF_INET)
		slot = LB_STEER_SLOT_INET;
	else if (ctx->family == LB_AF_INET6)
		slot = LB_STEER_SLOT_INET6;
	else
		return SK_PASS;
	svc = steer_find_service(ctx);
	if (!svc || svc->mode != LB_MODE_L7)
		return SK_PASS;
	sk = bpf_map_lookup_elem(&lb_steer_socks, &slot);
	if (!sk)
		return SK_PASS; /* no steering listener of this family: normal lookup */
	/* Flags 0 keep SO_REUSEPORT selection within <sk>'s group. An error (-EEXIST when an
	 * earlier program, e.g. a pingd being upgraded, already chose) leaves the choice as
	 * it is: SK_DROP would refuse a connection that another socket can take. */
	(void)bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
