/* SPDX-License-Identifier: GPL-2.0 */
/* The text of an IP address and port, written one way for the whole project: "10.0.0.1",
 * "10.0.0.1:80", "2001:db8::1", "[2001:db8::1]:80". Shared by pingd and the control-plane
 * library (userspace/ctrl), which is why it depends on nothing but libc. */
#ifndef USERSPACE_LIB_ADDR_H
#define USERSPACE_LIB_ADDR_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

/* Write address <ip> of family <af> (AF_INET: a struct in_addr, AF_INET6: a struct in6_addr;
 * network order) into <out> (<size> bytes), followed by ":<port>" (host order) when
 * <with_port>, an IPv6 address then in brackets. Returns 0, or -EAFNOSUPPORT with "?" written
 * for any other family. */
int addr_text(int af, const void *ip, unsigned int port, bool with_port, char *out, size_t size);

/* As addr_text(), for socket address <sa> (AF_INET or AF_INET6) and its port. */
/* The address of <sa> as 16 bytes in <a> (IPv4 in the first 4, an IPv4-mapped IPv6 address
 * as IPv4): AF_INET, AF_INET6, or AF_UNSPEC for another family (<a> zeroed). */
int addr_client(const struct sockaddr *sa, unsigned char a[16]);

int addr_sockaddr_text(const struct sockaddr *sa, bool with_port, char *out, size_t size);

/* Parse "ADDR" or "ADDR/LEN" (IPv4 or IPv6) into *<af> (AF_INET, AF_INET6), the 16 bytes at
 * <ip> (the network part, bits past the prefix cleared; the rest zero) and *<plen> (32 or 128
 * without "/LEN"). Returns 0 or -EINVAL. */
int addr_parse_prefix(const char *text, int *af, void *ip, unsigned int *plen);

/* Whether address <a> of family <a_af> lies in prefix <net>/<plen> of family <af>. */
bool addr_prefix_contains(int af, const void *net, unsigned int plen, int a_af, const void *a);

#endif /* USERSPACE_LIB_ADDR_H */
