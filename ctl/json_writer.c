// SPDX-License-Identifier: GPL-2.0
/* Streaming JSON writer: tracks nesting depth and whether a separator is due. */
#include "ctl/json_writer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define JSONW_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	bool pretty;
	int depth;			  /* current nesting, 0 at top level */
	bool need_sep[JSONW_MAX_DEPTH];	  /* a value was written at this depth */
	bool after_name;		  /* the next value follows "name": */
};

struct json_writer *jsonw_new(FILE *f, bool pretty)
{
	struct json_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->f = f;
	w->pretty = pretty;
	return w;
}

void jsonw_destroy(struct json_writer *w)
{
	if (!w)
		return;
	fputc('\n', w->f);
	fflush(w->f);
	free(w);
}

static void indent(struct json_writer *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Emit the separator and indentation due before a value or a name. */
static void before_value(struct json_writer *w)
{
	if (w->after_name) {
		w->after_name = false;
		return;
	}
	if (w->need_sep[w->depth])
		fputc(',', w->f);
	if (w->depth > 0)
		indent(w);
	w->need_sep[w->depth] = true;
}

static void open_scope(struct json_writer *w, char c)
{
	before_value(w);
	fputc(c, w->f);
	if (w->depth < JSONW_MAX_DEPTH - 1)
		w->depth++;
	w->need_sep[w->depth] = false;
}

static void close_scope(struct json_writer *w, char c)
{
	bool had = w->need_sep[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (had)
		indent(w);
	fputc(c, w->f);
}

void jsonw_start_object(struct json_writer *w)
{
	open_scope(w, '{');
}

void jsonw_end_object(struct json_writer *w)
{
	close_scope(w, '}');
}

void jsonw_start_array(struct json_writer *w)
{
	open_scope(w, '[');
}

void jsonw_end_array(struct json_writer *w)
{
	close_scope(w, ']');
}

static void put_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void jsonw_name(struct json_writer *w, const char *name)
{
	before_value(w);
	put_escaped(w->f, name);
	fputs(w->pretty ? ": " : ":", w->f);
	w->after_name = true;
}

void jsonw_string(struct json_writer *w, const char *s)
{
	before_value(w);
	put_escaped(w->f, s ? s : "");
}

void jsonw_uint(struct json_writer *w, uint64_t v)
{
	before_value(w);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jsonw_int(struct json_writer *w, int64_t v)
{
	before_value(w);
	fprintf(w->f, "%lld", (long long)v);
}

void jsonw_float(struct json_writer *w, double v)
{
	before_value(w);
	/* JSON has no NaN or infinity. */
	if (isfinite(v))
		fprintf(w->f, "%.6g", v);
	else
		fputs("null", w->f);
}

void jsonw_bool(struct json_writer *w, bool v)
{
	before_value(w);
	fputs(v ? "true" : "false", w->f);
}

void jsonw_null(struct json_writer *w)
{
	before_value(w);
	fputs("null", w->f);
}

void jsonw_string_field(struct json_writer *w, const char *name, const char *s)
{
	jsonw_name(w, name);
	jsonw_string(w, s);
}

void jsonw_uint_field(struct json_writer *w, const char *name, uint64_t v)
{
	jsonw_name(w, name);
	jsonw_uint(w, v);
}

void jsonw_int_field(struct json_writer *w, const char *name, int64_t v)
{
	jsonw_name(w, name);
	jsonw_int(w, v);
}

void jsonw_float_field(struct json_writer *w, const char *name, double v)
{
	jsonw_name(w, name);
	jsonw_float(w, v);
}

void jsonw_bool_field(struct json_writer *w, const char *name, bool v)
{
	jsonw_name(w, name);
	jsonw_bool(w, v);
}
