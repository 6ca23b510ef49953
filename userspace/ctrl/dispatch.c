// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: attaching the balancer through libxdp's multi-program dispatcher, so
 * that it runs beside other XDP programs of the interface (xdp-filter, a packet capture) in
 * the order of their run priorities, and `xdp-loader status` lists it. Where the dispatcher
 * cannot load (kernels that refuse extension programs) the balancer is attached with a plain
 * pinned bpf_link instead (attach.c). */
#include "userspace/ctrl/ctrl.h"

#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "bpf/lb.skel.h"
#include "userspace/ctrl/ctrl-int.h"

/* libxdp's messages while a call of ours runs: the first one kept, the rest dropped (libxdp
 * prints every fallback at info level, which pingctl turns into one line of its own). */
static char xdp_last_msg[160];

static int xdp_quiet_print(enum libxdp_print_level level, const char *fmt, va_list args)
{
	size_t n;

	/* The first message says why; the ones after it say what libxdp did instead. */
	if (level == LIBXDP_DEBUG || xdp_last_msg[0])
		return 0;
	vsnprintf(xdp_last_msg, sizeof(xdp_last_msg), fmt, args);
	n = strlen(xdp_last_msg);
	while (n && xdp_last_msg[n - 1] == '\n')
		xdp_last_msg[--n] = '\0';
	return 0;
}

static int libbpf_quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

/* Open libxdp's dispatcher object (found where libxdp finds it: LIBXDP_OBJECT_PATH, else its
 * install directory) as a bpf_object of its own. NULL + errno. */
static struct bpf_object *dispatcher_open(struct xdp_program **holder)
{
	struct xdp_program *p;
	long err;

	p = xdp_program__find_file("xdp-dispatcher.o", NULL, NULL);
	err = libxdp_get_error(p);
	if (err) {
		errno = (int)-err;
		return NULL;
	}
	*holder = p;
	return xdp_program__bpf_obj(p);
}

int ctrl_dispatcher_probe(char *why, size_t len)
{
	static const char *const targets[] = {"compat_test", "prog0"};
	struct xdp_program *tp = NULL, *ep = NULL;
	libbpf_print_fn_t old_bpf;
	struct bpf_object *tobj, *eobj;
	struct bpf_program *eprog, *p;
	const char *step = "opening xdp-dispatcher.o";
	struct bpf_link *link = NULL;
	int err = 0, tfd;
	size_t i;

	old_bpf = libbpf_set_print(libbpf_quiet_print);
	/* The dispatcher as libxdp loads it, then its program again as an extension of one of
	 * the dispatcher's slots, attached: what libxdp's own compatibility check does. */
	tobj = dispatcher_open(&tp);
	if (!tobj) {
		err = -errno;
		goto out;
	}
	step = "loading the dispatcher";
	if (bpf_object__load(tobj)) {
		err = -errno;
		goto out;
	}
	tfd = bpf_program__fd(bpf_object__find_program_by_name(tobj, "xdp_dispatcher"));
	if (tfd < 0) {
		err = -ENOENT;
		goto out;
	}
	eobj = dispatcher_open(&ep);
	if (!eobj) {
		err = -errno;
		goto out;
	}
	/* The extension: the object's pass-through program where it has one, as libxdp uses. */
	eprog = bpf_object__find_program_by_name(eobj, "xdp_pass");
	if (!eprog)
		eprog = bpf_object__find_program_by_name(eobj, "xdp_dispatcher");
	if (!eprog) {
		err = -ENOENT;
		goto out;
	}
	bpf_object__for_each_program(p, eobj) bpf_program__set_autoload(p, p == eprog);
	bpf_program__set_type(eprog, BPF_PROG_TYPE_EXT);
	bpf_program__set_expected_attach_type(eprog, 0);
	step = "finding a slot of the dispatcher";
	err = -ENOENT;
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]) && err; i++)
		err = bpf_program__set_attach_target(eprog, tfd, targets[i]);
	if (err)
		goto out;
	step = "loading an extension (freplace) program";
	if (bpf_object__load(eobj)) {
		err = -errno;
		goto out;
	}
	step = "attaching an extension program to the dispatcher";
	link = bpf_program__attach_freplace(eprog, tfd, targets[i - 1]);
	if (!link)
		err = -errno;
out:
	bpf_link__destroy(link);
	xdp_program__close(ep);
	xdp_program__close(tp);
	libbpf_set_print(old_bpf);
	if (err && why)
		snprintf(why, len, "%s: %s", step, strerror(-err));
	return err ? 0 : 1;
}

/* Whether program <prog_id> uses map <map_id>. */
static bool prog_uses_map(__u32 prog_id, __u32 map_id)
{
	struct bpf_prog_info info = {};
	__u32 ids[64], len = sizeof(info), i;
	bool found = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		for (i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
			found = found || ids[i] == map_id;
	}
	close(fd);
	return found;
}

/* The id of map <fd>, or 0. */
static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The balancer programs of <c> in the dispatcher on <ifindex>: up to <max> ids in <ids>.
 * Returns how many, 0 when the interface has no dispatcher (or only a single program attached
 * without one). */
static int dispatch_ours(struct ctrl *c, int ifindex, __u32 *ids, int max)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	__u32 meta = map_id(c->fds[CM_META]);
	int n = 0;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return 0;
	if (!xdp_multiprog__is_legacy(mp)) {
		while ((p = xdp_multiprog__next_prog(p, mp)) && n < max) {
			if (meta && prog_uses_map(xdp_program__id(p), meta))
				ids[n++] = xdp_program__id(p);
		}
	}
	xdp_multiprog__close(mp);
	return n;
}

int ctrl_dispatch_list(struct ctrl *c, struct ctrl_dispatched **out, size_t *n)
{
	struct ctrl_dispatched *v = NULL, *tmp;
	struct if_nameindex *ifs, *it;
	struct xdp_multiprog *mp;
	libxdp_print_fn_t old;
	__u32 ids[8];
	size_t cnt = 0;
	int k, m;

	*out = NULL;
	*n = 0;
	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	old = libxdp_set_print(xdp_quiet_print);
	for (it = ifs; it->if_index; it++) {
		m = dispatch_ours(c, (int)it->if_index, ids, 8);
		if (!m)
			continue;
		mp = xdp_multiprog__get_from_ifindex((int)it->if_index);
		tmp = realloc(v, (cnt + (size_t)m) * sizeof(*v));
		if (!tmp) {
			xdp_multiprog__close(mp);
			free(v);
			if_freenameindex(ifs);
			libxdp_set_print(old);
			return -ENOMEM;
		}
		v = tmp;
		for (k = 0; k < m; k++) {
			struct xdp_program *p = NULL;

			memset(&v[cnt], 0, sizeof(v[cnt]));
			snprintf(v[cnt].ifname, sizeof(v[cnt].ifname), "%s", it->if_name);
			v[cnt].ifindex = it->if_index;
			v[cnt].prog_id = ids[k];
			v[cnt].generic = !libxdp_get_error(mp) && mp &&
					 xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB;
			while (!libxdp_get_error(mp) && mp &&
				(p = xdp_multiprog__next_prog(p, mp))) {
				if (xdp_program__id(p) == ids[k])
					v[cnt].run_prio = xdp_program__run_prio(p);
			}
			v[cnt].programs =
				!libxdp_get_error(mp) && mp ? xdp_multiprog__program_count(mp) : 0;
			cnt++;
		}
		if (!libxdp_get_error(mp))
			xdp_multiprog__close(mp);
	}
	if_freenameindex(ifs);
	libxdp_set_print(old);
	*out = v;
	*n = cnt;
	return 0;
}

/* Detach the balancer programs <ids> (<n>) from the dispatcher on <ifindex>. */
static int dispatch_detach_ids(int ifindex, const __u32 *ids, int n)
{
	struct xdp_program *p;
	int i, err = 0, e;

	for (i = 0; i < n; i++) {
		p = xdp_program__from_id(ids[i]);
		if (libxdp_get_error(p)) {
			if (!err)
				err = (int)libxdp_get_error(p);
			continue;
		}
		e = xdp_program__detach(p, ifindex, XDP_MODE_UNSPEC, 0);
		if (e && !err)
			err = e;
		xdp_program__close(p);
	}
	return err;
}

int ctrl_dispatch_detach(struct ctrl *c, const char *ifname)
{
	libxdp_print_fn_t old;
	__u32 ids[8];
	int ifindex, n, err;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENOENT;
	old = libxdp_set_print(xdp_quiet_print);
	n = dispatch_ours(c, ifindex, ids, 8);
	err = n ? dispatch_detach_ids(ifindex, ids, n) : -ENOENT;
	libxdp_set_print(old);
	return err;
}

int ctrl_attach_opts(struct ctrl *c, const char *ifname, const struct ctrl_attach_opts *o,
	struct ctrl_attach_info *info)
{
	static const enum xdp_attach_mode modes[CTRL_XDP_MODE_MAX] = {
		[CTRL_XDP_AUTO] = XDP_MODE_UNSPEC,
		[CTRL_XDP_NATIVE] = XDP_MODE_NATIVE,
		[CTRL_XDP_GENERIC] = XDP_MODE_SKB,
	};
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = c->pin_dir);
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *prog = NULL;
	struct ctrl_link *links = NULL;
	libxdp_print_fn_t old;
	struct lb_bpf *skel = NULL;
	__u32 old_ids[8];
	size_t nl = 0, i;
	int ifindex, nold, err;
	bool linked = false;

	memset(info, 0, sizeof(*info));
	if (o->mode >= CTRL_XDP_MODE_MAX)
		return -EINVAL;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	/* An interface that runs the balancer from a pinned link keeps it: the link's program is
	 * replaced in place, as before. */
	if (!ctrl_link_list(c->pin_dir, &links, &nl)) {
		for (i = 0; i < nl; i++)
			linked = linked ||
				 (links[i].kind == CTRL_LINK_XDP && links[i].here &&
					 !links[i].severed && links[i].ifindex == (__u32)ifindex);
		free(links);
	}
	if (o->plain || linked) {
		snprintf(info->why, sizeof(info->why), "%s",
			linked ? "the interface already runs it from a pinned bpf_link" :
				 "a plain bpf_link was asked for");
		goto plain;
	}
	if (!ctrl_dispatcher_probe(info->why, sizeof(info->why)))
		goto plain;

	old = libxdp_set_print(xdp_quiet_print);
	xdp_last_msg[0] = '\0';
	err = ctrl_lock(c);
	if (err)
		goto out;
	nold = dispatch_ours(c, ifindex, old_ids, 8);
	if (o->egress) {
		err = ctrl_tx_port_add(c, o->egress);
		if (!err)
			err = ctrl_egress_set(c, o->egress);
		if (err)
			goto out_unlock;
	}
	skel = lb_bpf__open_opts(&oo);
	if (!skel) {
		err = -errno;
		goto out_unlock;
	}
	prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
	err = (int)libxdp_get_error(prog);
	if (err) {
		prog = NULL;
		goto out_unlock;
	}
	xdp_program__set_run_prio(prog, o->run_prio ? o->run_prio : CTRL_XDP_RUN_PRIO);
	/* The next program of the chain sees what the balancer passes (not its service). */
	xdp_program__set_chain_call_enabled(prog, XDP_PASS, true);
	err = ctrl_reuse_devmap(skel->maps.lb_tx_ports, c->pin_dir);
	if (!err)
		err = xdp_program__attach(prog, ifindex, modes[o->mode], 0);
	if (err)
		goto out_unlock;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp || xdp_multiprog__is_legacy(mp)) {
		/* libxdp fell back to a single program after all: take it off, use a link. */
		xdp_program__detach(prog, ifindex, modes[o->mode], 0);
		snprintf(info->why, sizeof(info->why), "%s",
			xdp_last_msg[0] ? xdp_last_msg : "libxdp attached without its dispatcher");
		if (!libxdp_get_error(mp))
			xdp_multiprog__close(mp);
		xdp_program__close(prog);
		lb_bpf__destroy(skel);
		ctrl_unlock(c);
		libxdp_set_print(old);
		goto plain;
	}
	info->dispatcher = true;
	info->generic = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB;
	info->run_prio = xdp_program__run_prio(prog);
	info->programs = xdp_multiprog__program_count(mp);
	xdp_multiprog__close(mp);
	/* The new program runs; the one it replaces goes (no moment without a balancer). */
	err = dispatch_detach_ids(ifindex, old_ids, nold);
	info->replaced = nold > 0;
out_unlock:
	ctrl_unlock(c);
out:
	xdp_program__close(prog);
	lb_bpf__destroy(skel);
	libxdp_set_print(old);
	return err;
plain:
	err = ctrl_attach(c, ifname, o->mode, o->egress);
	if (!err) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);

		info->replaced = linked;
		if (!bpf_xdp_query(ifindex, 0, &q))
			info->generic = q.attach_mode == XDP_ATTACHED_SKB ||
					(q.attach_mode == XDP_ATTACHED_MULTI && q.skb_prog_id);
	}
	return err;
}
