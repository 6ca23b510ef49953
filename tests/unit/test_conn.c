// SPDX-License-Identifier: GPL-2.0
/* The connection layer on real sockets and a real event base: reads, EOF, the read
 * watermark, queued writes and the write watermark, connect outcomes, timeouts, read
 * triggers and freeing from a callback. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "tests/unit/unit.h"
#include "userspace/net/conn.h"

struct seen {
	int reads, writes, events;
	short what;
	int err;
	bool free_on_read;
	bool drain_on_read;
};

static void t_read(struct conn *c, void *arg)
{
	struct seen *s = arg;

	s->reads++;
	if (s->drain_on_read)
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
	if (s->free_on_read)
		conn_free(c);
}

static void t_write(struct conn *c, void *arg)
{
	(void)c;
	((struct seen *)arg)->writes++;
}

static void t_event(struct conn *c, short what, void *arg)
{
	struct seen *s = arg;

	(void)c;
	s->events++;
	s->what = what;
	s->err = errno;
}

/* A conn over one end of a socket pair; the other end goes to <*peer>. */
static struct conn *pair_conn(struct event_base *base, int *peer, struct seen *s)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	int sv[2];
	struct conn *c;

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	c = conn_accepted(base, &conn_tcp, sv[0], (struct sockaddr *)&sin, sizeof(sin));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_STRING_EQUAL(CONN_PEER(c), "127.0.0.1");
	conn_set_cbs(c, t_read, t_write, t_event, s);
	*peer = sv[1];
	return c;
}

/* Run the loop until <cond> or <n> passes of at most 10 ms each, <after> after each pass. */
#define LOOP_UNTIL_N(base, cond, n, after)                    \
	do {                                                  \
		struct timeval tv_ = {0, 10000};              \
		for (int i_ = 0; i_ < (n) && !(cond); i_++) { \
			event_base_loopexit(base, &tv_);      \
			event_base_loop(base, EVLOOP_ONCE);   \
			after;                                \
		}                                             \
	} while (0)
#define LOOP_UNTIL(base, cond) LOOP_UNTIL_N(base, cond, 200, (void)0)

static void test_read_eof(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	int peer;
	struct conn *c = pair_conn(base, &peer, &s);
	char got[16] = {0};

	CU_ASSERT(write(peer, "hello", 5) == 5);
	LOOP_UNTIL(base, s.reads > 0);
	CU_ASSERT_EQUAL(s.reads, 1);
	CU_ASSERT_EQUAL(evbuffer_remove(c->in, got, sizeof(got) - 1), 5);
	CU_ASSERT_STRING_EQUAL(got, "hello");
	close(peer);
	LOOP_UNTIL(base, s.events > 0);
	CU_ASSERT_EQUAL(s.events, 1);
	CU_ASSERT_EQUAL(s.what, CONN_READING | CONN_EOF);
	/* Reading stopped at EOF: no second report. */
	LOOP_UNTIL(base, s.events > 1);
	CU_ASSERT_EQUAL(s.events, 1);
	conn_free(c);
	event_base_free(base);
}

static void test_read_high_watermark(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	int peer;
	struct conn *c = pair_conn(base, &peer, &s);

	conn_set_read_high(c, 4);
	CU_ASSERT(write(peer, "0123456789", 10) == 10);
	LOOP_UNTIL(base, s.reads > 0);
	CU_ASSERT_EQUAL(evbuffer_get_length(c->in), 4);
	CU_ASSERT(c->suspended);
	/* Suspended: more passes read nothing. */
	LOOP_UNTIL(base, s.reads > 1);
	CU_ASSERT_EQUAL(s.reads, 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(c->in), 4);
	/* Draining below the mark resumes reading by itself. */
	evbuffer_drain(c->in, 1);
	CU_ASSERT(!c->suspended);
	LOOP_UNTIL(base, s.reads > 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(c->in), 4);
	/* 5 of the 10 bytes read so far: 4 more fit, then the last one. */
	evbuffer_drain(c->in, 4);
	LOOP_UNTIL(base, evbuffer_get_length(c->in) == 4);
	CU_ASSERT_EQUAL(evbuffer_get_length(c->in), 4);
	evbuffer_drain(c->in, 4);
	LOOP_UNTIL(base, evbuffer_get_length(c->in) == 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(c->in), 1);
	/* Lifting the limit resumes too. */
	conn_set_read_high(c, 0);
	CU_ASSERT(!c->suspended);
	close(peer);
	conn_free(c);
	event_base_free(base);
}

static void test_send_queue_and_low_watermark(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	int peer;
	struct conn *c = pair_conn(base, &peer, &s);
	struct evbuffer *stage = evbuffer_new();
	size_t total = 4 << 20, got = 0;
	static char buf[1 << 16];
	unsigned long sum_in = 0, sum_out = 0;

	/* Small: written at once, without the loop. */
	evbuffer_add(stage, "ping", 4);
	conn_send(c, stage);
	CU_ASSERT_EQUAL(evbuffer_get_length(stage), 0);
	CU_ASSERT_EQUAL(conn_pending(c), 0);
	CU_ASSERT_EQUAL(read(peer, buf, sizeof(buf)), 4);
	/* Large: what the socket cannot take is queued and written as the peer reads. */
	for (size_t i = 0; i < total; i++) {
		char b = (char)(i * 7 + i / 251);

		evbuffer_add(stage, &b, 1);
		sum_in += (unsigned char)b * (i % 13 + 1);
	}
	conn_set_write_low(c, 0);
	conn_send(c, stage);
	CU_ASSERT(conn_pending(c) > 0);
	CU_ASSERT_EQUAL(s.writes, 0);
	for (int i = 0; i < 20000 && got < total; i++) {
		ssize_t n = read(peer, buf, sizeof(buf));

		for (ssize_t k = 0; k < n; k++, got++)
			sum_out += (unsigned char)buf[k] * (got % 13 + 1);
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	CU_ASSERT_EQUAL(got, total);
	CU_ASSERT_EQUAL(sum_in, sum_out);
	CU_ASSERT_EQUAL(conn_pending(c), 0);
	CU_ASSERT(s.writes >= 1);
	CU_ASSERT_EQUAL(s.events, 0);
	evbuffer_free(stage);
	close(peer);
	conn_free(c);
	event_base_free(base);
}

static void test_write_error(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	int peer;
	struct conn *c = pair_conn(base, &peer, &s);
	struct evbuffer *stage = evbuffer_new();

	close(peer);
	conn_disable(c, CONN_READING);
	evbuffer_add(stage, "x", 1);
	/* EPIPE, without a SIGPIPE, reported from the loop. */
	conn_send(c, stage);
	CU_ASSERT_EQUAL(s.events, 0);
	LOOP_UNTIL(base, s.events > 0);
	CU_ASSERT_EQUAL(s.what, CONN_WRITING | CONN_ERROR);
	CU_ASSERT(s.err == EPIPE || s.err == ECONNRESET);
	evbuffer_free(stage);
	conn_free(c);
	event_base_free(base);
}

/* A loopback listener (or, with <close_it>, a port nobody listens on) in <a>. */
static int loopback_port(struct cfg_addr *a, bool close_it)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, &sin, sizeof(sin));
	a->len = sizeof(sin);
	snprintf(a->text, sizeof(a->text), "127.0.0.1:%u", ntohs(sin.sin_port));
	if (close_it) {
		close(fd);
		return -1;
	}
	CU_ASSERT_FATAL(listen(fd, 4) == 0);
	return fd;
}

static void test_connect(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	struct cfg_addr a;
	int lfd = loopback_port(&a, false);
	struct conn *c = conn_connect(base, &conn_tcp, &a);

	CU_ASSERT_FATAL(c != NULL);
	conn_set_cbs(c, t_read, t_write, t_event, &s);
	CU_ASSERT(!c->connected);
	CU_ASSERT_EQUAL(s.events, 0);
	LOOP_UNTIL(base, s.events > 0);
	CU_ASSERT_EQUAL(s.what, CONN_CONNECTED);
	CU_ASSERT(c->connected);
	CU_ASSERT_STRING_EQUAL(c->peer_text, a.text);
	conn_free(c);
	close(lfd);
	event_base_free(base);
}

static void test_connect_refused(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	struct cfg_addr a;
	struct conn *c;

	loopback_port(&a, true);
	c = conn_connect(base, &conn_tcp, &a);
	CU_ASSERT_FATAL(c != NULL);
	conn_set_cbs(c, t_read, t_write, t_event, &s);
	/* Never from the call itself, even when the refusal is immediate. */
	CU_ASSERT_EQUAL(s.events, 0);
	LOOP_UNTIL(base, s.events > 0);
	CU_ASSERT_EQUAL(s.events, 1);
	CU_ASSERT(s.what & CONN_ERROR);
	CU_ASSERT_EQUAL(s.err, ECONNREFUSED);
	CU_ASSERT_EQUAL(s.reads, 0);
	conn_free(c);
	event_base_free(base);
}

static void test_read_timeout(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	struct timeval t = {0, 30000};
	int peer;
	struct conn *c = pair_conn(base, &peer, &s);

	conn_set_timeouts(c, &t, NULL);
	LOOP_UNTIL(base, s.events > 0);
	CU_ASSERT_EQUAL(s.what, CONN_READING | CONN_TIMEOUT);
	CU_ASSERT(!(c->enabled & CONN_READING));
	close(peer);
	conn_free(c);
	event_base_free(base);
}

/* A read timeout taken back (a pooled connection handed to a request that sends a body
 * first) no longer fires: the read stays armed without one. */
static void test_read_timeout_cleared(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	struct timeval t = {0, 30000}, wait = {0, 150000};
	int peer;
	struct conn *c = pair_conn(base, &peer, &s);

	conn_set_timeouts(c, &t, NULL);
	conn_set_timeouts(c, NULL, NULL);
	event_base_loopexit(base, &wait);
	event_base_dispatch(base);
	CU_ASSERT_EQUAL(s.events, 0);
	CU_ASSERT(c->enabled & CONN_READING);
	CU_ASSERT_EQUAL(write(peer, "x", 1), 1);
	LOOP_UNTIL(base, s.reads > 0);
	CU_ASSERT_EQUAL(s.reads, 1);
	close(peer);
	conn_free(c);
	event_base_free(base);
}

static void test_trigger_read(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {.drain_on_read = true};
	int peer;
	struct conn *c = pair_conn(base, &peer, &s);

	evbuffer_add(c->in, "kept", 4);
	conn_trigger_read(c);
	CU_ASSERT_EQUAL(s.reads, 0);
	LOOP_UNTIL(base, s.reads > 0);
	CU_ASSERT_EQUAL(s.reads, 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(c->in), 0);
	close(peer);
	conn_free(c);
	event_base_free(base);
}

static void test_free_in_callback(void)
{
	struct event_base *base = event_base_new();
	struct seen s = {.free_on_read = true};
	int peer;

	pair_conn(base, &peer, &s);
	CU_ASSERT(write(peer, "bye", 3) == 3);
	LOOP_UNTIL(base, s.reads > 0);
	CU_ASSERT_EQUAL(s.reads, 1);
	/* Freed: the closed socket shows EOF to the peer. */
	char b;
	CU_ASSERT_EQUAL(read(peer, &b, 1), 0);
	close(peer);
	event_base_free(base);
}

/* A TCP socket for a connection whose bytes a test never moves (one epoll takes, unlike a
 * descriptor of /dev/null). */
static int tcp_fd(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	CU_ASSERT_FATAL(fd >= 0);
	return fd;
}

/* A client's address as text, IPv4 written by hand and IPv6 as the address helper writes
 * it, for accepted sockets (an unconnected socket behind: the address is the one given). */
static void test_peer_text(void)
{
	static const char *v4[] = {"0.0.0.0", "255.255.255.255", "10.100.9.1", "192.0.2.99",
		"1.20.255.0"};
	struct event_base *base = event_base_new();
	char buf[CONN_PEER_TEXT_MAX];
	struct conn *c;

	CU_ASSERT_FATAL(base != NULL);
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};

		CU_ASSERT_FATAL(inet_pton(AF_INET, v4[i], &sin.sin_addr) == 1);
		c = conn_accepted(base, &conn_tcp, tcp_fd(), (struct sockaddr *)&sin, sizeof(sin));
		CU_ASSERT_FATAL(c != NULL);
		CU_ASSERT_STRING_EQUAL(conn_peer_text(c, buf, sizeof(buf)), v4[i]);
		conn_free(c);
	}
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};

	CU_ASSERT_FATAL(inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr) == 1);
	c = conn_accepted(base, &conn_tcp, tcp_fd(), (struct sockaddr *)&s6, sizeof(s6));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_STRING_EQUAL(conn_peer_text(c, buf, sizeof(buf)), "2001:db8::1");
	conn_free(c);
	event_base_free(base);
}

/* Batched reads and writes (conn_batch_io()), which are a thread's: run in a thread of their
 * own so the other tests keep the one-at-a-time path. */
struct echo {
	struct conn *c;
	int peer;
	int reads;
	size_t got, first;
	struct echo *other; /* the one whose connection this one's first read acts on */
	int op;		    /* 1: free it, 2: stop its reading */
	struct evbuffer *stage;
	bool eof;
};

static void e_read(struct conn *c, void *arg)
{
	struct echo *e = arg;
	size_t n = evbuffer_get_length(c->in);

	if (!e->reads++)
		e->first = n;
	e->got += n;
	evbuffer_add_buffer(e->stage, c->in);
	conn_send(c, e->stage);
	if (e->op && e->other->c) {
		if (e->op == 1) {
			conn_free(e->other->c);
			e->other->c = NULL;
		} else {
			conn_disable(e->other->c, CONN_READING);
		}
		e->other->op = 0; /* it must not act back */
	}
	e->op = 0;
}

static void e_event(struct conn *c, short what, void *arg)
{
	struct echo *e = arg;

	(void)c;
	if (what & CONN_EOF)
		e->eof = true;
}

/* The worker's loop: a pass, then what it deferred. */
#define BATCH_LOOP_UNTIL(base, cond) LOOP_UNTIL_N(base, cond, 300, conn_flush_deferred())

/* (CU_ASSERT_FATAL jumps out of the test: not from another thread.) */
static bool echo_open(struct event_base *base, struct echo *e, struct evbuffer *stage)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	int sv[2];

	memset(e, 0, sizeof(*e));
	e->peer = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return false;
	e->c = conn_accepted(base, &conn_tcp, sv[0], (struct sockaddr *)&sin, sizeof(sin));
	e->peer = sv[1];
	if (!e->c)
		return false;
	conn_set_cbs(e->c, e_read, NULL, e_event, e);
	conn_enable(e->c, CONN_READING | CONN_WRITING);
	e->stage = stage;
	return true;
}

/* Read what <e>'s peer has been sent back, without waiting; returns the byte count. */
static size_t echo_drain(struct echo *e, unsigned long *sum, size_t *at)
{
	static char buf[1 << 16];
	size_t total = 0;
	ssize_t n;

	while ((n = read(e->peer, buf, sizeof(buf))) > 0) {
		for (ssize_t k = 0; k < n; k++, (*at)++)
			*sum += (unsigned char)buf[k] * (*at % 13 + 1);
		total += (size_t)n;
	}
	return total;
}

static void *batch_body(void *arg)
{
	enum { N = 8, BIG = 100000 };
	struct event_base *base = event_base_new();
	struct evbuffer *stage = evbuffer_new();
	static struct echo e[N];
	static char big[BIG];
	unsigned long sum_in = 0, sum_out = 0;
	size_t back[N] = {0}, at = 0;
	int *ok = arg;

	if (!base || !stage)
		return NULL;
	conn_defer_writes();
	/* This kernel offers io_uring: a failure here is a failure, not a skip. */
	if (conn_batch_io())
		return NULL;
	for (int i = 0; i < N; i++) {
		if (!echo_open(base, &e[i], stage))
			return NULL;
	}
	/* 0 and 1 free each other, 2 and 3 stop each other's reading: whichever runs first acts
	 * on the other, whose bytes the same batch has read already. */
	e[0].other = &e[1], e[0].op = 1;
	e[1].other = &e[0], e[1].op = 1;
	e[2].other = &e[3], e[2].op = 2;
	e[3].other = &e[2], e[3].op = 2;
	for (int i = 0; i < N; i++)
		CU_ASSERT(write(e[i].peer, "request", 7) == 7);
	BATCH_LOOP_UNTIL(base, e[0].reads + e[1].reads >= 1 && e[2].reads + e[3].reads >= 1 &&
				       e[4].reads && e[5].reads && e[6].reads && e[7].reads);
	/* Freed in the batch: exactly one of 0 and 1 ran, and echoed. */
	CU_ASSERT_EQUAL(e[0].reads + e[1].reads, 1);
	CU_ASSERT((e[0].c == NULL) != (e[1].c == NULL));
	/* Stopped in the batch: one of 2 and 3 ran; the other's bytes wait in its input and
	 * reach its owner once reading resumes. */
	CU_ASSERT_EQUAL(e[2].reads + e[3].reads, 1);
	struct echo *held = e[2].reads ? &e[3] : &e[2];

	CU_ASSERT_EQUAL(held->reads, 0);
	conn_enable(held->c, CONN_READING);
	BATCH_LOOP_UNTIL(base, held->reads > 0);
	CU_ASSERT_EQUAL(held->reads, 1);
	CU_ASSERT_EQUAL(held->got, 7);
	/* Every echo arrived (the freed one's peer sees its end instead). */
	for (int i = 2; i < N; i++) {
		BATCH_LOOP_UNTIL(base, (back[i] += echo_drain(&e[i], &sum_out, &at)) >= 7);
		CU_ASSERT_EQUAL(back[i], 7);
	}
	/* A body streaming in beside small requests: its first read in a batch takes a share
	 * of the thread's buffer, then it reads alone; every byte arrives, in order. */
	for (size_t i = 0; i < BIG; i++) {
		big[i] = (char)(i * 7 + i / 251);
		sum_in += (unsigned char)big[i] * (i % 13 + 1);
	}
	sum_out = 0, at = 0;
	e[4].reads = 0, e[4].got = 0;
	CU_ASSERT(write(e[4].peer, big, BIG) == BIG);
	CU_ASSERT(write(e[5].peer, "x", 1) == 1);
	CU_ASSERT(write(e[6].peer, "y", 1) == 1);
	size_t out4 = 0;

	BATCH_LOOP_UNTIL(base, (out4 += echo_drain(&e[4], &sum_out, &at)) >= BIG);
	CU_ASSERT_EQUAL(out4, BIG);
	CU_ASSERT_EQUAL(sum_in, sum_out);
	CU_ASSERT_EQUAL(e[4].first, 2048); /* its share, in the batch with 5 and 6 */
	/* An end of stream read in a batch is reported (the peer reads its echo first: a
	 * socket closed with bytes unread resets the connection instead). */
	BATCH_LOOP_UNTIL(base, (back[6] += echo_drain(&e[6], &sum_out, &at)) >= 8);
	CU_ASSERT_EQUAL(back[6], 8);
	close(e[6].peer), e[6].peer = -1;
	CU_ASSERT(write(e[7].peer, "z", 1) == 1);
	BATCH_LOOP_UNTIL(base, e[6].eof);
	CU_ASSERT(e[6].eof);
	for (int i = 0; i < N; i++) {
		conn_free(e[i].c);
		if (e[i].peer >= 0)
			close(e[i].peer);
	}
	conn_batch_end();
	evbuffer_free(stage);
	event_base_free(base);
	*ok = 1;
	return NULL;
}

static void test_batch_io(void)
{
	pthread_t t;
	int ok = 0;

	CU_ASSERT_FATAL(pthread_create(&t, NULL, batch_body, &ok) == 0);
	pthread_join(t, NULL);
	CU_ASSERT(ok);
}

int test_conn_register(void)
{
	static const CU_TestInfo tests[] = {
		{"read and EOF", test_read_eof},
		{"read high watermark", test_read_high_watermark},
		{"send, queue and write low watermark", test_send_queue_and_low_watermark},
		{"write error", test_write_error},
		{"connect", test_connect},
		{"connect refused", test_connect_refused},
		{"read timeout", test_read_timeout},
		{"read timeout cleared", test_read_timeout_cleared},
		{"trigger read", test_trigger_read},
		{"free from a callback", test_free_in_callback},
		{"peer text", test_peer_text},
		{"batched reads and writes", test_batch_io},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("conn", tests);
}
