/* SPDX-License-Identifier: GPL-2.0 */
/* Health checking: active TCP-connect and HTTP probes per target on one libevent base, with
 * rise/fall hysteresis and jittered intervals, and the passive (request outcome) helper the
 * stream layer calls. The owner learns about transitions through a callback. */
#ifndef USERSPACE_UPSTREAM_HEALTH_H
#define USERSPACE_UPSTREAM_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "userspace/cfg/health_params.h"
#include "userspace/upstream/health-t.h"

struct conn_transport;
struct event_base;
struct health;

/* Rise/fall state machine: start in state <up> with thresholds <rise>, <fall> (>= 1). */
void health_sm_init(struct health_sm *sm, bool up, unsigned int rise, unsigned int fall);

/* Feed one probe result <ok>. Returns true when the verdict (sm->up) changed. */
bool health_sm_report(struct health_sm *sm, bool ok);

/* Passive helper: <max_fails> (>= 1) consecutive failures start a cool-down of <cooldown_ms>;
 * each failed probation after it doubles the cool-down, up to <cooldown_max_ms>. */
void health_passive_init(struct health_passive *p, unsigned int max_fails, uint64_t cooldown_ms,
	uint64_t cooldown_max_ms);

/* May a request be sent to the peer at <now_ms>? Moves an expired cool-down to probation,
 * where one request at a time may try the peer: a true answer then counts as that request,
 * whose outcome the caller must report (or the peer stays on probation without a try). */
bool health_passive_available(struct health_passive *p, uint64_t now_ms);

/* Record a request outcome <ok> at <now_ms> (a connect failure, reset or 5xx the caller counts
 * as a failure). Returns what changed (enum health_passive_change). */
enum health_passive_change health_passive_report(
	struct health_passive *p, bool ok, uint64_t now_ms);

/* Create an engine running on <base> (not owned) that calls <cb>(<arg>) on each transition.
 * Every other health_* call on the engine must come from <base>'s thread. Returns NULL with
 * errno (EINVAL, ENOMEM). */
struct health *health_new(struct event_base *base, health_change_fn cb, void *arg);

/* Stop every probe and free <h>; no callback runs afterwards. NULL is accepted. */
void health_free(struct health *h);

/* Probe target <name> at <sa>/<salen> (IPv4 or IPv6) with <p> (copied, checked), passing
 * <target_arg> back in events. The first probe starts at a random point of the first interval
 * so that targets added together do not probe together. Returns the target id (>= 0), or
 * -EINVAL (bad params or address), -ENOMEM. */
int health_add(struct health *h, const char *name, const struct sockaddr *sa, socklen_t salen,
	const struct health_params *p, void *target_arg);

/* Probe target <id> over <tr> from its next probe on (TLS to an https:// server: the
 * handshake, with the server's certificate verified, is part of every probe, and an HTTP
 * check's request and response go over it); NULL: a bare socket. <tr> must outlive <h>.
 * Returns 0 or -ENOENT. */
int health_set_transport(struct health *h, unsigned int id, const struct conn_transport *tr);

/* HTTP probes of target <id> speak HTTP/2 from its next probe on (a server of an h2c or h2
 * pool): one stream with END_STREAM on its HEADERS (:scheme https when <tls>), over the
 * target's transport or plain TCP with prior knowledge; its final :status is judged as an
 * HTTP/1.1 probe's. TCP probes are unchanged. Returns 0 or -ENOENT. */
int health_set_http2(struct health *h, unsigned int id, bool tls);

/* Id of the target named <name>, or -ENOENT. On reload, the owner builds a new engine and
 * carries each target's verdict over (start_down = !health_is_up(old, health_find(old, n))),
 * so that a reload neither revives a dead peer nor hides a live one for <rise> probes. */
int health_find(const struct health *h, const char *name);

/* Number of targets added. */
unsigned int health_count(const struct health *h);

/* Current verdict of target <id>; false for an unknown id. */
bool health_is_up(const struct health *h, unsigned int id);

/* Snapshot of target <id> into <out>. Returns 0 or -ENOENT. Call on the engine's thread. */
int health_info(const struct health *h, unsigned int id, struct health_info *out);

#endif /* USERSPACE_UPSTREAM_HEALTH_H */
