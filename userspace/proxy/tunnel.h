/* SPDX-License-Identifier: GPL-2.0 */
/* Tunnels: after a 101 to an Upgrade (WebSocket) or a 200 to CONNECT, the two connections of
 * an exchange carry bytes both ways until both sides close, with backpressure and an idle
 * timeout. Also the rules that decide whether a route lets a request become a tunnel: its
 * Upgrade tokens and its CONNECT allow-list. */
#ifndef USERSPACE_PROXY_TUNNEL_H
#define USERSPACE_PROXY_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "userspace/cfg/cfg-t.h"

struct conn;
struct event_base;
struct tunnel;

/* How a tunnel ended: <why> is NULL when both sides closed (each half-close passed on and
 * every byte delivered), else static text for the log ("idle timeout", a socket error). The
 * callback may free the tunnel (tunnel_free()) and both connections; the tunnel touches
 * nothing after calling it. */
typedef void (*tunnel_done_fn)(void *arg, const char *why);

/* Tunnel <a> (the client) and <b> (the upstream), both connected; bytes already in either's
 * input buffer are passed on first. Reading one side stops while the other's output holds
 * <bound> bytes or more, and resumes when it drains to half of that, so a tunnel holds at
 * most about twice <bound> per direction. After <idle_ms> without a byte either way the
 * tunnel ends with "idle timeout". The connections stay the caller's (it frees them after
 * <done>); their callbacks become the tunnel's. Returns NULL with errno ENOMEM. */
struct tunnel *tunnel_start(struct event_base *base, struct conn *a, struct conn *b,
	size_t bound, unsigned int idle_ms, tunnel_done_fn done, void *arg);

/* Stop <t> and release it (not its connections); NULL is accepted. */
void tunnel_free(struct tunnel *t);

/* Bytes passed from the client to the upstream (<to_upstream>) or back. */
uint64_t tunnel_bytes(const struct tunnel *t, bool to_upstream);

/* Whether an Upgrade field value <val> (<len> bytes: "websocket", or a list such as
 * "h2c, websocket") names only protocols in <allow> ("*" allows any): every listed
 * protocol must be allowed, compared case-insensitively, versions ("/13") ignored. False for
 * an empty list or value. */
bool tunnel_upgrade_allowed(const struct cfg_str_list *allow, const char *val, size_t len);

/* Split a CONNECT request-target <t> (<len> bytes, authority-form "host:port" or
 * "[v6]:port") into <host> (NUL-terminated, brackets removed, at most <hsize> - 1 bytes)
 * and <port>. Returns 0, or -EINVAL for anything else (no port, port 0 or over 65535, an
 * empty or overlong host, a userinfo, a path). */
int tunnel_target_parse(const char *t, size_t len, char *host, size_t hsize, uint16_t *port);

/* Whether <host>:<port> (as tunnel_target_parse() gives it) matches an entry of the allow-list
 * <allow> (cfg_route.connect): host exact (any case, IPv6 in brackets), "*.domain" for names
 * under domain, "*" any; port exact or "*". */
bool tunnel_target_allowed(const struct cfg_str_list *allow, const char *host, uint16_t port);

#endif /* USERSPACE_PROXY_TUNNEL_H */
