// SPDX-License-Identifier: GPL-2.0
/* Moving bytes between a conn and an nghttp2 session (see h2io.h). */
#include "userspace/upstream/h2io.h"

#include <errno.h>

#include <event2/buffer.h>

#include "userspace/http/h1.h"
#include "userspace/net/conn.h"

int h2io_send(nghttp2_session *ng, struct conn *c, size_t limit)
{
	while (conn_pending(c) < limit) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(ng, &data);
		struct evbuffer *b;

		if (n <= 0)
			return (int)n;
		b = evbuffer_new();
		if (!b)
			return -ENOMEM;
		evbuffer_add(b, data, (size_t)n);
		conn_send(c, b);
		evbuffer_free(b);
	}
	return 0;
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
