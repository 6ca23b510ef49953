/* SPDX-License-Identifier: GPL-2.0 */
/* pingd's error log (levels, stderr in the foreground, syslog when daemonized) and its access
 * log (combined or JSON lines), kept apart so that one never drowns the other. */
#ifndef USERSPACE_LIB_LOG_H
#define USERSPACE_LIB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_MAX /* must stay last */
};

enum log_format {
	LOG_FMT_COMBINED = 0, /* Apache/nginx "combined" */
	LOG_FMT_JSON,	      /* one JSON object per line */
	LOG_FMT_MAX	      /* must stay last */
};

/* Send messages at or below <threshold> to syslog (<use_syslog>) or stderr. Call before the
 * workers start; the settings are read without locks afterwards. */
void log_setup(enum log_level threshold, bool use_syslog);

/* True when a message at <level> would be written. */
bool log_enabled(enum log_level level);

/* Write one line at <level>; a newline is added. Thread-safe (one write(2) per line). */
void log_printf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_printf(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_printf(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_printf(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_printf(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_printf(LOG_LVL_DEBUG, __VA_ARGS__)

/* Like log_printf(), but at most <burst> lines per second per calling thread are written, the
 * rest counted and summarised; for per-request errors a client could provoke at will. */
void log_ratelimited(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One finished request as the access log sees it. Strings may be NULL (printed as "-"). */
struct log_access_rec {
	const char *client; /* client address, no port */
	const char *method;
	const char *target;  /* request-target as received */
	int version_minor;   /* HTTP/1.<version_minor> ... */
	const char *protocol; /* ... unless set: "HTTP/2.0" */
	int status;	     /* status sent to the client */
	uint64_t bytes_sent; /* response body bytes sent to the client */
	const char *referer;
	const char *user_agent;
	const char *upstream; /* peer address that answered, or NULL */
	uint64_t duration_us; /* request start to last byte sent */
	int64_t time_sec;     /* wall-clock time of the request start */
};

/* Format <rec> as one line (with '\n') in <fmt> into <buf> of <size> bytes. Returns the length
 * written, or the length needed when it did not fit (as snprintf does). */
size_t log_access_format(
	char *buf, size_t size, enum log_format fmt, const struct log_access_rec *rec);

/* Open the access log at <path> ("off" or NULL disables it, "stderr" writes to stderr) in
 * format <fmt>. Returns 0 or a negative errno. */
int log_access_open(const char *path, enum log_format fmt);

/* True when an access log is open, so callers can skip building records. */
bool log_access_enabled(void);

/* Append <rec> to the access log; one write(2) per line, so workers need no lock. */
void log_access(const struct log_access_rec *rec);

/* Close the access log. */
void log_access_close(void);

/* The level named <name> ("err", "warn", "notice", "info", "debug"), or -EINVAL. */
int log_level_parse(const char *name);

#endif /* USERSPACE_LIB_LOG_H */
