/* SPDX-License-Identifier: GPL-2.0 */
/* systemd's readiness protocol without libsystemd: one datagram of "KEY=VALUE" lines to the
 * socket named by $NOTIFY_SOCKET (sd_notify(3)), for Type=notify units. */
#ifndef USERSPACE_LIB_SDNOTIFY_H
#define USERSPACE_LIB_SDNOTIFY_H

#include <sys/types.h>

/* Send <state> ("READY=1", "RELOADING=1\nMONOTONIC_USEC=...", "STOPPING=1", "STATUS=...",
 * "MAINPID=<pid>") to $NOTIFY_SOCKET. Returns 0 when sent, 0 as well when $NOTIFY_SOCKET is
 * unset (not under systemd: nothing to do), -EINVAL for an unusable $NOTIFY_SOCKET (relative,
 * too long, empty abstract name) or an empty <state>, or the negative errno of socket/sendmsg
 * (ECONNREFUSED, ENOENT, EAGAIN, ...). */
int sdnotify_send(const char *state);

/* Start-up done: listeners bound, workers running. */
int sdnotify_ready(void);

/* A reload (SIGHUP) started; call sdnotify_ready() when it ended (also when it was rejected).
 * Carries MONOTONIC_USEC, which Type=notify-reload units require. */
int sdnotify_reloading(void);

/* Shutdown started (draining). */
int sdnotify_stopping(void);

/* A new process took over as the service's main process (binary upgrade): tell systemd its
 * <pid> and that it is ready. Needs NotifyAccess=all in the unit, since it comes from the new
 * process. */
int sdnotify_mainpid(pid_t pid);

#endif /* USERSPACE_LIB_SDNOTIFY_H */
