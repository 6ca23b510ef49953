// SPDX-License-Identifier: GPL-2.0
/* L7 steering: loads bpf/steer.bpf.c on the pinned lb_services, fills its socket map with the
 * steering listeners and attaches it to the network namespace with a bpf_link pingd owns. */
#include "userspace/l4/steer.h"

#include <linux/types.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/lb_abi.h"
#include "bpf/steer.skel.h"
#include "userspace/lib/log.h"
#include "userspace/net/listener.h"

/* Same values as bpf/steer_maps.h, which is BPF-only. */
#define STEER_SLOT_INET	 0
#define STEER_SLOT_INET6 1

struct steer {
	char *pin_dir; /* where lb_services came from, owned */
	__u32 svc_id;  /* lb_services' map id: a re-created map is another one */
	struct steer_bpf *skel;
	struct bpf_link *link; /* attachment to the network namespace; destroying it detaches */
};

/* libbpf's messages, demoted one level so verifier output shows only with -vv. */
__attribute__((format(printf, 2, 0))) static int libbpf_print(
	enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	if (!log_enabled(level == LIBBPF_WARN ? LOG_LVL_INFO : LOG_LVL_DEBUG))
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	log_printf(level == LIBBPF_WARN ? LOG_LVL_INFO : LOG_LVL_DEBUG, "libbpf: %s", buf);
	return 0;
}

/* Open the pinned map <name> under <dir>. Returns its fd or a negative errno, logged. */
static int open_pinned(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		log_err("steering: %s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		log_err("steering: %s: %s%s", path, strerror(-err),
			err == -ENOENT ? " (attach the data plane with pingctl first)" : "");
		return err;
	}
	return fd;
}

/* The id of the map behind <fd>, or 0. */
static __u32 map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Whether <s> still reads the map pinned as lb_services in its pin directory. */
static bool same_services(const struct steer *s)
{
	char path[PATH_MAX];
	__u32 id = 0;
	int fd;

	if (snprintf(path, sizeof(path), "%s/lb_services", s->pin_dir) >= (int)sizeof(path))
		return false;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		id = map_id(fd);
		close(fd);
	}
	return id && id == s->svc_id;
}

/* The pinned lb_services under <dir>, after checking lb_meta's ABI version. Returns its fd
 * or a negative errno, logged. */
static int open_services(const char *dir)
{
	struct lb_meta meta = {0};
	__u32 zero = 0;
	int fd, err = 0;

	fd = open_pinned(dir, "lb_meta");
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, &meta) < 0) {
		err = -errno;
		log_err("steering: %s/lb_meta: %s", dir, strerror(-err));
	} else if (meta.abi_version != LB_ABI_VERSION) {
		err = -EPROTO;
		log_err("steering: %s: maps of ABI version %u, pingd speaks %u", dir,
			meta.abi_version, LB_ABI_VERSION);
	}
	close(fd);
	if (err)
		return err;
	return open_pinned(dir, "lb_services");
}

/* Point each slot of the socket map at <w>'s socket of the steering listener of its family in
 * <c>, and empty the slots of families none steers. Returns 0 or a negative errno, logged. */
static int fill_sockets(struct steer *s, const struct cfg *c, const struct worker *w)
{
	int map = bpf_map__fd(s->skel->maps.lb_steer_socks);
	bool used[2] = {false, false};

	for (size_t i = 0; i < c->n_listeners && i < w->n_listeners; i++) {
		const struct cfg_listener *l = &c->listeners[i];
		__u32 slot =
			l->address.ss.ss_family == AF_INET6 ? STEER_SLOT_INET6 : STEER_SLOT_INET;
		__u64 fd;

		if (!l->steer)
			continue;
		fd = (__u64)listener_fd(w->listeners[i]);
		if (bpf_map_update_elem(map, &slot, &fd, BPF_ANY) < 0) {
			int err = -errno;

			log_err("steering: listener %s: socket map: %s", l->address.text,
				strerror(-err));
			return err;
		}
		used[slot] = true;
	}
	for (__u32 slot = 0; slot < 2; slot++)
		if (!used[slot] && bpf_map_delete_elem(map, &slot) < 0 && errno != ENOENT) {
			int err = -errno;

			log_err("steering: socket map: %s", strerror(-err));
			return err;
		}
	return 0;
}

/* Log which listeners of <c> take steered connections. */
static void announce(const struct cfg *c)
{
	for (size_t i = 0; i < c->n_listeners; i++)
		if (c->listeners[i].steer)
			log_notice("steering l7 services of %s/lb_services (IPv%c) into %s",
				c->steer_pin_dir,
				c->listeners[i].address.ss.ss_family == AF_INET6 ? '6' : '4',
				c->listeners[i].address.text);
}

/* Whether some listener of <c> steers. */
static bool any_steer(const struct cfg *c)
{
	for (size_t i = 0; i < c->n_listeners; i++)
		if (c->listeners[i].steer)
			return true;
	return false;
}

int steer_start(const struct cfg *c, const struct worker *w, struct steer **out)
{
	struct steer *s = NULL;
	int svc_fd = -1, ns_fd = -1, err;

	*out = NULL;
	if (!any_steer(c))
		return 0;
	libbpf_set_print(libbpf_print);
	svc_fd = open_services(c->steer_pin_dir);
	if (svc_fd < 0)
		return svc_fd;
	s = calloc(1, sizeof(*s));
	if (s)
		s->pin_dir = strdup(c->steer_pin_dir);
	if (!s || !s->pin_dir) {
		err = -ENOMEM;
		goto err;
	}
	s->skel = steer_bpf__open();
	if (!s->skel) {
		err = -errno;
		log_err("steering: open program: %s", strerror(-err));
		goto err;
	}
	s->svc_id = map_id(svc_fd);
	err = bpf_map__reuse_fd(s->skel->maps.lb_services, svc_fd);
	if (!err)
		err = steer_bpf__load(s->skel);
	if (err) {
		log_err("steering: load program on %s/lb_services: %s", c->steer_pin_dir,
			strerror(-err));
		goto err;
	}
	err = fill_sockets(s, c, w);
	if (err)
		goto err;
	ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		err = -errno;
		log_err("steering: /proc/self/ns/net: %s", strerror(-err));
		goto err;
	}
	s->link = bpf_program__attach_netns(s->skel->progs.steer_l7, ns_fd);
	if (!s->link) {
		err = -errno;
		log_err("steering: attach to the network namespace: %s", strerror(-err));
		goto err;
	}
	close(ns_fd);
	close(svc_fd); /* the program holds the map */
	announce(c);
	*out = s;
	return 0;
err:
	if (ns_fd >= 0)
		close(ns_fd);
	close(svc_fd);
	steer_stop(s);
	return err;
}

int steer_reload(struct steer **s, const struct cfg *c, const struct worker *w)
{
	struct steer *n;
	int err;

	if (*s && any_steer(c) && !strcmp((*s)->pin_dir, c->steer_pin_dir) && same_services(*s)) {
		err = fill_sockets(*s, c, w);
		if (!err)
			announce(c);
		return err;
	}
	/* Attach the new program before detaching the old, so that no connection misses. */
	err = steer_start(c, w, &n);
	if (err)
		return err;
	steer_stop(*s);
	*s = n;
	return 0;
}

void steer_stop(struct steer *s)
{
	if (!s)
		return;
	bpf_link__destroy(s->link);
	steer_bpf__destroy(s->skel);
	free(s->pin_dir);
	free(s);
}
