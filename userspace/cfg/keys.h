/* SPDX-License-Identifier: GPL-2.0 */
/* The configuration's key table and what the files of userspace/cfg/ share about it: each key
 * is a row (name, value type, offset, default, bounds, help), each value type a row of
 * functions (cfg_types[], types.c). Internal to userspace/cfg/. */
#ifndef USERSPACE_CFG_KEYS_H
#define USERSPACE_CFG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <yaml.h>

#include "userspace/cfg/cfg-t.h"

#define CFG_MAX_SERVERS 4096u /* servers of one pool, names expanded */

enum cfg_type {
	CFG_T_UINT = 0, /* unsigned int in [min, max] */
	CFG_T_BOOL,	/* bool */
	CFG_T_DURATION, /* unsigned int milliseconds in [min, max] */
	CFG_T_SIZE,	/* unsigned int bytes in [min, max] */
	CFG_T_SIZE64,	/* uint64_t bytes in [min, max] */
	CFG_T_STR,	/* char *, owned */
	CFG_T_ENUM,	/* int, index into names[] */
	CFG_T_ADDR,	/* struct cfg_addr */
	CFG_T_STRLIST,	/* struct cfg_str_list */
	CFG_T_HDROPS,	/* struct cfg_hdr_ops */
	CFG_T_HASHKEY,	/* struct cfg_hash_key */
	CFG_T_SECTION,	/* a nested mapping stored inline at off */
	CFG_T_LIST,	/* a sequence of mappings: T * at off, size_t count at count_off */
	CFG_T_L4,	/* struct ctrl_l4cfg *, owned: the l4: section (userspace/ctrl/l4cfg.h) */
	CFG_T_PEER,	/* struct cfg_server's address: an IP literal, or NAME:PORT in name */
	CFG_T_MAX	/* must stay last */
};

enum cfg_section {
	SEC_ROOT = 0,
	SEC_LOG,
	SEC_TIMEOUTS,
	SEC_LIMITS,
	SEC_PROXY,
	SEC_LISTENER,
	SEC_VHOST,
	SEC_ROUTE,
	SEC_UPSTREAM,
	SEC_SERVER,
	SEC_HEALTH,
	SEC_PASSIVE,
	SEC_ADMIN,
	SEC_L4HEALTH,
	SEC_TLS,
	SEC_TLS_CERT,
	SEC_UPTLS,
	SEC_RATE_LIMIT,
	SEC_DENY,
	SEC_CACHE,
	SEC_MAX /* must stay last */
};

#define CFG_REQUIRED 0x1u /* no default: must be written */

struct cfg_key {
	enum cfg_section sec;
	const char *name;
	enum cfg_type type;
	size_t off;
	const char *def;   /* default, in YAML form; NULL with CFG_REQUIRED or for sections */
	uint64_t min, max; /* value bounds; item-count bounds for CFG_T_LIST */
	const char *const *names; /* CFG_T_ENUM choices, NULL-terminated */
	enum cfg_section child;	  /* CFG_T_SECTION / CFG_T_LIST */
	size_t count_off;	  /* CFG_T_LIST */
	unsigned int flags;
	const char *help;
};

struct cfg_section_info {
	const char *prefix; /* full-name prefix of its keys */
	size_t size;	    /* element size for list items */
	size_t line_off;    /* offset of an "int line" field, or SIZE_MAX */
};

/* The sections and keys (keys.c); cfg_n_keys rows. */
extern const struct cfg_section_info sections[SEC_MAX];
extern const struct cfg_key cfg_keys[];
extern const size_t cfg_n_keys;

/* Loading state: the file name, where messages go, and the error count. */
struct cfg_ctx {
	const char *file;
	struct cfg_msgs *msgs;
	struct cfg_msgs local; /* used when the caller passed no msgs */
	yaml_document_t *doc;
};

/* What a value type does, one row per enum cfg_type (types.c). A new type is one more row. */
struct cfg_type_fns {
	const char *doc; /* the type as the docs name it */
	bool container;	 /* a section or list: its keys carry the defaults */
	/* "expected X" text of key <k> into <buf> (<size> bytes). */
	void (*expected)(const struct cfg_key *k, char *buf, size_t size);
	/* Scalar text <s> (at <line>, for warnings) into <dst>. Returns 0, -EINVAL (the caller
	 * reports "expected ...") or -ERANGE/-ENOMEM. NULL: the type takes no scalar. */
	int (*parse)(
		struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst);
	/* Value node <n> of <k> into <base>, reporting its own errors. NULL: a scalar, through
	 * parse. */
	void (*parse_node)(
		struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base);
	/* Set <k> in <base> to its default. NULL: k->def through parse. */
	void (*set_default)(struct cfg_ctx *ctx, const struct cfg_key *k, char *base);
	/* Release what <k>'s value in <base> owns. NULL: nothing. */
	void (*free)(const struct cfg_key *k, char *base);
	/* Print "<name>: <value>" of <k> in <base> at <indent> columns, as YAML that reads back. */
	void (*dump)(FILE *f, const struct cfg_key *k, const char *base, int indent);
};

extern const struct cfg_type_fns cfg_types[CFG_T_MAX];

/* The 1-based line where <n> starts (libyaml counts from 0). */
static inline int cfg_node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

/* Append one message for <line> (0: no line) to the context's list, as an error or a
 * <warning>. Messages past a megabyte are counted but not kept. */
void cfg_msg_add(struct cfg_ctx *ctx, bool warning, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parse mapping <map> as section <sec> into <base>: unknown and repeated keys are errors,
 * missing keys take their defaults or, when required, are errors at the mapping's line. */
void cfg_parse_mapping(struct cfg_ctx *ctx, yaml_node_t *map, enum cfg_section sec, char *base);

/* Release what section <sec> at <base> owns, list items included. */
void cfg_free_section(enum cfg_section sec, char *base);

/* Print the keys of section <sec> at <base> at <indent> columns; <first_dash> starts a list
 * item. */
void cfg_dump_section(FILE *f, enum cfg_section sec, const char *base, int indent, bool first_dash);

/* Check the rate_limits: section and the limits: lists that name its items
 * (ratelimit.c). */
void cfg_rate_limits_validate(struct cfg_ctx *ctx, struct cfg *c);

/* Whether <s> is "HOST:PORT" with a HOST that is not an IP literal: what an upstream server
 * may be written as but a listener may not. */
bool cfg_looks_like_name(const char *s);

#endif /* USERSPACE_CFG_KEYS_H */
