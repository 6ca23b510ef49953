/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: the maps of the L7 steering program (steer.bpf.c): the data plane's pinned
 * lb_services, read only, and lb_steer_socks, which is not pinned: pingd creates it with the
 * program and fills it with its own listening sockets, so the steering lives exactly as long
 * as the sockets it steers into. */
#ifndef BPF_STEER_MAPS_H
#define BPF_STEER_MAPS_H

#include "bpf/lb_abi.h"

/* lb_services as lb_maps.h declares it (key and value from lb_abi.h). pingd never creates it:
 * it hands the pinned map to the program with bpf_map__reuse_fd(), whose attributes win. Not
 * including lb_maps.h keeps eleven maps this program never touches out of the object (and
 * their inner-map value types, which clang leaves incomplete in BTF when unused). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, struct lb_svc_key);
	__type(value, struct lb_svc);
} lb_services SEC(".maps");

/* Slots of lb_steer_socks, by the family of the connection being looked up. */
#define LB_STEER_SLOT_INET  0 /* the listening socket that takes IPv4 L7 connections */
#define LB_STEER_SLOT_INET6 1 /* the one for IPv6 (an IPV6_V6ONLY socket) */
#define LB_STEER_SLOTS	    2

/* Key: LB_STEER_SLOT_*. Value: a listening TCP socket; written by the daemon (pingd). One
 * socket of a SO_REUSEPORT group is enough: the kernel still picks within the group. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, LB_STEER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} lb_steer_socks SEC(".maps");

#endif /* BPF_STEER_MAPS_H */
