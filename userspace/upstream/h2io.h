/* SPDX-License-Identifier: GPL-2.0 */
/* Moving bytes between a conn and an nghttp2 session, for both ends of pingd's HTTP/2: the
 * client connections (proxy/h2conn.c) and the connections to servers (upstream/h2up.c). */
#ifndef USERSPACE_UPSTREAM_H2IO_H
#define USERSPACE_UPSTREAM_H2IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

#include "userspace/net/conn-t.h"

struct evbuffer;

/* nghttp2's memory for one session: counted, and its large blocks (the frame buffer,
 * 16 KiB) page-aligned so that an idle connection can give their pages back. */
#define H2IO_MEM_BIG  8192u /* bytes from which a block is large */
#define H2IO_MEM_NBIG 2u    /* large blocks tracked (nghttp2 makes one) */

struct h2io_mem {
	nghttp2_mem mem;
	size_t used; /* bytes nghttp2 holds (as malloc counts them) */
	void *big[H2IO_MEM_NBIG];
	size_t big_len[H2IO_MEM_NBIG];
	unsigned int n_big;
	unsigned int page;
	bool creating; /* inside nghttp2_session_*_new3() */
};

/* Ready <m> for a session (h2io_session.mem); it must outlive the session. */
void h2io_mem_init(struct h2io_mem *m);

/* The session of <m> is idle (no stream open, nothing to write): the pages of its large
 * blocks go back to the kernel, to be zero-filled again on the next frame. */
void h2io_mem_idle(struct h2io_mem *m);

/* What both ends hand nghttp2: their callbacks, and the limits they share. */
struct h2io_session {
	nghttp2_on_begin_headers_callback begin_headers;
	nghttp2_on_header_callback header;
	nghttp2_on_data_chunk_recv_callback data_chunk;
	nghttp2_on_frame_recv_callback frame_recv;
	nghttp2_on_stream_close_callback stream_close;
	nghttp2_on_invalid_frame_recv_callback invalid_frame;
	bool server;			   /* a client connection (else one to a server) */
	unsigned int rst_burst, rst_rate;  /* stream resets the peer may cause (0: nghttp2's) */
	const nghttp2_settings_entry *set; /* our SETTINGS */
	size_t n_set;
	uint32_t window;      /* each stream's receive window */
	uint32_t streams;     /* streams whose windows the connection's covers */
	struct h2io_mem *mem; /* nghttp2's memory (h2io_mem_init()); NULL: malloc as is */
};

/* A session for <user> as <o> says: windows opened by the owner only (no automatic
 * WINDOW_UPDATE), the connection's window covering <streams> stream windows, bounded
 * SETTINGS entries (32), CONTINUATION frames (16), unsent ACKs (1000) and HPACK table kept
 * for the peer (4096), our SETTINGS submitted. Returns 0 or -ENOMEM. */
int h2io_session_new(nghttp2_session **ng, const struct h2io_session *o, void *user);

/* Write what <ng> has to send to <c> while fewer than <limit> bytes wait in its output, as
 * one write (the frames of every stream gathered). Returns the bytes handed to <c>, a
 * negative nghttp2 error (the session cannot go on) or -ENOMEM. */
ssize_t h2io_send(nghttp2_session *ng, struct conn *c, size_t limit);

/* Feed <ng> the bytes waiting in <c>'s input, draining what it took. Returns 0, or the
 * negative nghttp2 error that stopped it (the rest of the input is left). */
ssize_t h2io_recv(nghttp2_session *ng, struct conn *c);

/* Append <len> body bytes to <b>: as one HTTP/1.1 chunk when <chunked>, else as they are. */
void h2io_body_add(struct evbuffer *b, const void *data, size_t len, bool chunked);

#endif /* USERSPACE_UPSTREAM_H2IO_H */
