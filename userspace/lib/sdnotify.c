// SPDX-License-Identifier: GPL-2.0
/* sd_notify(3) by hand: a datagram to the AF_UNIX socket in $NOTIFY_SOCKET, a filesystem path
 * ("/run/systemd/notify") or an abstract name ("@..."). */
#include "userspace/lib/sdnotify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "userspace/lib/clock.h"

int sdnotify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t plen, slen;
	socklen_t alen;
	ssize_t n;
	int fd, err = 0;

	if (!state || !*state)
		return -EINVAL;
	if (!path || !*path)
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path) ||
		(path[0] == '@' && plen < 2))
		return -EINVAL;
	memcpy(sun.sun_path, path, plen);
	/* Abstract names start with a NUL byte and are not NUL-terminated: the length counts. */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
			   (path[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	slen = strlen(state);
	n = sendto(fd, state, slen, MSG_NOSIGNAL, (struct sockaddr *)&sun, alen);
	if (n == -1)
		err = -errno;
	else if ((size_t)n != slen)
		err = -EMSGSIZE; /* datagrams are all or nothing; never expected */
	close(fd);
	return err;
}

int sdnotify_ready(void)
{
	return sdnotify_send("READY=1\nSTATUS=serving");
}

int sdnotify_reloading(void)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		(unsigned long long)clock_mono_us());
	return sdnotify_send(msg);
}

int sdnotify_stopping(void)
{
	return sdnotify_send("STOPPING=1\nSTATUS=draining");
}

int sdnotify_mainpid(pid_t pid)
{
	char msg[64];

	if (pid <= 0)
		return -EINVAL;
	snprintf(msg, sizeof(msg), "MAINPID=%ld\nREADY=1\nSTATUS=serving", (long)pid);
	return sdnotify_send(msg);
}
