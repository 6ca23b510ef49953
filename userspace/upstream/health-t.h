/* SPDX-License-Identifier: GPL-2.0 */
/* Health checking types: probe parameters, the rise/fall state machine of active checks, the
 * passive (request outcome) state machine and the state-change event handed to the owner. */
#ifndef USERSPACE_UPSTREAM_HEALTH_T_H
#define USERSPACE_UPSTREAM_HEALTH_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "userspace/cfg/health_params-t.h"

#define HEALTH_REASON_MAX      96u   /* bytes of a reason string, NUL included */
#define HEALTH_NAME_MAX	       160u  /* bytes of a target name, NUL included (longer: cut) */

/* Rise/fall hysteresis of active checks: a pure state machine (no I/O, no clock). */
struct health_sm {
	bool up;	     /* current verdict */
	unsigned int rise;   /* successes needed to go up */
	unsigned int fall;   /* failures needed to go down */
	unsigned int streak; /* consecutive results contradicting <up> */
};

/* Passive health of one peer as one worker sees it: <max_fails> consecutive failed requests
 * take the peer out for a cool-down; then one request at a time is let through on
 * probation: a success restores the peer, a failure starts another cool-down at once, twice
 * as long as the last one (up to <cooldown_max_ms>), so a peer that stays down is tried less
 * and less often. */
enum health_passive_state {
	HEALTH_PASSIVE_OK = 0,	  /* selectable */
	HEALTH_PASSIVE_COOLDOWN,  /* not selectable until down_until_ms */
	HEALTH_PASSIVE_PROBATION, /* one request may try it; its outcome decides */
	HEALTH_PASSIVE_STATE_MAX  /* must stay last */
};

struct health_passive {
	enum health_passive_state state;
	unsigned int max_fails;	   /* consecutive failures that start a cool-down; >= 1 */
	unsigned int fails;	   /* consecutive failures so far (state OK) */
	bool probing;		   /* PROBATION: a request is trying the peer */
	uint64_t probe_since_ms;   /* when it started; a probe whose outcome never comes
				    * (its client went away) is given up after cooldown_ms */
	uint64_t cooldown_ms;	   /* length of the first cool-down */
	uint64_t cooldown_max_ms;  /* longest cool-down (>= cooldown_ms) */
	uint64_t backoff_ms;	   /* length of the current or last cool-down */
	uint64_t down_until_ms;	   /* end of the current cool-down, caller's clock */
	uint64_t cooldowns;	   /* cool-downs started (for metrics) */
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
