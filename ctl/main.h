/* SPDX-License-Identifier: GPL-2.0 */
/* pingctl's shared state and helpers: global options, command dispatch, error reporting. */
#ifndef CTL_MAIN_H
#define CTL_MAIN_H

#include <stdbool.h>

#include "ctl/json_writer.h"

/* Returned (negated) by a command for a usage error: main() exits 2 for it, 1 for any other
 * negative errno, 0 for success. */
#define CTL_EUSAGE 4095

extern const char *bin_name;	  /* "pingctl" */
extern bool json_output;	  /* -j */
extern bool pretty_output;	  /* -p (implies -j) */
extern int verbose;		  /* -v count */
extern const char *bpffs_dir;	  /* --bpffs: the pin directory */
extern struct json_writer *json_wtr; /* set while -j is in force */

/* One entry of a dispatch table; the table ends with a NULL name. */
struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/* Run the command of <cmds> named by argv[0] (exact, or a unique prefix). With no argument,
 * call <help>. Returns the command's result, or -CTL_EUSAGE for an unknown or ambiguous name. */
int cmd_select(const struct cmd *cmds, int argc, char **argv, int (*help)(int argc, char **argv));

/* True when <arg> asks for help: "help", "-h" or "--help". */
bool is_help(const char *arg);

/* Print an error: one line on stderr, or {"error": "..."} with -j. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print information for a human (stderr); silent with -j. */
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report a usage error with a hint naming <help_cmd>; returns -CTL_EUSAGE. */
int usage_err(const char *help_cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Objects. Each returns 0, a negative errno, or -CTL_EUSAGE. */
int do_hash(int argc, char **argv);
int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_status(int argc, char **argv);
int do_unload(int argc, char **argv);
int do_decap(int argc, char **argv);
int do_node(int argc, char **argv);
int do_service(int argc, char **argv);
int do_backend(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_conntrack(int argc, char **argv);
int do_deny(int argc, char **argv);
int do_save(int argc, char **argv);
int do_restore(int argc, char **argv);
int do_cache(int argc, char **argv);
int do_table(int argc, char **argv);
/* The node's announcement verbs (ctl/scaleout.c), dispatched by do_node(). */
int node_drain(int argc, char **argv);
int node_ready(int argc, char **argv);
int node_vips(int argc, char **argv);

#endif /* CTL_MAIN_H */
