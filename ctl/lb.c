// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by pingctl's data-plane objects. */
#include "ctl/lb.h"

#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include <arpa/inet.h>

#include <bpf/libbpf.h>

#include "ctl/main.h"

const char *const lb_mode_names[] = {[LB_MODE_L4] = "l4", [LB_MODE_L7] = "l7", NULL};
const char *const lb_algo_names[] = {
	[LB_ALGO_MAGLEV] = "maglev", [LB_ALGO_KETAMA] = "ketama", NULL};
const char *const lb_fwd_names[] = {
	[LB_FWD_IPIP] = "ipip", [LB_FWD_GUE] = "gue", [LB_FWD_L2] = "l2", NULL};
const char *const lb_state_names[] = {[LB_BE_FREE] = "free",
	[LB_BE_UP] = "up",
	[LB_BE_DRAIN] = "drain",
	[LB_BE_DOWN] = "down",
	NULL};

int lb_lookup_name(const char *const *names, const char *s)
{
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

int lb_fail(int err, const char *what)
{
	if (err == -EPERM || err == -EACCES)
		p_err("%s: pingctl needs root, or CAP_BPF and CAP_NET_ADMIN", what);
	else
		p_err("%s: %s", what, strerror(-err));
	return err;
}

/* libbpf's messages: warnings show with -v, everything (verifier logs) with -vv. */
__attribute__((format(printf, 2, 0))) static int libbpf_print(
	enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (verbose < (level == LIBBPF_WARN ? 1 : 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Whether <path>, or its nearest existing ancestor, lies on a BPF filesystem. Unknown (a
 * permission problem, say) counts as yes: the open that follows reports the real cause. */
static bool on_bpffs(const char *path)
{
	char buf[PATH_MAX], *slash;
	struct statfs st;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		if (!statfs(buf, &st))
			return st.f_type == BPF_FS_MAGIC;
		if (errno != ENOENT)
			return true;
		slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return false;
		*slash = '\0';
	}
}

int lb_mount_bpffs(const char *dir)
{
	int r = ctrl_bpffs_ensure(dir);

	if (r < 0) {
		p_err("bpffs is not mounted at %s and mounting it failed: %s", PINGX_BPF_DIR_MNT,
			strerror(-r));
		errno = -r;
		return -1;
	}
	if (r > 0)
		p_info("mounted bpffs at %s", PINGX_BPF_DIR_MNT);
	return 0;
}

struct ctrl *lb_open(bool create, int *err)
{
	size_t mnt_len = strlen(PINGX_BPF_DIR_MNT);
	bool under_mnt;
	struct ctrl *c;

	libbpf_set_print(libbpf_print);
	under_mnt = !strncmp(bpffs_dir, PINGX_BPF_DIR_MNT, mnt_len) &&
		    (bpffs_dir[mnt_len] == '/' || !bpffs_dir[mnt_len]);
	if (create && under_mnt && lb_mount_bpffs(bpffs_dir)) {
		*err = -errno;
		return NULL;
	}
	if (!on_bpffs(bpffs_dir)) {
		*err = -ENODEV;
		if (under_mnt)
			p_err("bpffs is not mounted at %s: mount -t bpf bpf %s", PINGX_BPF_DIR_MNT,
				PINGX_BPF_DIR_MNT);
		else
			p_err("%s is not on a bpffs mount: choose a --bpffs directory on one",
				bpffs_dir);
		return NULL;
	}
	c = ctrl_open(bpffs_dir, create ? CTRL_F_CREATE : 0);

	if (c)
		return c;
	*err = -errno;
	if (*err == -ENOENT)
		p_err("no pingx maps in %s: add a service or attach first", bpffs_dir);
	else if (*err == -EPROTO)
		p_err("the maps in %s have another ABI version than this pingctl (%d): detach, "
		      "remove them and attach again",
			bpffs_dir, LB_ABI_VERSION);
	else
		lb_fail(*err, bpffs_dir);
	return NULL;
}

int lb_parse_service(const char *text, struct lb_svc_key *key)
{
	char err[128];
	__u16 port;
	int r;

	memset(key, 0, sizeof(*key));
	r = ctrl_parse_endpoint(
		text, true, &key->family, &key->addr, &port, &key->proto, err, sizeof(err));
	if (r) {
		p_err("invalid service %s", err);
		return -CTL_EUSAGE;
	}
	key->port = htons(port);
	return 0;
}

int lb_parse_mac(const char *text, __u8 *mac)
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		    &tail) != 6) {
		p_err("invalid MAC address '%s': expected aa:bb:cc:dd:ee:ff", text);
		return -CTL_EUSAGE;
	}
	for (i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return 0;
}

int lb_parse_u32(
	const char *text, const char *what, unsigned long min, unsigned long max, __u32 *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (!*text || *end || errno || v < min || v > max || *text == '-') {
		p_err("invalid %s '%s': expected %lu..%lu", what, text, min, max);
		return -CTL_EUSAGE;
	}
	*out = (__u32)v;
	return 0;
}

const char *lb_optarg(int argc, char **argv, int *i, const char *help_cmd)
{
	if (*i + 1 >= argc) {
		usage_err(help_cmd, "option '%s' needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}
