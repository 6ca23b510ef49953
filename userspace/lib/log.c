// SPDX-License-Identifier: GPL-2.0
/* pingd's error log and access log. Each line is built in a local buffer and written with a
 * single write(2) (O_APPEND), so worker threads never take a lock to log. */
#include "userspace/lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "userspace/lib/clock.h"

#define LOG_LINE_MAX 2048
#define LOG_RL_BURST 10 /* rate-limited lines per second per thread */

static enum log_level log_threshold = LOG_LVL_NOTICE;
static bool log_to_syslog;
static int access_fd = -1;
static enum log_format access_fmt;

static const char *const level_names[LOG_LVL_MAX] = {"err", "warn", "notice", "info", "debug"};
static const int level_syslog[LOG_LVL_MAX] = {
	LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

void log_setup(enum log_level threshold, bool use_syslog)
{
	log_threshold = threshold;
	if (use_syslog && !log_to_syslog)
		openlog("pingd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_to_syslog = use_syslog;
}

bool log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i < LOG_LVL_MAX; i++)
		if (!strcmp(name, level_names[i]))
			return i;
	return -EINVAL;
}

/* Format one line with a timestamp and level, or hand it to syslog. */
static void log_vprintf(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct timespec ts = clock_read(CLOCK_REALTIME);
	struct tm tm;
	size_t n = 0;
	int r;

	if (log_to_syslog) {
		vsyslog(level_syslog[level], fmt, ap);
		return;
	}
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ld [%s] ", ts.tv_nsec / 1000000,
		level_names[level]);
	n += r > 0 ? (size_t)r : 0;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r < 0)
		return;
	n += (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* Logging has nowhere to report its own failure. */
	(void)!write(STDERR_FILENO, line, n);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level >= LOG_LVL_MAX || level > log_threshold)
		return;
	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void log_ratelimited(enum log_level level, const char *fmt, ...)
{
	static __thread time_t rl_sec;
	static __thread unsigned int rl_count, rl_dropped;
	time_t now = time(NULL);
	va_list ap;

	if (level >= LOG_LVL_MAX || level > log_threshold)
		return;
	if (now != rl_sec) {
		if (rl_dropped)
			log_printf(LOG_LVL_WARN, "%u similar messages suppressed", rl_dropped);
		rl_sec = now;
		rl_count = 0;
		rl_dropped = 0;
	}
	if (++rl_count > LOG_RL_BURST) {
		rl_dropped++;
		return;
	}
	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

/* Append <s> to <buf> at *<n> (bounded by <size>) with JSON escaping (<json>) or with
 * quotes and control bytes made visible for the combined format; NULL becomes "-". */
static void put_str(char *buf, size_t size, size_t *n, const char *s, bool json)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[8];

	if (!s) {
		s = json ? NULL : "-";
		if (!s) {
			for (const char *p = "null"; *p; p++, (*n)++)
				if (*n < size)
					buf[*n] = *p;
			return;
		}
	}
	if (json) {
		if (*n < size)
			buf[*n] = '"';
		(*n)++;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t len = 1;

		tmp[0] = (char)*p;
		if (*p == '"' || *p == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			len = 2;
		} else if (*p < 0x20 || *p == 0x7f) {
			tmp[0] = '\\';
			tmp[1] = json ? 'u' : 'x';
			if (json) {
				memcpy(tmp + 2, "00", 2);
				tmp[4] = hex[*p >> 4];
				tmp[5] = hex[*p & 15];
				len = 6;
			} else {
				tmp[2] = hex[*p >> 4];
				tmp[3] = hex[*p & 15];
				len = 4;
			}
		}
		for (size_t i = 0; i < len; i++, (*n)++)
			if (*n < size)
				buf[*n] = tmp[i];
	}
	if (json) {
		if (*n < size)
			buf[*n] = '"';
		(*n)++;
	}
}

/* printf into <buf> at *<n>, counting what did not fit so the total length is known. */
static void put_fmt(char *buf, size_t size, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put_fmt(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(*n < size ? buf + *n : NULL, *n < size ? size - *n : 0, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n += (size_t)r;
}

size_t log_access_format(
	char *buf, size_t size, enum log_format fmt, const struct log_access_rec *rec)
{
	time_t t = (time_t)rec->time_sec;
	char when[64];
	struct tm tm;
	size_t n = 0;

	localtime_r(&t, &tm);
	if (fmt == LOG_FMT_JSON) {
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
		put_fmt(buf, size, &n, "{\"time\":\"%s\",\"client\":", when);
		put_str(buf, size, &n, rec->client, true);
		put_fmt(buf, size, &n, ",\"method\":");
		put_str(buf, size, &n, rec->method, true);
		put_fmt(buf, size, &n, ",\"uri\":");
		put_str(buf, size, &n, rec->target, true);
		if (rec->protocol)
			put_fmt(buf, size, &n, ",\"protocol\":\"%s\"", rec->protocol);
		else
			put_fmt(buf, size, &n, ",\"protocol\":\"HTTP/1.%d\"", rec->version_minor);
		put_fmt(buf, size, &n, ",\"status\":%d,\"bytes\":%" PRIu64 ",\"referer\":",
			rec->status, rec->bytes_sent);
		put_str(buf, size, &n, rec->referer, true);
		put_fmt(buf, size, &n, ",\"user_agent\":");
		put_str(buf, size, &n, rec->user_agent, true);
		put_fmt(buf, size, &n, ",\"upstream\":");
		put_str(buf, size, &n, rec->upstream, true);
		put_fmt(buf, size, &n, ",\"duration_ms\":%" PRIu64 ".%03" PRIu64 "}\n",
			rec->duration_us / 1000, rec->duration_us % 1000);
	} else {
		strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
		put_str(buf, size, &n, rec->client, false);
		put_fmt(buf, size, &n, " - - [%s] \"", when);
		put_str(buf, size, &n, rec->method, false);
		put_fmt(buf, size, &n, " ");
		put_str(buf, size, &n, rec->target, false);
		if (rec->protocol)
			put_fmt(buf, size, &n, " %s\" %d %" PRIu64 " \"", rec->protocol,
				rec->status, rec->bytes_sent);
		else
			put_fmt(buf, size, &n, " HTTP/1.%d\" %d %" PRIu64 " \"",
				rec->version_minor, rec->status, rec->bytes_sent);
		put_str(buf, size, &n, rec->referer, false);
		put_fmt(buf, size, &n, "\" \"");
		put_str(buf, size, &n, rec->user_agent, false);
		put_fmt(buf, size, &n, "\"\n");
	}
	if (size && n >= size)
		buf[size - 1] = '\0';
	else if (size)
		buf[n] = '\0';
	return n;
}

int log_access_open(const char *path, enum log_format fmt)
{
	int fd;

	log_access_close();
	access_fmt = fmt;
	if (!path || !strcmp(path, "off"))
		return 0;
	if (!strcmp(path, "stderr")) {
		access_fd = dup(STDERR_FILENO);
		return access_fd < 0 ? -errno : 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	access_fd = fd;
	return 0;
}

bool log_access_enabled(void)
{
	return access_fd >= 0;
}

void log_access(const struct log_access_rec *rec)
{
	char line[LOG_LINE_MAX];
	size_t n;

	if (access_fd < 0)
		return;
	n = log_access_format(line, sizeof(line), access_fmt, rec);
	if (n >= sizeof(line)) {
		/* Keep the record one line even when a long URI overflowed the buffer. */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* A full disk must not stop the proxy; the error log has nothing better to do with it. */
	(void)!write(access_fd, line, n);
}

void log_access_close(void)
{
	if (access_fd >= 0)
		close(access_fd);
	access_fd = -1;
}
