/* SPDX-License-Identifier: GPL-2.0 */
/* Sizes of the keys limit/key.c builds. */
#ifndef USERSPACE_LIMIT_KEY_T_H
#define USERSPACE_LIMIT_KEY_T_H

/* Longest address key: family tag, prefix length and 16 address bytes. */
#define LIMIT_KEY_ADDR_MAX 18

#endif /* USERSPACE_LIMIT_KEY_T_H */
