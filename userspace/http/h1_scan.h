/* SPDX-License-Identifier: GPL-2.0 */
/* The HTTP/1.x field-section scanner (h1_scan.c), internal to userspace/http/. */
#ifndef USERSPACE_HTTP_H1_SCAN_H
#define USERSPACE_HTTP_H1_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "userspace/http/h1-t.h"

/* Longest extension method the codec forwards (WebDAV's longest is 16 bytes); a longer
 * well-formed token is answered 501. */
#define H1_SCAN_METH_MAX 32

/*
 * Field-section scanner. llhttp tokenizes, but accepts things a proxy must not forward
 * (obs-fold, NUL truncating a value, bare LF line ends, "GET /" without a version, double
 * spaces), so every head and trailer byte passes this scanner first, and llhttp is fed only
 * up to the end of the section the scanner found.
 */

enum scan_state {
	SC_LEAD = 0,   /* before a request line: empty lines (CRLF) are skipped */
	SC_LEAD_CR,    /* CR of a leading empty line */
	SC_START,      /* in the start line */
	SC_START_CR,   /* CR ending the start line */
	SC_LINE_BEGIN, /* at the start of a field line or of the final CRLF */
	SC_NAME,       /* in a field name */
	SC_VALUE,      /* after the colon */
	SC_VALUE_CR,   /* CR ending a field line */
	SC_END_CR,     /* CR of the empty line ending the section */
	SC_DONE,       /* section complete */
	SC_MAX,	       /* must stay last */
};

struct scan {
	enum scan_state st;
	bool request;	     /* request line rules (else status line rules) */
	bool first_line;     /* no field line yet: whitespace here is not obs-fold */
	uint32_t line_pos;   /* bytes of the start line so far */
	uint32_t sp;	     /* spaces in the request line */
	bool prev_sp;	     /* previous start-line byte was SP */
	uint32_t bytes;	     /* bytes of this section, leading empty lines included */
	uint32_t fields;     /* field lines seen */
	uint32_t start_line; /* length of the start line once complete */
	uint32_t max_bytes;  /* limit on bytes: the byte past it is an error */
	uint32_t max_fields; /* limit on field lines */
	bool meth_done;	     /* request: the SP after the method was seen */
	bool meth_bad;	     /* request: a non-tchar byte before that SP */
	uint8_t meth_len;    /* request: bytes of the method (one past meth[] when longer) */
	char meth[H1_SCAN_METH_MAX]; /* request: the method token, when it fits */
	uint32_t ver_start;  /* request: line position where the version starts */
};

/* Start scanning a section with <lim>: a request or status line and its fields (<request>
 * says which), or only the fields of a trailer section (<trailers>). */
void h1_scan_init(struct scan *s, bool request, bool trailers, const struct h1_limits *lim);

/* Scan <len> bytes. Returns how many belong to the section (up to and including its final
 * LF when it ends here, else all). Sets <*err> and returns the offset of the bad byte on an
 * error. */
size_t h1_scan_run(struct scan *s, const char *data, size_t len, enum h1_err *err);

/* Bytes from <j> up to <stop> are skipped 8 at a time while none of them can end or break a
 * field value (a control byte or DEL); the byte loop after it finds where the run ends
 * exactly (HTAB, which is allowed, also stops the word loop). Returns the first byte not
 * skipped. */
static inline size_t skip_field_words(const char *data, size_t j, size_t stop)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	while (stop - j >= 8) {
		uint64_t x, y;

		memcpy(&x, data + j, 8);
		y = x ^ (ones * 0x7f);
		/* exact "some byte < 0x20" and "some byte == 0x7f" tests */
		if (((x - ones * 0x20) & ~x & highs) | ((y - ones) & ~y & highs))
			break;
		j += 8;
	}
	return j;
}

#endif /* USERSPACE_HTTP_H1_SCAN_H */
