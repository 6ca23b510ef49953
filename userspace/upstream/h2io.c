// SPDX-License-Identifier: GPL-2.0
/* Moving bytes between a conn and an nghttp2 session (see h2io.h). */
#include "userspace/upstream/h2io.h"

#include <errno.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "userspace/http/h1.h"
#include "userspace/net/conn.h"

int h2io_session_new(nghttp2_session **ng, const struct h2io_session *o, void *user)
{
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_option *opt = NULL;
	uint64_t win = (uint64_t)o->window * o->streams;
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
	if ((o->server ? nghttp2_session_server_new2(ng, cb, user, opt) :
			 nghttp2_session_client_new2(ng, cb, user, opt)) ||
		nghttp2_submit_settings(*ng, NGHTTP2_FLAG_NONE, o->set, o->n_set) ||
		nghttp2_session_set_local_window_size(
			*ng, NGHTTP2_FLAG_NONE, 0, (int32_t)(win > INT32_MAX ? INT32_MAX : win))) {
		if (*ng)
			nghttp2_session_del(*ng);
		*ng = NULL;
		goto out;
	}
	err = 0;
out:
	if (cb)
		nghttp2_session_callbacks_del(cb);
	if (opt)
		nghttp2_option_del(opt);
	return err;
}

int h2io_send(nghttp2_session *ng, struct conn *c, size_t limit)
{
	struct evbuffer *b = NULL;
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
		if (b)
			conn_send(c, b);
		if (!more)
			break;
	}
	if (b)
		evbuffer_free(b);
	return err;
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
