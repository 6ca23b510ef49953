/* SPDX-License-Identifier: GPL-2.0 */
/* The systemd notification protocol (sd_notify(3)) without libsystemd: one datagram to
 * $NOTIFY_SOCKET. Without that variable every call does nothing. */
#ifndef USERSPACE_PROXY_NOTIFY_H
#define USERSPACE_PROXY_NOTIFY_H

/* Send <fmt>-formatted state lines ("READY=1", "MAINPID=123\nREADY=1", ...). Returns 0 (also
 * when there is no $NOTIFY_SOCKET) or a negative errno. */
int notify_state(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* USERSPACE_PROXY_NOTIFY_H */
