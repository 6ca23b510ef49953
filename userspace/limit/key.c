// SPDX-License-Identifier: GPL-2.0
/* Address keys: family tag, prefix length, then the prefix bytes, the last one masked. */
#include "userspace/limit/key.h"

#include <netinet/in.h>

#include <errno.h>
#include <string.h>

/* First key byte: the family, so that an IPv4 /32 and the first 4 bytes of an IPv6 address
 * never meet. */
#define KEY_TAG_V4 4
#define KEY_TAG_V6 6

int limit_key_addr(void *buf, size_t size, int family, const void *addr, unsigned int prefix_len)
{
	unsigned char *out = buf;
	unsigned int bits, nbytes;

	if (!buf || !addr)
		return -EINVAL;
	if (family == AF_INET)
		bits = 32;
	else if (family == AF_INET6)
		bits = 128;
	else
		return -EAFNOSUPPORT;
	if (prefix_len > bits)
		return -EINVAL;
	nbytes = (prefix_len + 7) / 8;
	if (size < 2 + (size_t)nbytes)
		return -ENOSPC;
	out[0] = family == AF_INET ? KEY_TAG_V4 : KEY_TAG_V6;
	out[1] = (unsigned char)prefix_len; /* 10.0.0.0/8 and 10.0.0.0/16 are two clients */
	memcpy(out + 2, addr, nbytes);
	/* keep the top prefix_len % 8 bits of the last byte: hosts of the prefix share the key */
	if (prefix_len % 8)
		out[1 + nbytes] &= (unsigned char)(0xff00u >> (prefix_len % 8));
	return 2 + (int)nbytes;
}

int limit_key_sockaddr(void *buf, size_t size, const struct sockaddr *sa, unsigned int v4_prefix,
	unsigned int v6_prefix)
{
	const struct sockaddr_in6 *sin6;

	if (!sa)
		return -EINVAL;
	if (sa->sa_family == AF_INET)
		return limit_key_addr(
			buf, size, AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, v4_prefix);
	if (sa->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	sin6 = (const struct sockaddr_in6 *)sa;
	/* the IPv4 address is the last 4 of the 16 bytes */
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return limit_key_addr(buf, size, AF_INET, &sin6->sin6_addr.s6_addr[12], v4_prefix);
	return limit_key_addr(buf, size, AF_INET6, &sin6->sin6_addr, v6_prefix);
}
