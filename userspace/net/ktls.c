// SPDX-License-Identifier: GPL-2.0
/* kTLS availability and the per-listener table. The probe connects two loopback sockets and
 * asks for the tls ULP on one: the same setsockopt() OpenSSL makes after a handshake, so
 * its answer is the one connections would get. */
#include "userspace/net/ktls.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/opensslconf.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

static struct ktls_listener table[KTLS_LISTENERS_MAX];
static size_t n_table;
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int probe_err; /* 0: available, else the errno of the ULP setsockopt() */

/* Connect two loopback sockets and set the tls ULP on one. */
static void probe(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = -1, c = -1, s = -1;

	probe_err = EIO;
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
		getsockname(l, (struct sockaddr *)&a, &len) < 0 ||
		connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto out;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		goto out;
	probe_err = setsockopt(c, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) < 0 ? errno : 0;
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
}

bool ktls_available(char *why, size_t len)
{
#ifdef OPENSSL_NO_KTLS
	snprintf(why, len, "OpenSSL was built without kTLS");
	return false;
#else
	pthread_once(&probe_once, probe);
	if (probe_err == ENOENT)
		snprintf(why, len, "the kernel has no tls module (CONFIG_TLS)");
	else if (probe_err)
		snprintf(why, len, "the tls ULP: %s", strerror(probe_err));
	return probe_err == 0;
#endif
}

struct ktls_listener *ktls_listener(const char *id)
{
	struct ktls_listener *e = NULL;

	pthread_mutex_lock(&table_mu);
	for (size_t i = 0; i < n_table && !e; i++)
		if (!strcmp(table[i].id, id))
			e = &table[i];
	if (!e && n_table < KTLS_LISTENERS_MAX) {
		e = &table[n_table++];
		snprintf(e->id, sizeof(e->id), "%s", id);
	}
	pthread_mutex_unlock(&table_mu);
	return e;
}

int ktls_each(int (*fn)(const struct ktls_listener *l, void *arg), void *arg)
{
	size_t n;
	int err = 0;

	/* Entries are never removed or moved: the count is all that needs the lock. */
	pthread_mutex_lock(&table_mu);
	n = n_table;
	pthread_mutex_unlock(&table_mu);
	for (size_t i = 0; i < n && !err; i++)
		err = fn(&table[i], arg);
	return err;
}

const char *ktls_mode_name(enum ktls_mode m)
{
	static const char *const names[KTLS_MODE_MAX] = {
		[KTLS_OFF] = "off", [KTLS_NO_KERNEL] = "userspace", [KTLS_KERNEL] = "kernel"};

	return m < KTLS_MODE_MAX ? names[m] : "?";
}
