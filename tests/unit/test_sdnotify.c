// SPDX-License-Identifier: GPL-2.0
/* sd_notify by hand: datagrams arrive on a path socket and an abstract socket exactly as sent;
 * unset, relative, oversized and empty values are handled. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/lib/sdnotify.h"

/* A datagram socket bound to <name> (leading '@': abstract); -1 on failure. */
static int bind_dgram(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram on <fd> as a string in a static buffer ("" if none). */
static const char *recv_msg(int fd)
{
	static char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_path(void)
{
	char dir[] = "/tmp/pingx-sdnotify.XXXXXX", path[64];
	int fd;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = bind_dgram(path);
	CU_ASSERT_FATAL(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CU_ASSERT_EQUAL(sdnotify_ready(), 0);
	CU_ASSERT_STRING_EQUAL(recv_msg(fd), "READY=1\nSTATUS=serving");
	CU_ASSERT_EQUAL(sdnotify_reloading(), 0);
	CU_ASSERT_EQUAL(
		strncmp(recv_msg(fd), "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=", 44), 0);
	CU_ASSERT_EQUAL(sdnotify_stopping(), 0);
	CU_ASSERT_STRING_EQUAL(recv_msg(fd), "STOPPING=1\nSTATUS=draining");
	CU_ASSERT_EQUAL(sdnotify_mainpid(4242), 0);
	CU_ASSERT_STRING_EQUAL(recv_msg(fd), "MAINPID=4242\nREADY=1\nSTATUS=serving");
	CU_ASSERT_EQUAL(sdnotify_mainpid(0), -EINVAL);
	CU_ASSERT_STRING_EQUAL(recv_msg(fd), "");
	close(fd);
	/* Nobody listening any more. */
	CU_ASSERT_EQUAL(sdnotify_ready(), -ECONNREFUSED);
	unlink(path);
	CU_ASSERT_EQUAL(sdnotify_ready(), -ENOENT);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}

static void test_abstract(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@pingx-sdnotify-test-%d", (int)getpid());
	fd = bind_dgram(name);
	CU_ASSERT_FATAL(fd >= 0);
	setenv("NOTIFY_SOCKET", name, 1);
	CU_ASSERT_EQUAL(sdnotify_send("STATUS=x"), 0);
	CU_ASSERT_STRING_EQUAL(recv_msg(fd), "STATUS=x");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_bad(void)
{
	char longp[200];

	unsetenv("NOTIFY_SOCKET");
	CU_ASSERT_EQUAL(sdnotify_ready(), 0); /* not under systemd */
	CU_ASSERT_EQUAL(sdnotify_send(""), -EINVAL);
	CU_ASSERT_EQUAL(sdnotify_send(NULL), -EINVAL);
	setenv("NOTIFY_SOCKET", "", 1);
	CU_ASSERT_EQUAL(sdnotify_ready(), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CU_ASSERT_EQUAL(sdnotify_ready(), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	CU_ASSERT_EQUAL(sdnotify_ready(), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longp, 1);
	CU_ASSERT_EQUAL(sdnotify_ready(), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

int test_sdnotify_register(void)
{
	static const CU_TestInfo tests[] = {
		{"path socket: ready, reloading, stopping, mainpid", test_path},
		{"abstract socket", test_abstract},
		{"unset and unusable NOTIFY_SOCKET", test_bad},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("sdnotify", tests);
}
