// SPDX-License-Identifier: GPL-2.0
/* pingd's configuration: one table of keys (cfg_keys[]) drives YAML parsing through libyaml,
 * defaults, bounds, cross-reference validation, --dump-config and the docs reference. */
#include "userspace/cfg/cfg.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "userspace/cfg/health_params.h"
#include "userspace/ctrl/l4cfg.h"
#include "userspace/http/h1.h"
#include "userspace/lib/addr.h"
#include "userspace/lib/log.h"

#define CFG_TEXT_MAX  (1u << 20) /* longest config message buffer kept, bytes */
#define CFG_BARE_WARN 100	 /* a bare duration below this many ms is probably seconds */
#define CFG_HOST_MAX  255

#define CFG_MAX_SERVERS 4096u /* servers of one pool, names expanded */
#define CFG_DNS_MAX	253   /* longest DNS name in text form, without a trailing dot (RFC 1035) */
#define CFG_LABEL_MAX	63    /* longest label of a DNS name */

enum cfg_type {
	CFG_T_UINT = 0, /* unsigned int in [min, max] */
	CFG_T_BOOL,	/* bool */
	CFG_T_DURATION, /* unsigned int milliseconds in [min, max] */
	CFG_T_SIZE,	/* unsigned int bytes in [min, max] */
	CFG_T_SIZE64,	/* uint64_t bytes in [min, max] */
	CFG_T_STR,	/* char *, owned */
	CFG_T_ENUM,	/* int, index into names[] */
	CFG_T_ADDR,	/* struct cfg_addr */
	CFG_T_STRLIST,	/* struct cfg_str_list */
	CFG_T_HDROPS,	/* struct cfg_hdr_ops */
	CFG_T_HASHKEY,	/* struct cfg_hash_key */
	CFG_T_SECTION,	/* a nested mapping stored inline at off */
	CFG_T_LIST,	/* a sequence of mappings: T * at off, size_t count at count_off */
	CFG_T_L4,	/* struct ctrl_l4cfg *, owned: the l4: section (userspace/ctrl/l4cfg.h) */
	CFG_T_PEER,	/* struct cfg_server's address: an IP literal, or NAME:PORT in name */
	CFG_T_MAX	/* must stay last */
};

enum cfg_section {
	SEC_ROOT = 0,
	SEC_LOG,
	SEC_TIMEOUTS,
	SEC_LIMITS,
	SEC_PROXY,
	SEC_LISTENER,
	SEC_VHOST,
	SEC_ROUTE,
	SEC_UPSTREAM,
	SEC_SERVER,
	SEC_HEALTH,
	SEC_PASSIVE,
	SEC_ADMIN,
	SEC_L4HEALTH,
	SEC_MAX /* must stay last */
};

#define CFG_REQUIRED 0x1u /* no default: must be written */

struct cfg_key {
	enum cfg_section sec;
	const char *name;
	enum cfg_type type;
	size_t off;
	const char *def;   /* default, in YAML form; NULL with CFG_REQUIRED or for sections */
	uint64_t min, max; /* value bounds; item-count bounds for CFG_T_LIST */
	const char *const *names; /* CFG_T_ENUM choices, NULL-terminated */
	enum cfg_section child;	  /* CFG_T_SECTION / CFG_T_LIST */
	size_t count_off;	  /* CFG_T_LIST */
	unsigned int flags;
	const char *help;
};

struct cfg_section_info {
	const char *prefix; /* full-name prefix of its keys */
	size_t size;	    /* element size for list items */
	size_t line_off;    /* offset of an "int line" field, or SIZE_MAX */
};

static const struct cfg_section_info sections[SEC_MAX] = {
	[SEC_ROOT] = {"", sizeof(struct cfg), SIZE_MAX},
	[SEC_LOG] = {"log.", sizeof(struct cfg_log), SIZE_MAX},
	[SEC_TIMEOUTS] = {"timeouts.", sizeof(struct cfg_timeouts), SIZE_MAX},
	[SEC_LIMITS] = {"limits.", sizeof(struct cfg_limits), SIZE_MAX},
	[SEC_PROXY] = {"proxy.", sizeof(struct cfg_proxy), SIZE_MAX},
	[SEC_LISTENER] = {"listeners[].", sizeof(struct cfg_listener),
		offsetof(struct cfg_listener, line)},
	[SEC_VHOST] = {"virtual_hosts[].", sizeof(struct cfg_vhost),
		offsetof(struct cfg_vhost, line)},
	[SEC_ROUTE] = {"virtual_hosts[].routes[].", sizeof(struct cfg_route),
		offsetof(struct cfg_route, line)},
	[SEC_UPSTREAM] = {"upstreams[].", sizeof(struct cfg_upstream),
		offsetof(struct cfg_upstream, line)},
	[SEC_SERVER] = {"upstreams[].servers[].", sizeof(struct cfg_server),
		offsetof(struct cfg_server, line)},
	[SEC_HEALTH] = {"upstreams[].health.", sizeof(struct cfg_health), SIZE_MAX},
	[SEC_PASSIVE] = {"upstreams[].passive.", sizeof(struct cfg_passive), SIZE_MAX},
	[SEC_ADMIN] = {"admin.", sizeof(struct cfg_admin), SIZE_MAX},
	[SEC_L4HEALTH] = {"l4_health[].", sizeof(struct cfg_l4health),
		offsetof(struct cfg_l4health, line)},
};

static const char *const level_names[] = {"err", "warn", "notice", "info", "debug", NULL};
static const char *const format_names[] = {"combined", "json", NULL};
static const char *const select_names[] = {
	"round_robin", "weighted_round_robin", "least_conn", "ketama", "maglev", NULL};
static const char *const match_names[] = {"prefix", "exact", NULL};
static const char *const check_names[] = {"off", "tcp", "http", NULL};

#define DMS 86400000u /* one day in ms: the upper bound of most timeouts */

/* clang-format off */
#define K(s, n, t, st, f, d, lo, hi, h) \
	{ .sec = s, .name = n, .type = t, .off = offsetof(st, f), .def = d, .min = lo, \
	  .max = hi, .help = h }
#define KE(s, n, st, f, d, nm, h) \
	{ .sec = s, .name = n, .type = CFG_T_ENUM, .off = offsetof(st, f), .def = d, \
	  .names = nm, .help = h }
#define KS(s, n, st, f, c, h) \
	{ .sec = s, .name = n, .type = CFG_T_SECTION, .off = offsetof(st, f), .child = c, .help = h }
#define KL(s, n, st, f, cnt, c, lo, hi, fl, h) \
	{ .sec = s, .name = n, .type = CFG_T_LIST, .off = offsetof(st, f), \
	  .count_off = offsetof(st, cnt), .child = c, .min = lo, .max = hi, .flags = fl, .help = h }
#define KR(s, n, t, st, f, h) \
	{ .sec = s, .name = n, .type = t, .off = offsetof(st, f), .flags = CFG_REQUIRED, .help = h }

static const struct cfg_key cfg_keys[] = {
	K(SEC_ROOT, "workers", CFG_T_UINT, struct cfg, workers, "0", 0, 256,
	  "worker threads, each with its own event loop and sockets; 0 = one per CPU"),
	K(SEC_ROOT, "pidfile", CFG_T_STR, struct cfg, pidfile, "/run/pingd.pid", 0, 0,
	  "pid file written when daemonized (-d)"),
	K(SEC_ROOT, "upgrade_socket", CFG_T_STR, struct cfg, upgrade_socket, "", 0, 0,
	  "Unix socket that hands the listening sockets to pingd --upgrade; empty = "
	  "/run/pingd-ADDR-PORT.sock of the first listener"),
	KS(SEC_ROOT, "log", struct cfg, log, SEC_LOG, "error and access logs"),
	KE(SEC_LOG, "level", struct cfg_log, level, "notice", level_names,
	   "error log threshold: err, warn, notice, info, debug"),
	K(SEC_LOG, "syslog", CFG_T_BOOL, struct cfg_log, syslog, "false", 0, 0,
	  "error log to syslog even in the foreground (always when daemonized)"),
	K(SEC_LOG, "access_log", CFG_T_STR, struct cfg_log, access_log, "off", 0, 0,
	  "access log: a file path, stderr, or off"),
	KE(SEC_LOG, "access_format", struct cfg_log, access_format, "combined", format_names,
	   "access log format: combined or json"),
	KS(SEC_ROOT, "timeouts", struct cfg, timeouts, SEC_TIMEOUTS, "timeouts (durations)"),
	K(SEC_TIMEOUTS, "connect", CFG_T_DURATION, struct cfg_timeouts, connect_ms, "5s", 1, DMS,
	  "upstream TCP connect; on expiry the next peer is tried, then 502"),
	K(SEC_TIMEOUTS, "client_header", CFG_T_DURATION, struct cfg_timeouts, client_header_ms,
	  "10s", 1, DMS, "receiving a whole request head (slow clients get 408)"),
	K(SEC_TIMEOUTS, "client_body", CFG_T_DURATION, struct cfg_timeouts, client_body_ms,
	  "60s", 1, DMS, "between two reads of a request body (408)"),
	K(SEC_TIMEOUTS, "upstream_read", CFG_T_DURATION, struct cfg_timeouts, upstream_read_ms,
	  "60s", 1, DMS, "between two reads from the upstream (504 before the response starts)"),
	K(SEC_TIMEOUTS, "keepalive", CFG_T_DURATION, struct cfg_timeouts, keepalive_ms, "75s", 1,
	  DMS, "idle client connection between requests"),
	K(SEC_TIMEOUTS, "send", CFG_T_DURATION, struct cfg_timeouts, send_ms, "60s", 1, DMS,
	  "between two writes to a peer that stopped reading"),
	K(SEC_TIMEOUTS, "total", CFG_T_DURATION, struct cfg_timeouts, total_ms, "0", 0, DMS,
	  "whole request/response exchange; 0 = no limit (504)"),
	K(SEC_TIMEOUTS, "shutdown", CFG_T_DURATION, struct cfg_timeouts, shutdown_ms, "30s", 1,
	  DMS, "grace period for requests in progress on SIGTERM, reload and upgrade"),
	KS(SEC_ROOT, "limits", struct cfg, limits, SEC_LIMITS, "sizes and counts"),
	K(SEC_LIMITS, "max_header_size", CFG_T_SIZE, struct cfg_limits, max_header_size, "16k",
	  256, 1u << 20, "largest request or response head, bytes (431 / 502)"),
	K(SEC_LIMITS, "max_headers", CFG_T_UINT, struct cfg_limits, max_headers, "100", 1, 10000,
	  "most header fields in a message (431)"),
	K(SEC_LIMITS, "max_body_size", CFG_T_SIZE64, struct cfg_limits, max_body_size, "0", 0,
	  UINT64_MAX, "largest request body, bytes; 0 = no limit (413)"),
	K(SEC_LIMITS, "buffer_size", CFG_T_SIZE, struct cfg_limits, buffer_size, "64k", 4096,
	  64u << 20, "bytes buffered per direction before reading pauses (backpressure)"),
	K(SEC_LIMITS, "max_connections", CFG_T_UINT, struct cfg_limits, max_connections, "100000",
	  1, 10000000, "client connections per worker; at the limit the worker stops accepting"),
	K(SEC_LIMITS, "max_requests", CFG_T_UINT, struct cfg_limits, max_requests, "0", 0,
	  UINT_MAX, "requests per client connection before it is closed; 0 = no limit"),
	KS(SEC_ROOT, "admin", struct cfg, admin, SEC_ADMIN, "admin listener"),
	K(SEC_ADMIN, "address", CFG_T_STR, struct cfg_admin, address, "", 0, 0,
	  "GET /metrics and /healthz on IPv4:PORT or [IPv6]:PORT (no names); empty = off"),
	KS(SEC_ROOT, "proxy", struct cfg, proxy, SEC_PROXY, "headers pingd adds"),
	K(SEC_PROXY, "via", CFG_T_BOOL, struct cfg_proxy, via, "true", 0, 0,
	  "add Via: 1.1 <server_name> to requests and responses"),
	K(SEC_PROXY, "x_forwarded_for", CFG_T_BOOL, struct cfg_proxy, x_forwarded_for, "true", 0,
	  0, "append the client address to X-Forwarded-For"),
	K(SEC_PROXY, "x_forwarded_proto", CFG_T_BOOL, struct cfg_proxy, x_forwarded_proto, "true",
	  0, 0, "set X-Forwarded-Proto to the client's scheme"),
	K(SEC_PROXY, "forwarded", CFG_T_BOOL, struct cfg_proxy, forwarded, "false", 0, 0,
	  "append an RFC 7239 Forwarded element (for=, proto=, host=)"),
	K(SEC_PROXY, "server_name", CFG_T_STR, struct cfg_proxy, server_name, "pingd", 0, 0,
	  "pseudonym used in Via"),
	KL(SEC_ROOT, "listeners", struct cfg, listeners, n_listeners, SEC_LISTENER, 1, 64,
	   CFG_REQUIRED, "addresses to accept client connections on"),
	KR(SEC_LISTENER, "address", CFG_T_ADDR, struct cfg_listener, address,
	   "IPv4:PORT, [IPv6]:PORT or *:PORT (IP addresses, no names)"),
	K(SEC_LISTENER, "backlog", CFG_T_UINT, struct cfg_listener, backlog, "4096", 1, 65535,
	  "listen(2) backlog of each worker's socket"),
	K(SEC_LISTENER, "virtual_hosts", CFG_T_STRLIST, struct cfg_listener, virtual_hosts, "[]",
	  0, 0, "names of the virtual hosts served here; empty = all"),
	K(SEC_LISTENER, "steer", CFG_T_BOOL, struct cfg_listener, steer, "false", 0, 0,
	  "also take every connection to an l7 service of the data plane (one per family)"),
	K(SEC_ROOT, "steer_pin_dir", CFG_T_STR, struct cfg, steer_pin_dir, PINGX_PIN_DIR, 0, 0,
	  "pin directory of the data plane's maps, read by listeners[].steer"),
	KL(SEC_ROOT, "virtual_hosts", struct cfg, vhosts, n_vhosts, SEC_VHOST, 1, 4096,
	   CFG_REQUIRED, "virtual hosts, matched on the Host header"),
	KR(SEC_VHOST, "name", CFG_T_STR, struct cfg_vhost, name, "unique name"),
	KR(SEC_VHOST, "hosts", CFG_T_STRLIST, struct cfg_vhost, hosts,
	   "host names: exact (example.com), wildcard (*.example.com) or * for any"),
	KL(SEC_VHOST, "routes", struct cfg_vhost, routes, n_routes, SEC_ROUTE, 1, 4096,
	   CFG_REQUIRED, "routes, most specific path first"),
	KR(SEC_ROUTE, "path", CFG_T_STR, struct cfg_route, path, "path to match, starting with /"),
	KE(SEC_ROUTE, "match", struct cfg_route, match, "prefix", match_names,
	   "prefix or exact (the path without its query)"),
	KR(SEC_ROUTE, "upstream", CFG_T_STR, struct cfg_route, upstream, "upstream pool name"),
	K(SEC_ROUTE, "host", CFG_T_STR, struct cfg_route, host, "", 0, 0,
	  "Host sent upstream; empty keeps the client's"),
	K(SEC_ROUTE, "request_headers", CFG_T_HDROPS, struct cfg_route, request_headers, "{}", 0,
	  0, "request header rewrites: {add: {N: V}, set: {N: V}, remove: [N]}"),
	K(SEC_ROUTE, "response_headers", CFG_T_HDROPS, struct cfg_route, response_headers, "{}",
	  0, 0, "response header rewrites, same form"),
	KL(SEC_ROOT, "upstreams", struct cfg, upstreams, n_upstreams, SEC_UPSTREAM, 1, 4096,
	   CFG_REQUIRED, "upstream pools"),
	KR(SEC_UPSTREAM, "name", CFG_T_STR, struct cfg_upstream, name, "unique name"),
	KE(SEC_UPSTREAM, "selection", struct cfg_upstream, selection, "round_robin", select_names,
	   "round_robin, weighted_round_robin, least_conn, ketama or maglev"),
	K(SEC_UPSTREAM, "hash_key", CFG_T_HASHKEY, struct cfg_upstream, hash_key, "uri", 0, 0,
	  "ketama/maglev key: uri, client_addr, header:NAME or cookie:NAME"),
	K(SEC_UPSTREAM, "keepalive", CFG_T_UINT, struct cfg_upstream, keepalive, "32", 0, 65536,
	  "idle connections kept per peer per worker, more when it has more clients; 0 = no reuse"),
	K(SEC_UPSTREAM, "idle_timeout", CFG_T_DURATION, struct cfg_upstream, idle_timeout_ms,
	  "60s", 1, DMS, "how long an idle upstream connection is kept"),
	K(SEC_UPSTREAM, "retries", CFG_T_UINT, struct cfg_upstream, retries, "2", 0, 16,
	  "further peers tried after a connect failure (or a reset, for idempotent requests)"),
	K(SEC_UPSTREAM, "retry_on_timeout", CFG_T_BOOL, struct cfg_upstream, retry_on_timeout,
	  "false", 0, 0, "an idempotent request whose response timed out is tried on another peer"),
	K(SEC_UPSTREAM, "retry_budget", CFG_T_UINT, struct cfg_upstream, retry_budget, "20", 0,
	  100, "replays allowed as a percentage of requests, per worker over 10 s"),
	K(SEC_UPSTREAM, "retry_budget_min", CFG_T_UINT, struct cfg_upstream, retry_budget_min,
	  "10", 0, 1000000, "replays always allowed per worker per 10 s"),
	KS(SEC_UPSTREAM, "health", struct cfg_upstream, health, SEC_HEALTH,
	   "active health checks of the pool's servers"),
	KE(SEC_HEALTH, "check", struct cfg_health, check, "off", check_names,
	   "off, tcp (connect) or http (request, expected status)"),
	K(SEC_HEALTH, "interval", CFG_T_DURATION, struct cfg_health, interval_ms, "2s", 1, DMS,
	  "time between two probe starts"),
	K(SEC_HEALTH, "timeout", CFG_T_DURATION, struct cfg_health, timeout_ms, "1s", 1, DMS,
	  "whole probe (connect and response head); at most the interval"),
	K(SEC_HEALTH, "rise", CFG_T_UINT, struct cfg_health, rise, "2", 1, 1000,
	  "consecutive successes that bring a down server up"),
	K(SEC_HEALTH, "fall", CFG_T_UINT, struct cfg_health, fall, "3", 1, 1000,
	  "consecutive failures that take an up server down"),
	K(SEC_HEALTH, "jitter", CFG_T_UINT, struct cfg_health, jitter, "10", 0, 50,
	  "percent by which each interval is spread, so probes do not synchronise"),
	K(SEC_HEALTH, "method", CFG_T_STR, struct cfg_health, method, "GET", 0, 0,
	  "http: request method"),
	K(SEC_HEALTH, "path", CFG_T_STR, struct cfg_health, path, "/", 0, 0,
	  "http: request-target, starting with /"),
	K(SEC_HEALTH, "host", CFG_T_STR, struct cfg_health, host, "", 0, 0,
	  "http: Host header; empty = the server's address, or its NAME:PORT"),
	K(SEC_HEALTH, "status_min", CFG_T_UINT, struct cfg_health, status_min, "200", 100, 599,
	  "http: lowest accepted status"),
	K(SEC_HEALTH, "status_max", CFG_T_UINT, struct cfg_health, status_max, "399", 100, 599,
	  "http: highest accepted status"),
	KS(SEC_UPSTREAM, "passive", struct cfg_upstream, passive, SEC_PASSIVE,
	   "passive health: failed requests take a server out for a while"),
	K(SEC_PASSIVE, "max_fails", CFG_T_UINT, struct cfg_passive, max_fails, "1", 0, 1000,
	  "consecutive failed requests that start a cool-down; 0 = off (so is an active check)"),
	K(SEC_PASSIVE, "cooldown", CFG_T_DURATION, struct cfg_passive, cooldown_ms, "10s", 1, DMS,
	  "how long a server stays out before one request tries it again"),
	K(SEC_PASSIVE, "cooldown_max", CFG_T_DURATION, struct cfg_passive, cooldown_max_ms, "5m",
	  1, DMS, "longest cool-down: each failed try doubles the last one up to this"),
	KL(SEC_UPSTREAM, "servers", struct cfg_upstream, servers, n_servers, SEC_SERVER, 1,
	   CFG_MAX_SERVERS,
	   CFG_REQUIRED, "the pool's peers"),
	KR(SEC_SERVER, "address", CFG_T_PEER, struct cfg_server, address,
	   "IPv4:PORT, [IPv6]:PORT or NAME:PORT; a name is resolved when the config loads and "
	   "each of its addresses becomes a server"),
	K(SEC_SERVER, "weight", CFG_T_UINT, struct cfg_server, weight, "1", 1, 1000,
	  "relative share (weighted_round_robin, least_conn, ketama, maglev)"),
	{ .sec = SEC_ROOT, .name = "l4", .type = CFG_T_L4, .off = offsetof(struct cfg, l4),
	  .help = "XDP services and backends, the schema `pingctl save` prints (docs/pingctl.md); "
		  "applied to the pinned maps at start-up; absent = the maps are not touched" },
	K(SEC_ROOT, "l4_pin_dir", CFG_T_STR, struct cfg, l4_pin_dir, PINGX_PIN_DIR, 0, 0,
	  "pin directory of the data plane's maps (as pingctl --bpffs), used with l4"),
	KL(SEC_ROOT, "l4_health", struct cfg, l4_health, n_l4_health, SEC_L4HEALTH, 0, 4096, 0,
	   "health checks of the l4 backends, per service; without an item: tcp with the defaults"),
	K(SEC_L4HEALTH, "service", CFG_T_STR, struct cfg_l4health, service, "*", 0, 0,
	  "an l4.services[].address, or * for every service without an item of its own"),
	KE(SEC_L4HEALTH, "check", struct cfg_l4health, health.check, "tcp", check_names,
	   "off: backends stay as configured; tcp: connect; http: a request, expected status"),
	K(SEC_L4HEALTH, "interval", CFG_T_DURATION, struct cfg_l4health, health.interval_ms, "2s", 1, DMS,
	  "time between probes of one backend"),
	K(SEC_L4HEALTH, "timeout", CFG_T_DURATION, struct cfg_l4health, health.timeout_ms, "1s", 1, DMS,
	  "a probe not done by then failed (at most interval)"),
	K(SEC_L4HEALTH, "rise", CFG_T_UINT, struct cfg_l4health, health.rise, "2", 1, 1000,
	  "consecutive successes that bring a down backend up"),
	K(SEC_L4HEALTH, "fall", CFG_T_UINT, struct cfg_l4health, health.fall, "3", 1, 1000,
	  "consecutive failures that take a backend down"),
	K(SEC_L4HEALTH, "port", CFG_T_UINT, struct cfg_l4health, port, "0", 0, 65535,
	  "port probed; 0 = the backend's port, or the service's when the backend has none"),
	K(SEC_L4HEALTH, "path", CFG_T_STR, struct cfg_l4health, health.path, "/", 0, 0,
	  "http: request path"),
	K(SEC_L4HEALTH, "host", CFG_T_STR, struct cfg_l4health, health.host, "", 0, 0,
	  "http: Host header; empty = the backend address"),
	K(SEC_L4HEALTH, "jitter", CFG_T_UINT, struct cfg_l4health, health.jitter, "10", 0, 50,
	  "percent by which each interval is spread, so probes do not synchronise"),
	K(SEC_L4HEALTH, "method", CFG_T_STR, struct cfg_l4health, health.method, "GET", 0, 0,
	  "http: request method"),
	K(SEC_L4HEALTH, "status_min", CFG_T_UINT, struct cfg_l4health, health.status_min, "200",
	  100, 599, "http: lowest accepted status"),
	K(SEC_L4HEALTH, "status_max", CFG_T_UINT, struct cfg_l4health, health.status_max, "399",
	  100, 599, "http: highest accepted status"),
};
/* clang-format on */

#define N_KEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

/* Loading state: the file name, where messages go, and the error count. */
struct cfg_ctx {
	const char *file;
	struct cfg_msgs *msgs;
	struct cfg_msgs local; /* used when the caller passed no msgs */
	yaml_document_t *doc;
};

void cfg_msgs_free(struct cfg_msgs *m)
{
	free(m->text);
	memset(m, 0, sizeof(*m));
}

/* Append one message for <line> (0: no line) to the context's list, as an error or a
 * <warning>. Messages past CFG_TEXT_MAX bytes are counted but not kept. */
static void msg_add(struct cfg_ctx *ctx, bool warning, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void msg_add(struct cfg_ctx *ctx, bool warning, int line, const char *fmt, ...)
{
	struct cfg_msgs *m = ctx->msgs;
	char body[512], full[768];
	va_list ap;
	size_t n;
	char *t;
	int r;

	if (warning)
		m->warnings++;
	else
		m->errors++;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (line > 0)
		r = snprintf(full, sizeof(full), "%s:%d: %s%s\n", ctx->file, line,
			warning ? "warning: " : "", body);
	else
		r = snprintf(full, sizeof(full), "%s: %s%s\n", ctx->file,
			warning ? "warning: " : "", body);
	if (r < 0)
		return;
	n = strlen(full);
	if (m->len + n + 1 > CFG_TEXT_MAX)
		return;
	t = realloc(m->text, m->len + n + 1);
	if (!t)
		return;
	memcpy(t + m->len, full, n + 1);
	m->text = t;
	m->len += n;
}

/* ------------------------------------------------------------------ scalar parsers */

int cfg_parse_duration(const char *s, unsigned int *ms)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (!*end || !strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "s"))
		mul = 1000;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else
		return -EINVAL;
	if (v > UINT_MAX / mul)
		return -ERANGE;
	*ms = (unsigned int)(v * mul);
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] && !((end[1] == 'b' || end[1] == 'B') && !end[2]))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = (uint64_t)v << shift;
	return 0;
}

int cfg_parse_addr(const char *s, struct cfg_addr *a)
{
	char host[64];
	const char *colon, *h, *p;
	unsigned long port;
	size_t hl;
	char *end;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(a->text))
		return -EINVAL;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		p = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;
		h = s;
		hl = (size_t)(colon - s);
		p = colon + 1;
	}
	if (hl >= sizeof(host) || !isdigit((unsigned char)*p))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(p, &end, 10);
	if (*end || errno || port == 0 || port > 65535)
		return -EINVAL;
	if (!hl || !strcmp(host, "*"))
		strcpy(host, "0.0.0.0");
	if (*s != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*sin6);
	}
	strcpy(a->text, s);
	return 0;
}


/* A header value we are willing to send: visible ASCII, space, tab, obs-text; no CR/LF/NUL. */
static bool is_field_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
		else if (*s == 0x7f)
			return false;
	return true;
}

/* ------------------------------------------------------------------ YAML walking */

/* What a non-scalar node is, for "got ..." in messages; NULL for a scalar. */
static const char *node_type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return NULL;
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* The 1-based line where <n> starts (libyaml counts from 0). */
static int node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static void free_value(const struct cfg_key *k, void *p);
static void apply_defaults(struct cfg_ctx *ctx, enum cfg_section sec, char *base);
static void parse_mapping(struct cfg_ctx *ctx, yaml_node_t *map, enum cfg_section sec, char *base);

/* The "expected X" text for key <k>. */

static void expected_text(const struct cfg_key *k, char *buf, size_t size)
{
	size_t n;

	switch (k->type) {
	case CFG_T_UINT:
		snprintf(buf, size, "an integer in [%" PRIu64 ", %" PRIu64 "]", k->min, k->max);
		break;
	case CFG_T_BOOL:
		snprintf(buf, size, "true or false");
		break;
	case CFG_T_DURATION:
		snprintf(buf, size, "a duration with a unit (ms, s, m, h)");
		break;
	case CFG_T_SIZE:
	case CFG_T_SIZE64:
		snprintf(buf, size, "a size (bytes, or with k, m, g)");
		break;
	case CFG_T_STR:
		snprintf(buf, size, "a string");
		break;
	case CFG_T_ENUM:
		n = (size_t)snprintf(buf, size, "one of");
		for (int i = 0; k->names[i] && n < size; i++)
			n += (size_t)snprintf(
				buf + n, size - n, "%s %s", i ? "," : "", k->names[i]);
		break;
	case CFG_T_ADDR:
		snprintf(buf, size, "IPv4:PORT or [IPv6]:PORT");
		break;
	case CFG_T_PEER:
		snprintf(buf, size, "IPv4:PORT, [IPv6]:PORT or NAME:PORT");
		break;
	case CFG_T_STRLIST:
		snprintf(buf, size, "a string or a list of strings");
		break;
	case CFG_T_HDROPS:
		snprintf(buf, size, "a mapping of add, set and remove");
		break;
	case CFG_T_HASHKEY:
		snprintf(buf, size, "uri, client_addr, header:NAME or cookie:NAME");
		break;
	case CFG_T_SECTION:
		snprintf(buf, size, "a mapping");
		break;
	case CFG_T_L4:
		snprintf(buf, size, "the l4: schema (docs/pingctl.md)");
		break;
	case CFG_T_LIST:
		snprintf(buf, size, "a list of mappings");
		break;
	default:
		snprintf(buf, size, "something else");
	}
}

/* Report "file:line: 'key': expected X, got 'Y'" for key <k>. */
static void bad_value(struct cfg_ctx *ctx, const struct cfg_key *k, int line, const char *got)
{
	char exp[256];

	expected_text(k, exp, sizeof(exp));
	msg_add(ctx, false, line, "'%s%s': expected %s, got '%s'", sections[k->sec].prefix, k->name,
		exp, got);
}

/* As bad_value(), naming a list or mapping by its kind rather than its text. */
static void bad_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n)
{
	const char *what = node_type_name(n);

	if (!what)
		bad_value(ctx, k, node_line(n), (const char *)n->data.scalar.value);
	else
		bad_value(ctx, k, node_line(n), what);
}

/* As bad_value(), followed by ": <why>". */
static void bad_value_why(
	struct cfg_ctx *ctx, const struct cfg_key *k, int line, const char *got, const char *why)
{
	char exp[256];

	expected_text(k, exp, sizeof(exp));
	msg_add(ctx, false, line, "'%s%s': expected %s, got '%s': %s", sections[k->sec].prefix,
		k->name, exp, got, why);
}

/* Whether <s> is "HOST:PORT" with a HOST that is not an IP literal, i.e. what an upstream
 * server may be written as but a listener may not. */
static bool looks_like_name(const char *s)
{
	const char *colon = strrchr(s, ':');

	return colon && colon != s && strchr(s, ':') == colon && *s != '[' &&
	       strspn(s, "0123456789.*") < (size_t)(colon - s);
}

/* Check the host of "NAME:PORT" <s> (<len> bytes before the colon) as a DNS name: labels of
 * letters, digits, "-" and "_" (used by internal zones), none empty or over 63 bytes, no
 * label starting or ending with "-", at most 253 bytes plus an optional final dot, and a last
 * label not all digits (so that "10.0.0.256" is not looked up as a name). Returns NULL when
 * valid, else what is wrong, in <buf> or a constant. */
static const char *check_dns_name(const char *h, size_t len, char *buf, size_t size)
{
	size_t label = 0;
	bool digits = true;

	if (len && h[len - 1] == '.')
		len--; /* a fully qualified name: the root label is empty */
	if (!len)
		return "no host before the port";
	if (len > CFG_DNS_MAX)
		return "host name longer than 253 bytes";
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? h[i] : '.';

		if (ch == '.') {
			if (!label)
				return "empty label in host name";
			if (h[i - 1] == '-' || h[i - label] == '-')
				return "a host name label starts or ends with '-'";
			if (i < len) {
				label = 0;
				digits = true;
			}
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_') {
			if (isprint((unsigned char)ch))
				snprintf(buf, size, "'%c' is not allowed in a host name", ch);
			else
				snprintf(buf, size, "byte 0x%02x is not allowed in a host name",
					(unsigned char)ch);
			return buf;
		}
		if (++label > CFG_LABEL_MAX)
			return "a host name label is longer than 63 bytes";
		digits &= isdigit((unsigned char)ch) != 0;
	}
	if (digits)
		return "not a valid IPv4 address, nor a host name (its last label is all digits)";
	return NULL;
}

/* Check "NAME:PORT" <s> (not an IP literal). Returns NULL when well formed, else what is
 * wrong, in <buf> or a constant. */
static const char *check_name_port(const char *s, char *buf, size_t size)
{
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (*s == '[')
		return "not an IPv6 address between the brackets";
	if (!colon)
		return "no port (NAME:PORT)";
	if (strchr(s, ':') != colon)
		return "an IPv6 address needs brackets: [IPv6]:PORT";
	if (colon == s + 1 && *s == '*')
		return "'*' (any address) is for listeners; a server needs an address or a name";
	if (!colon[1])
		return "no port after ':'";
	if (!isdigit((unsigned char)colon[1]) || strlen(colon + 1) > 5)
		return "the port is not a number from 1 to 65535";
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || !port || port > 65535)
		return "the port is not a number from 1 to 65535";
	return check_dns_name(s, (size_t)(colon - s), buf, size);
}

/* Parse an upstream server's address node <n> (key <k>) into the struct cfg_server at
 * <base>: an IP literal fills its address now; a well-formed NAME:PORT is kept in its name
 * and resolved by resolve_servers() once the whole file is parsed. */
static void parse_peer(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	struct cfg_server *srv = (struct cfg_server *)base;
	const char *s, *why;
	char buf[64];

	if (n->type != YAML_SCALAR_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	s = (const char *)n->data.scalar.value;
	if (*s == ':' || !strncmp(s, "*:", 2)) {
		why = check_name_port(s, buf, sizeof(buf));
		bad_value_why(ctx, k, node_line(n), s, why ? why : "no host");
		return;
	}
	if (!cfg_parse_addr(s, &srv->address))
		return;
	why = check_name_port(s, buf, sizeof(buf));
	if (why) {
		bad_value_why(ctx, k, node_line(n), s, why);
		return;
	}
	snprintf(srv->name, sizeof(srv->name), "%s", s);
}

/* YAML 1.1 booleans as libyaml leaves them (untyped scalars): true/yes/on, false/no/off. */
static int parse_bool(const char *s, bool *b)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
		*b = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
		*b = false;
		return 0;
	}
	return -EINVAL;
}

/* "uri", "client_addr", "header:NAME" or "cookie:NAME" into <hk> (NAME copied). */
static int parse_hashkey(const char *s, struct cfg_hash_key *hk)
{
	const char *name = NULL;

	if (!strcmp(s, "uri")) {
		hk->src = CFG_HASH_URI;
	} else if (!strcmp(s, "client_addr")) {
		hk->src = CFG_HASH_CLIENT_ADDR;
	} else if (!strncmp(s, "header:", 7)) {
		hk->src = CFG_HASH_HEADER;
		name = s + 7;
	} else if (!strncmp(s, "cookie:", 7)) {
		hk->src = CFG_HASH_COOKIE;
		name = s + 7;
	} else {
		return -EINVAL;
	}
	hk->name = NULL;
	if (name) {
		if (!h1_is_token(name))
			return -EINVAL;
		hk->name = strdup(name);
		if (!hk->name)
			return -ENOMEM;
	}
	return 0;
}

/* Parse scalar <s> for key <k> into <dst>. <line> is for warnings. Returns 0, -EINVAL (the
 * caller reports "expected ...") or -ERANGE/-ENOMEM. */
static int parse_scalar(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	unsigned long long v;
	unsigned int ms;
	uint64_t sz;
	char *end;
	bool b;
	int err;

	switch (k->type) {
	case CFG_T_UINT:
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (*end || errno || v < k->min || v > k->max)
			return -EINVAL;
		*(unsigned int *)dst = (unsigned int)v;
		return 0;
	case CFG_T_BOOL:
		err = parse_bool(s, &b);
		if (!err)
			*(bool *)dst = b;
		return err;
	case CFG_T_DURATION:
		err = cfg_parse_duration(s, &ms);
		if (err || ms < k->min || ms > k->max)
			return -EINVAL;
		if (ms && ms < CFG_BARE_WARN && !strpbrk(s, "smh"))
			msg_add(ctx, true, line,
				"'%s%s': '%s' is %u milliseconds; write '%ss' if seconds were meant",
				sections[k->sec].prefix, k->name, s, ms, s);
		*(unsigned int *)dst = ms;
		return 0;
	case CFG_T_SIZE:
	case CFG_T_SIZE64:
		err = cfg_parse_size(s, &sz);
		if (err || sz < k->min || sz > k->max)
			return -EINVAL;
		if (k->type == CFG_T_SIZE)
			*(unsigned int *)dst = (unsigned int)sz;
		else
			*(uint64_t *)dst = sz;
		return 0;
	case CFG_T_STR:
		free(*(char **)dst);
		*(char **)dst = *s ? strdup(s) : NULL;
		return *s && !*(char **)dst ? -ENOMEM : 0;
	case CFG_T_ENUM:
		for (int i = 0; k->names[i]; i++)
			if (!strcmp(s, k->names[i])) {
				*(int *)dst = i;
				return 0;
			}
		return -EINVAL;
	case CFG_T_ADDR:
		return cfg_parse_addr(s, dst);
	case CFG_T_HASHKEY:
		free(((struct cfg_hash_key *)dst)->name);
		return parse_hashkey(s, dst);
	default:
		return -EINVAL;
	}
}

/* Append a copy of <s> to <l>. Returns 0 or -ENOMEM. */
static int strlist_push(struct cfg_str_list *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int hdrops_push(
	struct cfg_hdr_ops *h, enum cfg_hdr_action a, const char *name, const char *value)
{
	struct cfg_hdr_op *ops = realloc(h->ops, (h->n + 1) * sizeof(*ops));

	if (!ops)
		return -ENOMEM;
	h->ops = ops;
	ops[h->n].action = a;
	ops[h->n].name = strdup(name);
	ops[h->n].value = value ? strdup(value) : NULL;
	h->n++;
	return 0;
}

/* A string or a sequence of non-empty strings into <l>; bad items are reported and
 * skipped so that every error of a file shows in one run. */
static void parse_strlist(
	struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, struct cfg_str_list *l)
{
	if (n->type == YAML_SCALAR_NODE) {
		(void)strlist_push(l, (const char *)n->data.scalar.value);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
		it++) {
		yaml_node_t *item = yaml_document_get_node(ctx->doc, *it);

		if (item->type != YAML_SCALAR_NODE || !item->data.scalar.length) {
			bad_node(ctx, k, item);
			continue;
		}
		(void)strlist_push(l, (const char *)item->data.scalar.value);
	}
}

/* The {add: {N: V}, set: {N: V}, remove: [N]} form of header rewrites, in the order
 * written, with names checked as tokens and values free of control bytes. */
static void parse_hdrops(
	struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, struct cfg_hdr_ops *h)
{
	static const char *const actions[] = {"add", "set", "remove"};
	char full[128];

	snprintf(full, sizeof(full), "%s%s", sections[k->sec].prefix, k->name);

	if (n->type != YAML_MAPPING_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
		p++) {
		yaml_node_t *kn = yaml_document_get_node(ctx->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ctx->doc, p->value);
		const char *an =
			kn->type == YAML_SCALAR_NODE ? (const char *)kn->data.scalar.value : "";
		int a = -1;

		for (int i = 0; i < CFG_HDR_MAX; i++)
			if (!strcmp(an, actions[i]))
				a = i;
		if (a < 0) {
			msg_add(ctx, false, node_line(kn),
				"'%s': expected add, set or remove, got '%s'", full, an);
			continue;
		}
		if (a == CFG_HDR_REMOVE) {
			struct cfg_str_list l = {0};

			parse_strlist(ctx, k, vn, &l);
			for (size_t i = 0; i < l.n; i++) {
				if (!h1_is_token(l.v[i]))
					msg_add(ctx, false, node_line(vn),
						"'%s': expected a header name, got '%s'", full,
						l.v[i]);
				else
					(void)hdrops_push(h, CFG_HDR_REMOVE, l.v[i], NULL);
				free(l.v[i]);
			}
			free(l.v);
			continue;
		}
		if (vn->type != YAML_MAPPING_NODE) {
			msg_add(ctx, false, node_line(vn),
				"'%s': expected a mapping of header names to values under '%s', got '%s'",
				full, an,
				vn->type == YAML_SCALAR_NODE ? (const char *)vn->data.scalar.value :
							       "a list");
			continue;
		}
		for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
			q < vn->data.mapping.pairs.top; q++) {
			yaml_node_t *hn = yaml_document_get_node(ctx->doc, q->key);
			yaml_node_t *hv = yaml_document_get_node(ctx->doc, q->value);

			if (hn->type != YAML_SCALAR_NODE ||
				!h1_is_token((const char *)hn->data.scalar.value)) {
				msg_add(ctx, false, node_line(hn),
					"'%s': expected a header name, got '%s'", full,
					hn->type == YAML_SCALAR_NODE ?
						(const char *)hn->data.scalar.value :
						"a collection");
				continue;
			}
			if (hv->type != YAML_SCALAR_NODE ||
				!is_field_value((const char *)hv->data.scalar.value)) {
				msg_add(ctx, false, node_line(hv),
					"'%s': expected a header value without control bytes, got '%s'",
					full,
					hv->type == YAML_SCALAR_NODE ?
						(const char *)hv->data.scalar.value :
						"a collection");
				continue;
			}
			(void)hdrops_push(h, (enum cfg_hdr_action)a,
				(const char *)hn->data.scalar.value,
				(const char *)hv->data.scalar.value);
		}
	}
}

/* A sequence of mappings for a CFG_T_LIST key: the item count is checked against the
 * key's bounds, then each item is parsed (or defaulted) as a section of its own. */
static void parse_list(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	const struct cfg_section_info *si = &sections[k->child];
	size_t count, *cnt = (size_t *)(base + k->count_off);
	char **arr = (char **)(base + k->off);

	if (n->type != YAML_SEQUENCE_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count < k->min || count > k->max) {
		msg_add(ctx, false, node_line(n),
			"'%s%s': expected %" PRIu64 " to %" PRIu64 " items, got %zu",
			sections[k->sec].prefix, k->name, k->min, k->max, count);
		return;
	}
	*arr = calloc(count, si->size);
	if (!*arr) {
		msg_add(ctx, false, node_line(n), "out of memory");
		return;
	}
	*cnt = count;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item =
			yaml_document_get_node(ctx->doc, n->data.sequence.items.start[i]);
		char *elem = *arr + i * si->size;

		if (si->line_off != SIZE_MAX)
			*(int *)(elem + si->line_off) = node_line(item);
		if (item->type != YAML_MAPPING_NODE) {
			bad_node(ctx, k, item);
			apply_defaults(ctx, k->child, elem);
			continue;
		}
		parse_mapping(ctx, item, k->child, elem);
	}
}

/* The l4: section goes to the control plane's own parser, the one `pingctl restore` uses. */
static void parse_l4(struct cfg_ctx *ctx, yaml_node_t *n, struct ctrl_l4cfg **dst)
{
	char err[512];
	int rc;

	*dst = calloc(1, sizeof(**dst));
	if (!*dst) {
		msg_add(ctx, false, node_line(n), "out of memory");
		return;
	}
	rc = ctrl_l4cfg_parse_node(ctx->doc, n, ctx->file, *dst, err, sizeof(err));
	if (rc) {
		/* <err> reads "file:line: reason": keep its line, our format. */
		size_t flen = strlen(ctx->file);
		const char *why = err;
		long line = node_line(n);
		char *end;

		if (!strncmp(err, ctx->file, flen) && err[flen] == ':') {
			long l = strtol(err + flen + 1, &end, 10);

			if (end != err + flen + 1 && *end == ':') {
				line = l;
				why = end + 1 + (end[1] == ' ');
			} else {
				why = err + flen + 1 + (err[flen + 1] == ' ');
			}
		}
		msg_add(ctx, false, (int)line, "%s", why);
	}
}

/* Parse value node <n> of key <k> into <base> + k->off. */
static void parse_value(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	void *dst = base + k->off;
	int err;

	switch (k->type) {
	case CFG_T_SECTION:
		if (n->type != YAML_MAPPING_NODE) {
			bad_node(ctx, k, n);
			apply_defaults(ctx, k->child, dst);
			return;
		}
		parse_mapping(ctx, n, k->child, dst);
		return;
	case CFG_T_LIST:
		parse_list(ctx, k, n, base);
		return;
	case CFG_T_STRLIST:
		parse_strlist(ctx, k, n, dst);
		return;
	case CFG_T_HDROPS:
		parse_hdrops(ctx, k, n, dst);
		return;
	case CFG_T_L4:
		parse_l4(ctx, n, dst);
		return;
	case CFG_T_PEER:
		parse_peer(ctx, k, n, base);
		return;
	default:
		break;
	}
	if (n->type != YAML_SCALAR_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	err = parse_scalar(ctx, k, (const char *)n->data.scalar.value, node_line(n), dst);
	if (err == -ENOMEM)
		msg_add(ctx, false, node_line(n), "out of memory");
	else if (err && k->type == CFG_T_ADDR &&
		 looks_like_name((const char *)n->data.scalar.value))
		bad_value_why(ctx, k, node_line(n), (const char *)n->data.scalar.value,
			"a listener binds an IP address; host names are not resolved here");
	else if (err)
		bad_value(ctx, k, node_line(n), (const char *)n->data.scalar.value);
}

/* Set key <k> in <base> to its default. The defaults are in the table as YAML text, so they
 * go through the same parser as the file; a default that fails to parse is a bug. */
static void apply_default(struct cfg_ctx *ctx, const struct cfg_key *k, char *base)
{
	void *dst = base + k->off;

	switch (k->type) {
	case CFG_T_SECTION:
		apply_defaults(ctx, k->child, dst);
		return;
	case CFG_T_LIST:
	case CFG_T_STRLIST:
	case CFG_T_HDROPS:
	case CFG_T_L4:
		return; /* empty */
	default:
		break;
	}
	if (!k->def || parse_scalar(ctx, k, k->def, 0, dst)) {
		fprintf(stderr, "pingd: BUG: bad default for '%s'\n", k->name);
		abort();
	}
}

/* Every optional key of section <sec> at <base> to its default. */
static void apply_defaults(struct cfg_ctx *ctx, enum cfg_section sec, char *base)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (cfg_keys[i].sec == sec && !(cfg_keys[i].flags & CFG_REQUIRED))
			apply_default(ctx, &cfg_keys[i], base);
}

/* Parse mapping <map> as section <sec> into <base>: unknown and repeated keys are errors,
 * missing keys take their defaults or, when required, are errors at the mapping's line. */
static void parse_mapping(struct cfg_ctx *ctx, yaml_node_t *map, enum cfg_section sec, char *base)
{
	bool seen[N_KEYS] = {false};

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
		p++) {
		yaml_node_t *kn = yaml_document_get_node(ctx->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ctx->doc, p->value);
		const struct cfg_key *k = NULL;
		const char *name;
		size_t i;

		if (kn->type != YAML_SCALAR_NODE) {
			msg_add(ctx, false, node_line(kn), "expected a key name, got %s",
				node_type_name(kn));
			continue;
		}
		name = (const char *)kn->data.scalar.value;
		for (i = 0; i < N_KEYS; i++)
			if (cfg_keys[i].sec == sec && !strcmp(cfg_keys[i].name, name)) {
				k = &cfg_keys[i];
				break;
			}
		if (!k) {
			char known[512];
			size_t n = 0;

			known[0] = '\0';
			for (size_t j = 0; j < N_KEYS && n < sizeof(known); j++)
				if (cfg_keys[j].sec == sec)
					n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
						n ? ", " : "", cfg_keys[j].name);
			msg_add(ctx, false, node_line(kn), "'%s%s': unknown key (known here: %s)",
				sections[sec].prefix, name, known);
			continue;
		}
		if (seen[i]) {
			msg_add(ctx, false, node_line(kn), "'%s%s': given twice",
				sections[sec].prefix, name);
			continue;
		}
		seen[i] = true;
		parse_value(ctx, k, vn, base);
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		if (cfg_keys[i].sec != sec || seen[i])
			continue;
		if (cfg_keys[i].flags & CFG_REQUIRED)
			msg_add(ctx, false, node_line(map), "'%s%s': required, missing",
				sections[sec].prefix, cfg_keys[i].name);
		else
			apply_default(ctx, &cfg_keys[i], base);
	}
}

/* ------------------------------------------------------------------ validation */

/* "*", "*.domain" or a plain host name of letters, digits, "-", "_" and ".". */
static bool valid_host_pattern(const char *h)
{
	size_t len = strlen(h);

	if (!strcmp(h, "*"))
		return true;
	if (!len || len > CFG_HOST_MAX)
		return false;
	if (!strncmp(h, "*.", 2))
		h += 2;
	if (!*h)
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.' && *h != '_')
			return false;
	return true;
}

static bool addr_equal(const struct cfg_addr *a, const struct cfg_addr *b)
{
	return a->len == b->len && !memcmp(&a->ss, &b->ss, a->len);
}

bool cfg_health_params(const struct cfg_health *h, struct health_params *out)
{
	health_params_default(out);
	if (h->check == CFG_HC_OFF)
		return false;
	out->kind = h->check == CFG_HC_HTTP ? HEALTH_HTTP : HEALTH_TCP;
	out->interval_ms = h->interval_ms;
	out->timeout_ms = h->timeout_ms;
	out->rise = h->rise;
	out->fall = h->fall;
	out->jitter_pct = h->jitter;
	out->method = h->method;
	out->path = h->path;
	out->host = h->host && *h->host ? h->host : NULL;
	out->status_min = h->status_min;
	out->status_max = h->status_max;
	return true;
}

/* Checks that span keys: unique names and addresses, hosts served once, routes naming
 * existing upstreams (resolving upstream_idx), listeners naming existing virtual hosts. */
static void validate(struct cfg_ctx *ctx, struct cfg *c)
{
	struct cfg_addr tmp;
	bool steer = false; /* some listener takes steered connections */

	if (c->admin.address && *c->admin.address && cfg_parse_addr(c->admin.address, &tmp) < 0)
		msg_add(ctx, false, 0,
			"'admin.address': expected IPv4:PORT or [IPv6]:PORT, got '%s'%s",
			c->admin.address,
			looks_like_name(c->admin.address) ?
				": the admin listener binds an IP address; host names are not "
				"resolved here" :
				"");
	for (size_t i = 0; i < c->n_upstreams; i++) {
		struct cfg_upstream *u = &c->upstreams[i];
		struct health_params hp;
		char why[128];

		if (cfg_health_params(&u->health, &hp) && health_params_check(&hp, why, sizeof(why)))
			msg_add(ctx, false, u->line, "'upstreams[].health': %s", why);

		for (size_t j = 0; j < i; j++)
			if (u->name && c->upstreams[j].name &&
				!strcmp(u->name, c->upstreams[j].name))
				msg_add(ctx, false, u->line,
					"'upstreams[].name': '%s' defined twice", u->name);
		for (size_t s = 0; s < u->n_servers; s++) {
			const struct cfg_server *a = &u->servers[s];

			for (size_t t = 0; t < s; t++) {
				const struct cfg_server *b = &u->servers[t];

				if (!a->address.len || !addr_equal(&a->address, &b->address))
					continue;
				if (!*a->name && !*b->name)
					msg_add(ctx, false, a->line,
						"'upstreams[].servers[].address': '%s' listed twice in '%s'",
						a->address.text, u->name ? u->name : "");
				else
					msg_add(ctx, false, a->line,
						"'upstreams[].servers[].address': '%s' (%s%s) listed twice in '%s': also from line %d (%s%s)",
						a->address.text, *a->name ? "from " : "",
						*a->name ? a->name : "written so",
						u->name ? u->name : "", b->line,
						*b->name ? "from " : "",
						*b->name ? b->name : "written so");
				break;
			}
		}
	}
	for (size_t i = 0; i < c->n_vhosts; i++) {
		struct cfg_vhost *v = &c->vhosts[i];

		for (size_t j = 0; j < i; j++)
			if (v->name && c->vhosts[j].name && !strcmp(v->name, c->vhosts[j].name))
				msg_add(ctx, false, v->line,
					"'virtual_hosts[].name': '%s' defined twice", v->name);
		for (size_t h = 0; h < v->hosts.n; h++) {
			if (!valid_host_pattern(v->hosts.v[h]))
				msg_add(ctx, false, v->line,
					"'virtual_hosts[].hosts': expected a host name, *.domain or *, got '%s'",
					v->hosts.v[h]);
			for (size_t j = 0; j <= i; j++)
				for (size_t g = 0; g < (j == i ? h : c->vhosts[j].hosts.n); g++)
					if (!strcasecmp(v->hosts.v[h], c->vhosts[j].hosts.v[g]))
						msg_add(ctx, false, v->line,
							"'virtual_hosts[].hosts': '%s' already served by '%s'",
							v->hosts.v[h],
							c->vhosts[j].name ? c->vhosts[j].name : "");
		}
		for (size_t r = 0; r < v->n_routes; r++) {
			struct cfg_route *rt = &v->routes[r];

			rt->upstream_idx = -1;
			if (rt->path && rt->path[0] != '/')
				msg_add(ctx, false, rt->line,
					"'virtual_hosts[].routes[].path': expected a path starting with /, got '%s'",
					rt->path);
			if (rt->host && !valid_host_pattern(rt->host))
				msg_add(ctx, false, rt->line,
					"'virtual_hosts[].routes[].host': expected a host name, got '%s'",
					rt->host);
			if (!rt->upstream)
				continue;
			for (size_t u = 0; u < c->n_upstreams; u++)
				if (c->upstreams[u].name &&
					!strcmp(c->upstreams[u].name, rt->upstream))
					rt->upstream_idx = (int)u;
			if (rt->upstream_idx < 0)
				msg_add(ctx, false, rt->line,
					"'virtual_hosts[].routes[].upstream': no upstream named '%s'",
					rt->upstream);
		}
	}
	for (size_t i = 0; i < c->n_listeners; i++) {
		struct cfg_listener *l = &c->listeners[i];

		for (size_t j = 0; j < i; j++)
			if (l->address.len && addr_equal(&l->address, &c->listeners[j].address))
				msg_add(ctx, false, l->line,
					"'listeners[].address': '%s' listed twice",
					l->address.text);
		for (size_t j = 0; l->steer && j < i; j++) {
			const struct cfg_listener *o = &c->listeners[j];

			if (o->steer && o->address.ss.ss_family == l->address.ss.ss_family)
				msg_add(ctx, false, l->line,
					"'listeners[].steer': '%s' and '%s' both steer IPv%c; one may",
					o->address.text, l->address.text,
					l->address.ss.ss_family == AF_INET6 ? '6' : '4');
		}
		steer |= l->steer;
		for (size_t n = 0; n < l->virtual_hosts.n; n++) {
			bool found = false;

			for (size_t v = 0; v < c->n_vhosts; v++)
				if (c->vhosts[v].name &&
					!strcmp(c->vhosts[v].name, l->virtual_hosts.v[n]))
					found = true;
			if (!found)
				msg_add(ctx, false, l->line,
					"'listeners[].virtual_hosts': no virtual host named '%s'",
					l->virtual_hosts.v[n]);
		}
	}
	if (steer && (!c->steer_pin_dir || c->steer_pin_dir[0] != '/'))
		msg_add(ctx, false, 0, "'steer_pin_dir': expected an absolute path, got '%s'",
			c->steer_pin_dir ? c->steer_pin_dir : "");
}

/* ------------------------------------------------------------------ names */

static cfg_getaddrinfo_fn resolve_fn = getaddrinfo;
static cfg_freeaddrinfo_fn resolve_free_fn = freeaddrinfo;

void cfg_set_resolver(cfg_getaddrinfo_fn getaddrinfo_fn, cfg_freeaddrinfo_fn freeaddrinfo_fn)
{
	resolve_fn = getaddrinfo_fn ? getaddrinfo_fn : getaddrinfo;
	resolve_free_fn = freeaddrinfo_fn ? freeaddrinfo_fn : freeaddrinfo;
}

/* Order of resolved addresses: IPv4 before IPv6, then address bytes, then port (and scope),
 * so that a pool's servers, and with them its ketama ring and Maglev table, do not depend on
 * the order in which DNS answered. */
static int addr_cmp(const void *x, const void *y)
{
	const struct cfg_addr *a = x, *b = y;
	int r;

	if (a->ss.ss_family != b->ss.ss_family)
		return a->ss.ss_family == AF_INET ? -1 : 1;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)&a->ss, *q = (const void *)&b->ss;

		r = memcmp(&p->sin_addr, &q->sin_addr, sizeof(p->sin_addr));
		return r ? r : (int)ntohs(p->sin_port) - (int)ntohs(q->sin_port);
	} else {
		const struct sockaddr_in6 *p = (const void *)&a->ss, *q = (const void *)&b->ss;

		r = memcmp(&p->sin6_addr, &q->sin6_addr, sizeof(p->sin6_addr));
		if (!r)
			r = (int)ntohs(p->sin6_port) - (int)ntohs(q->sin6_port);
		if (!r && p->sin6_scope_id != q->sin6_scope_id)
			r = p->sin6_scope_id < q->sin6_scope_id ? -1 : 1;
		return r;
	}
}

size_t cfg_addrs_sort_unique(struct cfg_addr *a, size_t n)
{
	size_t w = 0;

	if (!n)
		return 0;
	qsort(a, n, sizeof(*a), addr_cmp);
	for (size_t i = 1; i < n; i++)
		if (addr_cmp(&a[w], &a[i]))
			a[++w] = a[i];
	return w + 1;
}

/* Whether host <h> (<len> bytes) is in the special-use domain "invalid." (RFC 6761 6.4), which
 * resolvers should refuse without asking anyone: so it is, here. */
static bool is_invalid_tld(const char *h, size_t len)
{
	if (len && h[len - 1] == '.')
		len--;
	return (len == 7 && !strncasecmp(h, "invalid", 7)) ||
	       (len > 8 && !strncasecmp(h + len - 8, ".invalid", 8));
}

/* Fill <a> from socket address <sa> (AF_INET or AF_INET6, <salen> bytes), with its text in
 * the config's numeric form ("10.0.0.1:80", "[2001:db8::1]:80"). Returns 0 or -EAFNOSUPPORT. */
static int addr_from_sockaddr(struct cfg_addr *a, const struct sockaddr *sa, socklen_t salen)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		memcpy(&a->ss, sa, sizeof(struct sockaddr_in));
		a->len = sizeof(struct sockaddr_in);
	} else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		memcpy(&a->ss, sa, sizeof(struct sockaddr_in6));
		/* not part of the server's identity */
		((struct sockaddr_in6 *)&a->ss)->sin6_flowinfo = 0;
		a->len = sizeof(struct sockaddr_in6);
	} else {
		return -EAFNOSUPPORT;
	}
	return addr_sockaddr_text((const struct sockaddr *)&a->ss, true, a->text, sizeof(a->text));
}

/* Resolve "NAME:PORT" <written> (checked by check_name_port()) to its TCP addresses, sorted,
 * without duplicates. Returns 0 with *<out> (<n> items, the caller frees it), or a negative
 * errno with the reason in <why>. */
static int resolve_name(
	const char *written, struct cfg_addr **out, size_t *n, char *why, size_t why_size)
{
	const struct addrinfo hints = {.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV};
	const char *colon = strrchr(written, ':');
	char host[CFG_NAME_MAX];
	struct addrinfo *res = NULL;
	struct cfg_addr *a;
	size_t count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - written), written);
	if (is_invalid_tld(host, strlen(host))) {
		snprintf(why, why_size, "%s", gai_strerror(EAI_NONAME));
		return -ENOENT;
	}
	rc = resolve_fn(host, colon + 1, &hints, &res);
	if (rc) {
		int err = errno;

		snprintf(why, why_size, "%s", rc == EAI_SYSTEM ? strerror(err) : gai_strerror(rc));
		return rc == EAI_MEMORY ? -ENOMEM : rc == EAI_AGAIN ? -EAGAIN : -ENOENT;
	}
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
		count++;
	a = calloc(count + 1, sizeof(*a));
	if (!a) {
		resolve_free_fn(res);
		snprintf(why, why_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	count = 0;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if (ai->ai_addr && !addr_from_sockaddr(&a[count], ai->ai_addr, ai->ai_addrlen))
			count++;
	resolve_free_fn(res);
	if (!count) {
		free(a);
		snprintf(why, why_size, "no IPv4 or IPv6 address");
		return -ENOENT;
	}
	*n = cfg_addrs_sort_unique(a, count);
	*out = a;
	return 0;
}

/* Resolve every server written as NAME:PORT and put one server per address in its place,
 * with the same weight, line and name. A name that does not resolve is an error at its line;
 * its server stays, without an address, so that every error of the file is still reported. */
static void resolve_servers(struct cfg_ctx *ctx, struct cfg *c)
{
	for (size_t i = 0; i < c->n_upstreams; i++) {
		struct cfg_upstream *u = &c->upstreams[i];
		struct cfg_addr **addrs = NULL;
		struct cfg_server *servers;
		size_t *counts = NULL, total = 0, k = 0, n_old = u->n_servers;
		bool named = false;

		for (size_t s = 0; s < u->n_servers; s++)
			named |= u->servers[s].name[0] != '\0';
		if (!named)
			continue;
		addrs = calloc(u->n_servers, sizeof(*addrs));
		counts = calloc(u->n_servers, sizeof(*counts));
		if (!addrs || !counts) {
			msg_add(ctx, false, u->line, "out of memory");
			goto next;
		}
		for (size_t s = 0; s < u->n_servers; s++) {
			struct cfg_server *srv = &u->servers[s];
			char why[256];
			int err;

			counts[s] = 1;
			if (!srv->name[0])
				continue;
			err = resolve_name(srv->name, &addrs[s], &counts[s], why, sizeof(why));
			if (err) {
				counts[s] = 1;
				msg_add(ctx, false, srv->line,
					"'upstreams[].servers[].address': cannot resolve '%.*s': %s",
					(int)(strrchr(srv->name, ':') - srv->name), srv->name, why);
			}
		}
		for (size_t s = 0; s < u->n_servers; s++)
			total += counts[s];
		if (total > CFG_MAX_SERVERS) {
			msg_add(ctx, false, u->line,
				"'upstreams[].servers': expected at most %u servers once names are resolved, got %zu",
				CFG_MAX_SERVERS, total);
			goto next;
		}
		servers = calloc(total, sizeof(*servers));
		if (!servers) {
			msg_add(ctx, false, u->line, "out of memory");
			goto next;
		}
		/* A server owns no memory (an address, a weight, inline text), so copies are
		 * plain struct copies and the old array goes with free(). */
		for (size_t s = 0; s < u->n_servers; s++) {
			if (!addrs[s]) {
				servers[k++] = u->servers[s];
				continue;
			}
			for (size_t j = 0; j < counts[s]; j++) {
				servers[k] = u->servers[s];
				servers[k++].address = addrs[s][j];
			}
		}
		free(u->servers);
		u->servers = servers;
		u->n_servers = total;
	next:
		for (size_t s = 0; addrs && s < n_old; s++)
			free(addrs[s]);
		free(addrs);
		free(counts);
	}
}

/* ------------------------------------------------------------------ loading */

/* Build a config from <parser>'s one document; NULL with errno EINVAL when any error was
 * reported (all of them are, not only the first). */
static struct cfg *load(const char *name, yaml_parser_t *parser, struct cfg_msgs *msgs)
{
	struct cfg_ctx ctx = {.file = name, .msgs = msgs};
	yaml_document_t doc;
	yaml_node_t *root;
	struct cfg *c;

	if (!ctx.msgs)
		ctx.msgs = &ctx.local;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->file = strdup(name);
	if (!yaml_parser_load(parser, &doc)) {
		msg_add(&ctx, false, (int)parser->problem_mark.line + 1, "YAML: %s%s%s",
			parser->problem ? parser->problem : "syntax error",
			parser->context ? " " : "", parser->context ? parser->context : "");
		goto err;
	}
	ctx.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		msg_add(&ctx, false, 0, "empty configuration");
	} else if (root->type != YAML_MAPPING_NODE) {
		msg_add(&ctx, false, node_line(root), "expected a mapping at the top, got %s",
			root->type == YAML_SCALAR_NODE ? "a scalar" : "a list");
	} else {
		parse_mapping(&ctx, root, SEC_ROOT, (char *)c);
		resolve_servers(&ctx, c);
		validate(&ctx, c);
	}
	yaml_document_delete(&doc);
	if (ctx.msgs->errors)
		goto err;
	cfg_msgs_free(&ctx.local);
	return c;
err:
	cfg_msgs_free(&ctx.local);
	cfg_free(c);
	errno = EINVAL;
	return NULL;
}

struct cfg *cfg_load_string(const char *name, const char *text, size_t len, struct cfg_msgs *msgs)
{
	yaml_parser_t parser;
	struct cfg *c;
	int err;

	if (!yaml_parser_initialize(&parser)) {
		errno = ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	c = load(name, &parser, msgs);
	err = errno;
	yaml_parser_delete(&parser);
	errno = err;
	return c;
}

struct cfg *cfg_load_file(const char *path, struct cfg_msgs *msgs)
{
	yaml_parser_t parser;
	struct cfg *c;
	FILE *f;
	int err;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_file(&parser, f);
	c = load(path, &parser, msgs);
	err = errno;
	yaml_parser_delete(&parser);
	fclose(f);
	errno = err;
	return c;
}

struct cfg *cfg_oneline(
	const char *listen, const char *upstreams, unsigned int workers, struct cfg_msgs *msgs)
{
	char *yaml = NULL, *list = NULL, *save = NULL, *tok;
	size_t size = 0;
	struct cfg *c;
	FILE *f;
	int err;

	list = strdup(upstreams);
	f = open_memstream(&yaml, &size);
	if (!list || !f) {
		free(list);
		if (f)
			fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	/* Single-quoted YAML scalars keep every byte but "'", which we double. */
	fprintf(f, "workers: %u\nlisteners:\n  - address: '", workers);
	for (const char *p = listen; *p; p++)
		fprintf(f, *p == '\'' ? "''" : "%c", *p);
	fprintf(f, "'\nupstreams:\n  - name: default\n    servers:\n");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		fprintf(f, "      - address: '");
		for (const char *p = tok; *p; p++)
			fprintf(f, *p == '\'' ? "''" : "%c", *p);
		fprintf(f, "'\n");
	}
	fprintf(f, "virtual_hosts:\n  - name: default\n    hosts: '*'\n"
		   "    routes:\n      - path: /\n        upstream: default\n");
	fclose(f);
	c = cfg_load_string("command line", yaml, size, msgs);
	err = errno;
	free(yaml);
	free(list);
	errno = err;
	return c;
}

/* ------------------------------------------------------------------ freeing */

static void free_section(enum cfg_section sec, char *base);

/* Release what a value of key <k> at <p> owns. */
static void free_value(const struct cfg_key *k, void *p)
{
	switch (k->type) {
	case CFG_T_STR:
		free(*(char **)p);
		break;
	case CFG_T_HASHKEY:
		free(((struct cfg_hash_key *)p)->name);
		break;
	case CFG_T_STRLIST: {
		struct cfg_str_list *l = p;

		for (size_t i = 0; i < l->n; i++)
			free(l->v[i]);
		free(l->v);
		break;
	}
	case CFG_T_HDROPS: {
		struct cfg_hdr_ops *h = p;

		for (size_t i = 0; i < h->n; i++) {
			free(h->ops[i].name);
			free(h->ops[i].value);
		}
		free(h->ops);
		break;
	}
	case CFG_T_SECTION:
		free_section(k->child, p);
		break;
	case CFG_T_L4:
		if (*(struct ctrl_l4cfg **)p)
			ctrl_l4cfg_free(*(struct ctrl_l4cfg **)p);
		free(*(struct ctrl_l4cfg **)p);
		break;
	default:
		break;
	}
}

/* Release what section <sec> at <base> owns, list items included. */
static void free_section(enum cfg_section sec, char *base)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (k->sec != sec)
			continue;
		if (k->type == CFG_T_LIST) {
			char *arr = *(char **)(base + k->off);
			size_t n = *(size_t *)(base + k->count_off);

			for (size_t j = 0; arr && j < n; j++)
				free_section(k->child, arr + j * sections[k->child].size);
			free(arr);
		} else {
			free_value(k, base + k->off);
		}
	}
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	free_section(SEC_ROOT, (char *)c);
	free(c->file);
	free(c);
}

/* ------------------------------------------------------------------ dump and docs */

/* <s> as a single-quoted YAML scalar (quotes doubled), so any text reads back as is. */
static void dump_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; s && *s; s++)
		fprintf(f, *s == '\'' ? "''" : "%c", *s);
	fputc('\'', f);
}

/* <ms> in the largest unit that divides it exactly, so the dump reads back the same. */
static void dump_duration(FILE *f, unsigned int ms)
{
	if (ms && ms % 3600000 == 0)
		fprintf(f, "%uh", ms / 3600000);
	else if (ms && ms % 60000 == 0)
		fprintf(f, "%um", ms / 60000);
	else if (ms && ms % 1000 == 0)
		fprintf(f, "%us", ms / 1000);
	else if (ms)
		fprintf(f, "%ums", ms);
	else
		fprintf(f, "0");
}

static void dump_size(FILE *f, uint64_t b)
{
	if (b && b % (1u << 30) == 0)
		fprintf(f, "%" PRIu64 "g", b >> 30);
	else if (b && b % (1u << 20) == 0)
		fprintf(f, "%" PRIu64 "m", b >> 20);
	else if (b && b % 1024 == 0)
		fprintf(f, "%" PRIu64 "k", b >> 10);
	else
		fprintf(f, "%" PRIu64, b);
}

static void dump_section(
	FILE *f, enum cfg_section sec, const char *base, int indent, bool first_dash);

/* One key and its value at <indent> columns. */
static void dump_key(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	if (k->type == CFG_T_L4) {
		/* The maps are the l4 section's truth: pingctl save prints them. */
		if (*(struct ctrl_l4cfg *const *)p)
			fprintf(f, "%*s# %s: given, not printed here ('pingctl save' prints it)\n",
				indent, "", k->name);
		return;
	}
	fprintf(f, "%*s%s:", indent, "", k->name);
	switch (k->type) {
	case CFG_T_UINT:
		fprintf(f, " %u\n", *(const unsigned int *)p);
		break;
	case CFG_T_BOOL:
		fprintf(f, " %s\n", *(const bool *)p ? "true" : "false");
		break;
	case CFG_T_DURATION:
		fputc(' ', f);
		dump_duration(f, *(const unsigned int *)p);
		fputc('\n', f);
		break;
	case CFG_T_SIZE:
		fputc(' ', f);
		dump_size(f, *(const unsigned int *)p);
		fputc('\n', f);
		break;
	case CFG_T_SIZE64:
		fputc(' ', f);
		dump_size(f, *(const uint64_t *)p);
		fputc('\n', f);
		break;
	case CFG_T_STR:
		fputc(' ', f);
		dump_quoted(f, *(char *const *)p);
		fputc('\n', f);
		break;
	case CFG_T_ENUM:
		fprintf(f, " %s\n", k->names[*(const int *)p]);
		break;
	case CFG_T_ADDR:
		fputc(' ', f);
		dump_quoted(f, ((const struct cfg_addr *)p)->text);
		fputc('\n', f);
		break;
	case CFG_T_PEER: {
		/* The running config holds addresses: print them, and the name they came from. */
		const struct cfg_server *srv = (const struct cfg_server *)base;

		fputc(' ', f);
		dump_quoted(f, srv->address.text);
		if (*srv->name)
			fprintf(f, " # %s", srv->name);
		fputc('\n', f);
		break;
	}
	case CFG_T_HASHKEY: {
		const struct cfg_hash_key *hk = p;
		static const char *const src[] = {"uri", "header:", "cookie:", "client_addr"};

		fprintf(f, " '%s%s'\n", src[hk->src], hk->name ? hk->name : "");
		break;
	}
	case CFG_T_STRLIST: {
		const struct cfg_str_list *l = p;

		fprintf(f, " [");
		for (size_t i = 0; i < l->n; i++) {
			fprintf(f, "%s", i ? ", " : "");
			dump_quoted(f, l->v[i]);
		}
		fprintf(f, "]\n");
		break;
	}
	case CFG_T_HDROPS: {
		const struct cfg_hdr_ops *h = p;
		static const char *const an[] = {"add", "set", "remove"};

		if (!h->n) {
			fprintf(f, " {}\n");
			break;
		}
		fputc('\n', f);
		/* Group by action; YAML mappings cannot repeat a key, so each action once. */
		for (int a = 0; a < CFG_HDR_MAX; a++) {
			bool any = false;

			for (size_t i = 0; i < h->n; i++) {
				if (h->ops[i].action != (enum cfg_hdr_action)a)
					continue;
				if (!any)
					fprintf(f, "%*s%s:%s", indent + 2, "", an[a],
						a == CFG_HDR_REMOVE ? " [" : "\n");
				if (a == CFG_HDR_REMOVE) {
					fprintf(f, "%s", any ? ", " : "");
					dump_quoted(f, h->ops[i].name);
				} else {
					fprintf(f, "%*s", indent + 4, "");
					dump_quoted(f, h->ops[i].name);
					fprintf(f, ": ");
					dump_quoted(f, h->ops[i].value);
					fputc('\n', f);
				}
				any = true;
			}
			if (any && a == CFG_HDR_REMOVE)
				fprintf(f, "]\n");
		}
		break;
	}
	case CFG_T_SECTION:
		fputc('\n', f);
		dump_section(f, k->child, p, indent + 2, false);
		break;
	case CFG_T_LIST: {
		const char *arr = *(char *const *)p;
		size_t n = *(const size_t *)(base + k->count_off);

		fprintf(f, "%s\n", n ? "" : " []");
		for (size_t i = 0; i < n; i++)
			dump_section(
				f, k->child, arr + i * sections[k->child].size, indent + 2, true);
		break;
	}
	default:
		fputc('\n', f);
	}
}

/* Print the keys of section <sec> at <base>; <first_dash> starts a list item. */
static void dump_section(
	FILE *f, enum cfg_section sec, const char *base, int indent, bool first_dash)
{
	bool first = true;

	for (size_t i = 0; i < N_KEYS; i++) {
		if (cfg_keys[i].sec != sec)
			continue;
		if (first && first_dash) {
			fprintf(f, "%*s- ", indent, "");
			/* dump_key indents; the dash already took those columns. */
			FILE *tmp = f;
			char *line = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&line, &len);

			if (!m)
				return;
			dump_key(m, &cfg_keys[i], base, indent + 2);
			fclose(m);
			fputs(line + indent + 2, tmp);
			free(line);
		} else {
			dump_key(f, &cfg_keys[i], base, first_dash ? indent + 2 : indent);
		}
		first = false;
	}
}

void cfg_dump(FILE *f, const struct cfg *c)
{
	dump_section(f, SEC_ROOT, (const char *)c, 0, false);
}

/* The type of <k> as the docs name it. */
static const char *type_name(const struct cfg_key *k)
{
	static const char *const names[CFG_T_MAX] = {"integer", "boolean", "duration", "size",
		"size", "string", "enum", "address", "string list", "header rewrites", "hash key",
		"section", "list", "l4 section", "address or name"};

	return names[k->type];
}

/* "section.sub[].key" as messages and docs spell it. */
static void full_name(const struct cfg_key *k, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", sections[k->sec].prefix, k->name,
		k->type == CFG_T_LIST ? "[]" : "");
}

size_t cfg_key_count(void)
{
	return N_KEYS;
}

int cfg_key_info_at(size_t i, struct cfg_key_info *out)
{
	static __thread char name[128];
	const struct cfg_key *k;

	if (i >= N_KEYS)
		return -ERANGE;
	k = &cfg_keys[i];
	full_name(k, name, sizeof(name));
	out->name = name;
	out->type = type_name(k);
	out->def = k->def;
	if (k->type == CFG_T_SECTION || k->type == CFG_T_LIST)
		out->def = NULL;
	out->help = k->help;
	return 0;
}

void cfg_doc(FILE *f)
{
	char name[128], exp[256];

	fprintf(f, "| key | type | default | accepted | description |\n");
	fprintf(f, "|---|---|---|---|---|\n");
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *def = k->def;

		full_name(k, name, sizeof(name));
		expected_text(k, exp, sizeof(exp));
		if (k->type == CFG_T_LIST)
			snprintf(exp, sizeof(exp), "%" PRIu64 " to %" PRIu64 " items", k->min,
				k->max);
		if (k->flags & CFG_REQUIRED)
			def = "required";
		else if (k->type == CFG_T_SECTION || k->type == CFG_T_LIST)
			def = "";
		fprintf(f, "| `%s` | %s | %s%s%s | %s | %s |\n", name, type_name(k),
			def && *def && strcmp(def, "required") ? "`" : "", def ? def : "",
			def && *def && strcmp(def, "required") ? "`" : "", exp, k->help);
	}
}
