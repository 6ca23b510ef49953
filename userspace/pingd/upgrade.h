/* SPDX-License-Identifier: GPL-2.0 */
/* Binary upgrade: the running pingd hands its listening sockets to a new one over a Unix
 * socket (SCM_RIGHTS), so that the sockets, and the connections waiting in their queues,
 * never close. */
#ifndef USERSPACE_PINGD_UPGRADE_H
#define USERSPACE_PINGD_UPGRADE_H

#include <stddef.h>
#include <sys/types.h>

#include "userspace/cfg/cfg-t.h"
#include "userspace/pingd/gen.h"

/* The hand-over socket's path for <c> into <buf>: upgrade_socket when set, else
 * pingd-ADDR-PORT.sock of the first listener under /run, or $XDG_RUNTIME_DIR, or /tmp
 * (the first that is writable). Returns 0 or -ENAMETOOLONG. */
int upgrade_socket_path(const struct cfg *c, char *buf, size_t size);

/* The running side's end: a listening socket at <path>, or NULL with errno. The path is
 * taken over atomically (bind elsewhere, rename), so a successor replaces its predecessor's. */
struct upgrade_srv *upgrade_listen(const char *path);

/* The listening socket of <u>, to watch for a successor. */
int upgrade_srv_fd(const struct upgrade_srv *u);

/* Hand the sockets of <pool> to the successor connecting on <u> and wait up to <timeout_ms>
 * for it to say it serves them. Returns 0 when it does (this process should drain), or a
 * negative errno (nothing changes). Peers of another user are refused (-EPERM). */
int upgrade_serve(struct upgrade_srv *u, const struct gen_fdpool *pool, int timeout_ms);

/* Close <u>, removing its path unless a successor has replaced it; NULL is accepted. */
void upgrade_srv_free(struct upgrade_srv *u);

/* The new side: connect to the running pingd at <path> and receive its listening sockets into
 * <pool> (owned). *<conn> is kept open for upgrade_ready(). Returns 0 or a negative errno. */
int upgrade_fetch(const char *path, struct gen_fdpool *pool, int *conn);

/* Tell the predecessor on <conn> that the sockets are served here; closes <conn>. Returns 0
 * or a negative errno. */
int upgrade_ready(int conn);

/* The path of the running executable (for upgrade_spawn(): after a package update it names the
 * new binary), malloc'd, or NULL with errno. */
char *upgrade_exe_path(void);

/* Start <exe> with <argv> plus "--upgrade" (unless already there) as a child, in this
 * process's cgroup and environment: it takes over through the Unix socket. Returns the child's
 * pid or a negative errno. */
pid_t upgrade_spawn(const char *exe, char *const *argv);

#endif /* USERSPACE_PINGD_UPGRADE_H */
