// SPDX-License-Identifier: GPL-2.0
/* Text of IP addresses and ports (see addr.h). */
#include "userspace/lib/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>

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
