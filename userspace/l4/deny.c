// SPDX-License-Identifier: GPL-2.0
/* Pushing rate-limit offenders into lb_deny (see deny.h). One control-plane handle behind a
 * mutex: pushes are rare (one per client per deny_ttl / 2) and the handle's lock nesting is
 * not thread-safe. */
#include "userspace/l4/deny.h"

#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/ctrl/ctrl.h"
#include "userspace/lib/clock.h"

#define REOPEN_MS 5000 /* after a failed open, wait this long before trying again */

struct l4deny {
	pthread_mutex_t lock;
	char *pin_dir;
	struct ctrl *c;	     /* NULL until opened */
	uint64_t failed_ms;  /* coarse clock of the last failed open; 0 = none */
	int failed_err;	     /* its error */
};

struct l4deny *l4deny_new(const char *pin_dir)
{
	struct l4deny *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->pin_dir = strdup(pin_dir);
	if (!d->pin_dir) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

void l4deny_free(struct l4deny *d)
{
	if (!d)
		return;
	ctrl_close(d->c);
	pthread_mutex_destroy(&d->lock);
	free(d->pin_dir);
	free(d);
}

int l4deny_push(void *arg, int af, const void *addr, unsigned int plen, uint64_t ttl_ms,
	const char *name)
{
	struct l4deny *d = arg;
	struct lb_deny_key key = {};
	uint64_t now = clock_coarse_ms();
	int err;

	(void)name;
	if (!d || (af != AF_INET && af != AF_INET6) || plen > (af == AF_INET ? 32u : 128u))
		return -EINVAL;
	key.family = af == AF_INET ? LB_AF_INET : LB_AF_INET6;
	key.plen = (__u8)plen;
	memcpy(key.addr.bytes, addr, af == AF_INET ? 4 : 16);
	pthread_mutex_lock(&d->lock);
	if (!d->c && d->failed_ms && now - d->failed_ms < REOPEN_MS) {
		err = d->failed_err;
		goto out;
	}
	if (!d->c) {
		d->c = ctrl_open(d->pin_dir, 0);
		if (!d->c) {
			d->failed_ms = now ? now : 1;
			d->failed_err = err = -errno;
			goto out;
		}
	}
	err = ctrl_deny_add(d->c, &key, ttl_ms, LB_DENY_LIMIT);
	if (err == -ENOENT || err == -EBADF) {
		/* The maps went away (pingctl unload): open again next time. */
		ctrl_close(d->c);
		d->c = NULL;
	}
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}
