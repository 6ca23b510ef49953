/* SPDX-License-Identifier: GPL-2.0 */
/* A small streaming JSON writer for pingctl's -j output: objects, arrays, strings, numbers. */
#ifndef CTL_JSON_WRITER_H
#define CTL_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

/* Create a writer on <f>; <pretty> indents. Returns NULL with errno set. */
struct json_writer *jsonw_new(FILE *f, bool pretty);
/* Finish the document (a newline) and release <w>; NULL is accepted. */
void jsonw_destroy(struct json_writer *w);

void jsonw_start_object(struct json_writer *w);
void jsonw_end_object(struct json_writer *w);
void jsonw_start_array(struct json_writer *w);
void jsonw_end_array(struct json_writer *w);
/* The key of the next member; only inside an object. */
void jsonw_name(struct json_writer *w, const char *name);

void jsonw_string(struct json_writer *w, const char *s);
void jsonw_uint(struct json_writer *w, uint64_t v);
void jsonw_int(struct json_writer *w, int64_t v);
void jsonw_float(struct json_writer *w, double v);
void jsonw_bool(struct json_writer *w, bool v);
void jsonw_null(struct json_writer *w);

/* Shorthands for a member: name then value. */
void jsonw_string_field(struct json_writer *w, const char *name, const char *s);
void jsonw_uint_field(struct json_writer *w, const char *name, uint64_t v);
void jsonw_int_field(struct json_writer *w, const char *name, int64_t v);
void jsonw_float_field(struct json_writer *w, const char *name, double v);
void jsonw_bool_field(struct json_writer *w, const char *name, bool v);

#endif /* CTL_JSON_WRITER_H */
