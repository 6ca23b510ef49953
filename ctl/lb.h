/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by pingctl's data-plane objects: opening the maps with one clear error,
 * option parsing, and the names of modes, algorithms and states. */
#ifndef CTL_LB_H
#define CTL_LB_H

#include <stdbool.h>
#include <stddef.h>

#include "userspace/ctrl/ctrl.h"

/* Open the maps in the pin directory (--bpffs); <create> makes them when missing, mounting
 * bpffs first when the directory lies under its mount point and nothing is mounted there.
 * Prints the error and returns NULL on failure, with *<err> a negative errno. */
struct ctrl *lb_open(bool create, int *err);

/* Mount bpffs when <dir> lies under its mount point and nothing is mounted there, saying so
 * in one line. Returns 0, or -1 with errno set (the error printed). */
int lb_mount_bpffs(const char *dir);

/* Report a failed call with its cause; returns <err>. */
int lb_fail(int err, const char *what);

/* Name tables: index = enum value, NULL-terminated. */
extern const char *const lb_mode_names[];
extern const char *const lb_algo_names[];
extern const char *const lb_fwd_names[];
extern const char *const lb_state_names[];

/* Index of <s> in NULL-terminated <names>, or -1. */
int lb_lookup_name(const char *const *names, const char *s);

/* Parse a service "VIP:PORT[/tcp|/udp]" into <key>. Prints the error and returns
 * -CTL_EUSAGE on bad input, as the other parsers here do. */
int lb_parse_service(const char *text, struct lb_svc_key *key);

/* Parse a MAC "aa:bb:cc:dd:ee:ff" into <mac>. */
int lb_parse_mac(const char *text, __u8 *mac);

/* Parse an unsigned number in [min, max] named <what>. Prints the error. */
int lb_parse_u32(
	const char *text, const char *what, unsigned long min, unsigned long max, __u32 *out);

/* Take the value of option argv[*i] ("--opt VALUE"); NULL (with a usage error printed) when
 * it is missing. */
const char *lb_optarg(int argc, char **argv, int *i, const char *help_cmd);

#endif /* CTL_LB_H */
