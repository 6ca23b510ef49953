/* SPDX-License-Identifier: GPL-2.0 */
/* Batched socket I/O: the calling thread's io_uring takes the sends (or receives) of a batch
 * and makes them in one system call, each as a non-blocking sendmsg() or recv() would (a
 * partial count, or EAGAIN, never a wait). Where the kernel refuses io_uring (too old,
 * disabled by sysctl or a seccomp filter) uring_init() fails and the caller writes as
 * before. */
#ifndef USERSPACE_NET_URING_H
#define USERSPACE_NET_URING_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stddef.h>

/* Sends or receives one batch can hold. */
#define URING_BATCH 256
/* Buffer pieces one send can hold. */
#define URING_IOV 16

/* Make this thread's ring. Returns 0, or -errno (the thread then has none). */
int uring_init(void);

/* Whether this thread has a ring. */
bool uring_ready(void);

/* Free this thread's ring (a thread that made one calls this before it ends). */
void uring_exit(void);

/* Add a send of <iov>[<n>] (n <= URING_IOV; the pieces are copied, the bytes they point at
 * must stay put until uring_submit() returns) on socket <fd> to the batch. Returns its index
 * in the batch, or -1 when the batch is full. */
int uring_add_send(int fd, const struct iovec *iov, int n);

/* Add a receive of up to <len> bytes into <buf> (which must stay put until uring_submit()
 * returns) on socket <fd>, as a non-blocking recv() would: -EAGAIN when nothing waits.
 * Returns its index in the batch, or -1 when the batch is full. */
int uring_add_recv(int fd, void *buf, size_t len);

/* Make the batch's entries and wait for them (they never block): res[i] is then the byte
 * count of entry i, -errno, or -ECANCELED for one not made (do those some other way).
 * The batch is empty afterwards. Returns how many were made, or -errno when not all were: the
 * thread's ring is then gone (uring_ready() is false). */
int uring_submit(int *res);

#endif /* USERSPACE_NET_URING_H */
