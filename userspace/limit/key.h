/* SPDX-License-Identifier: GPL-2.0 */
/* Limiter keys for client addresses: the network part of an IPv4 or IPv6 address under a
 * prefix length, so that a /24 or a /64 is counted as one client. */
#ifndef USERSPACE_LIMIT_KEY_H
#define USERSPACE_LIMIT_KEY_H

#include <stddef.h>
#include <sys/socket.h>

#include "userspace/limit/key-t.h"

/* Write into the <size> bytes at <buf> the key of the first <prefix_len> bits of <addr>, an
 * AF_INET (4 bytes, prefix 0..32) or AF_INET6 (16 bytes, prefix 0..128) address in network
 * order. The key is a family tag, the prefix length and the prefix's bytes with the bits past
 * the prefix cleared, so 192.0.2.7/24 and 192.0.2.9/24 give the same key and 10.0.0.0/8 and
 * 10.0.0.0/16 do not. Returns the key length (at most LIMIT_KEY_ADDR_MAX), -EINVAL (NULL
 * pointer, prefix too long), -EAFNOSUPPORT, or -ENOSPC when <size> is too small. */
int limit_key_addr(void *buf, size_t size, int family, const void *addr, unsigned int prefix_len);

/* As limit_key_addr() for the address in <sa>, with <v4_prefix> for IPv4 and <v6_prefix> for
 * IPv6. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket reports IPv4
 * clients) gives the IPv4 key, so one client has one key however it came in. */
int limit_key_sockaddr(void *buf, size_t size, const struct sockaddr *sa, unsigned int v4_prefix,
	unsigned int v6_prefix);

#endif /* USERSPACE_LIMIT_KEY_H */
