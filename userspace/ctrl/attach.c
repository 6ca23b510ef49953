// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: attaching the balancer and the decapsulation program with pinned
 * bpf_links, so the programs outlive the process that attached them. */
#include "userspace/ctrl/ctrl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/decap.skel.h"
#include "bpf/lb.skel.h"
#include "userspace/ctrl/ctrl-int.h"

static int link_path(
	char *buf, size_t len, const char *pin_dir, const char *kind, const char *ifname)
{
	int n = snprintf(buf, len, "%s/link_%s_%s", pin_dir, kind, ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Attach <prog_fd> to <ifindex> in <mode>, or replace the program of the link pinned at
 * <path>; pin a new link there. */
static int link_attach(int prog_fd, int ifindex, enum ctrl_xdp_mode mode, const char *path)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int lfd, err;

	lfd = bpf_obj_get(path);
	if (lfd >= 0) {
		/* Atomic replacement: the interface never runs without a program. */
		err = bpf_link_update(lfd, prog_fd, NULL) ? -errno : 0;
		close(lfd);
		return err;
	}
	if (errno != ENOENT)
		return -errno;
	lo.flags = mode == CTRL_XDP_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	lfd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
	if (lfd < 0 && mode == CTRL_XDP_AUTO) {
		lo.flags = XDP_FLAGS_SKB_MODE;
		lfd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
	}
	if (lfd < 0)
		return errno == EINVAL && mode == CTRL_XDP_NATIVE ? -EOPNOTSUPP : -errno;
	err = bpf_obj_pin(lfd, path) ? -errno : 0;
	close(lfd); /* the pin keeps the link, and the program, alive */
	return err;
}

static int link_detach(const char *path)
{
	int lfd, err;

	lfd = bpf_obj_get(path);
	if (lfd < 0)
		return -errno;
	err = bpf_link_detach(lfd) ? -errno : 0;
	close(lfd);
	if (unlink(path) && !err)
		err = -errno;
	return err;
}

int ctrl_attach(struct ctrl *c, const char *ifname, enum ctrl_xdp_mode mode, const char *egress)
{
	char path[PATH_MAX];
	struct lb_tx_port port;
	struct lb_bpf *skel = NULL;
	struct lb_node node;
	int ifindex, e_ifindex = 0, err;

	if (mode >= CTRL_XDP_MODE_MAX)
		return -EINVAL;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	if (egress) {
		e_ifindex = (int)if_nametoindex(egress);
		if (!e_ifindex)
			return -ENODEV;
	}
	err = link_path(path, sizeof(path), c->pin_dir, "xdp", ifname);
	if (err)
		return err;
	err = ctrl_lock(c);
	if (err)
		return err;
	if (e_ifindex) {
		port.ifindex = (__u32)e_ifindex;
		if (bpf_map_update_elem(c->fds[CM_TX_PORTS], &port.ifindex, &port, BPF_ANY)) {
			err = -errno;
			goto out;
		}
		err = ctrl_node_get(c, &node);
		if (err)
			goto out;
		node.egress_ifindex = (__u32)e_ifindex;
		err = ctrl_node_set(c, &node);
		if (err)
			goto out;
	}
	skel = ctrl_load_lb(c->pin_dir, true);
	if (!skel) {
		err = -errno;
		goto out;
	}
	err = link_attach(bpf_program__fd(skel->progs.lb_xdp), ifindex, mode, path);
out:
	lb_bpf__destroy(skel);
	ctrl_unlock(c);
	return err;
}

int ctrl_tx_port_add(struct ctrl *c, const char *ifname)
{
	struct lb_tx_port port;

	port.ifindex = if_nametoindex(ifname);
	if (!port.ifindex)
		return -ENODEV;
	return bpf_map_update_elem(c->fds[CM_TX_PORTS], &port.ifindex, &port, BPF_ANY) ? -errno : 0;
}

int ctrl_detach(struct ctrl *c, const char *ifname)
{
	char path[PATH_MAX];
	int err;

	err = link_path(path, sizeof(path), c->pin_dir, "xdp", ifname);
	if (err)
		return err;
	err = ctrl_lock(c);
	if (err)
		return err;
	err = link_detach(path);
	ctrl_unlock(c);
	return err;
}

int ctrl_decap_attach(
	const char *pin_dir, const char *ifname, enum ctrl_xdp_mode mode, __u16 gue_port)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	char path[PATH_MAX];
	struct decap_bpf *skel;
	int ifindex, err;

	if (mode >= CTRL_XDP_MODE_MAX)
		return -EINVAL;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	err = link_path(path, sizeof(path), pin_dir, "decap", ifname);
	if (err)
		return err;
	err = ctrl_bpffs_ensure(pin_dir);
	if (err)
		return err;
	if (mkdir(pin_dir, 0700) && errno != EEXIST)
		return -errno;
	skel = decap_bpf__open_opts(&oo);
	if (!skel)
		return -errno;
	skel->rodata->decap_gue_port = htons(gue_port ? gue_port : LB_DEFAULT_GUE_PORT);
	err = decap_bpf__load(skel);
	if (!err)
		err = link_attach(bpf_program__fd(skel->progs.lb_decap), ifindex, mode, path);
	decap_bpf__destroy(skel);
	return err;
}

int ctrl_decap_detach(const char *pin_dir, const char *ifname)
{
	char path[PATH_MAX];
	int err;

	err = link_path(path, sizeof(path), pin_dir, "decap", ifname);
	if (err)
		return err;
	return link_detach(path);
}
