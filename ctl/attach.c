// SPDX-License-Identifier: GPL-2.0
/* pingctl attach, detach, status and decap: the XDP programs on interfaces. */
#include "ctl/main.h"

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

#include "ctl/lb.h"

static int attach_help(int argc, char **argv)
{
	printf("Usage: %s attach IFACE [--mode native|generic|auto] [--egress IFACE]...\n"
	       "                [--run-prio N | --plain-link]\n"
	       "       %s attach --probe\n"
	       "       %s detach IFACE\n"
	       "       %s status\n"
	       "       %s unload [--all]\n"
	       "       %s decap { attach IFACE [--mode M] [--gue-port PORT] | detach IFACE }\n"
	       "\n"
	       "attach loads the balancer with its maps pinned in the pin directory (--bpffs) and\n"
	       "attaches it through libxdp's dispatcher at run priority N (default %d; lower\n"
	       "runs first, xdp-filter's is 10), beside the interface's other XDP programs.\n"
	       "Where the dispatcher cannot load, or with --plain-link, it pins a bpf_link of\n"
	       "its own in the pin directory instead. Attaching again replaces the program and\n"
	       "keeps the maps and their flows. --probe says whether the dispatcher loads here.\n"
	       "--egress adds an interface for XDP_REDIRECT (the first\n"
	       "is also where gateway-MAC and l2 forwarding send packets). detach keeps the\n"
	       "maps; unload detaches every link of the pin directory and removes all its pins\n"
	       "(--all: of every pingx pin directory on the bpffs mount).\n",
		bin_name, bin_name, bin_name, bin_name, bin_name, bin_name, CTRL_XDP_RUN_PRIO);
	return 0;
}

static int parse_mode(const char *s, enum ctrl_xdp_mode *mode)
{
	static const char *const names[] = {"auto", "native", "generic", NULL};
	int m = lb_lookup_name(names, s);

	if (m < 0)
		return usage_err("attach help", "--mode: '%s' is not native, generic or auto", s);
	*mode = (enum ctrl_xdp_mode)m;
	return 0;
}

/* Say that <n> severed links of <ifname> were replaced (ctrl_link_prune()'s result). */
static void report_pruned(int n, const char *ifname)
{
	if (n > 0)
		p_info("%s: replaced %d severed link%s (the interface had gone away)", ifname, n,
			n > 1 ? "s" : "");
}

/* Say how <ifname> was attached, in two lines at most: where the dispatcher was not used, why;
 * then the mode and how it was chosen. */
static void report_attach(
	const char *ifname, const struct ctrl_attach_info *in, enum ctrl_xdp_mode asked)
{
	const char *mode = in->generic ? "generic" : "native";

	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "interface", ifname);
		jsonw_string_field(json_wtr, "attach", in->dispatcher ? "libxdp" : "link");
		if (in->dispatcher) {
			jsonw_uint_field(json_wtr, "run_prio", in->run_prio);
			jsonw_int_field(json_wtr, "programs", in->programs);
		} else {
			jsonw_string_field(json_wtr, "reason", in->why);
		}
		jsonw_string_field(json_wtr, "mode", mode);
		jsonw_bool_field(json_wtr, "mode_chosen", asked == CTRL_XDP_AUTO);
		jsonw_bool_field(json_wtr, "replaced", in->replaced);
		jsonw_end_object(json_wtr);
		return;
	}
	if (in->dispatcher)
		p_info("%s: attached through libxdp's dispatcher at run priority %u (%d program%s "
		       "on the interface)",
			ifname, in->run_prio, in->programs, in->programs == 1 ? "" : "s");
	else
		p_info("%s: attached with a plain bpf_link, not libxdp's dispatcher: %s", ifname,
			in->why);
	p_info("%s: %s mode (%s)", ifname, mode,
		asked == CTRL_XDP_AUTO ? "chosen automatically: native where the driver has it" :
					 "as asked");
}

/* pingctl attach --probe: whether libxdp's dispatcher can load here, and if not why. */
static int attach_probe(int argc, char **argv)
{
	char why[192] = "";
	int ok;

	if (argc != 1)
		return usage_err("attach help", "--probe takes no argument");
	libbpf_set_print(NULL);
	ok = ctrl_dispatcher_probe(why, sizeof(why));
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_bool_field(json_wtr, "dispatcher", ok);
		if (!ok)
			jsonw_string_field(json_wtr, "reason", why);
		jsonw_end_object(json_wtr);
	} else if (ok) {
		printf("libxdp dispatcher: loads here\n");
	} else {
		printf("libxdp dispatcher: cannot load here: %s\n", why);
	}
	return 0;
}

int do_attach(int argc, char **argv)
{
	struct ctrl_attach_opts o = {.mode = CTRL_XDP_AUTO};
	struct ctrl_attach_info info;
	const char *egress[16], *val;
	__u32 prio;
	struct ctrl *c;
	int i, n = 0, err;

	if (argc < 1)
		return usage_err("attach help", "missing IFACE");
	if (is_help(argv[0]))
		return attach_help(0, NULL);
	if (!strcmp(argv[0], "--probe"))
		return attach_probe(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--plain-link")) {
			o.plain = true;
			continue;
		}
		val = lb_optarg(argc, argv, &i, "attach help");
		if (!val)
			return -CTL_EUSAGE;
		if (!strcmp(argv[i - 1], "--mode")) {
			err = parse_mode(val, &o.mode);
			if (err)
				return err;
		} else if (!strcmp(argv[i - 1], "--run-prio")) {
			err = lb_parse_u32(val, "run priority", 1, 1000, &prio);
			if (err)
				return err;
			o.run_prio = prio;
		} else if (!strcmp(argv[i - 1], "--egress")) {
			if (n == (int)(sizeof(egress) / sizeof(egress[0])))
				return usage_err("attach help", "too many --egress interfaces");
			egress[n++] = val;
		} else {
			return usage_err("attach help", "unknown option '%s'", argv[i - 1]);
		}
	}
	if (o.plain && o.run_prio)
		return usage_err(
			"attach help", "--run-prio is for libxdp's dispatcher, not --plain-link");
	if (!if_nametoindex(argv[0])) {
		p_err("unknown interface '%s'", argv[0]);
		return -CTL_EUSAGE;
	}
	for (i = 0; i < n; i++) {
		if (!if_nametoindex(egress[i])) {
			p_err("unknown interface '%s'", egress[i]);
			return -CTL_EUSAGE;
		}
	}
	c = lb_open(true, &err);
	if (!c)
		return err;
	report_pruned(ctrl_link_prune(bpffs_dir, CTRL_LINK_XDP, argv[0]), argv[0]);
	/* The first --egress is also the node's egress (gateway-MAC and l2 forwarding); all
	 * are redirect targets for next hops found with the FIB. */
	for (i = 1, err = 0; i < n && !err; i++)
		err = ctrl_tx_port_add(c, egress[i]);
	o.egress = n ? egress[0] : NULL;
	if (!err)
		err = ctrl_attach_opts(c, argv[0], &o, &info);
	if (!err)
		report_attach(argv[0], &info, o.mode);
	else if (err == -EOPNOTSUPP)
		p_err("%s: the driver refuses native XDP; try --mode generic", argv[0]);
	else if (err == -EBUSY || err == -EEXIST)
		p_err("%s: another XDP program is attached without libxdp's dispatcher", argv[0]);
	else
		lb_fail(err, argv[0]);
	ctrl_close(c);
	return err;
}

int do_detach(int argc, char **argv)
{
	struct ctrl *c;
	int err;

	if (argc != 1)
		return usage_err("attach help", "expected IFACE");
	if (is_help(argv[0]))
		return attach_help(0, NULL);
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_detach(c, argv[0]);
	if (err == -ENOENT)
		err = ctrl_dispatch_detach(c, argv[0]);
	/* A pin whose interface is gone is still removed above; without either, say which. */
	if (err == -ENOENT && !if_nametoindex(argv[0]))
		p_err("unknown interface '%s', and no pingx program attached to it", argv[0]);
	else if (err == -ENOENT)
		p_err("%s: no pingx program attached", argv[0]);
	else if (err)
		lb_fail(err, argv[0]);
	ctrl_close(c);
	return err;
}

/* The XDP mode of link <l>: "native" or "generic", or "unknown" when it is severed or lies in
 * another network namespace than ours. */
static const char *link_mode(const struct ctrl_link *l)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (l->severed || !l->here || bpf_xdp_query((int)l->ifindex, 0, &q))
		return "unknown";
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_MULTI:
		return q.drv_prog_id == l->prog_id ? "native" : "generic";
	default:
		return "unknown";
	}
}

/* The inode of the network namespace file <path>, or 0. */
static __u64 ns_inode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u64)st.st_ino;
}

/* A readable name for network namespace <ino>: its name under /run/netns, "init" for the
 * host's, else the inode number; "?" for a link pinned without one. */
static const char *netns_name(__u64 ino, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (!ino)
		return "?";
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (ns_inode(path) == ino) {
			snprintf(buf, len, "%s", de->d_name);
			closedir(d);
			return buf;
		}
	}
	if (d)
		closedir(d);
	if (ns_inode("/proc/1/ns/net") == ino)
		return "init";
	snprintf(buf, len, "%llu", (unsigned long long)ino);
	return buf;
}

/* List the links pinned in the pin directory: one row each, severed ones marked. */
static void status_links(void)
{
	static const char *const kinds[CTRL_LINK_KIND_MAX] = {
		[CTRL_LINK_XDP] = "balancer", [CTRL_LINK_DECAP] = "decap"};
	struct ctrl_link *v = NULL;
	char ns[NAME_MAX + 1];
	size_t n = 0, i;

	if (ctrl_link_list(bpffs_dir, &v, &n))
		n = 0;
	for (i = 0; i < n; i++) {
		const char *state = v[i].severed ? "severed" : "attached";
		const char *name = netns_name(v[i].netns, ns, sizeof(ns));

		if (json_wtr) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "interface", v[i].ifname);
			jsonw_string_field(json_wtr, "netns", name);
			jsonw_uint_field(json_wtr, "netns_inode", v[i].netns);
			jsonw_bool_field(json_wtr, "here", v[i].here);
			jsonw_string_field(json_wtr, "kind", kinds[v[i].kind]);
			jsonw_uint_field(json_wtr, "prog_id", v[i].prog_id);
			jsonw_string_field(json_wtr, "mode", link_mode(&v[i]));
			jsonw_string_field(json_wtr, "state", state);
			jsonw_string_field(json_wtr, "pin", v[i].pin);
			jsonw_end_object(json_wtr);
		} else {
			printf("%-16s %-20s %-8u %-8s %-9s %s\n", v[i].ifname, name, v[i].prog_id,
				link_mode(&v[i]), state, kinds[v[i].kind]);
		}
	}
	free(v);
}

/* List the balancers of <c> that run in a libxdp dispatcher of an interface here. */
static void status_dispatched(struct ctrl *c)
{
	struct ctrl_dispatched *v = NULL;
	char ns[NAME_MAX + 1], kind[64];
	const char *name = netns_name(ns_inode("/proc/thread-self/ns/net"), ns, sizeof(ns));
	size_t n = 0, i;

	if (ctrl_dispatch_list(c, &v, &n))
		n = 0;
	for (i = 0; i < n; i++) {
		const char *mode = v[i].generic ? "generic" : "native";

		if (json_wtr) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "interface", v[i].ifname);
			jsonw_string_field(json_wtr, "netns", name);
			jsonw_bool_field(json_wtr, "here", true);
			jsonw_string_field(json_wtr, "kind", "balancer");
			jsonw_string_field(json_wtr, "attach", "libxdp");
			jsonw_uint_field(json_wtr, "run_prio", v[i].run_prio);
			jsonw_int_field(json_wtr, "programs", v[i].programs);
			jsonw_uint_field(json_wtr, "prog_id", v[i].prog_id);
			jsonw_string_field(json_wtr, "mode", mode);
			jsonw_string_field(json_wtr, "state", "attached");
			jsonw_end_object(json_wtr);
		} else {
			snprintf(kind, sizeof(kind), "balancer (libxdp, priority %u, %d of %d)",
				v[i].run_prio, 1, v[i].programs);
			printf("%-16s %-20s %-8u %-8s %-9s %s\n", v[i].ifname, name, v[i].prog_id,
				mode, "attached", kind);
		}
	}
	free(v);
}

static void status_header(void)
{
	printf("%-16s %-20s %-8s %-8s %-9s %s\n", "INTERFACE", "NETNS", "PROGRAM", "MODE", "STATE",
		"KIND");
}

/* status of a pin directory with links and no balancer maps (a backend's). */
static int status_no_maps(void)
{
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "pin_dir", bpffs_dir);
		jsonw_uint_field(json_wtr, "abi_version", 0);
		jsonw_uint_field(json_wtr, "services", 0);
		jsonw_uint_field(json_wtr, "backends", 0);
		jsonw_uint_field(json_wtr, "flows", 0);
		jsonw_name(json_wtr, "attached");
		jsonw_start_array(json_wtr);
	} else {
		printf("pin directory  %s\nmaps           none (no balancer here)\n", bpffs_dir);
		status_header();
	}
	status_links();
	if (json_wtr) {
		jsonw_end_array(json_wtr);
		jsonw_end_object(json_wtr);
	}
	return 0;
}

int do_status(int argc, char **argv)
{
	struct ctrl_service *svcs = NULL;
	struct ctrl_backend *bes = NULL;
	size_t ns = 0, nb = 0, nf = 0;
	char meta[PATH_MAX];
	struct ctrl *c;
	int err;

	if (argc)
		return usage_err("attach help", "'status' takes no argument");
	/* A backend's pin directory holds decapsulation links and no balancer maps. */
	snprintf(meta, sizeof(meta), "%s/lb_meta", bpffs_dir);
	if (access(meta, F_OK) && errno == ENOENT && ctrl_is_pin_dir(bpffs_dir))
		return status_no_maps();
	c = lb_open(false, &err);
	if (!c)
		return err;
	err = ctrl_svc_list(c, &svcs, &ns);
	if (!err)
		err = ctrl_be_list(c, NULL, &bes, &nb);
	if (!err)
		err = ctrl_ct_count(c, LB_MAX_FLOWS, &nf);
	free(svcs);
	free(bes);
	if (err) {
		ctrl_close(c);
		return lb_fail(err, "status");
	}
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "pin_dir", bpffs_dir);
		jsonw_uint_field(json_wtr, "abi_version", ctrl_abi_version(c));
		jsonw_uint_field(json_wtr, "services", ns);
		jsonw_uint_field(json_wtr, "backends", nb);
		jsonw_uint_field(json_wtr, "flows", nf);
		jsonw_name(json_wtr, "attached");
		jsonw_start_array(json_wtr);
	} else {
		printf("pin directory  %s\nABI version    %u\nservices       %zu\nbackends       "
		       "%zu\nflows          %zu\n",
			bpffs_dir, ctrl_abi_version(c), ns, nb, nf);
		status_header();
	}
	status_links();
	status_dispatched(c);
	if (json_wtr) {
		jsonw_end_array(json_wtr);
		jsonw_end_object(json_wtr);
	}
	ctrl_close(c);
	return 0;
}

static int decap_attach(int argc, char **argv)
{
	enum ctrl_xdp_mode mode = CTRL_XDP_AUTO;
	const char *val;
	__u32 port = 0;
	int i, err;

	if (argc < 1)
		return usage_err("attach help", "missing IFACE");
	for (i = 1; i < argc; i++) {
		val = lb_optarg(argc, argv, &i, "attach help");
		if (!val)
			return -CTL_EUSAGE;
		if (!strcmp(argv[i - 1], "--mode"))
			err = parse_mode(val, &mode);
		else if (!strcmp(argv[i - 1], "--gue-port"))
			err = lb_parse_u32(val, "GUE port", 1, 65535, &port);
		else
			err = usage_err("attach help", "unknown option '%s'", argv[i - 1]);
		if (err)
			return err;
	}
	if (!if_nametoindex(argv[0])) {
		p_err("unknown interface '%s'", argv[0]);
		return -CTL_EUSAGE;
	}
	libbpf_set_print(NULL);
	if (lb_mount_bpffs(bpffs_dir))
		return -errno;
	report_pruned(ctrl_link_prune(bpffs_dir, CTRL_LINK_DECAP, argv[0]), argv[0]);
	err = ctrl_decap_attach(bpffs_dir, argv[0], mode, (__u16)port);
	if (err)
		lb_fail(err, argv[0]);
	return err;
}

static int decap_detach(int argc, char **argv)
{
	int err;

	if (argc != 1)
		return usage_err("attach help", "expected IFACE");
	err = ctrl_decap_detach(bpffs_dir, argv[0]);
	if (err == -ENOENT)
		p_err("%s: no decapsulation program attached", argv[0]);
	else if (err)
		lb_fail(err, argv[0]);
	return err;
}

int do_decap(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{"attach", decap_attach},
		{"detach", decap_detach},
		{"help", attach_help},
		{NULL, NULL},
	};

	return cmd_select(cmds, argc, argv, attach_help);
}

/* Whether <dir> holds pingx pins, directly or in a subdirectory (the decapsulation pin
 * directories of a test bed, one per backend). */
static bool holds_pins(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool found;
	DIR *d;

	if (ctrl_is_pin_dir(dir))
		return true;
	d = opendir(dir);
	if (!d)
		return false;
	for (found = false; !found && (de = readdir(d));) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		found = ctrl_is_pin_dir(path);
	}
	closedir(d);
	return found;
}

/* Unload <dir>, adding what was removed to <sum>; prints a failure. */
static int unload_one(const char *dir, struct ctrl_unload_stats *sum)
{
	struct ctrl_unload_stats st;
	struct ctrl_dispatched *v = NULL;
	struct ctrl *c;
	size_t n = 0, i;
	int err;

	/* Balancers in a libxdp dispatcher first: they hold no pin of ours. */
	c = ctrl_open(dir, 0);
	if (c && !ctrl_dispatch_list(c, &v, &n)) {
		for (i = 0; i < n; i++)
			if (!ctrl_dispatch_detach(c, v[i].ifname))
				sum->links++;
	}
	free(v);
	if (c)
		ctrl_close(c);
	err = ctrl_unload(dir, &st);
	sum->links += st.links;
	sum->pins += st.pins;
	sum->dirs += st.dirs;
	sum->kept += st.kept;
	if (err && err != -ENOENT)
		lb_fail(err, dir);
	if (st.kept)
		p_info("%s: left %u file%s that pingx did not make", dir, st.kept,
			st.kept > 1 ? "s" : "");
	return err == -ENOENT ? 0 : err;
}

/* pingctl unload [--all]: everything pingx left in the kernel under the pin directory (or
 * under every pingx pin directory of the bpffs mount) goes: links, and with them their
 * programs, and pins. */
int do_unload(int argc, char **argv)
{
	struct ctrl_unload_stats sum = {};
	char path[PATH_MAX];
	struct dirent *de;
	bool all = false;
	int err = 0, e;
	DIR *d;

	if (argc == 1 && is_help(argv[0]))
		return attach_help(0, NULL);
	if (argc == 1 && !strcmp(argv[0], "--all"))
		all = true;
	else if (argc)
		return usage_err("attach help", "'unload' takes only --all");
	if (geteuid() != 0) {
		p_err("%s: pingctl needs root, or CAP_BPF and CAP_NET_ADMIN", bpffs_dir);
		return -EPERM;
	}
	if (!all) {
		if (access(bpffs_dir, F_OK)) {
			p_info("%s: nothing to unload", bpffs_dir);
		} else if (!holds_pins(bpffs_dir)) {
			p_err("%s holds no pingx pins: not removing it", bpffs_dir);
			return -ENOENT;
		} else {
			err = unload_one(bpffs_dir, &sum);
		}
	} else {
		d = opendir(PINGX_BPF_DIR_MNT);
		while (d && (de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", PINGX_BPF_DIR_MNT, de->d_name);
			if (!holds_pins(path))
				continue;
			e = unload_one(path, &sum);
			if (e && !err)
				err = e;
		}
		if (d)
			closedir(d);
	}
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_uint_field(json_wtr, "links", sum.links);
		jsonw_uint_field(json_wtr, "pins", sum.pins);
		jsonw_uint_field(json_wtr, "directories", sum.dirs);
		jsonw_uint_field(json_wtr, "kept", sum.kept);
		jsonw_end_object(json_wtr);
	} else {
		printf("detached %u link%s, removed %u pin%s and %u director%s\n", sum.links,
			sum.links == 1 ? "" : "s", sum.pins, sum.pins == 1 ? "" : "s", sum.dirs,
			sum.dirs == 1 ? "y" : "ies");
	}
	return err;
}
