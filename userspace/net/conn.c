// SPDX-License-Identifier: GPL-2.0
/* Connections over plain sockets and libevent events. Compared with a bufferevent this reads
 * with one recv() per readiness (no FIONREAD ioctl first), takes no locks and runs owner
 * callbacks directly; owners see their own callbacks with the conn, so a TLS transport
 * changes nothing above this file. */
#include "userspace/net/conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "userspace/lib/addr.h"
#include "userspace/lib/clock.h"
#include "userspace/net/uring.h"

#define READ_MAX  (64 * 1024) /* bytes taken from the socket per readiness */
#define WRITE_IOV 16	      /* buffer chains written per sendmsg() */

/* One read buffer per worker thread: bytes go from it into the input buffer, which then
 * holds only what arrived rather than a READ_MAX chain per connection. */
static __thread char read_buf[READ_MAX];

/* A connection with nothing to read or write holds no buffers of its own: <in> and <out>
 * then point at one empty buffer shared by every connection of the process, which nothing
 * ever adds to, so every thread only reads it (its length, a peek, a drain of nothing,
 * which returns at once). A real buffer is made when bytes arrive or must wait, and given
 * back by conn_release_buffers() (the owner, when its connection goes idle) and once the
 * output drains. */
static struct evbuffer *empty_buf;
static pthread_once_t empty_once = PTHREAD_ONCE_INIT;

static void empty_make(void)
{
	empty_buf = evbuffer_new();
}

static struct evbuffer *empty(void)
{
	pthread_once(&empty_once, empty_make);
	return empty_buf;
}

/* Empty buffers given back, kept per thread for the next connection that needs one: a
 * keep-alive exchange takes two and gives them back, which would otherwise cost an
 * allocation and a free each, every request. A thread's spares are freed when it ends. */
#define SPARE_BUFS 64

struct spare_bufs {
	unsigned int n;
	struct evbuffer *b[SPARE_BUFS];
};

static __thread struct spare_bufs *spares;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spares_free(void *arg)
{
	struct spare_bufs *sp = arg;

	while (sp->n)
		evbuffer_free(sp->b[--sp->n]);
	free(sp);
}

static void spare_key_make(void)
{
	if (pthread_key_create(&spare_key, spares_free))
		spare_key = (pthread_key_t)-1;
}

/* This thread's spares, made on first use; NULL without memory or a key. */
static struct spare_bufs *spares_get(void)
{
	if (spares)
		return spares;
	pthread_once(&spare_once, spare_key_make);
	if (spare_key == (pthread_key_t)-1)
		return NULL;
	spares = calloc(1, sizeof(*spares));
	if (spares && pthread_setspecific(spare_key, spares)) {
		free(spares);
		spares = NULL;
	}
	return spares;
}

/* Make *<b> a buffer of the connection's own. Returns 0 or -ENOMEM. */
static int buf_own(struct evbuffer **b)
{
	struct evbuffer *n;

	if (*b != empty_buf)
		return 0;
	if (spares && spares->n)
		n = spares->b[--spares->n];
	else
		n = evbuffer_new();
	if (!n)
		return -ENOMEM;
	*b = n;
	return 0;
}

static void buf_drop(struct evbuffer **b)
{
	struct spare_bufs *sp;

	if (*b == empty_buf || evbuffer_get_length(*b))
		return;
	sp = spares_get();
	if (sp && sp->n < SPARE_BUFS)
		sp->b[sp->n++] = *b;
	else
		evbuffer_free(*b);
	*b = empty_buf;
}

static ssize_t tcp_recv(struct conn *c, void *buf, size_t len)
{
	return recv(c->fd, buf, len, 0);
}

static ssize_t tcp_sendv(struct conn *c, const struct iovec *iov, int n)
{
	struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};

	return sendmsg(c->fd, &mh, MSG_NOSIGNAL);
}

const struct conn_transport conn_tcp = {
	.name = "tcp",
	.recv = tcp_recv,
	.sendv = tcp_sendv,
};

static void on_writable(evutil_socket_t fd, short what, void *arg);

/* Tell the owner; the last thing a handler does, since the owner may free <c>. */
static void report(struct conn *c, short what, int err)
{
	if (err)
		c->err = err;
	if (c->on_event) {
		errno = c->err;
		c->on_event(c, what, c->arg);
	}
}

/* The write event of an accepted connection is made when a write first has to wait (most
 * never do: a response fits the socket buffer) and given back with the buffers once the
 * output drains, so an idle client connection holds only its read event. An outgoing one
 * has it from the start (its connect waits for writability). Returns 0 or -ENOMEM. */
static int wev_make(struct conn *c)
{
	if (c->wev)
		return 0;
	c->wev = event_new(event_get_base(&c->rev), c->fd, EV_WRITE | EV_PERSIST, on_writable, c);
	if (!c->wev)
		return -ENOMEM;
	c->wev_own = true;
	return 0;
}

/* Arm the write event (made if need be) with timeout <tv>. Without memory for it the
 * connection cannot write: the error is reported from the loop through the read event. */
static void wev_add(struct conn *c, const struct timeval *tv)
{
	if (!wev_make(c)) {
		event_add(c->wev, tv);
		return;
	}
	c->err = ENOMEM;
	event_active(&c->rev, EV_WRITE, 1);
}

static void wev_del(struct conn *c)
{
	if (c->wev)
		event_del(c->wev);
}

/* Give the write event of an accepted connection back while nothing waits to be written. */
static void wev_drop(struct conn *c)
{
	if (c->wev_own && !evbuffer_get_length(c->out)) {
		event_free(c->wev);
		c->wev = NULL;
		c->wev_own = false;
	}
}

/* What is left of the handshake's deadline, into <tv>: the handshake has one total
 * deadline (a client sending a byte now and then must not hold it open for ever), not a
 * timeout restarted by each readiness. NULL when the transport sets none. */
static const struct timeval *handshake_left(const struct conn *c, struct timeval *tv)
{
	uint64_t now;

	if (!c->tr->t_handshake)
		return NULL;
	now = clock_coarse_ms();
	/* At least 1 ms: a deadline that has passed fires on the next loop pass. */
	*tv = clock_ms_tv(c->hs_deadline_ms > now ? c->hs_deadline_ms - now : 1);
	return tv;
}

/* The read timeout in force, <tv> its storage: what is left of the handshake's deadline
 * until the handshake is done, then <rd>. */
static const struct timeval *read_timeout(
	const struct conn *c, const struct timeval *rd, struct timeval *tv)
{
	return c->handshaking ? handshake_left(c, tv) : rd;
}

/* Arm the read event unless reading is off or held back by the watermark. */
static void read_arm(struct conn *c)
{
	/* A connecting socket is only watched for writability: an error is reported once. */
	struct timeval tv;

	if ((c->enabled & CONN_READING) && !c->suspended && c->connected) {
		event_add(&c->rev, read_timeout(c, c->t_read, &tv));
		if (c->rd_held) {
			/* Bytes a batch read while reading was stopped: the owner hears of them. */
			c->rd_held = false;
			c->triggered = true;
			event_active(&c->rev, EV_READ, 1);
		}
	}
}

static int flush_out(struct conn *c);

/* Run one step of the transport's handshake. Returns true once it is done (the caller goes
 * on reading or writing), false while it waits for the socket or when it failed (reported
 * to the owner, who may have freed <c>). */
static bool handshake_step(struct conn *c, short dir)
{
	int err = c->tr->handshake(c);
	struct timeval tv;

	if (err == -EAGAIN) {
		/* Both events re-armed with what is left: a persistent event would otherwise
		 * restart its full timeout after this readiness. */
		if (c->hs_want & CONN_WRITING)
			wev_add(c, handshake_left(c, &tv));
		else
			wev_del(c);
		if (c->enabled & CONN_READING)
			event_add(&c->rev, handshake_left(c, &tv));
		return false;
	}
	if (err) {
		conn_disable(c, CONN_READING | CONN_WRITING);
		report(c, dir | CONN_ERROR, -err);
		return false;
	}
	c->handshaking = false;
	c->hs_want = 0;
	/* The handshake's deadline gives way to the read timeout; without one, re-arming would
	 * keep the deadline (event_add() with no timeout leaves the one set), which would close
	 * a client still to send its first request: the timer alone goes. */
	if (!c->t_read && c->tr->t_handshake)
		event_remove_timer(&c->rev);
	read_arm(c);
	/* Bytes the owner queued meanwhile go now; the writable handler reports an error. */
	if (evbuffer_get_length(c->out) && (flush_out(c) || evbuffer_get_length(c->out)))
		wev_add(c, c->t_write);
	else
		wev_del(c);
	if (c->side == CONN_SERVER) {
		/* An outgoing connection is up once its transport is: the owner may free it. */
		report(c, CONN_CONNECTED, 0);
		return false;
	}
	return true;
}

/* Start the transport's handshake on <c>, whose socket is connected: its deadline runs from
 * now. */
static void handshake_begin(struct conn *c)
{
	const struct timeval *t = c->tr->t_handshake;

	c->handshaking = true;
	if (t)
		c->hs_deadline_ms = clock_coarse_ms() + (uint64_t)t->tv_sec * 1000 +
				    (uint64_t)t->tv_usec / 1000;
}

static void on_in_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);

/* Stop reading while the input holds rd_high bytes; the input callback resumes it. */
static void read_suspend(struct conn *c)
{
	c->suspended = true;
	event_del(&c->rev);
	/* Registered only while suspended: every add and drain runs a buffer's callbacks. If
	 * it cannot be registered, conn_set_read_high() or conn_enable() still resumes. */
	if (!c->in_cb)
		c->in_cb = evbuffer_add_cb(c->in, on_in_drained, c);
}

static void read_resume(struct conn *c)
{
	c->suspended = false;
	if (c->in_cb) {
		evbuffer_remove_cb_entry(c->in, c->in_cb);
		c->in_cb = NULL;
	}
	read_arm(c);
	if (c->tr->pending && (c->enabled & CONN_READING) && c->tr->pending(c))
		event_active(&c->rev, EV_READ, 1);
}

static void on_in_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)info;
	if (c->suspended && (!c->rd_high || evbuffer_get_length(buf) < c->rd_high))
		read_resume(c);
}

/* The reads of a batch of callbacks (conn_batch_io()): a readable connection over plain TCP,
 * or over a transport that takes bytes read for it (feed: TLS), is listed rather than read at
 * once, and after the batch the listed ones are read together in one system call, each into
 * its share of a buffer of the thread's, before their owners' callbacks run. A connection
 * whose share was filled reads alone afterwards (rd_bulk: a body streaming in gets READ_MAX a
 * read), until a read of its brings less than a share. */
#define RD_SLICE 2048
#define RD_BATCH 32
static __thread struct conn *rd_v[RD_BATCH];
/* The shares, apart from read_buf: a connection read alone while the batch's bytes are handed
 * out (one left out of it, or a transport's recv, which decrypts into read_buf) must not
 * write over those still to go. */
static __thread char rd_buf[RD_BATCH * RD_SLICE];
static __thread size_t rd_n;
static __thread bool rd_on;

/* Whether reading <c> is what its state asks for now. */
static bool read_wanted(const struct conn *c)
{
	return (c->enabled & CONN_READING) && !c->suspended && !c->handshaking && c->connected &&
	       c->fd >= 0;
}

/* A read of <c> returned <n> bytes at <buf> (or -1 with <err>): keep them and tell the owner,
 * or report the end or the error. <trig>: on_read is due even if nothing was read. */
static void read_done(struct conn *c, const char *buf, ssize_t n, int err, bool trig)
{
	if (n > 0) {
		size_t have = evbuffer_get_length(c->in);

		if (buf_own(&c->in) || evbuffer_add(c->in, buf, (size_t)n) < 0) {
			conn_disable(c, CONN_READING);
			report(c, CONN_READING | CONN_ERROR, ENOMEM);
			return;
		}
		if (c->rd_high && have + (size_t)n >= c->rd_high)
			read_suspend(c);
		else if (c->tr->pending && c->tr->pending(c))
			event_active(&c->rev, EV_READ, 1);
	} else if (n == 0) {
		conn_disable(c, CONN_READING);
		report(c, CONN_READING | CONN_EOF, 0);
		return;
	} else if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
		conn_disable(c, CONN_READING);
		report(c, CONN_READING | CONN_ERROR, err);
		return;
	} else if (!trig) {
		return;
	}
	if (c->on_read)
		c->on_read(c, c->arg);
}

/* Read <c> now, as much as READ_MAX and its high mark allow. */
static void read_now(struct conn *c, bool trig)
{
	size_t room = READ_MAX, have = evbuffer_get_length(c->in);
	ssize_t n;

	if (c->rd_high && c->rd_high - have < room)
		room = c->rd_high - have;
	n = c->tr->recv(c, read_buf, room);
	if (c->rd_bulk && n < RD_SLICE)
		c->rd_bulk = false;
	read_done(c, read_buf, n, n < 0 ? errno : 0, trig);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	bool trig = c->triggered;

	(void)fd;
	c->triggered = false;
	if (what & EV_WRITE) {
		/* No write event could be made (wev_add()). */
		conn_disable(c, CONN_READING | CONN_WRITING);
		report(c, CONN_WRITING | CONN_ERROR, c->err);
		return;
	}
	if (what & EV_TIMEOUT) {
		conn_disable(c, c->handshaking ? CONN_READING | CONN_WRITING : CONN_READING);
		report(c, CONN_READING | CONN_TIMEOUT, 0);
		return;
	}
	if (c->handshaking && (!(c->enabled & CONN_READING) || !handshake_step(c, CONN_READING)))
		return;
	if (!(c->enabled & CONN_READING) || c->suspended) {
		if (trig && c->on_read)
			c->on_read(c, c->arg);
		return;
	}
	/* (Bytes a transport read ahead already, as a handshake may, are read at once.) */
	if (rd_on && !trig && !c->rd_bulk && !c->rd_listed && rd_n < RD_BATCH &&
		(c->tr == &conn_tcp || (c->tr->feed && !(c->tr->pending && c->tr->pending(c))))) {
		rd_v[rd_n++] = c;
		c->rd_listed = true;
		return;
	}
	read_now(c, trig);
}

/* Take <c> off the list of reads. */
static void rd_drop(struct conn *c)
{
	for (size_t i = 0; i < rd_n; i++) {
		if (rd_v[i] == c)
			rd_v[i] = NULL;
	}
	c->rd_listed = false;
}

/* Read the listed connections: in one system call when there are several, each into its
 * share of rd_buf; then, one after the other, what each read goes to its owner. A
 * connection an earlier owner's callback stopped reading keeps its bytes for when reading
 * resumes (rd_held). */
static void read_batch(void)
{
	static __thread int res[RD_BATCH];
	static __thread int16_t at[RD_BATCH];
	static __thread size_t want[RD_BATCH];
	size_t n = rd_n, room, have;
	struct conn *c;
	ssize_t got;
	int r;

	for (size_t i = 0; i < n; i++)
		at[i] = -1;
	for (size_t i = 0; i < n && n > 1; i++) {
		c = rd_v[i];
		if (!c || !read_wanted(c))
			continue;
		room = RD_SLICE;
		have = evbuffer_get_length(c->in);
		/* (A transport's bytes are not what reach the input: its own recv heeds the
		 * mark.) */
		if (!c->tr->feed && c->rd_high && c->rd_high - have < room)
			room = c->rd_high - have;
		at[i] = (int16_t)uring_add_recv(c->fd, rd_buf + i * RD_SLICE, room);
		want[i] = room;
	}
	if (n > 1) /* (a lone one is read the usual way: one system call either way) */
		(void)uring_submit(res); /* a receive it did not make says -ECANCELED */
	for (size_t i = 0; i < n; i++) {
		c = rd_v[i];
		if (!c)
			continue;
		rd_v[i] = NULL;
		c->rd_listed = false;
		r = at[i] >= 0 ? res[at[i]] : -ECANCELED;
		if (r == -ECANCELED) {
			/* Not read in the batch: alone, if it still should be. */
			if (read_wanted(c))
				read_now(c, false);
			continue;
		}
		got = r >= 0 ? r : -1;
		if (c->tr->feed) {
			/* The transport takes the bytes (or the end, or the error) in its recv;
			 * a socket found empty is no news, as for a read of its own. */
			bool more = got == (ssize_t)want[i] && want[i] == RD_SLICE;

			if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR) {
				/* Nothing new; bytes it holds still go to the owner. */
				if (c->tr->pending && c->tr->pending(c) && read_wanted(c))
					read_now(c, false);
				continue;
			}
			if (!read_wanted(c)) {
				if (got > 0) {
					c->tr->feed(c, rd_buf + i * RD_SLICE, got, more, true);
					c->rd_held = true;
				}
				continue;
			}
			if (more)
				c->rd_bulk = true;
			c->tr->feed(c, rd_buf + i * RD_SLICE, r, more, false);
			read_now(c, false);
			continue;
		}
		if (!read_wanted(c)) {
			/* An earlier callback stopped its reading after its bytes were taken: they
			 * wait in its input (an end or an error shows again at the next read). */
			if (got > 0 && !buf_own(&c->in) &&
				!evbuffer_add(c->in, rd_buf + i * RD_SLICE, (size_t)got))
				c->rd_held = true;
			continue;
		}
		if (got == (ssize_t)want[i] && want[i] == RD_SLICE)
			c->rd_bulk = true;
		read_done(c, rd_buf + i * RD_SLICE, got, r < 0 ? -r : 0, false);
	}
	rd_n = 0;
}

/* Write the bytes of <b> until the socket is full or <b> empty. Returns 0, or the errno
 * of a failed write (EAGAIN is not a failure). */
/* The first WRITE_IOV pieces of <b> as iovecs in <iov>, their bytes in *<want>; returns how
 * many pieces (0 when <b> is empty). */
static int out_iov(struct evbuffer *b, struct iovec *iov, size_t *want)
{
	struct evbuffer_iovec v[WRITE_IOV];
	int k = evbuffer_peek(b, -1, NULL, v, WRITE_IOV);

	if (k > WRITE_IOV)
		k = WRITE_IOV;
	*want = 0;
	for (int i = 0; i < k; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
		*want += v[i].iov_len;
	}
	return k;
}

static int flush_buf(struct conn *c, struct evbuffer *b)
{
	struct iovec iov[WRITE_IOV];
	size_t want;
	ssize_t n;
	int k;

	while (evbuffer_get_length(b)) {
		k = out_iov(b, iov, &want);
		n = c->tr->sendv(c, iov, k);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		if (n < 0)
			return errno;
		evbuffer_drain(b, (size_t)n);
		if ((size_t)n < want)
			return 0;
	}
	return 0;
}

/* Write queued bytes until the socket is full or the queue empty. */
static int flush_out(struct conn *c)
{
	int err = flush_buf(c, c->out);

	buf_drop(&c->out);
	return err;
}

/* After a write of <c>'s queue that returned <err>, what the socket's writability does next: an
 * error is reported; with bytes left the write event waits for room (armed here when <arm>:
 * it is not pending yet); the owner hears on_write once the queue is down to wr_low. */
static void write_done(struct conn *c, int err, bool arm)
{
	if (err) {
		conn_disable(c, CONN_WRITING);
		report(c, CONN_WRITING | CONN_ERROR, err);
		return;
	}
	if (!evbuffer_get_length(c->out))
		wev_del(c);
	else if (arm)
		wev_add(c, c->t_write);
	if (evbuffer_get_length(c->out) <= c->wr_low && c->on_write)
		c->on_write(c, c->arg);
}

/* Writable: finish a connect, or write what is queued. */
static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int err;

	if (what & EV_TIMEOUT) {
		conn_disable(c, c->handshaking ? CONN_READING | CONN_WRITING : CONN_WRITING);
		report(c, CONN_WRITING | CONN_TIMEOUT, c->connected ? 0 : ETIMEDOUT);
		return;
	}
	if (c->handshaking) {
		if (handshake_step(c, CONN_WRITING) && (c->enabled & CONN_READING))
			conn_trigger_read(c); /* application bytes may wait in the transport */
		return;
	}
	if (!c->connected) {
		socklen_t len = sizeof(err);

		err = c->err;
		if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == EINPROGRESS || err == EALREADY)
			return;
		if (err) {
			conn_disable(c, CONN_READING | CONN_WRITING);
			report(c, CONN_WRITING | CONN_ERROR, err);
			return;
		}
		int one = 1;

		c->connected = true;
		/* Heads and small bodies must not wait for Nagle. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (c->tr->handshake) {
			/* The owner hears CONN_CONNECTED once the handshake is done. */
			handshake_begin(c);
			(void)handshake_step(c, CONN_WRITING);
			return;
		}
		if (!evbuffer_get_length(c->out))
			wev_del(c);
		read_arm(c);
		report(c, CONN_CONNECTED, 0);
		return;
	}
	write_done(c, flush_out(c), false);
}

/* libevent keeps a small record for each descriptor number an event was ever added for on
 * a base, made with the first such event and kept for the base's life. Made one by one as a
 * burst of connections reaches new numbers, these records would land among the burst's
 * short-lived allocations and pin their heap pages once those are freed; so they are made
 * ahead, in batches (a quarter beyond the number reached), and sit together: for each free
 * number, a duplicate of socket <fd> is made there (F_DUPFD never replaces an open one),
 * its event added and deleted at once, and the duplicate closed. */
static __thread struct event_base *fdmap_base;
static __thread evutil_socket_t fdmap_top; /* records made below this number */

static void fdmap_noop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void fdmap_reserve(struct event_base *base, evutil_socket_t fd)
{
	evutil_socket_t to = fd + fd / 4 + 64, n, d;
	struct event *ev;

	if (base != fdmap_base) {
		fdmap_base = base;
		fdmap_top = 0;
	}
	if (fd < fdmap_top)
		return;
	if (fdmap_top <= fd)
		fdmap_top = fd + 1; /* the caller adds <fd>'s own */
	ev = event_new(base, -1, 0, fdmap_noop, NULL);
	if (!ev)
		return;
	for (n = fdmap_top; n < to; n = d + 1) {
		d = fcntl(fd, F_DUPFD_CLOEXEC, n);
		if (d < 0)
			break; /* past the descriptor limit: the rest come one by one */
		if (!event_assign(ev, base, d, EV_READ, fdmap_noop, NULL) && !event_add(ev, NULL))
			event_del(ev);
		close(d);
	}
	event_free(ev);
	fdmap_top = n;
}

/* The bytes of a conn of <side>: an accepted one has no pool fields. */
static size_t conn_size(enum conn_side side)
{
	return ((side == CONN_SERVER ? sizeof(struct conn) : CONN_CLIENT_SIZE) + 7) & ~(size_t)7;
}

/* A conn of <side> over <tr> on socket <fd>, its read event embedded, and for an outgoing
 * connection its write event in the same block (an accepted one makes it when a write has
 * to wait: wev_make()). */
static struct conn *conn_new(struct event_base *base, const struct conn_transport *tr,
	evutil_socket_t fd, enum conn_side side, void *mem)
{
	size_t evsz = event_get_struct_event_size();
	size_t head = conn_size(side);
	struct conn *c;

	/* The embedded event is laid out as the headers this was built with say. */
	if (evsz > sizeof(struct event))
		return NULL;
	c = mem ? mem : calloc(1, head + (side == CONN_SERVER ? evsz : 0));
	if (!c)
		return NULL;
	c->mem_ext = mem != NULL;
	if (fd >= 0)
		fdmap_reserve(base, fd);
	c->fd = fd;
	c->tr = tr;
	c->side = side;
	if (side == CONN_SERVER)
		c->wev = (struct event *)((char *)c + head);
	c->in = c->out = empty();
	if (!c->in || event_assign(&c->rev, base, fd, EV_READ | EV_PERSIST, on_readable, c) < 0 ||
		(c->wev &&
			event_assign(c->wev, base, fd, EV_WRITE | EV_PERSIST, on_writable, c) < 0)) {
		if (!mem)
			free(c);
		return NULL;
	}
	c->enabled = CONN_WRITING;
	return c;
}

size_t conn_accepted_size(void)
{
	return conn_size(CONN_CLIENT);
}

const char *conn_peer_text(const struct conn *c, char *buf, size_t size)
{
	if (c->side == CONN_SERVER)
		return c->peer_text;
	if (c->peer.sa.sa_family == AF_INET && size >= INET_ADDRSTRLEN) {
		/* The common case, written per request for X-Forwarded-For and the access log:
		 * by hand, a tenth of what inet_ntop() and snprintf() cost. */
		const unsigned char *b = (const unsigned char *)&c->peer.in.sin_addr;
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			unsigned int v = b[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	if (!c->peer_len) {
		snprintf(buf, size, "?");
		return buf;
	}
	(void)addr_sockaddr_text(&c->peer.sa, false, buf, size);
	return buf;
}

struct conn *conn_accepted(struct event_base *base, const struct conn_transport *tr,
	evutil_socket_t fd, const struct sockaddr *sa, socklen_t len)
{
	return conn_accepted_in(NULL, base, tr, fd, sa, len);
}

struct conn *conn_accepted_in(void *mem, struct event_base *base,
	const struct conn_transport *tr, evutil_socket_t fd, const struct sockaddr *sa,
	socklen_t len)
{
	struct conn *c = conn_new(base, tr, fd, CONN_CLIENT, mem);

	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	if (len > sizeof(c->peer))
		len = sizeof(c->peer);
	memcpy(&c->peer, sa, len);
	c->peer_len = (uint8_t)len;
	/* TCP_NODELAY comes from the listening socket (listener.c). */
	c->connected = true;
	if (tr->attach) {
		int err = tr->attach(c);

		if (err) {
			conn_free(c);
			errno = -err;
			return NULL;
		}
	}
	if (tr->handshake)
		handshake_begin(c);
	return c;
}

struct conn *conn_virtual(struct event_base *base, const struct conn_transport *tr,
	void *tr_conn, const struct sockaddr *sa, socklen_t len)
{
	struct conn *c = conn_new(base, tr, -1, CONN_CLIENT, NULL);

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	if (len > sizeof(c->peer))
		len = sizeof(c->peer);
	memcpy(&c->peer, sa, len);
	c->peer_len = (uint8_t)len;
	c->connected = true;
	c->tr_conn = tr_conn;
	return c;
}

struct conn *conn_virtual_out(struct event_base *base, const struct conn_transport *tr,
	void *tr_conn, const struct cfg_addr *addr)
{
	struct conn *c = conn_new(base, tr, -1, CONN_SERVER, NULL);

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->peer_len = (uint8_t)(addr->len < sizeof(c->peer) ? addr->len : sizeof(c->peer));
	memcpy(&c->peer, &addr->ss, c->peer_len);
	snprintf(c->peer_text, sizeof(c->peer_text), "%s", addr->text);
	c->tr_conn = tr_conn;
	event_add(c->wev, c->t_write); /* no socket: a timer for the connect timeout */
	return c;
}

void conn_virtual_connected(struct conn *c)
{
	c->connected = true;
	if (!evbuffer_get_length(c->out))
		event_del(c->wev);
	read_arm(c);
	report(c, CONN_CONNECTED, 0);
}

void conn_wake_write(struct conn *c)
{
	if (evbuffer_get_length(c->out) && (c->enabled & CONN_WRITING) && !wev_make(c))
		event_active(c->wev, EV_WRITE, 1);
}

struct conn *conn_connect(
	struct event_base *base, const struct conn_transport *tr, const struct cfg_addr *addr)
{
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct conn *c;

	if (fd < 0)
		return NULL;
	c = conn_new(base, tr, fd, CONN_SERVER, NULL);
	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->peer_len = (uint8_t)(addr->len < sizeof(c->peer) ? addr->len : sizeof(c->peer));
	memcpy(&c->peer, &addr->ss, c->peer_len);
	snprintf(c->peer_text, sizeof(c->peer_text), "%s", addr->text);
	if (tr->attach) {
		int err = tr->attach(c);

		if (err) {
			conn_free(c);
			errno = -err;
			return NULL;
		}
	}
	/* The outcome, even an immediate refusal, is reported from the loop through the
	 * writable handler, so callers have one path for every failure. */
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 && errno != EINPROGRESS)
		c->err = errno ? errno : ECONNREFUSED;
	if (c->err)
		event_active(c->wev, EV_WRITE, 1);
	else
		event_add(c->wev, c->t_write);
	return c;
}

void conn_set_cbs(
	struct conn *c, conn_io_fn on_read, conn_io_fn on_write, conn_event_fn on_event, void *arg)
{
	c->on_read = on_read;
	c->on_write = on_write;
	c->on_event = on_event;
	c->arg = arg;
	/* A pooled connection changing owner reads already; its new owner sets its own
	 * timeouts next, which re-arms the event once rather than twice. */
	if (!(c->enabled & CONN_READING))
		conn_enable(c, CONN_READING);
}

void conn_enable(struct conn *c, short what)
{
	c->enabled |= what & (CONN_READING | CONN_WRITING);
	if ((what & CONN_READING) && c->suspended &&
		(!c->rd_high || evbuffer_get_length(c->in) < c->rd_high))
		read_resume(c);
	else if (what & CONN_READING) {
		read_arm(c);
		/* Bytes the transport holds already announce themselves through no socket. */
		if (c->tr->pending && !c->suspended && c->connected && !c->handshaking &&
			c->tr->pending(c))
			event_active(&c->rev, EV_READ, 1);
	}
	if ((what & CONN_WRITING) && (!c->connected || evbuffer_get_length(c->out)))
		wev_add(c, c->t_write);
}

void conn_disable(struct conn *c, short what)
{
	c->enabled &= ~(what & (CONN_READING | CONN_WRITING));
	if (what & CONN_READING)
		event_del(&c->rev);
	if (what & CONN_WRITING)
		wev_del(c);
}

void conn_set_timeouts(struct conn *c, const struct timeval *rd, const struct timeval *wr)
{
	c->t_read = rd;
	c->t_write = wr;
	/* Re-adding a pending event moves its timeout; but event_add() without one keeps the
	 * timeout already scheduled, so taking a timeout back needs the event deleted first
	 * (a pooled connection's idle timeout would otherwise fire in its next request). */
	if (event_pending(&c->rev, EV_READ, NULL)) {
		struct timeval tv;
		const struct timeval *t = read_timeout(c, rd, &tv);

		if (!t)
			event_del(&c->rev);
		event_add(&c->rev, t);
	}
	if (c->wev && event_pending(c->wev, EV_WRITE, NULL)) {
		if (!wr)
			event_del(c->wev);
		event_add(c->wev, wr);
	}
}

void conn_set_timeouts_since(
	struct conn *c, const struct timeval *rd, const struct timeval *wr, uint64_t armed_ms)
{
	/* Like nginx's lazy timers: a read timeout armed a moment ago is as good as one armed
	 * now, and moving it costs a timer queue removal and insertion. "A moment": a hundredth
	 * of the timeout (the part of a common timeout's microseconds below its magic bits). */
	if (rd && rd == c->t_read && event_pending(&c->rev, EV_READ, NULL) &&
		!(c->wev && event_pending(c->wev, EV_WRITE, NULL))) {
		uint64_t ms = (uint64_t)rd->tv_sec * 1000 + ((uint64_t)rd->tv_usec & 0xfffff) / 1000;

		if (clock_coarse_ms() - armed_ms <= ms / 100) {
			c->t_write = wr;
			return;
		}
	}
	conn_set_timeouts(c, rd, wr);
}

void conn_set_idle_timeout(struct conn *c, const struct timeval *rd)
{
	/* The read event restarted its timeout when it last fired or was armed: with the same
	 * timeout (libevent gives one pointer per duration) nothing needs re-arming, which
	 * saves a keep-alive exchange a timer move. */
	if (rd && rd == c->t_read && !(c->wev && event_pending(c->wev, EV_WRITE, NULL))) {
		c->t_write = NULL;
		return;
	}
	conn_set_timeouts(c, rd, NULL);
}

void conn_set_read_high(struct conn *c, size_t high)
{
	c->rd_high = high < UINT32_MAX ? (uint32_t)high : UINT32_MAX;
	if (high && evbuffer_get_length(c->in) >= high) {
		if (!c->suspended)
			read_suspend(c);
	} else if (c->suspended) {
		read_resume(c);
	}
}

void conn_set_write_low(struct conn *c, size_t low)
{
	c->wr_low = low < UINT32_MAX ? (uint32_t)low : UINT32_MAX;
}

void conn_trigger_read(struct conn *c)
{
	c->triggered = true;
	event_active(&c->rev, EV_READ, 1);
}

/* This thread's connections with deferred writes (conn_defer_writes()), in the order of their
 * first write; a freed one leaves a NULL. An array of the thread's rather than a link in each
 * connection: an idle connection stays as small as it was. At most DEFER_MAX connections a
 * batch, beyond which writes go at once: each deferred one holds an output buffer until the
 * batch ends, and a burst of thousands of requests would otherwise hold thousands (a client
 * gains nothing from waiting for them). */
#define DEFER_MAX URING_BATCH
static __thread struct conn **defer_v;
static __thread size_t defer_n, defer_cap;
static __thread bool defer_on;

/* What a batch's send did for each listed connection: DEFER_UNSENT (written the usual way),
 * DEFER_SENT (all it was given: anything beyond is written the usual way), DEFER_HELD (the
 * socket took part or nothing: the rest waits for writability), or a positive errno. */
#define DEFER_UNSENT (-1)
#define DEFER_SENT   0
#define DEFER_HELD   (-2)
static __thread int defer_res[DEFER_MAX];

void conn_defer_writes(void)
{
	defer_on = true;
}

int conn_batch_io(void)
{
	int err = uring_init();

	rd_on = !err;
	return err;
}

void conn_batch_end(void)
{
	rd_on = false;
	uring_exit();
	/* Nothing is deferred between batches: the list goes too. */
	defer_on = false;
	free(defer_v);
	defer_v = NULL;
	defer_n = defer_cap = 0;
}

/* List <c>, which owns an output buffer; -1 when there is no room (the caller writes at
 * once). */
static int defer_add(struct conn *c)
{
	if (defer_n == defer_cap) {
		size_t cap = defer_cap ? 2 * defer_cap : 64;
		struct conn **v = realloc(defer_v, cap * sizeof(*v));

		if (!v)
			return -1;
		defer_v = v;
		defer_cap = cap;
	}
	defer_v[defer_n++] = c;
	c->deferred = true;
	return 0;
}

/* Take <c> off the list: from the end, where a connection written and then closed in one
 * callback is. */
static void defer_drop(struct conn *c)
{
	for (size_t i = defer_n; i-- > 0;) {
		if (defer_v[i] == c) {
			defer_v[i] = NULL;
			break;
		}
	}
	c->deferred = false;
}

/* Listed connections [from, to) over plain TCP send what waits in their output in one
 * system call; each one's outcome goes to defer_res[], before any callback runs. */
static void defer_send_batch(size_t from, size_t to)
{
	static __thread int res[URING_BATCH];
	static __thread uint16_t at[URING_BATCH];
	static __thread size_t want[URING_BATCH];
	struct iovec iov[WRITE_IOV];
	struct conn *c;
	size_t w;
	int k, s, n = 0;

	_Static_assert(WRITE_IOV <= URING_IOV, "a send's pieces fit a ring entry");
	for (size_t i = from; i < to; i++)
		defer_res[i] = DEFER_UNSENT;
	for (size_t i = from; i < to; i++) {
		c = defer_v[i];
		if (!c || c->tr != &conn_tcp || (k = out_iov(c->out, iov, &w)) < 1)
			continue;
		s = uring_add_send(c->fd, iov, k);
		if (s < 0)
			break; /* the batch is full: the rest go the usual way */
		at[s] = (uint16_t)i;
		want[s] = w;
		n++;
	}
	if (!n)
		return;
	(void)uring_submit(res); /* a send it did not make says -ECANCELED */
	for (s = 0; s < n; s++) {
		size_t i = at[s];

		c = defer_v[i];
		if (res[s] >= 0) {
			evbuffer_drain(c->out, (size_t)res[s]);
			defer_res[i] = (size_t)res[s] < want[s] ? DEFER_HELD : DEFER_SENT;
		} else if (res[s] == -EAGAIN || res[s] == -EWOULDBLOCK || res[s] == -EINTR) {
			defer_res[i] = DEFER_HELD;
		} else if (res[s] != -ECANCELED) {
			defer_res[i] = -res[s];
		}
	}
}

void conn_flush_deferred(void)
{
	struct conn *c;
	size_t i = 0, end;
	int err;

	if (rd_n)
		read_batch();

	/* A callback below may defer more writes (on this connection too), which join the
	 * list's end and go in the next round, or free connections still listed, which leave a
	 * NULL: each is taken off before its callbacks run. With a ring, a round's sends are
	 * made together first (a single one goes the usual way: one system call either way). */
	while (i < defer_n) {
		end = defer_n;
		if (end - i > 1 && uring_ready()) {
			defer_send_batch(i, end);
		} else {
			for (size_t j = i; j < end; j++)
				defer_res[j] = DEFER_UNSENT;
		}
		for (; i < end; i++) {
			c = defer_v[i];
			if (!c)
				continue;
			defer_v[i] = NULL;
			c->deferred = false;
			if (defer_res[i] == DEFER_UNSENT || defer_res[i] == DEFER_SENT) {
				err = flush_out(c);
			} else {
				err = defer_res[i] == DEFER_HELD ? 0 : defer_res[i];
				buf_drop(&c->out);
			}
			if (c->enabled & CONN_WRITING)
				write_done(c, err, true);
			else if (err) /* an owner not writing hears nothing */
				c->err = err;
		}
	}
	defer_n = 0;
}

void conn_send(struct conn *c, struct evbuffer *stage)
{
	int err = 0;

	if (!evbuffer_get_length(stage))
		return;
	/* Written from the stage when nothing waits before it: no event round trip (and no
	 * epoll_ctl) for a response that fits the socket buffer, which is nearly all of them.
	 * Where the thread defers writes, after its batch of callbacks (in a buffer of the
	 * connection's own until then, which goes back once drained); else at once. */
	if (!evbuffer_get_length(c->out) && c->connected && !c->handshaking) {
		if (defer_on && c->fd >= 0 && defer_n < DEFER_MAX && !buf_own(&c->out)) {
			if (!defer_add(c)) {
				evbuffer_add_buffer(c->out, stage);
				return;
			}
			buf_drop(&c->out); /* still empty: back to the spares */
		}
		err = flush_buf(c, stage);
		if (!evbuffer_get_length(stage))
			return;
	} else if (evbuffer_get_length(c->out)) {
		evbuffer_add_buffer(c->out, stage);
		return;
	}
	if (buf_own(&c->out)) {
		/* Nowhere to keep the rest: the connection cannot go on. */
		evbuffer_drain(stage, evbuffer_get_length(stage));
		err = ENOMEM;
	} else {
		evbuffer_add_buffer(c->out, stage);
	}
	if (err)
		c->err = err;
	/* Left over, or an error the writable handler will meet again and report. */
	if (c->connected && !c->handshaking && (c->enabled & CONN_WRITING))
		wev_add(c, c->t_write);
}

int conn_shutdown_write(struct conn *c)
{
	/* What was deferred goes before the end of the stream. */
	if (c->deferred) {
		defer_drop(c);
		if (!flush_out(c) && evbuffer_get_length(c->out) && (c->enabled & CONN_WRITING))
			wev_add(c, c->t_write);
	}
	if (c->tr->shutdown && !c->handshaking)
		c->tr->shutdown(c);
	if (c->fd < 0)
		return 0;
	if (shutdown(c->fd, SHUT_WR) < 0)
		return -errno;
	return 0;
}

void conn_release_buffers(struct conn *c)
{
	if (!c->in_cb)
		buf_drop(&c->in);
	buf_drop(&c->out);
	wev_drop(c);
}

size_t conn_pending(const struct conn *c)
{
	return evbuffer_get_length(c->out);
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->rd_listed)
		rd_drop(c);
	if (c->deferred) {
		defer_drop(c);
		(void)flush_out(c);
	}
	event_del(&c->rev);
	if (c->wev_own)
		event_free(c->wev);
	else if (c->wev)
		event_del(c->wev);
	if (c->tr_conn)
		c->tr->detach(c);
	if (!c->in_cb)
		buf_drop(&c->in); /* an empty one goes to the spares */
	buf_drop(&c->out);
	if (c->in != empty_buf)
		evbuffer_free(c->in);
	if (c->out != empty_buf)
		evbuffer_free(c->out);
	if (c->fd >= 0)
		close(c->fd);
	if (!c->mem_ext)
		free(c);
}
