/* SPDX-License-Identifier: GPL-2.0 */
/* Loopback helpers for the suites that run the proxy on real sockets (stream, worker, gen):
 * free ports, a blocking origin the test thread answers by hand, and a client with timeouts.
 * Every call gives up after NETTEST_WAIT_MS, so a broken proxy fails a test, never hangs it. */
#ifndef TESTS_UNIT_NETTEST_H
#define TESTS_UNIT_NETTEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NETTEST_WAIT_MS 3000

/* A TCP socket listening on 127.0.0.1 at an ephemeral port, written to <*port>; -1 on
 * failure. */
static inline int nettest_listen(unsigned int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 16) < 0 ||
		getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A port nothing listens on right now (bound once, then closed); 0 on failure. */
static inline unsigned int nettest_free_port(void)
{
	unsigned int port = 0;
	int fd = nettest_listen(&port);

	if (fd < 0)
		return 0;
	close(fd);
	return port;
}

/* Wait until <fd> is readable. Returns true in time, false after NETTEST_WAIT_MS. */
static inline bool nettest_wait_in(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, NETTEST_WAIT_MS) == 1;
}

/* Accept one connection on listening socket <lfd>; -1 when none comes in time. */
static inline int nettest_accept(int lfd)
{
	if (!nettest_wait_in(lfd))
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* A connection to 127.0.0.1:<port>; -1 when refused. */
static inline int nettest_connect(unsigned int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Send all of <s>. Returns true when it was written. */
static inline bool nettest_send(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

/* Read from <fd> into <buf> (<size> bytes, NUL-terminated) until it holds <until> (NULL: until
 * EOF), EOF, or the time is up. Returns the bytes read; *<eof> tells whether the peer closed. */
static inline size_t nettest_recv(int fd, char *buf, size_t size, const char *until, bool *eof)
{
	size_t got = 0;

	*eof = false;
	buf[0] = '\0';
	while (got + 1 < size && (!until || !strstr(buf, until))) {
		ssize_t n;

		if (!nettest_wait_in(fd))
			break;
		n = recv(fd, buf + got, size - 1 - got, 0);
		if (n <= 0) {
			*eof = true;
			break;
		}
		got += (size_t)n;
		buf[got] = '\0';
	}
	return got;
}

/* Poll <cond> every 10 ms until it holds or NETTEST_WAIT_MS passed; returns its last value. */
#define NETTEST_UNTIL(cond)                                                               \
	({                                                                                \
		int left_ = NETTEST_WAIT_MS / 10;                                         \
		while (!(cond) && left_-- > 0)                                            \
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL); \
		(cond);                                                                   \
	})

#endif /* TESTS_UNIT_NETTEST_H */
