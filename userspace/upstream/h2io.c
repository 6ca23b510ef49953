// SPDX-License-Identifier: GPL-2.0
/* Moving bytes between a conn and an nghttp2 session (see h2io.h). */
#include "userspace/upstream/h2io.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "userspace/http/h1.h"
#include "userspace/net/conn.h"

/* ------------------------------------------------------------------ nghttp2's memory */

/* Only a large block the session makes when it is created is taken for one whose bytes
 * matter only while frames are written (the frame buffer): one made later may be state that
 * must survive idleness (a stream map grown past a page). */
static bool frame_buffer(const struct h2io_mem *m, size_t n)
{
	return m->creating && n >= H2IO_MEM_BIG && m->n_big < H2IO_MEM_NBIG;
}

static void *mem_malloc(size_t n, void *u)
{
	struct h2io_mem *m = u;
	void *p = NULL;

	/* The frame buffer starts on a page, so that its pages can be given back whole while
	 * the connection is idle (h2io_mem_idle()). */
	if (frame_buffer(m, n)) {
		if (posix_memalign(&p, (size_t)m->page, n))
			return NULL;
		m->big[m->n_big] = p;
		m->big_len[m->n_big++] = n;
	} else {
		p = malloc(n);
	}
	if (p)
		m->used += malloc_usable_size(p);
	return p;
}

static void mem_free(void *p, void *u)
{
	struct h2io_mem *m = u;

	if (!p)
		return;
	m->used -= malloc_usable_size(p);
	for (unsigned int i = 0; i < m->n_big; i++) {
		if (m->big[i] != p)
			continue;
		m->n_big--;
		m->big[i] = m->big[m->n_big];
		m->big_len[i] = m->big_len[m->n_big];
		break;
	}
	free(p);
}

static void *mem_calloc(size_t k, size_t n, void *u)
{
	void *p;

	if (n && k > SIZE_MAX / n)
		return NULL;
	p = mem_malloc(k * n, u);
	if (p)
		memset(p, 0, k * n);
	return p;
}

static void *mem_realloc(void *p, size_t n, void *u)
{
	struct h2io_mem *m = u;
	size_t old;
	void *q;

	if (!p)
		return mem_malloc(n, u);
	old = malloc_usable_size(p);
	for (unsigned int i = 0; i < m->n_big; i++)
		if (m->big[i] == p)
			goto move; /* a frame buffer: out of the tracked ones */
	q = realloc(p, n);
	if (!q)
		return NULL;
	m->used = m->used - old + malloc_usable_size(q);
	return q;
move:
	q = mem_malloc(n, u);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	mem_free(p, u);
	return q;
}

void h2io_mem_init(struct h2io_mem *m)
{
	long pg = sysconf(_SC_PAGESIZE);

	memset(m, 0, sizeof(*m));
	m->page = pg > 0 ? (unsigned int)pg : 4096;
	m->mem = (nghttp2_mem){m, mem_malloc, mem_free, mem_calloc, mem_realloc};
}

void h2io_mem_idle(struct h2io_mem *m)
{
	for (unsigned int i = 0; i < m->n_big; i++) {
		size_t len = m->big_len[i] & ~((size_t)m->page - 1);

		/* Zero-filled again on the next touch; nghttp2 keeps nothing there between
		 * frames. */
		if (len)
			(void)madvise(m->big[i], len, MADV_DONTNEED);
	}
}

/* ------------------------------------------------------------------ sessions */

int h2io_session_new(nghttp2_session **ng, const struct h2io_session *o, void *user)
{
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_option *opt = NULL;
	uint64_t win = (uint64_t)o->window * o->streams;
	nghttp2_mem *mem = o->mem ? &o->mem->mem : NULL;
	int err = -ENOMEM;

	*ng = NULL;
	if (nghttp2_session_callbacks_new(&cb) || nghttp2_option_new(&opt))
		goto out;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, o->begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, o->header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, o->data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, o->frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, o->stream_close);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, o->invalid_frame);
	/* Windows open as the bytes are taken, so a stalled stream holds at most its window;
	 * the connection's window covers every stream's, so none blocks another. */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_max_settings(opt, 32);
	nghttp2_option_set_max_continuations(opt, 16);
	if (o->rst_burst)
		nghttp2_option_set_stream_reset_rate_limit(opt, o->rst_burst, o->rst_rate);
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
	/* No closed stream is kept for the (deprecated) priority tree. */
	nghttp2_option_set_no_closed_streams(opt, 1);
	if (o->mem)
		o->mem->creating = true;
	err = o->server ? nghttp2_session_server_new3(ng, cb, user, opt, mem) :
			  nghttp2_session_client_new3(ng, cb, user, opt, mem);
	if (o->mem)
		o->mem->creating = false;
	if (err || nghttp2_submit_settings(*ng, NGHTTP2_FLAG_NONE, o->set, o->n_set) ||
		nghttp2_session_set_local_window_size(
			*ng, NGHTTP2_FLAG_NONE, 0, (int32_t)(win > INT32_MAX ? INT32_MAX : win))) {
		if (*ng)
			nghttp2_session_del(*ng);
		*ng = NULL;
		err = -ENOMEM;
		goto out;
	}
out:
	if (cb)
		nghttp2_session_callbacks_del(cb);
	if (opt)
		nghttp2_option_del(opt);
	return err;
}

ssize_t h2io_send(nghttp2_session *ng, struct conn *c, size_t limit)
{
	struct evbuffer *b = NULL;
	size_t sent = 0;
	int err = 0;

	/* Every frame nghttp2 has, for all streams, gathered into one write of up to <limit>
	 * bytes; another when the socket took them all at once and nghttp2 has more. */
	for (size_t queued = conn_pending(c); queued < limit; queued = conn_pending(c)) {
		bool more = true;

		while (queued < limit) {
			const uint8_t *data;
			ssize_t n = nghttp2_session_mem_send(ng, &data);

			if (n <= 0) {
				err = (int)n;
				more = false;
				break;
			}
			if (!b && !(b = evbuffer_new())) {
				err = -ENOMEM;
				more = false;
				break;
			}
			if (evbuffer_add(b, data, (size_t)n) < 0) {
				err = -ENOMEM;
				more = false;
				break;
			}
			queued += (size_t)n;
		}
		if (b) {
			sent += evbuffer_get_length(b);
			conn_send(c, b);
		}
		if (!more)
			break;
	}
	if (b)
		evbuffer_free(b);
	return err ? err : (ssize_t)sent;
}

ssize_t h2io_recv(nghttp2_session *ng, struct conn *c)
{
	struct evbuffer_iovec v;

	while (evbuffer_peek(c->in, -1, NULL, &v, 1) >= 1) {
		ssize_t n = nghttp2_session_mem_recv(ng, v.iov_base, v.iov_len);

		if (n < 0)
			return n;
		evbuffer_drain(c->in, (size_t)n);
	}
	return 0;
}

void h2io_body_add(struct evbuffer *b, const void *data, size_t len, bool chunked)
{
	char ch[H1_CHUNK_HDR_MAX];

	if (chunked)
		evbuffer_add(b, ch, h1_chunk_header(ch, len));
	evbuffer_add(b, data, len);
	if (chunked)
		evbuffer_add(b, H1_CRLF, 2);
}
