/* SPDX-License-Identifier: GPL-2.0 */
/* The configuration's scalar forms, shared by the key types and the callers that read such
 * values elsewhere (durations, sizes, listen addresses). */
#ifndef USERSPACE_CFG_SCALAR_H
#define USERSPACE_CFG_SCALAR_H

#include <stdbool.h>
#include <stdint.h>

#include "userspace/cfg/cfg-t.h"

/* Parse a duration ("250ms", "5s", "2m", "1h"; a bare number is milliseconds) into *<ms>.
 * Returns 0 or -EINVAL (bad form) or -ERANGE (over UINT_MAX ms). */
int cfg_parse_duration(const char *s, unsigned int *ms);

/* Parse a size ("512", "16k", "1m", "2g", binary units) into *<bytes>. Returns 0, -EINVAL or
 * -ERANGE. */
int cfg_parse_size(const char *s, uint64_t *bytes);

/* Parse "IPv4:PORT", "[IPv6]:PORT" or "*:PORT" into <a>. Returns 0 or -EINVAL. */
int cfg_parse_addr(const char *s, struct cfg_addr *a);

/* Parse "ADDR" or "ADDR/LEN" (IPv4 or IPv6, no names) into <*family> (AF_INET or AF_INET6),
 * the address's bytes in network order at <addr> (16 bytes) and <*len> (the full length when
 * none is written). Returns 0 or -EINVAL. */
int cfg_parse_prefix(const char *s, int *family, uint8_t *addr, unsigned int *len);

/* Whether the first <len> bits of <a> and <b> (<family> addresses, network order) agree. */
bool cfg_prefix_match(int family, const uint8_t *a, const uint8_t *b, unsigned int len);

#endif /* USERSPACE_CFG_SCALAR_H */
