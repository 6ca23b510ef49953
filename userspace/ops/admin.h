/* SPDX-License-Identifier: GPL-2.0 */
/* The admin listener: a small HTTP/1.1 server on its own address answering GET /metrics
 * (Prometheus text format), GET /healthz (pingd itself) and the caches' /cache/stats and
 * POST /cache/purge. It runs on the control thread's
 * event base, never on a worker's, and closes every connection after one response. */
#ifndef USERSPACE_OPS_ADMIN_H
#define USERSPACE_OPS_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct admin;
struct event_base;

#define ADMIN_MAX_CONNS	 16u   /* connections served at once; more wait in the backlog */
#define ADMIN_TIMEOUT_MS 5000u /* per connection, request and response together */

struct admin_handlers {
	/* Render the metrics into a malloc()ed body <*body> of <*len> bytes (the admin frees it).
	 * Returns 0 or a negative errno (answered with 500). NULL: /metrics answers 404. */
	int (*metrics)(void *arg, char **body, size_t *len);
	/* pingd's own state: 0 when serving (200 "ok"), else nonzero with a static <*reason>
	 * ("draining") answered with 503. NULL: always 200. */
	int (*health)(void *arg, const char **reason);
	/* The HTTP caches: GET /cache/stats (<purge> false) or POST /cache/purge?url=U or
	 * ?prefix=P (<purge> true, <query> the <qlen> bytes after '?', still percent-encoded).
	 * Fills a malloc()ed JSON <*body> of <*len> bytes (the admin frees it) and returns the
	 * HTTP status. NULL: /cache/ answers 404. */
	int (*cache)(void *arg, bool purge, const char *query, size_t qlen, char **body,
		size_t *len);
};

/* Listen on <sa>/<salen> (port 0 picks one, see admin_port()) on <base> (not owned), calling
 * <h> (copied) with <arg>. Returns NULL with errno (EADDRINUSE, EACCES, EINVAL, ENOMEM, ...). */
struct admin *admin_new(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
	const struct admin_handlers *h, void *arg);

/* Answer with <h> (copied) and <arg> from now on, e.g. after a reload handed the listener to
 * the new configuration's owner. */
void admin_set_handlers(struct admin *a, const struct admin_handlers *h, void *arg);

/* Close the listener and every connection; NULL is accepted. */
void admin_free(struct admin *a);

/* The port <a> listens on, host order. */
unsigned int admin_port(const struct admin *a);

#endif /* USERSPACE_OPS_ADMIN_H */
