// SPDX-License-Identifier: GPL-2.0
/* The HTTP/1.x field-section scanner: every head and trailer byte passes it before llhttp (see
 * h1_scan.h). */
#include "userspace/http/h1_scan.h"

#include "userspace/http/h1_common.h"

void h1_scan_init(struct scan *s, bool request, bool trailers, const struct h1_limits *lim)
{
	memset(s, 0, sizeof(*s));
	s->max_bytes = lim->max_head;
	s->max_fields = lim->max_headers;
	s->request = request;
	s->first_line = true;
	if (trailers)
		s->st = SC_LINE_BEGIN;
	else
		s->st = request ? SC_LEAD : SC_START;
}

/* Start-line byte <c> at position s->line_pos. Returns an error or H1_E_NONE. */
static enum h1_err scan_start_byte(struct scan *s, unsigned char c)
{
	uint32_t i = s->line_pos;

	if (s->request) {
		/* method SP request-target SP HTTP-version, single spaces, visible ASCII */
		if (c == ' ') {
			if (i == 0 || s->prev_sp || ++s->sp > 2)
				return H1_E_SYNTAX;
			s->meth_done = true;
			s->prev_sp = true;
			if (s->sp == 2)
				s->ver_start = i + 1;
			return H1_E_NONE;
		}
		if (!s->sp) {
			if (!is_tchar(c))
				s->meth_bad = true;
			if (s->meth_len < H1_SCAN_METH_MAX)
				s->meth[s->meth_len] = (char)c;
			if (s->meth_len <= H1_SCAN_METH_MAX)
				s->meth_len++;
		}
		/* llhttp also takes RTSP/ and ICE/ request lines */
		if (s->sp == 2 && i - s->ver_start < 5 && c != "HTTP/"[i - s->ver_start])
			return H1_E_VERSION;
		s->prev_sp = false;
		return is_vchar(c) ? H1_E_NONE : H1_E_SYNTAX;
	}
	/* HTTP-version SP 3DIGIT SP reason; llhttp checks the version bytes */
	if (i == 8)
		return c == ' ' ? H1_E_NONE : H1_E_STATUS;
	if (i >= 9 && i <= 11)
		return is_digit(c) ? H1_E_NONE : H1_E_STATUS;
	if (i == 12)
		return c == ' ' ? H1_E_NONE : H1_E_STATUS;
	if (i > 12)
		return is_field_char(c) ? H1_E_NONE : H1_E_STATUS;
	return is_vchar(c) ? H1_E_NONE : H1_E_STATUS;
}

/* Scan <len> bytes. Returns how many belong to the section (up to and including its final
 * LF when it ends here, else all). Sets <*err> and returns the offset of the bad byte on an
 * error. */
size_t h1_scan_run(struct scan *s, const char *data, size_t len, enum h1_err *err)
{
	enum scan_state st = s->st; /* hot state in locals: stores through <s> could alias <data> */
	uint32_t bytes = s->bytes, max = s->max_bytes;
	size_t i;

/* Skip the run of <class> bytes after byte i (itself already checked), within the byte
 * limit; the loop's own increments then count the last byte of the run. */
#define SKIP_RUN(class)                                                               \
	do {                                                                          \
		size_t stop_ = max - bytes, j_ = i + 1;                               \
		stop_ = stop_ < len - i ? i + stop_ : len;                            \
		if ((class) == C_FIELD)                                               \
			j_ = skip_field_words(data, j_, stop_);                       \
		while (j_ < stop_ && (char_class[(unsigned char)data[j_]] & (class))) \
			j_++;                                                         \
		bytes += (uint32_t)(j_ - i - 1);                                      \
		i = j_ - 1;                                                           \
	} while (0)

	*err = H1_E_NONE;
	for (i = 0; i < len && st != SC_DONE; i++) {
		unsigned char c = (unsigned char)data[i];
		enum h1_err e = H1_E_NONE;

		/* limits are checked at the exact byte, so the error does not depend on how the
		 * input was split */
		if (bytes >= max) {
			bool in_line = st == SC_START || st == SC_START_CR;

			*err = s->request && in_line ? H1_E_LINE_TOO_LONG : H1_E_HEAD_TOO_BIG;
			break;
		}
		switch (st) {
		case SC_LEAD:
			if (c == '\r')
				st = SC_LEAD_CR;
			else if (c == '\n')
				e = H1_E_BARE_LF;
			else {
				st = SC_START;
				e = scan_start_byte(s, c);
				s->line_pos++;
			}
			break;
		case SC_LEAD_CR:
			if (c == '\n')
				st = SC_LEAD;
			else
				e = H1_E_BARE_CR;
			break;
		case SC_START:
			if (c == '\r') {
				/* a status line may end right after the code: "HTTP/1.1 200" */
				if (s->request ? (s->sp != 2 || s->prev_sp) : s->line_pos < 12)
					e = s->request ? H1_E_SYNTAX : H1_E_STATUS;
				st = SC_START_CR;
			} else if (c == '\n') {
				e = H1_E_BARE_LF;
			} else if (s->request && s->sp == 1 && (char_class[c] & C_VIS)) {
				/* the target: visible bytes up to the next SP or CR */
				size_t from = i;

				SKIP_RUN(C_VIS);
				s->line_pos += (uint32_t)(i - from + 1);
				s->prev_sp = false;
			} else {
				e = scan_start_byte(s, c);
				s->line_pos++;
			}
			break;
		case SC_START_CR:
			if (c == '\n') {
				s->start_line = s->line_pos;
				st = SC_LINE_BEGIN;
			} else {
				e = H1_E_BARE_CR;
			}
			break;
		case SC_LINE_BEGIN:
			if (c == '\r')
				st = SC_END_CR;
			else if (c == '\n')
				e = H1_E_BARE_LF;
			else if (is_ows((char)c))
				/* RFC 9112 §5.2 (obs-fold) and §2.2 (whitespace after start line)
				 */
				e = s->first_line ? H1_E_SYNTAX : H1_E_OBS_FOLD;
			else if (is_tchar(c)) {
				if (++s->fields > s->max_fields)
					e = H1_E_TOO_MANY_HEADERS;
				s->first_line = false;
				st = SC_NAME;
			} else
				e = H1_E_HEADER_NAME;
			break;
		case SC_NAME:
			if (is_tchar(c))
				SKIP_RUN(C_TCHAR);
			else if (c == ':')
				st = SC_VALUE;
			else if (is_ows((char)c))
				e = H1_E_SPACE_COLON;
			else if (!is_tchar(c))
				e = H1_E_HEADER_NAME;
			break;
		case SC_VALUE:
			if (is_field_char(c))
				SKIP_RUN(C_FIELD);
			else if (c == '\r')
				st = SC_VALUE_CR;
			else if (c == '\n')
				e = H1_E_BARE_LF;
			else
				e = H1_E_HEADER_VALUE;
			break;
		case SC_VALUE_CR:
			if (c == '\n')
				st = SC_LINE_BEGIN;
			else
				e = H1_E_BARE_CR;
			break;
		case SC_END_CR:
			if (c == '\n')
				st = SC_DONE;
			else
				e = H1_E_BARE_CR;
			break;
		case SC_DONE:
		case SC_MAX:
			break;
		}
		if (e != H1_E_NONE) {
			*err = e;
			break;
		}
		bytes++;
	}
#undef SKIP_RUN
	s->st = st;
	s->bytes = bytes;
	return i;
}
