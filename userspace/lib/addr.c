// SPDX-License-Identifier: GPL-2.0
/* Text of IP addresses and ports (see addr.h). */
#include "userspace/lib/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_text(int af, const void *ip, unsigned int port, bool with_port, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if ((af != AF_INET && af != AF_INET6) || !inet_ntop(af, ip, a, sizeof(a))) {
		snprintf(out, size, "?");
		return -EAFNOSUPPORT;
	}
	if (!with_port)
		snprintf(out, size, "%s", a);
	else if (af == AF_INET6)
		snprintf(out, size, "[%s]:%u", a, port);
	else
		snprintf(out, size, "%s:%u", a, port);
	return 0;
}

int addr_sockaddr_text(const struct sockaddr *sa, bool with_port, char *out, size_t size)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		return addr_text(AF_INET, &s4->sin_addr, ntohs(s4->sin_port), with_port, out, size);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		return addr_text(
			AF_INET6, &s6->sin6_addr, ntohs(s6->sin6_port), with_port, out, size);
	}
	snprintf(out, size, "?");
	return -EAFNOSUPPORT;
}

int addr_parse_prefix(const char *text, int *af, void *ip, unsigned int *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	unsigned long n;
	size_t alen;
	char *end;
	int fam;

	if (!text || !af || !ip || !plen)
		return -EINVAL;
	slash = strchr(text, '/');
	alen = slash ? (size_t)(slash - text) : strlen(text);
	if (!alen || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, buf, ip) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, buf, ip) == 1)
		fam = AF_INET6;
	else
		return -EINVAL;
	n = fam == AF_INET ? 32 : 128;
	if (slash) {
		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		errno = 0;
		n = strtoul(slash + 1, &end, 10);
		if (errno || *end || n > (fam == AF_INET ? 32u : 128u))
			return -EINVAL;
	}
	/* Bits past the prefix are cleared, so 10.1.2.3/8 names 10.0.0.0/8. */
	for (unsigned int i = 0; i < (fam == AF_INET ? 4u : 16u); i++) {
		unsigned int keep = n > i * 8 ? (unsigned int)n - i * 8 : 0;

		if (keep < 8)
			((unsigned char *)ip)[i] &= (unsigned char)(0xff00u >> keep);
	}
	*af = fam;
	*plen = (unsigned int)n;
	return 0;
}

bool addr_prefix_contains(int af, const void *net, unsigned int plen, int a_af, const void *a)
{
	const unsigned char *p = net, *q = a;
	unsigned int full = plen / 8, rest = plen % 8;

	if (af != a_af || plen > (af == AF_INET ? 32u : 128u))
		return false;
	if (memcmp(p, q, full))
		return false;
	return !rest || ((p[full] ^ q[full]) & (0xff00u >> rest)) == 0;
}

int addr_client(const struct sockaddr *sa, unsigned char a[16])
{
	memset(a, 0, 16);
	if (sa->sa_family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(a, &a6->s6_addr[12], 4);
			return AF_INET;
		}
		memcpy(a, a6, 16);
		return AF_INET6;
	}
	return AF_UNSPEC;
}
