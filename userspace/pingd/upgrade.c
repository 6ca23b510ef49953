// SPDX-License-Identifier: GPL-2.0
/* Binary upgrade hand-over over a SOCK_SEQPACKET Unix socket: the running pingd sends its
 * listening sockets in messages of up to UP_BATCH descriptors; the new one answers "READY"
 * once its workers accept on them. */
#include "userspace/pingd/upgrade.h"

#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UP_MAGIC 0x70696e67u /* "ping" */
#define UP_BATCH 64
#define UP_READY "READY"

struct up_hdr {
	uint32_t magic;
	uint32_t n;    /* descriptors in this message */
	uint32_t more; /* further messages follow */
};

struct upgrade_srv {
	int fd;
	char *path;
	dev_t dev;
	ino_t ino; /* of the path once bound: still ours when unchanged */
};

/* The first writable directory for the derived path. */
static const char *runtime_dir(void)
{
	const char *x = getenv("XDG_RUNTIME_DIR");

	if (!access("/run", W_OK))
		return "/run";
	if (x && *x == '/' && !access(x, W_OK))
		return x;
	return "/tmp";
}

int upgrade_socket_path(const struct cfg *c, char *buf, size_t size)
{
	char name[96];
	size_t j = 0;
	int n;

	if (c->upgrade_socket && *c->upgrade_socket) {
		n = snprintf(buf, size, "%s", c->upgrade_socket);
	} else {
		/* "127.0.0.1:80" -> 127.0.0.1-80, "[::1]:80" -> __1-80, "*:80" -> any-80 */
		for (const char *p = c->listeners[0].address.text; *p && j + 4 < sizeof(name);
			p++) {
			if (*p == '[' || *p == ']')
				continue;
			if (*p == '*') {
				memcpy(name + j, "any", 3);
				j += 3;
			} else if (*p == ':' && !strchr(p + 1, ':')) {
				name[j++] = '-';
			} else {
				name[j++] = isalnum((unsigned char)*p) || *p == '.' ? *p : '_';
			}
		}
		name[j] = '\0';
		n = snprintf(buf, size, "%s/pingd-%s.sock", runtime_dir(), name);
	}
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* <path> as a Unix socket address. */
static int un_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

struct upgrade_srv *upgrade_listen(const char *path)
{
	struct upgrade_srv *u = calloc(1, sizeof(*u));
	struct sockaddr_un sun;
	char tmp[sizeof(sun.sun_path)];
	struct stat st;
	int err;

	if (!u)
		return NULL;
	u->fd = -1;
	u->path = strdup(path);
	err = -ENOMEM;
	if (!u->path)
		goto err;
	err = -ENAMETOOLONG;
	if (snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		goto err;
	err = un_addr(tmp, &sun);
	if (err)
		goto err;
	u->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		goto err_errno;
	unlink(tmp);
	if (bind(u->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto err_errno;
	/* Only our own user may connect (upgrade_serve() checks the peer too). */
	if (chmod(tmp, 0600) < 0 || listen(u->fd, 4) < 0 || rename(tmp, path) < 0 ||
		stat(path, &st) < 0) {
		err = -errno;
		unlink(tmp);
		goto err;
	}
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	return u;
err_errno:
	err = -errno;
err:
	if (u->fd >= 0)
		close(u->fd);
	free(u->path);
	free(u);
	errno = -err;
	return NULL;
}

int upgrade_srv_fd(const struct upgrade_srv *u)
{
	return u->fd;
}

void upgrade_srv_free(struct upgrade_srv *u)
{
	struct stat st;

	if (!u)
		return;
	if (!stat(u->path, &st) && st.st_dev == u->dev && st.st_ino == u->ino)
		unlink(u->path);
	close(u->fd);
	free(u->path);
	free(u);
}

/* Send one message of <n> descriptors from <fds>. */
static int send_fds(int s, const int *fds, size_t n, bool more)
{
	struct up_hdr h = {UP_MAGIC, (uint32_t)n, more};
	union {
		char buf[CMSG_SPACE(UP_BATCH * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;

	if (n) {
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	return sendmsg(s, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(h) ? 0 : -errno;
}

/* Wait up to <ms> for <fd> to be readable. */
static int wait_in(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	int n;

	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

int upgrade_serve(struct upgrade_srv *u, const struct gen_fdpool *pool, int timeout_ms)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char buf[16];
	ssize_t r;
	size_t i = 0;
	int s, err = 0;

	s = accept4(u->fd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return -errno;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
		(cr.uid != geteuid() && cr.uid != 0)) {
		close(s);
		return -EPERM;
	}
	do {
		size_t n = pool->n - i < UP_BATCH ? pool->n - i : UP_BATCH;

		err = send_fds(s, pool->fd + i, n, i + n < pool->n);
		i += n;
	} while (!err && i < pool->n);
	if (!err)
		err = wait_in(s, timeout_ms);
	if (!err) {
		r = recv(s, buf, sizeof(buf), 0);
		if (r != (ssize_t)strlen(UP_READY) || memcmp(buf, UP_READY, (size_t)r))
			err = r < 0 ? -errno : -EPROTO;
	}
	close(s);
	return err;
}

int upgrade_fetch(const char *path, struct gen_fdpool *pool, int *conn)
{
	union {
		char buf[CMSG_SPACE(UP_BATCH * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct sockaddr_un sun;
	struct up_hdr h;
	int s, err;

	*conn = -1;
	pool->owned = true;
	err = un_addr(path, &sun);
	if (err)
		return err;
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto err_errno;
	do {
		struct iovec iov = {&h, sizeof(h)};
		struct msghdr msg = {.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = u.buf,
			.msg_controllen = sizeof(u.buf)};
		struct cmsghdr *cm;
		size_t got = 0;
		ssize_t r;

		err = wait_in(s, 10000);
		if (err)
			goto err;
		r = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
		if (r < 0)
			goto err_errno;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			int fds[UP_BATCH];
			size_t n;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (n > UP_BATCH)
				n = UP_BATCH;
			memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
			for (size_t k = 0; k < n; k++)
				if (gen_fdpool_add(pool, fds[k]) == 0)
					got++;
		}
		if (r != (ssize_t)sizeof(h) || h.magic != UP_MAGIC || h.n != got ||
			(msg.msg_flags & MSG_CTRUNC)) {
			err = -EPROTO;
			goto err;
		}
	} while (h.more);
	*conn = s;
	return 0;
err_errno:
	err = -errno;
err:
	close(s);
	return err;
}

int upgrade_ready(int conn)
{
	int err = 0;

	if (send(conn, UP_READY, strlen(UP_READY), MSG_NOSIGNAL) < 0)
		err = -errno;
	close(conn);
	return err;
}

char *upgrade_exe_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

pid_t upgrade_spawn(const char *exe, char *const *argv)
{
	extern char **environ;
	size_t n = 0;
	bool has = false;
	char **av;
	pid_t pid;
	int err;

	while (argv[n]) {
		has = has || !strcmp(argv[n], "--upgrade");
		n++;
	}
	av = calloc(n + 2, sizeof(*av));
	if (!av)
		return -ENOMEM;
	memcpy(av, argv, n * sizeof(*av));
	if (!has)
		av[n] = (char *)"--upgrade";
	err = posix_spawn(&pid, exe, NULL, NULL, av, environ);
	free(av);
	return err ? -err : pid;
}
