/* SPDX-License-Identifier: GPL-2.0 */
/* Connections: create (accepted or outgoing), owner callbacks, reading and writing with
 * watermarks and timeouts, free. Level-triggered events on the worker's event base; a read
 * is one recv() into the input buffer, a write one sendmsg() of the queued bytes. */
#ifndef USERSPACE_NET_CONN_H
#define USERSPACE_NET_CONN_H

#include <sys/socket.h>

#include <event2/util.h>

struct evbuffer;
struct timeval;

#include "userspace/cfg/cfg-t.h"
#include "userspace/net/conn-t.h"

/* Plain TCP. */
extern const struct conn_transport conn_tcp;

/* Wrap accepted socket <fd> from <sa> (<len> bytes). Takes ownership of <fd> even on
 * failure. A transport with a handshake runs it from the event loop once reading is enabled
 * (timed by tr->t_handshake); the owner's on_read sees only application bytes, and a failed
 * or timed-out handshake comes as CONN_READING with CONN_ERROR or CONN_TIMEOUT. Returns NULL
 * with errno. */
struct conn *conn_accepted(struct event_base *base, const struct conn_transport *tr,
	evutil_socket_t fd, const struct sockaddr *sa, socklen_t len);

/* Bytes conn_accepted_in() needs. */
size_t conn_accepted_size(void);

/* conn_accepted() in <mem>, conn_accepted_size() zeroed bytes aligned on 8 that the caller
 * owns and gives back after conn_free() (which leaves them alone): a connection can then
 * share one allocation with its owner's state. */
struct conn *conn_accepted_in(void *mem, struct event_base *base,
	const struct conn_transport *tr, evutil_socket_t fd, const struct sockaddr *sa,
	socklen_t len);

/* A connection without a socket, for a stream multiplexed on another connection (an HTTP/2
 * stream): <tr>'s recv and sendv move its bytes to and from its owner, whose state is
 * <tr_conn> (released by tr->detach when the conn is freed). No readiness is ever reported
 * by the kernel: the owner calls conn_trigger_read() when it has bytes for recv (the
 * transport's pending hook tells how many remain) and conn_wake_write() when sendv may take
 * more; timeouts work as for a socket. <sa> (<len> bytes) names the client. Returns NULL
 * with errno ENOMEM. */
struct conn *conn_virtual(struct event_base *base, const struct conn_transport *tr,
	void *tr_conn, const struct sockaddr *sa, socklen_t len);

/* A socketless connection to a server (an HTTP/2 stream on a connection shared with
 * others), not connected yet: like conn_connect()'s, it is timed by the write timeout until
 * its owner calls conn_virtual_connected() (the owner hears CONN_CONNECTED) or fails it
 * through recv. <addr> names the server. Returns NULL with errno ENOMEM. */
struct conn *conn_virtual_out(struct event_base *base, const struct conn_transport *tr,
	void *tr_conn, const struct cfg_addr *addr);

/* The stream of <c> (from conn_virtual_out()) is open: the owner hears CONN_CONNECTED now,
 * and may free <c> in it. */
void conn_virtual_connected(struct conn *c);

/* Socketless connections: write queued bytes from the event loop soon (the transport can
 * take more). */
void conn_wake_write(struct conn *c);

/* Start connecting to <addr>. Completion (CONN_CONNECTED) or failure (CONN_ERROR, also for
 * an immediate refusal, or CONN_TIMEOUT after the write timeout) comes through the event
 * callback from the event loop, never from this call. A transport with a handshake (TLS)
 * runs it once the socket is connected, timed by tr->t_handshake, and CONN_CONNECTED means
 * it is done; its failure comes as CONN_ERROR or CONN_TIMEOUT. Returns NULL with errno when no
 * socket could be made. */
struct conn *conn_connect(
	struct event_base *base, const struct conn_transport *tr, const struct cfg_addr *addr);

/* Route the events of <c> to the given callbacks with <arg>; NULLs ignore. Reading is
 * enabled. Callbacks run from the event loop and may free <c>. */
void conn_set_cbs(
	struct conn *c, conn_io_fn on_read, conn_io_fn on_write, conn_event_fn on_event, void *arg);

/* Start or stop reading (CONN_READING) and writing (CONN_WRITING; on from creation on).
 * A timeout, EOF or error stops the direction it happened in. Enabling an enabled
 * direction restarts its timeout. */
void conn_enable(struct conn *c, short what);
void conn_disable(struct conn *c, short what);

/* Time out reading after <rd> without a byte while reading is enabled, and writing after
 * <wr> without progress while bytes wait; NULL: never. The timevals (typically libevent
 * common timeouts) must outlive their use. A connect is timed by <wr>. */
void conn_set_timeouts(struct conn *c, const struct timeval *rd, const struct timeval *wr);

/* conn_set_timeouts() for a connection whose read timeout was last armed at <armed_ms>
 * (clock_coarse_ms()): when that timeout is <rd> and was armed within a hundredth of it, it
 * is kept (it may fire that much early) rather than moved. */
void conn_set_timeouts_since(
	struct conn *c, const struct timeval *rd, const struct timeval *wr, uint64_t armed_ms);

/* conn_set_timeouts(<c>, <rd>, NULL) for a connection that has just gone idle, counting
 * <rd> from its last read (or from when reading was armed) rather than from now: when <rd>
 * is the read timeout in force, nothing is re-armed. */
void conn_set_idle_timeout(struct conn *c, const struct timeval *rd);

/* Stop reading while the input buffer holds <high> bytes or more (0: no limit); reading
 * resumes by itself when the owner drains it below. */
void conn_set_read_high(struct conn *c, size_t high);

/* Call on_write when a write leaves at most <low> bytes queued. */
void conn_set_write_low(struct conn *c, size_t low);

/* Run on_read from the event loop soon, e.g. for bytes already in the input buffer
 * after reading was paused, even when the socket has nothing new. */
void conn_trigger_read(struct conn *c);

/* Move every byte of <stage> to <c>: written to the socket at once when nothing is queued
 * and the connection is up, the rest queued and written when the socket is ready. <stage>
 * ends empty. A write error is reported through the event callback, from the loop. */
void conn_send(struct conn *c, struct evbuffer *stage);

/* Shut the write side of <c> down after what was written: the transport's closing alert
 * first (TLS close_notify), then shutdown(2). Returns 0 or -errno. */
int conn_shutdown_write(struct conn *c);

/* The text of <c>'s peer: a client's address ("10.0.0.1", "2001:db8::1"), written into
 * <buf> (<size> bytes, CONN_PEER_TEXT_MAX is enough), or a server's "address:port" as it was
 * given, which the connection keeps. Returns <buf> or the kept text. */
const char *conn_peer_text(const struct conn *c, char *buf, size_t size);

/* conn_peer_text() into a buffer that lives as long as the enclosing block: for a log line. */
#define CONN_PEER(c) conn_peer_text((c), (char[CONN_PEER_TEXT_MAX]){0}, CONN_PEER_TEXT_MAX)

/* Bytes queued for writing. */
size_t conn_pending(const struct conn *c);

/* Give back the input and output buffers while they are empty: an idle connection then
 * holds none (they come back when bytes arrive or must wait). */
void conn_release_buffers(struct conn *c);

/* Close and free <c>; NULL is accepted. Bytes conn_send() deferred are written first, as far
 * as the socket takes them. */
void conn_free(struct conn *c);

/* From now on, conn_send() on this thread leaves what it would have written at once for
 * conn_flush_deferred(), which the thread's loop calls after each batch of callbacks: every
 * write of a batch then reaches its peer in one burst, whose process wakes once for all of
 * them rather than once for each (fewer wake-ups and system calls for the client, the origin
 * and the proxy on shared CPUs), and a connection written twice in a batch is written once. */
void conn_defer_writes(void);

/* With deferred writes: make the reads of a batch of callbacks in one system call (an io_uring
 * of the thread's), before the owners' callbacks for them run, and the deferred writes in
 * another, rather than one each. Returns 0, or -errno where the kernel refuses (reads and
 * writes are then made one by one, as without it). conn_batch_end(), before the thread ends
 * (between batches), frees what deferring and batching hold and turns both off. */
int conn_batch_io(void);
void conn_batch_end(void);

/* Read what the batch listed (see conn_batch_io()), then write what conn_send() deferred on
 * this thread, as the socket's writability would (when the
 * owner has writing enabled): an error is reported to the owner, what the socket does not take
 * waits for it, and the owner hears on_write once its output is down to its low mark. */
void conn_flush_deferred(void);

#endif /* USERSPACE_NET_CONN_H */
