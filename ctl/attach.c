// SPDX-License-Identifier: GPL-2.0
/* pingctl attach, detach, status and decap: the XDP programs on interfaces. */
#include "ctl/main.h"

#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl/lb.h"

static int attach_help(int argc, char **argv)
{
	printf("Usage: %s attach IFACE [--mode native|generic|auto] [--egress IFACE]...\n"
	       "       %s detach IFACE\n"
	       "       %s status\n"
	       "       %s decap { attach IFACE [--mode M] [--gue-port PORT] | detach IFACE }\n"
	       "\n"
	       "attach loads the balancer with its maps pinned in the pin directory (--bpffs) and\n"
	       "pins its bpf_link there; attaching again replaces the program and keeps the\n"
	       "maps and their flows. --egress adds an interface for XDP_REDIRECT (the first\n"
	       "is also where gateway-MAC and l2 forwarding send packets).\n",
		bin_name, bin_name, bin_name, bin_name);
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

int do_attach(int argc, char **argv)
{
	enum ctrl_xdp_mode mode = CTRL_XDP_AUTO;
	const char *egress[16], *val;
	struct ctrl *c;
	int i, n = 0, err;

	if (argc < 1)
		return usage_err("attach help", "missing IFACE");
	if (is_help(argv[0]))
		return attach_help(0, NULL);
	for (i = 1; i < argc; i++) {
		val = lb_optarg(argc, argv, &i, "attach help");
		if (!val)
			return -CTL_EUSAGE;
		if (!strcmp(argv[i - 1], "--mode")) {
			err = parse_mode(val, &mode);
			if (err)
				return err;
		} else if (!strcmp(argv[i - 1], "--egress")) {
			if (n == (int)(sizeof(egress) / sizeof(egress[0])))
				return usage_err("attach help", "too many --egress interfaces");
			egress[n++] = val;
		} else {
			return usage_err("attach help", "unknown option '%s'", argv[i - 1]);
		}
	}
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
	/* The first --egress is also the node's egress (gateway-MAC and l2 forwarding); all
	 * are redirect targets for next hops found with the FIB. */
	for (i = 1, err = 0; i < n && !err; i++)
		err = ctrl_tx_port_add(c, egress[i]);
	if (!err)
		err = ctrl_attach(c, argv[0], mode, n ? egress[0] : NULL);
	if (err == -EOPNOTSUPP)
		p_err("%s: the driver refuses native XDP; try --mode generic", argv[0]);
	else if (err == -EBUSY || err == -EEXIST)
		p_err("%s: another XDP program is attached", argv[0]);
	else if (err)
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

/* The XDP mode of the link <info> pinned for <ifname>: "native" or "generic", or "unknown"
 * when the interface lies in another network namespace than ours. */
static const char *link_mode(const struct bpf_link_info *info, const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[IF_NAMESIZE];

	if (!info->prog_id || !if_indextoname(info->xdp.ifindex, name) || strcmp(name, ifname) ||
		bpf_xdp_query((int)info->xdp.ifindex, 0, &q))
		return "unknown";
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_MULTI:
		return q.drv_prog_id == info->prog_id ? "native" : "generic";
	default:
		return "unknown";
	}
}

int do_status(int argc, char **argv)
{
	struct ctrl_service *svcs = NULL;
	struct ctrl_backend *bes = NULL;
	size_t ns = 0, nb = 0, nf = 0;
	struct dirent *de;
	struct ctrl *c;
	DIR *d;
	int err;

	if (argc)
		return usage_err("attach help", "'status' takes no argument");
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
		printf("%-16s %-8s %-8s %s\n", "INTERFACE", "PROGRAM", "MODE", "KIND");
	}
	d = opendir(bpffs_dir);
	while (d && (de = readdir(d))) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		char path[PATH_MAX];
		const char *kind = NULL, *ifname, *mode;
		int fd;

		if (!strncmp(de->d_name, "link_xdp_", 9))
			kind = "balancer";
		else if (!strncmp(de->d_name, "link_decap_", 11))
			kind = "decap";
		if (!kind)
			continue;
		ifname = strchr(de->d_name + 5, '_') + 1;
		snprintf(path, sizeof(path), "%s/%s", bpffs_dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			info.prog_id = 0;
		if (fd >= 0)
			close(fd);
		mode = link_mode(&info, ifname);
		if (json_wtr) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "interface", ifname);
			jsonw_string_field(json_wtr, "kind", kind);
			jsonw_uint_field(json_wtr, "prog_id", info.prog_id);
			jsonw_string_field(json_wtr, "mode", mode);
			jsonw_end_object(json_wtr);
		} else {
			printf("%-16s %-8u %-8s %s\n", ifname, info.prog_id, mode, kind);
		}
	}
	if (d)
		closedir(d);
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
