/* SPDX-License-Identifier: GPL-2.0 */
/* The l4: configuration section: parsed from YAML (libyaml) and applied to the maps
 * idempotently, touching only what differs. Never prints; errors come back in a buffer as
 * "file:line: ...". */
#ifndef USERSPACE_CTRL_L4CFG_H
#define USERSPACE_CTRL_L4CFG_H

#include <yaml.h>

#include "userspace/ctrl/ctrl.h"
#include "userspace/ctrl/l4cfg-t.h"

/* Parse the l4: section of YAML file <path> (a file holding only that section, or a whole
 * pingd config: other top-level keys are ignored) into <cfg>, which the caller frees with
 * ctrl_l4cfg_free() whatever the result. Everything is validated here (addresses, names,
 * ranges, primes, duplicates, families, limits) so that applying cannot fail on the content.
 * Returns 0, or -EINVAL / -ENOENT (no such file) / -ENOMEM with the reason in <err>. */
int ctrl_l4cfg_parse_file(const char *path, struct ctrl_l4cfg *cfg, char *err, size_t err_len);

/* The same for the node <l4> (the value of the l4 key) of a document pingd already loaded;
 * <file> names it in messages. */
int ctrl_l4cfg_parse_node(yaml_document_t *doc, yaml_node_t *l4, const char *file,
	struct ctrl_l4cfg *cfg, char *err, size_t err_len);

/* Release what <cfg> owns and zero it. */
void ctrl_l4cfg_free(struct ctrl_l4cfg *cfg);

/* Make the maps of <c> hold exactly <cfg>: services and backends missing from it are
 * deleted, new ones added, changed ones updated; equal ones are not touched (their tables
 * are not republished, their flows stay). A service whose table_size changes is deleted and
 * added again. Holds the pin directory's lock throughout. Counts the changes in <ch> (may
 * be NULL). Returns 0 or a negative errno with the failing item in <err>. */
int ctrl_l4cfg_apply(struct ctrl *c, const struct ctrl_l4cfg *cfg, struct ctrl_l4cfg_changes *ch,
	char *err, size_t err_len);

#endif /* USERSPACE_CTRL_L4CFG_H */
