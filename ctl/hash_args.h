/* SPDX-License-Identifier: GPL-2.0 */
/* Argument parsing for "pingctl hash", kept apart from the command so that unit tests can
 * drive it without running pingctl. */
#ifndef CTL_HASH_ARGS_H
#define CTL_HASH_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ketama/ketama.h"

enum hash_algo {
	HASH_ALGO_NONE = 0, /* not given yet */
	HASH_ALGO_MAGLEV,
	HASH_ALGO_KETAMA,
	HASH_ALGO_MAX /* must stay last */
};

/* One backend of --backends, "ADDR:PORT[=WEIGHT]". */
struct hash_backend {
	char *name;	  /* "ADDR:PORT" exactly as written (owned): ketama hashes it */
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; 4 bytes used for AF_INET */
	uint16_t port;	  /* host order, 1..65535 */
	uint32_t weight;  /* 1..UINT32_MAX; 1 when not written */
};

struct hash_args {
	enum hash_algo algo;
	enum ketama_compat compat;     /* --ketama-compat; KETAMA_NGINX by default */
	bool compat_set;	       /* --ketama-compat was given */
	uint32_t table_size;	       /* --table-size; MAGLEV_DEFAULT_SIZE by default */
	bool table_size_set;	       /* --table-size was given */
	struct hash_backend *backends; /* owned */
	size_t nbackends;
	char **keys; /* KEY arguments, pointing into argv; "-" stands for standard input */
	size_t nkeys;
};

/* Parse one backend from the <len> bytes at <s> ("10.0.0.1:80", "[2001:db8::1]:443=3") into
 * <b>, which then owns a copy of the name. Returns 0, -EINVAL with a one-line reason naming the
 * item in <err> (<errlen> bytes), or -ENOMEM. */
int hash_parse_backend(const char *s, size_t len, struct hash_backend *b, char *err, size_t errlen);

/* Parse a comma-separated backend list into a new array in *<out> (*<n> entries), rejecting
 * an empty list, empty items and duplicate addresses. Returns 0, -EINVAL (reason in <err>) or
 * -ENOMEM; on failure nothing is allocated. */
int hash_parse_backends(
	const char *list, struct hash_backend **out, size_t *n, char *err, size_t errlen);

/* Parse the arguments after "hash": --algo, --ketama-compat, --table-size, --backends (each
 * as "--opt VALUE" or "--opt=VALUE"), then KEYs; "--" ends the options. <a> is reset first.
 * Returns 0, -EINVAL with a one-line reason in <err>, or -ENOMEM. Call hash_args_free()
 * afterwards either way. */
int hash_parse_args(int argc, char **argv, struct hash_args *a, char *err, size_t errlen);

/* Release what hash_parse_args() allocated in <a>. */
void hash_args_free(struct hash_args *a);

#endif /* CTL_HASH_ARGS_H */
