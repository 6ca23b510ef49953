/* SPDX-License-Identifier: GPL-2.0 */
/* pingd's configuration as parsed from YAML: the types every layer reads. The keys, their
 * defaults, bounds and help live in one table in cfg.c. */
#ifndef USERSPACE_CFG_CFG_T_H
#define USERSPACE_CFG_CFG_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum cfg_select {
	CFG_SEL_RR = 0,	    /* round robin */
	CFG_SEL_WRR,	    /* smooth weighted round robin (nginx's) */
	CFG_SEL_LEAST_CONN, /* fewest active requests per unit of weight, per worker */
	CFG_SEL_KETAMA,	    /* ketama ring over hash_key */
	CFG_SEL_MAGLEV,	    /* Maglev table over hash_key */
	CFG_SEL_MAX	    /* must stay last */
};

/* The protocol pingd speaks to an upstream's servers. */
enum cfg_proto {
	CFG_PROTO_H1 = 0, /* HTTP/1.1 */
	CFG_PROTO_H2C,	  /* HTTP/2 in clear text with prior knowledge */
	CFG_PROTO_H2,	  /* HTTP/2 over TLS, ALPN h2 */
	CFG_PROTO_MAX	  /* must stay last */
};

enum cfg_hash_src {
	CFG_HASH_URI = 0,     /* the request-target */
	CFG_HASH_HEADER,      /* a request header's value */
	CFG_HASH_COOKIE,      /* a cookie's value */
	CFG_HASH_CLIENT_ADDR, /* the client's IP address */
	CFG_HASH_MAX	      /* must stay last */
};

enum cfg_match {
	CFG_MATCH_PREFIX = 0, /* path starts with the route's path */
	CFG_MATCH_EXACT,      /* path (without query) equals it */
	CFG_MATCH_MAX	      /* must stay last */
};

enum cfg_hdr_action {
	CFG_HDR_ADD = 0, /* append a field even if the name exists */
	CFG_HDR_SET,	 /* replace every field of that name */
	CFG_HDR_REMOVE,	 /* drop every field of that name */
	CFG_HDR_MAX	 /* must stay last */
};

/* Longest "NAME:PORT" an upstream server may be written as: a 253-byte DNS name, ':', five
 * digits and the NUL. */
#define CFG_NAME_MAX 260

/* rate_limits[] items, and limits one request may be under (its virtual host's and its
 * route's together). */
#define CFG_RATE_LIMITS_MAX 256
#define CFG_ROUTE_LIMITS_MAX 8

/* One part of a rate limit's key (rate_limits[].key). */
enum cfg_limit_src {
	CFG_LIMIT_CLIENT_ADDR = 0, /* the client's address under v4_prefix / v6_prefix */
	CFG_LIMIT_HEADER,	   /* a request header's value; absent: the limit does not apply */
	CFG_LIMIT_ROUTE,	   /* the route (virtual host and path) */
	CFG_LIMIT_HOST,		   /* the virtual host */
	CFG_LIMIT_HOOK,		   /* pingx_set_limit_key(); unset: the limit does not apply */
	CFG_LIMIT_SRC_MAX	   /* must stay last */
};

/* A socket address ("127.0.0.1:80", "[::1]:80"). */
struct cfg_addr {
	struct sockaddr_storage ss; /* port in network order inside */
	socklen_t len;		    /* 0 when unset */
	char text[64];		    /* as written, or printed from a name's resolved address;
				     * for logs, metrics and hashing */
};

/* One header rewrite of a route. */
struct cfg_hdr_op {
	enum cfg_hdr_action action;
	char *name;  /* field name, owned */
	char *value; /* NULL for CFG_HDR_REMOVE, owned */
};

struct cfg_hdr_ops {
	struct cfg_hdr_op *ops; /* applied in order, owned */
	size_t n;
};

/* What ketama and Maglev hash a request on: uri, client_addr, header:NAME or cookie:NAME. */
struct cfg_hash_key {
	enum cfg_hash_src src;
	char *name; /* header or cookie name, owned; NULL for uri and client_addr */
};

struct cfg_str_list {
	char **v; /* owned strings */
	size_t n;
};

/* One upstream server. A server written as NAME:PORT is resolved when the config loads and
 * becomes one cfg_server per address, each with the same weight and <name>. */
struct cfg_server {
	struct cfg_addr address; /* what is connected to; text is always numeric */
	char name[CFG_NAME_MAX]; /* "NAME:PORT" as written when resolved from a name, else "" */
	unsigned int weight;	 /* relative share, 1..1000 */
	bool tls;		 /* written https://: TLS to it (cfg_upstream.tls) */
	char *sni;		 /* https://: the SNI name sent to it; NULL: the pool's */
	char *verify_hostname;	 /* https://: the name its certificate carries; NULL: the pool's */
	int line;		 /* where it was defined, for messages */
};

enum cfg_health_check {
	CFG_HC_OFF = 0, /* no active probes */
	CFG_HC_TCP,	/* TCP connect */
	CFG_HC_HTTP,	/* HTTP request, status in [status_min, status_max] */
	CFG_HC_MAX	/* must stay last */
};

/* How targets are probed: upstreams[].health (every server of a pool) and l4_health[] (the
 * backends of an l4 service) alike; cfg_health_params() turns it into the probe parameters. */
struct cfg_health {
	int check;		  /* enum cfg_health_check */
	unsigned int interval_ms; /* between probe starts */
	unsigned int timeout_ms;  /* whole probe */
	unsigned int rise;	  /* successes to come up */
	unsigned int fall;	  /* failures to go down */
	unsigned int jitter;	  /* percent spread of the interval */
	char *method;		  /* http: request method */
	char *path;		  /* http: request-target */
	char *host;		  /* http: Host header; "" = the server's address */
	unsigned int status_min;  /* http: lowest accepted status */
	unsigned int status_max;  /* http: highest accepted status */
};

/* upstreams[].passive: consecutive failed requests take a peer out for a while. */
struct cfg_passive {
	unsigned int max_fails;	      /* 0 = off */
	unsigned int cooldown_ms;     /* how long the peer stays out the first time */
	unsigned int cooldown_max_ms; /* longest cool-down while it keeps failing */
};

/* TLS to an upstream pool's https:// servers. */
struct cfg_uptls {
	char *ca;	       /* CA bundle; empty: the system's */
	bool verify;	       /* verify chain and name */
	char *sni;	       /* empty: the server's host name if it has one */
	char *verify_hostname; /* empty: the SNI name, else the server's IP address */
	char *cert;	       /* client certificate chain; empty: none */
	char *key;
	bool session_reuse; /* resume the last session per server */
};

struct cfg_upstream {
	char *name;
	enum cfg_select selection;
	struct cfg_hash_key hash_key;
	enum cfg_proto protocol;       /* what its servers speak */
	unsigned int keepalive;	       /* idle connections kept per peer per worker */
	unsigned int idle_timeout_ms;  /* idle upstream connection lifetime */
	unsigned int retries;	       /* extra attempts per request */
	bool retry_on_timeout;	       /* replay a timed-out idempotent request elsewhere */
	unsigned int retry_budget;     /* retries as a percentage of requests */
	unsigned int retry_budget_min; /* retries always allowed per 10 s window */
	unsigned int max_conns;	       /* requests at its servers at once, all workers; 0 = any */
	unsigned int queue;	       /* requests waiting for one of max_conns; 0 = none (503) */
	unsigned int queue_timeout_ms; /* longest wait in the queue (503) */
	struct cfg_health health;
	struct cfg_passive passive;
	struct cfg_uptls tls;
	struct cfg_server *servers;
	size_t n_servers;
	int line;
};

struct cfg_route {
	char *path;
	enum cfg_match match;
	char *upstream;	  /* pool name */
	int upstream_idx; /* resolved by validation */
	char *cache;	  /* caches[].name; "" = not cached */
	int cache_idx;	  /* resolved by validation; -1 = not cached */
	char *host;	  /* Host to send upstream; NULL keeps the client's */
	struct cfg_str_list methods; /* methods allowed (GET allows HEAD too); none: any */
	bool client_cert; /* only for clients with a verified TLS certificate (403) */
	struct cfg_hdr_ops request_headers;
	struct cfg_hdr_ops response_headers;
	struct cfg_str_list limits; /* rate_limits[].name applied here (after the vhost's) */
	struct cfg_str_list upgrade; /* Upgrade protocols tunnelled to the upstream after its 101
				      * ("websocket"; "*" any); empty: Upgrade is not forwarded */
	struct cfg_str_list connect; /* CONNECT targets allowed ("HOST:PORT", HOST a name, an IP,
				      * "*.domain" or "*", PORT a number or "*"); empty: 405 */
	int line;
};

struct cfg_vhost {
	char *name;
	struct cfg_str_list hosts; /* "example.com", "*.example.com" or "*" */
	struct cfg_str_list limits; /* rate_limits[].name applied to every route */
	struct cfg_route *routes;
	size_t n_routes;
	int line;
};

/* A certificate chain and its key (PEM files) a TLS listener offers. */
struct cfg_tls_cert {
	char *cert;
	char *key;
	char *ocsp; /* DER OCSP response stapled; empty: none */
	int line;
};

/* TLS on a listener: on when it has certificates. */
struct cfg_tls {
	struct cfg_tls_cert *certificates; /* the first is the default, the others by SNI */
	size_t n_certificates;
	struct cfg_str_list protocols; /* "TLSv1.2", "TLSv1.3"; empty: both */
	char *ciphers;		       /* TLS 1.2 cipher list; empty: the default */
	char *ciphersuites;	       /* TLS 1.3 suites; empty: the default */
	struct cfg_str_list alpn;      /* protocols offered; empty: http/1.1 */
	unsigned int handshake_timeout_ms;
	bool tickets;		     /* resumption by tickets (keys: cfg.tls_ticket_rotation_ms) */
	bool session_tickets;	     /* false: tickets off (the older key) */
	struct cfg_str_list ticket_keys; /* key files; empty: the process's ring */
	unsigned int tickets_sent;	 /* TLS 1.3 tickets after a full handshake */
	unsigned int session_cache;  /* sessions cached for resumption; 0: no cache */
	int client_verify;	     /* enum tls_verify: off, optional, required */
	char *client_ca;	     /* CA bundle for client certificates */
	unsigned int client_verify_depth; /* intermediates allowed in a client's chain */
	bool client_cert_headers;	  /* X-Client-* request headers to the upstream */
	bool ktls;			  /* records sealed by the kernel where it can */
};

struct cfg_listener {
	struct cfg_addr address;
	unsigned int backlog;
	struct cfg_str_list virtual_hosts; /* names served here; empty = all */
	bool steer;			   /* also takes connections to l7 services (sk_lookup) */
	bool http2;			   /* h2 by ALPN (TLS), h2c with prior knowledge (TCP) */
	struct cfg_tls tls;
	int line;
};

struct cfg_timeouts {
	unsigned int connect_ms;       /* upstream TCP connect */
	unsigned int client_header_ms; /* whole request head from the client (408) */
	unsigned int client_body_ms;   /* between two reads of a request body (408) */
	unsigned int upstream_read_ms; /* between two reads from the upstream (504) */
	unsigned int keepalive_ms;     /* idle client connection between requests */
	unsigned int send_ms;	       /* between two writes to a peer that stopped reading */
	unsigned int total_ms;	       /* whole exchange; 0 = no limit (504) */
	unsigned int shutdown_ms;      /* grace period of a drain (stop, reload, upgrade) */
	unsigned int tunnel_ms;	       /* a tunnel (WebSocket, CONNECT) with no byte either way */
};

struct cfg_limits {
	unsigned int max_header_size; /* request or response head, bytes (431) */
	unsigned int max_headers;     /* header fields per message (431) */
	uint64_t max_body_size;	      /* request body, bytes; 0 = no limit (413) */
	unsigned int buffer_size;     /* per-direction high watermark, bytes */
	unsigned int max_connections; /* client connections per worker */
	unsigned int max_requests;    /* requests per client connection; 0 = no limit */
	unsigned int h2_max_streams;  /* concurrent streams per HTTP/2 connection */
};

struct cfg_log {
	int level;	   /* enum log_level */
	bool syslog;	   /* error log to syslog even in the foreground */
	char *access_log;  /* path, "stderr" or "off" */
	int access_format; /* enum log_format */
};

struct cfg_proxy {
	bool via;		/* add "Via: 1.1 pingd" */
	bool x_forwarded_for;	/* append the client address */
	bool x_forwarded_proto; /* set to http */
	bool forwarded;		/* append an RFC 7239 element */
	char *server_name;	/* token used in Via */
};

/* caches[]: one HTTP cache (RFC 9111, in memory), used by the routes that name it. */
struct cfg_cache {
	char *name;
	uint64_t size;		     /* bytes the store may hold (entries with their overhead) */
	uint64_t max_object_size;    /* larger responses stream through uncached */
	unsigned int default_ttl_ms; /* freshness of responses without any; 0 = none */
	unsigned int shards;	     /* store shards, each with its own lock */
	unsigned int lock_timeout_ms; /* how long a request waits for another's fetch */
	unsigned int stale_if_error_ms; /* stale responses may stand in for a failing upstream
					 * this long past their freshness; 0 = only when the
					 * response allows it (stale-if-error) */
	struct cfg_str_list purge_allow; /* client prefixes allowed to send PURGE */
	int line;
};

/* admin: the admin listener (metrics, pingd's own health). */
struct cfg_admin {
	char *address; /* IPv4:PORT or [IPv6]:PORT; "" = off */
};

/* Health checks of L4 backends: one item per service, or "*" for every other service. */
struct cfg_l4health {
	char *service;		  /* "VIP:PORT[/tcp|/udp]" as in l4.services[].address, or "*" */
	struct cfg_health health; /* how its backends are probed */
	unsigned int port; /* probe port; 0 = the backend's port, else the service's */
	int line;
};

/* One rate_limits[] item: a request rate and/or an in-flight bound per key, which routes and
 * virtual hosts name in their limits: lists (userspace/cfg/ratelimit.c checks it). */
struct cfg_rate_limit {
	char *name;
	struct cfg_str_list key;    /* parts: client_addr, header:NAME, route, host, hook */
	unsigned int v4_prefix;	    /* client_addr: bits of an IPv4 address kept, 0..32 */
	unsigned int v6_prefix;	    /* client_addr: bits of an IPv6 address kept, 0..128 */
	char *rate;		    /* "100/s", "600/m" or "" (no rate, inflight only) */
	unsigned int burst;	    /* requests beyond the rate passed at once */
	char *delay;		    /* "off" (reject past the burst), "on" or N (nginx delay=N) */
	unsigned int status;	    /* answer to a rejected request, 4xx/5xx */
	unsigned int inflight;	    /* requests in progress per key; 0 = no bound */
	unsigned int table_width;   /* cells per row of the key tables, a power of two */
	unsigned int deny_factor;   /* push a client sending this many times the rate ... */
	unsigned int deny_after_ms; /* ... for this long into the XDP deny map; 0 = never */
	unsigned int deny_ttl_ms;   /* how long such an entry lasts */
	int line;
	/* Filled by validation. */
	double rps;	      /* requests per second; 0 with rate "" */
	uint32_t delay_after; /* limit_req_conf.delay_after */
};

/* deny: where pingd pushes clients that keep far over a limit (the XDP deny map). */
struct cfg_deny {
	char *pin_dir;		   /* the data plane's pin directory */
	struct cfg_str_list allow; /* prefixes never pushed ("10.0.0.0/8", "2001:db8::/32") */
};

struct ctrl_l4cfg;

struct cfg {
	unsigned int workers; /* 0 = one per online CPU */
	bool io_uring;	      /* a worker's reads, then writes, of a batch: a system call each */
	char *pidfile;
	char *upgrade_socket; /* Unix socket of the binary upgrade; "" = derived */
	struct cfg_log log;
	struct cfg_timeouts timeouts;
	struct cfg_limits limits;
	struct cfg_proxy proxy;
	struct cfg_admin admin;
	char *steer_pin_dir; /* where the data plane's maps are pinned, for listeners[].steer */
	unsigned int tls_ticket_rotation_ms; /* the session ticket keys' rotation period */
	struct cfg_listener *listeners;
	size_t n_listeners;
	struct cfg_vhost *vhosts;
	size_t n_vhosts;
	struct cfg_upstream *upstreams;
	size_t n_upstreams;
	struct cfg_rate_limit *rate_limits;
	size_t n_rate_limits;
	struct cfg_deny deny;
	struct cfg_cache *caches;
	size_t n_caches;
	struct ctrl_l4cfg *l4; /* the l4: section, owned; NULL when absent */
	char *l4_pin_dir;      /* where the data plane's maps are pinned */
	struct cfg_l4health *l4_health;
	size_t n_l4_health;
	bool l4_announce;		      /* announce the ready VIPs */
	unsigned int l4_announce_table;	      /* into this kernel routing table */
	unsigned int l4_announce_interval_ms; /* re-read the maps this often */
	char *file;			      /* where it came from, owned */
};

/* Messages collected while loading: one line each, "file:line: 'key': problem". The loader
 * never prints; the caller decides where they go. */
struct cfg_msgs {
	char *text; /* NUL-terminated lines, owned; NULL when empty */
	size_t len;
	unsigned int errors;
	unsigned int warnings;
};

#endif /* USERSPACE_CFG_CFG_T_H */
