// SPDX-License-Identifier: GPL-2.0
/* Batched socket I/O through liburing: each send is an IORING_OP_SENDMSG and each receive an
 * IORING_OP_RECV with MSG_DONTWAIT, which io_uring completes at submission with the call's
 * own result (a full or empty socket gives -EAGAIN rather than a poll armed in the kernel),
 * so the bytes an entry points at are done with once uring_submit() returns. */
#include "userspace/net/uring.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

struct uring_slot {
	struct msghdr mh;
	struct iovec iov[URING_IOV];
};

struct uring {
	struct io_uring ring;
	unsigned int n;			     /* entries in the batch */
	struct uring_slot slot[URING_BATCH]; /* the sends' headers, in batch order */
};

static __thread struct uring *ur;

int uring_init(void)
{
	struct io_uring_params p;
	struct uring *u;
	int err;

	if (ur)
		return 0;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	/* One thread submits; every send is made at submission (no worker threads, no
	 * completions arriving later), and a send that fails does not stop the ones after it. */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
	err = io_uring_queue_init_params(URING_BATCH, &u->ring, &p);
	if (err == -EINVAL) {
		/* A kernel before 6.0 knows only some of those flags. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_SUBMIT_ALL;
		err = io_uring_queue_init_params(URING_BATCH, &u->ring, &p);
	}
	if (err < 0) {
		free(u);
		return err;
	}
	ur = u;
	return 0;
}

bool uring_ready(void)
{
	return ur != NULL;
}

void uring_exit(void)
{
	if (!ur)
		return;
	io_uring_queue_exit(&ur->ring);
	free(ur);
	ur = NULL;
}

int uring_add_send(int fd, const struct iovec *iov, int n)
{
	struct io_uring_sqe *sqe;
	struct uring_slot *s;

	if (!ur || ur->n == URING_BATCH || n < 1 || n > URING_IOV)
		return -1;
	sqe = io_uring_get_sqe(&ur->ring);
	if (!sqe)
		return -1;
	s = &ur->slot[ur->n];
	memcpy(s->iov, iov, (size_t)n * sizeof(*iov));
	memset(&s->mh, 0, sizeof(s->mh));
	s->mh.msg_iov = s->iov;
	s->mh.msg_iovlen = (size_t)n;
	io_uring_prep_sendmsg(sqe, fd, &s->mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ur->n);
	return (int)ur->n++;
}

int uring_add_recv(int fd, void *buf, size_t len)
{
	struct io_uring_sqe *sqe;

	if (!ur || ur->n == URING_BATCH)
		return -1;
	sqe = io_uring_get_sqe(&ur->ring);
	if (!sqe)
		return -1;
	io_uring_prep_recv(sqe, fd, buf, len, MSG_DONTWAIT);
	io_uring_sqe_set_data64(sqe, ur->n);
	return (int)ur->n++;
}

int uring_submit(int *res)
{
	struct io_uring_cqe *cqe;
	unsigned int n = ur ? ur->n : 0, seen = 0, head;
	int made;

	if (!n)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		res[i] = -ECANCELED;
	do
		made = io_uring_submit_and_wait(&ur->ring, n);
	while (made == -EINTR);
	/* Every entry submitted completes at submission; collect them all. */
	while (made > 0 && seen < (unsigned int)made) {
		unsigned int k = 0;

		io_uring_for_each_cqe(&ur->ring, head, cqe)
		{
			uint64_t i = io_uring_cqe_get_data64(cqe);

			if (i < n)
				res[i] = cqe->res;
			k++;
		}
		io_uring_cq_advance(&ur->ring, k);
		seen += k;
		if (seen < (unsigned int)made && io_uring_wait_cqe(&ur->ring, &cqe) < 0)
			break;
	}
	ur->n = 0;
	if (made < 0 || (unsigned int)made < n || seen < (unsigned int)made) {
		/* Entries left in the queue would be made later, from bytes that are gone by
		 * then: the ring goes, and the thread writes without one from now on. */
		uring_exit();
		return made < 0 ? made : -EIO;
	}
	return made;
}
