// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: parsing and printing service and backend addresses. No BPF here, so
 * the unit tests link it alone. */
#include "userspace/ctrl/ctrl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/lib/addr.h"

int ctrl_parse_endpoint(const char *text, bool need_port, __u8 *family, union lb_addr *addr,
	__u16 *port, __u8 *proto, char *err, size_t err_len)
{
	char buf[CTRL_ADDRSTRLEN], *a = buf, *p = NULL, *slash, *end;
	unsigned long v;

	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, err_len, "too long for an address (%zu characters)", strlen(text));
		return -EINVAL;
	}
	strcpy(buf, text);
	*proto = IPPROTO_TCP;
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!strcmp(slash + 1, "tcp")) {
			*proto = IPPROTO_TCP;
		} else if (!strcmp(slash + 1, "udp")) {
			*proto = IPPROTO_UDP;
		} else {
			snprintf(err, err_len, "'%s': protocol must be tcp or udp", text);
			return -EINVAL;
		}
	}
	if (buf[0] == '[') {
		a = buf + 1;
		end = strchr(a, ']');
		if (!end || (end[1] && end[1] != ':')) {
			snprintf(err, err_len, "'%s': expected [IPv6]:PORT", text);
			return -EINVAL;
		}
		*end = '\0';
		if (end[1] == ':')
			p = end + 2;
	} else if (strchr(buf, ':') == strrchr(buf, ':')) {
		/* IPv4, or no colon at all: a single colon separates the port. */
		p = strchr(buf, ':');
		if (p)
			*p++ = '\0';
	}
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, a, addr->bytes) == 1) {
		*family = LB_AF_INET;
	} else if (inet_pton(AF_INET6, a, addr->bytes) == 1) {
		*family = LB_AF_INET6;
	} else {
		snprintf(err, err_len, "'%s': not an IPv4 or IPv6 address", a);
		return -EINVAL;
	}
	*port = 0;
	if (p) {
		errno = 0;
		v = strtoul(p, &end, 10);
		if (!*p || *end || errno || v > 65535 || *p == '-' || *p == '+') {
			snprintf(err, err_len, "'%s': port must be 0..65535", p);
			return -EINVAL;
		}
		*port = (__u16)v;
	} else if (need_port) {
		snprintf(err, err_len, "'%s': expected ADDR:PORT", text);
		return -EINVAL;
	}
	return 0;
}

int ctrl_parse_src_prefix(
	const char *text, int af, union lb_addr *addr, __u8 *plen, char *err, size_t err_len)
{
	const char *fam = af == AF_INET ? "IPv4" : "IPv6", *slash = strchr(text, '/');
	unsigned long max = af == AF_INET ? 32 : 128, v = 0;
	char buf[INET6_ADDRSTRLEN];
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	char *end;

	memset(addr, 0, sizeof(*addr));
	*plen = 0;
	if (n < sizeof(buf)) {
		memcpy(buf, text, n);
		buf[n] = 0;
	}
	if (n >= sizeof(buf) || inet_pton(af, buf, addr->bytes) != 1) {
		snprintf(err, err_len, "invalid %s address '%s'", fam, text);
		return -EINVAL;
	}
	if (slash) {
		errno = 0;
		v = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || slash[1] == '-' || v < 1 || v > max) {
			snprintf(err, err_len, "invalid %s prefix length in '%s': expected 1..%lu",
				fam, text, max);
			return -ERANGE;
		}
		*plen = (__u8)v;
	}
	return 0;
}

const char *ctrl_format_addr(
	__u8 family, const union lb_addr *addr, __u16 port_h, char *buf, size_t len)
{
	(void)addr_text(family == LB_AF_INET ? AF_INET : AF_INET6, addr->bytes, port_h, port_h != 0,
		buf, len);
	return buf;
}
