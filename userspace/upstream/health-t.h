/* SPDX-License-Identifier: GPL-2.0 */
/* Health checking types: probe parameters, the rise/fall state machine of active checks, the
 * passive (request outcome) state machine and the state-change event handed to the owner. */
#ifndef USERSPACE_UPSTREAM_HEALTH_T_H
#define USERSPACE_UPSTREAM_HEALTH_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Defaults of struct health_params (and of the proposed config keys). */
#define HEALTH_DEF_INTERVAL_MS 2000u
#define HEALTH_DEF_TIMEOUT_MS  1000u
#define HEALTH_DEF_RISE	       2u
#define HEALTH_DEF_FALL	       3u
#define HEALTH_DEF_JITTER_PCT  10u
#define HEALTH_DEF_STATUS_MIN  200u
#define HEALTH_DEF_STATUS_MAX  399u
#define HEALTH_MAX_COUNT       1000u /* rise and fall bound */
#define HEALTH_REASON_MAX      96u   /* bytes of a reason string, NUL included */
#define HEALTH_NAME_MAX	       160u  /* bytes of a target name, NUL included (longer: cut) */

enum health_kind {
	HEALTH_TCP = 0, /* success = the TCP handshake completes */
	HEALTH_HTTP,	/* success = a response status within [status_min, status_max] */
	HEALTH_KIND_MAX /* must stay last */
};

/* How one target is probed. Strings are copied by health_add(). */
struct health_params {
	enum health_kind kind;
	unsigned int interval_ms; /* between probe starts, before jitter; >= 1 */
	unsigned int timeout_ms;  /* whole probe (connect + exchange); 1..interval_ms */
	unsigned int rise;	  /* consecutive successes that bring a down target up; >= 1 */
	unsigned int fall;	  /* consecutive failures that take an up target down; >= 1 */
	unsigned int jitter_pct;  /* each interval is spread by +-jitter_pct %, 0..50 */
	bool start_down;	  /* a new target starts down and needs <rise> successes */
	const char *method;	  /* HTTP: request method token; NULL = "GET" */
	const char *path;	  /* HTTP: request-target, origin-form; NULL = "/" */
	const char *host;	  /* HTTP: Host header; NULL = the target address */
	unsigned int status_min;  /* HTTP: lowest accepted status, 100..599 */
	unsigned int status_max;  /* HTTP: highest accepted status, status_min..599 */
};

/* Rise/fall hysteresis of active checks: a pure state machine (no I/O, no clock). */
struct health_sm {
	bool up;	     /* current verdict */
	unsigned int rise;   /* successes needed to go up */
	unsigned int fall;   /* failures needed to go down */
	unsigned int streak; /* consecutive results contradicting <up> */
};

/* Passive health of one peer as one worker sees it: <max_fails> consecutive failed requests
 * take the peer out for <cooldown_ms>; then one request is let through on probation: a
 * success restores the peer, a failure starts another cool-down at once. */
enum health_passive_state {
	HEALTH_PASSIVE_OK = 0,	  /* selectable */
	HEALTH_PASSIVE_COOLDOWN,  /* not selectable until down_until_ms */
	HEALTH_PASSIVE_PROBATION, /* selectable; the next outcome decides */
	HEALTH_PASSIVE_STATE_MAX  /* must stay last */
};

struct health_passive {
	enum health_passive_state state;
	unsigned int max_fails; /* consecutive failures that start a cool-down; >= 1 */
	unsigned int fails;	/* consecutive failures so far (state OK) */
	uint64_t cooldown_ms;	/* length of a cool-down */
	uint64_t down_until_ms; /* end of the current cool-down, caller's clock */
	uint64_t cooldowns;	/* cool-downs started (for metrics) */
};

/* What health_passive_report() changed. */
enum health_passive_change {
	HEALTH_PASSIVE_SAME = 0,  /* selectability unchanged */
	HEALTH_PASSIVE_DOWN,	  /* the peer just went into cool-down */
	HEALTH_PASSIVE_UP,	  /* the peer passed probation */
	HEALTH_PASSIVE_CHANGE_MAX /* must stay last */
};

/* A state change of an active check, passed to the owner's callback. */
struct health_event {
	unsigned int id;    /* target id from health_add() */
	const char *name;   /* target name as given to health_add() */
	void *target_arg;   /* the owner's pointer given to health_add() */
	bool up;	    /* new state */
	const char *reason; /* last probe's result ("HTTP 503 not in 200-399", ...) */
	int64_t time_ms;    /* wall clock (CLOCK_REALTIME) of the change, ms since the epoch */
	uint64_t mono_ms;   /* CLOCK_MONOTONIC of the change, ms */
};

/* Called on the health engine's event base thread for every up/down transition. */
typedef void (*health_change_fn)(const struct health_event *ev, void *arg);

/* A snapshot of one target for metrics and status output. */
struct health_info {
	const char *name;
	bool up;
	int64_t last_change_ms;		/* wall clock of the last transition, 0 if none */
	uint64_t probes;		/* probes finished */
	uint64_t failures;		/* probes failed */
	uint64_t transitions;		/* up/down changes */
	uint32_t last_duration_ms;	/* last probe's duration */
	char reason[HEALTH_REASON_MAX]; /* last probe's result */
};

#endif /* USERSPACE_UPSTREAM_HEALTH_T_H */
