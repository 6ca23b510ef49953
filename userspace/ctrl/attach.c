// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: attaching the balancer and the decapsulation program with pinned
 * bpf_links, so the programs outlive the process that attached them. */
#include "userspace/ctrl/ctrl.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/decap.skel.h"
#include "bpf/lb.skel.h"
#include "userspace/ctrl/ctrl-int.h"

/* The identity of the caller's network namespace: the inode of its nsfs file, stable for the
 * namespace's life. /proc/thread-self, so that a thread that entered another namespace with
 * setns() gets that one. Returns 0 when it cannot be read. */
static __u64 netns_self(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) && stat("/proc/self/ns/net", &st))
		return 0;
	return (__u64)st.st_ino;
}

/* Pin name of the <kind> link on <ifname> in network namespace <netns>:
 * link_<kind>_<ifname>:<netns>. Interface names cannot hold ':', so the last ':' splits it.
 * <netns> 0 gives the name older versions used, without the namespace. */
static int link_path(char *buf, size_t len, const char *pin_dir, const char *kind,
	const char *ifname, __u64 netns)
{
	int n;

	if (netns)
		n = snprintf(buf, len, "%s/link_%s_%s:%llu", pin_dir, kind, ifname,
			(unsigned long long)netns);
	else
		n = snprintf(buf, len, "%s/link_%s_%s", pin_dir, kind, ifname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ctrl_link_parse(const char *name, struct ctrl_link *l)
{
	static const char *const kinds[CTRL_LINK_KIND_MAX] = {
		[CTRL_LINK_XDP] = "link_xdp_", [CTRL_LINK_DECAP] = "link_decap_"};
	const char *ifname = NULL, *colon;
	unsigned long long ns = 0;
	char *end;
	size_t len;
	int k;

	for (k = 0; k < CTRL_LINK_KIND_MAX; k++) {
		len = strlen(kinds[k]);
		if (!strncmp(name, kinds[k], len)) {
			ifname = name + len;
			break;
		}
	}
	if (!ifname)
		return -EINVAL;
	colon = strrchr(ifname, ':');
	len = colon ? (size_t)(colon - ifname) : strlen(ifname);
	if (colon) {
		errno = 0;
		ns = strtoull(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || !ns)
			return -EINVAL;
	}
	if (!len || len >= IF_NAMESIZE || strlen(name) >= sizeof(l->pin))
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->kind = (enum ctrl_link_kind)k;
	memcpy(l->ifname, ifname, len);
	l->netns = ns;
	strcpy(l->pin, name);
	return 0;
}

/* Fill the kernel's view of the link pinned at <pin_dir>/<l->pin>: program, interface,
 * whether it is severed and whether it lies in the caller's namespace. */
static int link_inspect(const char *pin_dir, struct ctrl_link *l, __u64 self)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX], name[IF_NAMESIZE];
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, l->pin) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	close(fd);
	if (err)
		return err;
	l->link_id = info.id;
	l->prog_id = info.prog_id;
	l->ifindex = info.type == BPF_LINK_TYPE_XDP ? info.xdp.ifindex : 0;
	/* The kernel clears the interface of an XDP link whose device went away. */
	l->severed = !l->ifindex;
	if (l->netns)
		l->here = l->netns == self;
	else /* an old pin name: ours when the interface of that index has that name here */
		l->here = !l->severed && if_indextoname(l->ifindex, name) && !strcmp(name, l->ifname);
	return 0;
}

int ctrl_link_list(const char *pin_dir, struct ctrl_link **out, size_t *n)
{
	struct ctrl_link *v = NULL, *tmp, l;
	size_t cnt = 0, cap = 0;
	__u64 self = netns_self();
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(pin_dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (ctrl_link_parse(de->d_name, &l))
			continue;
		/* A pin that cannot be read (removed meanwhile, not a link) is skipped. */
		if (link_inspect(pin_dir, &l, self))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			tmp = realloc(v, cap * sizeof(*v));
			if (!tmp) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = tmp;
		}
		v[cnt++] = l;
	}
	closedir(d);
	*out = v;
	*n = cnt;
	return 0;
}

/* Remove the link pinned at <pin_dir>/<l->pin>: detach it (a severed link has nothing left
 * to detach) and unpin it. */
static int link_remove(const char *pin_dir, const struct ctrl_link *l)
{
	char path[PATH_MAX];
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, l->pin) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (!l->severed && bpf_link_detach(fd))
			err = -errno;
		close(fd);
	}
	if (unlink(path) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

int ctrl_link_prune(const char *pin_dir, enum ctrl_link_kind kind, const char *ifname)
{
	struct ctrl_link *v;
	size_t n, i;
	int err, pruned = 0;

	err = ctrl_link_list(pin_dir, &v, &n);
	if (err)
		return err == -ENOENT ? 0 : err;
	for (i = 0; i < n && !err; i++) {
		if (v[i].kind != kind || !v[i].severed || strcmp(v[i].ifname, ifname))
			continue;
		err = link_remove(pin_dir, &v[i]);
		pruned++;
	}
	free(v);
	return err ? err : pruned;
}

/* The pin path of the <kind> link on <ifname> in the caller's namespace. A link pinned under
 * the old name (no namespace) that is attached here is renamed to it, so that upgrading pingx
 * keeps the interface's program in place. */
static int link_here(char *path, size_t len, const char *pin_dir, enum ctrl_link_kind kind,
	const char *ifname)
{
	const char *kname = kind == CTRL_LINK_XDP ? "xdp" : "decap";
	char old[PATH_MAX];
	struct ctrl_link l;
	__u64 self = netns_self();
	int err;

	if (!self)
		return -ENOTSUP;
	err = link_path(path, len, pin_dir, kname, ifname, self);
	if (err)
		return err;
	err = link_path(old, sizeof(old), pin_dir, kname, ifname, 0);
	if (err)
		return err;
	if (ctrl_link_parse(strrchr(old, '/') + 1, &l) || link_inspect(pin_dir, &l, self) ||
		!l.here)
		return 0;
	return rename(old, path) ? -errno : 0;
}

/* Attach <prog_fd> to <ifindex> in <mode>, or replace the program of the link pinned at
 * <path>; pin a new link there. A severed link pinned there is replaced by a new one. */
static int link_attach(int prog_fd, int ifindex, enum ctrl_xdp_mode mode, const char *path)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int lfd, err;

	lfd = bpf_obj_get(path);
	if (lfd >= 0) {
		if (!bpf_obj_get_info_by_fd(lfd, &info, &len) && info.type == BPF_LINK_TYPE_XDP &&
			info.xdp.ifindex == (__u32)ifindex) {
			/* Atomic replacement: the interface never runs without a program. */
			err = bpf_link_update(lfd, prog_fd, NULL) ? -errno : 0;
			close(lfd);
			return err;
		}
		/* Severed (its interface went away and came back) or not ours any more. */
		close(lfd);
		if (unlink(path))
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}
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

/* Detach and unpin the <kind> link on <ifname> in the caller's namespace. */
static int link_detach(const char *pin_dir, enum ctrl_link_kind kind, const char *ifname)
{
	char path[PATH_MAX];
	struct ctrl_link l;
	int err;

	err = link_here(path, sizeof(path), pin_dir, kind, ifname);
	if (err)
		return err;
	err = ctrl_link_parse(strrchr(path, '/') + 1, &l);
	if (!err)
		err = link_inspect(pin_dir, &l, netns_self());
	if (!err)
		err = link_remove(pin_dir, &l);
	return err;
}

int ctrl_attach(struct ctrl *c, const char *ifname, enum ctrl_xdp_mode mode, const char *egress)
{
	char path[PATH_MAX];
	struct lb_bpf *skel = NULL;
	int ifindex, err;

	if (mode >= CTRL_XDP_MODE_MAX)
		return -EINVAL;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	if (egress && !if_nametoindex(egress))
		return -ENODEV;
	err = ctrl_lock(c);
	if (err)
		return err;
	err = link_here(path, sizeof(path), c->pin_dir, CTRL_LINK_XDP, ifname);
	if (!err)
		err = ctrl_link_prune(c->pin_dir, CTRL_LINK_XDP, ifname);
	if (err < 0)
		goto out;
	err = 0;
	if (egress) {
		err = ctrl_tx_port_add(c, egress);
		if (!err)
			err = ctrl_egress_set(c, egress);
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

int ctrl_egress_set(struct ctrl *c, const char *ifname)
{
	struct lb_node node;
	__u32 ifindex;
	int err;

	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	err = ctrl_node_get(c, &node);
	if (err)
		return err;
	node.egress_ifindex = ifindex;
	return ctrl_node_set(c, &node);
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
	int err;

	err = ctrl_lock(c);
	if (err)
		return err;
	err = link_detach(c->pin_dir, CTRL_LINK_XDP, ifname);
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
	err = ctrl_bpffs_ensure(pin_dir);
	if (err < 0)
		return err;
	err = ctrl_mkdir_p(pin_dir);
	if (err)
		return err;
	err = link_here(path, sizeof(path), pin_dir, CTRL_LINK_DECAP, ifname);
	if (!err)
		err = ctrl_link_prune(pin_dir, CTRL_LINK_DECAP, ifname);
	if (err < 0)
		return err;
	err = 0;
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
	return link_detach(pin_dir, CTRL_LINK_DECAP, ifname);
}

/* Whether <name> is a pin pingx makes: a link, or one of its maps (all named lb_*). */
static bool is_pingx_pin(const char *name)
{
	struct ctrl_link l;

	return !strncmp(name, "lb_", 3) || !ctrl_link_parse(name, &l);
}

bool ctrl_is_pin_dir(const char *dir)
{
	struct dirent *de;
	bool found = false;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = de->d_type != DT_DIR && is_pingx_pin(de->d_name);
	closedir(d);
	return found;
}

/* ctrl_unload() of <dir> at subdirectory depth <depth>: links first (so no program runs on
 * maps being unpinned), then maps, then pingx's subdirectories. */
static int unload_dir(const char *dir, struct ctrl_unload_stats *st, int depth)
{
	char path[PATH_MAX];
	struct ctrl_link *v;
	struct dirent *de;
	size_t n, i;
	int err, e;
	DIR *d;

	err = ctrl_link_list(dir, &v, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		e = link_remove(dir, &v[i]);
		if (e && !err)
			err = e;
		else if (!e)
			st->links++;
	}
	free(v);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			st->kept++;
			continue;
		}
		if (de->d_type == DT_DIR) {
			/* Decap pin directories nest one level (one per backend, say). */
			if (depth < 2 && ctrl_is_pin_dir(path))
				e = unload_dir(path, st, depth + 1);
			else
				e = (st->kept++, 0);
		} else if (is_pingx_pin(de->d_name)) {
			e = unlink(path) ? -errno : (st->pins++, 0);
		} else {
			e = (st->kept++, 0);
		}
		if (e && !err)
			err = e;
	}
	closedir(d);
	if (!rmdir(dir))
		st->dirs++;
	else if (errno != ENOTEMPTY && !err)
		err = -errno;
	return err;
}

int ctrl_unload(const char *pin_dir, struct ctrl_unload_stats *st)
{
	memset(st, 0, sizeof(*st));
	return unload_dir(pin_dir, st, 0);
}
