// SPDX-License-Identifier: GPL-2.0
/* pingx-bpf-test: loads the XDP programs with their maps pinned in a private directory, then
 * runs every fixture through BPF_PROG_TEST_RUN and checks verdicts, bytes and counters.
 * Appends "bpf PASSED FAILED SKIPPED" to $PINGX_RESULTS. Usage: pingx-bpf-test [NAME...] */
#include "tests/bpf/env.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/hash.h"
#include "bpf/decap.skel.h"
#include "bpf/lb.skel.h"
#include "userspace/ctrl/flowtab.h"

const uint8_t MAC_CLIENT[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t MAC_LB[6] = {0x02, 0, 0, 0, 0, 0x02};
const uint8_t MAC_GW[6] = {0x02, 0, 0, 0, 0, 0xfe};
const char *const BE4[3] = {"198.51.100.10", "198.51.100.11", "198.51.100.12"};
const char *const BE6[3] = {"2001:db8:be::10", "2001:db8:be::11", "2001:db8:be::12"};

struct env E;
int check_failed;
char test_pin_dir[96];
static int verbose;

__attribute__((format(printf, 2, 0))) static int libbpf_print(
	enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int addr_parse(int family, const char *text, union lb_addr *a)
{
	memset(a, 0, sizeof(*a));
	return inet_pton(family == 4 ? AF_INET : AF_INET6, text, a->bytes) == 1 ? 0 : -EINVAL;
}

void node_default(struct lb_node *n)
{
	memset(n, 0, sizeof(*n));
	addr_parse(4, LBSRC4, &n->src4);
	addr_parse(6, LBSRC6, &n->src6);
	memcpy(n->gw_mac, MAC_GW, 6);
	n->flags = LB_NODE_F_GW_MAC;
	n->hash_seed = SEED;
	n->ct_seed = CT_SEED;
}

/* Write <n> with LB_NODE_F_ALL_PORTS set when a service has port 0, as the control plane
 * keeps it. */
static int node_write(const struct lb_node *n)
{
	struct lb_svc_key k, next;
	struct lb_node v = *n;
	void *prev = NULL;
	__u32 zero = 0;

	v.flags &= (__u8)~LB_NODE_F_ALL_PORTS;
	while (!bpf_map_get_next_key(E.services, prev, &next)) {
		if (!next.port)
			v.flags |= LB_NODE_F_ALL_PORTS;
		k = next;
		prev = &k;
	}
	return bpf_map_update_elem(E.node, &zero, &v, BPF_ANY);
}

/* Recompute LB_NODE_F_ALL_PORTS after a change of the services. */
static int node_sync(void)
{
	struct lb_node n;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(E.node, &zero, &n))
		return -1;
	return node_write(&n);
}

int node_set(const struct lb_node *n)
{
	int err = node_write(n);

	CHECK(!err, "lb_node update: %s", strerror(errno));
	return err;
}

static void svc_key(struct lb_svc_key *k, int family, const char *vip, uint16_t port, uint8_t proto)
{
	memset(k, 0, sizeof(*k));
	addr_parse(family, vip, &k->addr);
	k->port = htons(port);
	k->proto = proto;
	k->family = family == 4 ? LB_AF_INET : LB_AF_INET6;
}

int vip_bit_set(const union lb_addr *a, bool on)
{
	uint32_t bit = hash_vip_bit(a), w = bit / 64;
	struct lb_vip_word v;

	if (bpf_map_lookup_elem(E.vip_filter, &w, &v))
		return -1;
	if (on)
		v.bits |= 1ull << (bit % 64);
	else
		v.bits &= ~(1ull << (bit % 64));
	return bpf_map_update_elem(E.vip_filter, &w, &v, BPF_ANY);
}

/* Copy <e> into every backend of service <id> (lb_backend.vip), as the control plane does. */
static int be_vip_sync(uint32_t id, const struct lb_svc_ent *e)
{
	struct lb_backend b;
	uint32_t i;

	for (i = 0; i < 256; i++) {
		if (bpf_map_lookup_elem(E.backends, &i, &b) || !b.family || b.svc != id)
			continue;
		b.vip = *e;
		if (bpf_map_update_elem(E.backends, &i, &b, BPF_ANY))
			return -1;
	}
	return 0;
}

int svc_add(int family, const char *vip, uint16_t port, uint8_t proto, uint32_t id, uint8_t mode,
	uint8_t algo, uint8_t fwd, uint8_t flags)
{
	struct lb_svc_key k;
	struct lb_svc v = {.id = id,
		.table_size = TBL_M,
		.mode = mode,
		.algo = algo,
		.fwd = fwd,
		.flags = flags};
	int err;

	svc_key(&k, family, vip, port, proto);
	err = vip_bit_set(&k.addr, true);
	if (!err)
		err = bpf_map_update_elem(E.services, &k, &v, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(
			E.svc_by_id, &id, &(struct lb_svc_ent){.key = k, .svc = v}, BPF_ANY);
	if (!err)
		err = be_vip_sync(id, &(struct lb_svc_ent){.key = k, .svc = v});
	if (!err)
		err = node_sync();
	CHECK(!err, "lb_services update: %s", strerror(errno));
	return err;
}

int svc_del(int family, const char *vip, uint16_t port, uint8_t proto)
{
	struct lb_svc_key k;

	struct lb_svc v;

	svc_key(&k, family, vip, port, proto);
	if (bpf_map_lookup_elem(E.services, &k, &v) || be_vip_sync(v.id, &(struct lb_svc_ent){}) ||
		bpf_map_update_elem(E.svc_by_id, &v.id, &(struct lb_svc_ent){}, BPF_ANY) ||
		bpf_map_delete_elem(E.services, &k))
		return -1;
	return node_sync();
}

int be_set(uint32_t id, int family, const char *addr, uint32_t svc, uint8_t state, uint32_t weight)
{
	struct lb_backend b = {.family = family == 4 ? LB_AF_INET : LB_AF_INET6,
		.state = state,
		.weight = weight,
		.svc = svc};
	int err;

	addr_parse(family, addr, &b.addr);
	b.port = htons(80);
	b.mac[0] = 0x02;
	b.mac[4] = 0xbe;
	b.mac[5] = (uint8_t)id;
	/* The service's entry, as the control plane copies it (none when not added yet). */
	(void)bpf_map_lookup_elem(E.svc_by_id, &svc, &b.vip);
	err = bpf_map_update_elem(E.backends, &id, &b, BPF_ANY);
	CHECK(!err, "lb_backends update: %s", strerror(errno));
	return err;
}

/* Publish a fresh inner array into <outer> at <svc>; the inner fd is closed after the
 * update, the outer map keeps the array alive. */
static int publish(int outer, uint32_t svc, uint32_t value_size, uint32_t entries, const void *vals)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_INNER_MAP);
	int fd, err = 0;
	uint32_t i;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lb_test_inner", 4, value_size, entries, &o);
	if (fd < 0) {
		CHECK(0, "inner map create: %s", strerror(errno));
		return -errno;
	}
	for (i = 0; i < entries && !err; i++)
		err = bpf_map_update_elem(
			fd, &i, (const char *)vals + (size_t)i * value_size, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(outer, &svc, &fd, BPF_ANY);
	CHECK(!err, "publish: %s", strerror(errno));
	close(fd);
	return err;
}

int mg_publish(uint32_t svc, const uint32_t *ids, size_t n)
{
	struct lb_mg_slot slots[TBL_M];
	uint32_t i;

	for (i = 0; i < TBL_M; i++)
		slots[i].backend = ids[i % n];
	return publish(E.maglev, svc, sizeof(slots[0]), TBL_M, slots);
}

int ring_publish(uint32_t svc, const struct lb_ring_point *pts, uint32_t n)
{
	struct lb_ring_point all[64] = {{.hash = n}};

	if (n >= 64)
		return -E2BIG;
	memcpy(all + 1, pts, n * sizeof(*pts));
	return publish(E.ring, svc, sizeof(all[0]), n + 1, all);
}

void flow_of(const struct pkt_spec *s, struct lb_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	addr_parse(s->family, s->src, &key->src);
	addr_parse(s->family, s->dst, &key->dst);
	key->sport = htons(s->sport);
	key->dport = htons(s->dport);
	key->proto = s->proto;
	key->family = s->family == 4 ? LB_AF_INET : LB_AF_INET6;
}

uint32_t flow_hash(const struct lb_flow_key *key, bool src_only)
{
	return hash_flow(key, SEED, src_only);
}

uint32_t mg_expect(const struct lb_flow_key *key, const uint32_t *ids, size_t n, bool src_only)
{
	return ids[hash_slot(flow_hash(key, src_only), TBL_M) % n];
}

int run(int prog, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		.data_out = out, .data_size_out = PKT_MAX, .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(prog, &o);
	if (err) {
		CHECK(0, "BPF_PROG_TEST_RUN (len %zu): %s", len, strerror(errno));
		return -1;
	}
	*out_len = o.data_size_out;
	return (int)o.retval;
}

static void percpu_sum(int map, uint32_t key, size_t nwords, uint64_t *sum)
{
	uint64_t vals[E.ncpu * nwords];
	size_t c, w;

	memset(sum, 0, nwords * 8);
	if (bpf_map_lookup_elem(map, &key, vals)) {
		CHECK(0, "per-CPU lookup: %s", strerror(errno));
		return;
	}
	for (c = 0; c < (size_t)E.ncpu; c++)
		for (w = 0; w < nwords; w++)
			sum[w] += vals[c * nwords + w];
}

uint64_t reason_count(enum lb_reason r)
{
	uint64_t v, redirect;
	uint32_t i;

	percpu_sum(E.reasons, r, 1, &v);
	if (r != LB_FWD_TX)
		return v;
	/* The program counts a forwarded packet only for its backend: fwd_tx is what the
	 * backends forwarded less the redirects, as the control plane derives it. */
	for (i = 0; i < LB_MAX_REALS; i++)
		v += be_stats(i).packets;
	percpu_sum(E.reasons, LB_FWD_REDIRECT, 1, &redirect);
	return v - redirect;
}

/* A service's totals, derived from its backends' counters as the control plane does. */
struct lb_stats svc_stats(uint32_t id)
{
	struct lb_stats s, b;
	struct lb_backend be;
	uint32_t i;

	percpu_sum(E.svc_stats, id, 3, (uint64_t *)&s);
	for (i = 0; i < LB_MAX_REALS; i++) {
		if (bpf_map_lookup_elem(E.backends, &i, &be) || !be.family || be.svc != id)
			continue;
		b = be_stats(i);
		s.packets += b.packets;
		s.bytes += b.bytes;
		s.new_flows += b.new_flows;
	}
	return s;
}

struct lb_stats be_stats(uint32_t id)
{
	struct lb_stats s;

	percpu_sum(E.be_stats, id, 3, (uint64_t *)&s);
	return s;
}

void guard_set(uint64_t window_end, uint64_t inserts, uint64_t refused)
{
	struct lb_guard *v = calloc((size_t)E.ncpu, sizeof(*v));
	uint32_t zero = 0;
	int c;

	CHECK(v, "out of memory");
	if (!v)
		return;
	for (c = 0; c < E.ncpu; c++)
		v[c] = (struct lb_guard){window_end, inserts, refused};
	CHECK(!bpf_map_update_elem(E.guard, &zero, v, BPF_ANY), "lb_guard: %s", strerror(errno));
	free(v);
}

void guard_freeze(void)
{
	/* A window that ends in ~146 years of uptime: the fixture sees one window only. */
	guard_set(1ull << 62, 0, 0);
}

uint64_t guard_refused(void)
{
	struct lb_guard g;

	percpu_sum(E.guard, 0, 3, (uint64_t *)&g);
	return g.refused;
}

/* The flow tables, with the seed lb_node holds now (the program's). */
static struct flowtab ct_tables(void)
{
	struct lb_node n = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(E.node, &zero, &n);
	return (struct flowtab){.fd4 = E.ct4, .fd6 = E.ct, .seed = n.ct_seed};
}

uint64_t ct_seed(void)
{
	return ct_tables().seed;
}

bool ct_get(const struct lb_flow_key *key, struct lb_flow *val)
{
	struct flowtab t = ct_tables();

	return flowtab_get(&t, key, val) == 0;
}

int ct_put(const struct lb_flow_key *key, const struct lb_flow *val, __u64 flags)
{
	struct lb_flow old;

	struct flowtab t = ct_tables();

	if (flags == BPF_EXIST && !ct_get(key, &old))
		return -ENOENT;
	return flowtab_put(&t, key, val, true);
}

void ct_del(const struct lb_flow_key *key)
{
	struct flowtab t = ct_tables();

	flowtab_del(&t, key);
}

static int ct_count_one(const struct lb_flow_key *k, const struct lb_flow *val, void *arg)
{
	(void)k;
	(void)val;
	(*(int *)arg)++;
	return 0;
}

int ct_count(void)
{
	struct flowtab t = ct_tables();
	int n = 0;

	flowtab_walk(&t, ct_count_one, &n);
	return n;
}

bool same_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	size_t i;

	if (got_len != want_len) {
		CHECK(0, "length %zu, want %zu", got_len, want_len);
		return false;
	}
	for (i = 0; i < got_len; i++) {
		if (got[i] != want[i]) {
			CHECK(0, "byte %zu is %02x, want %02x", i, got[i], want[i]);
			return false;
		}
	}
	return true;
}

/* Empty every map so that each fixture starts from nothing. */
static void clear_map(int fd, size_t key_size)
{
	uint8_t k[64], next[64];
	void *prev = NULL;
	int guard = 0;

	while (!bpf_map_get_next_key(fd, prev, next) && guard++ < 1000000) {
		memcpy(k, next, key_size);
		if (bpf_map_delete_elem(fd, k))
			prev = k; /* arrays cannot delete: skip past */
	}
}

static void zero_array(int fd, uint32_t entries, size_t value_size)
{
	void *zero = calloc(E.ncpu ? (size_t)E.ncpu : 1, value_size);
	uint32_t i;

	for (i = 0; i < entries; i++)
		bpf_map_update_elem(fd, &i, zero, BPF_ANY);
	free(zero);
}

/* The lb_deny key of <addr>/<plen>, host bits cleared. */
static void deny_key(int family, const char *addr, uint8_t plen, struct lb_deny_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = family == 4 ? LB_AF_INET : LB_AF_INET6;
	k->plen = plen;
	inet_pton(family == 4 ? AF_INET : AF_INET6, addr, k->addr.bytes);
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int keep = plen > i * 8 ? plen - i * 8 : 0;

		if (keep < 8)
			k->addr.bytes[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int deny_set(int family, const char *addr, uint8_t plen, uint64_t expires, uint8_t reason,
	bool unlisted)
{
	struct lb_deny d = {.expires = expires, .reason = reason};
	struct lb_deny_plens pl = {};
	struct lb_deny_key k;
	uint32_t zero = 0;
	int err;

	deny_key(family, addr, plen, &k);
	err = bpf_map_update_elem(E.deny, &k, &d, BPF_ANY) ? -errno : 0;
	CHECK(!err, "lb_deny update: %d", err);
	if (!err) {
		uint32_t bit = hash_deny_bit(&k.addr, k.plen), w = bit / 64;
		struct lb_deny_word v = {};

		bpf_map_lookup_elem(E.deny_filter, &w, &v);
		v.bits |= 1ull << (bit % 64);
		err = bpf_map_update_elem(E.deny_filter, &w, &v, BPF_ANY) ? -errno : 0;
		CHECK(!err, "lb_deny_filter update: %d", err);
	}
	if (err || unlisted)
		return err;
	bpf_map_lookup_elem(E.deny_plens, &zero, &pl);
	if (family == 4)
		pl.v4[pl.n4++] = plen;
	else
		pl.v6[pl.n6++] = plen;
	err = bpf_map_update_elem(E.deny_plens, &zero, &pl, BPF_ANY) ? -errno : 0;
	CHECK(!err, "lb_deny_plens update: %d", err);
	return err;
}

bool deny_get(int family, const char *addr, uint8_t plen, struct lb_deny *out)
{
	struct lb_deny_key k;

	deny_key(family, addr, plen, &k);
	return !bpf_map_lookup_elem(E.deny, &k, out);
}

void env_reset(void)
{
	struct lb_backend none = {};
	struct lb_node n;
	uint32_t i;

	clear_map(E.services, sizeof(struct lb_svc_key));
	zero_array(E.svc_by_id, LB_MAX_VIPS, sizeof(struct lb_svc_ent));
	flowtab_clear(&(struct flowtab){.fd4 = E.ct4, .fd6 = E.ct});
	for (i = 0; i < LB_MAX_VIPS; i++) {
		bpf_map_delete_elem(E.maglev, &i);
		bpf_map_delete_elem(E.ring, &i);
	}
	for (i = 0; i < LB_MAX_REALS; i++)
		bpf_map_update_elem(E.backends, &i, &none, BPF_ANY);
	zero_array(E.svc_stats, 8, sizeof(struct lb_stats));
	zero_array(E.be_stats, 256, sizeof(struct lb_stats));
	zero_array(E.reasons, LB_REASON_MAX, sizeof(struct lb_reason_ctr));
	zero_array(E.guard, 1, sizeof(struct lb_guard));
	zero_array(E.vip_filter, LB_VIP_FILTER_WORDS, sizeof(struct lb_vip_word));
	clear_map(E.tx, 4);
	clear_map(E.deny, sizeof(struct lb_deny_key));
	zero_array(E.deny_plens, 1, sizeof(struct lb_deny_plens));
	zero_array(E.deny_filter, LB_DENY_FILTER_WORDS, sizeof(struct lb_deny_word));
	zero_array(E.deny_last, 1, sizeof(struct lb_deny_last));
	zero_array(E.src_rate, LB_MAX_VIPS, sizeof(struct lb_src_rate));
	clear_map(E.src_bucket, sizeof(struct lb_src_key));
	node_default(&n);
	node_set(&n);
}

/* Mount the BPF filesystem at PINGX_BPF_DIR_MNT unless one is there. */
static int bpffs_ensure(void)
{
	struct statfs st;

	if (statfs(PINGX_BPF_DIR_MNT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", PINGX_BPF_DIR_MNT, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

/* Unpin everything in <dir> (maps pinned by name), then remove it. */
static int pin_dir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0))
			err = -errno;
	closedir(d);
	if (rmdir(dir))
		err = -errno;
	return err;
}

/* Name a failed fixture in $PINGX_FAILURES, which tests/run.sh repeats after its summary. */
static void record_failure(const char *name)
{
	const char *path = getenv("PINGX_FAILURES");
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "bpf:%s (its checks are printed above, under its name)\n", name);
	fclose(f);
}

static void results(int passed, int failed, int skipped)
{
	const char *path = getenv("PINGX_RESULTS");
	FILE *f;

	printf("-- bpf: %d ok, %d failing, %d skipped\n", passed, failed, skipped);
	if (!path)
		return;
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "bpf %d %d %d\n", passed, failed, skipped);
	fclose(f);
}

static bool selected(int argc, char **argv, const char *name)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	char *pin = test_pin_dir;
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin);
	struct decap_bpf *dc = NULL;
	struct lb_bpf *lb = NULL;
	int passed = 0, failed = 0, err, n;
	const struct fixture *f;
	const struct fixture *const tables[] = {fixtures, ctrl_fixtures};
	struct timespec t0, t1;
	size_t t;
	int i;
	struct lb_meta meta = {.abi_version = LB_ABI_VERSION};
	__u32 zero = 0;

	if (getenv("PINGX_VERBOSE"))
		verbose = atoi(getenv("PINGX_VERBOSE"));
	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("bpf: needs root (CAP_BPF, CAP_NET_ADMIN); skipped\n");
		for (n = 0; fixtures[n].name; n++)
			;
		for (i = 0; ctrl_fixtures[i].name; i++)
			n++;
		results(0, 0, n);
		return 0;
	}
	/* A private network namespace: bpf_fib_lookup() sees no host routes, and the veth pair
	 * the redirect fixture needs vanishes with the process. */
	if (unshare(CLONE_NEWNET) ||
		system("ip link set lo up && ip link add pxt0 type veth peer name pxt1 && "
		       "ip link set pxt0 up && ip link set pxt1 up") != 0) {
		fprintf(stderr, "bpf: cannot set up a private network namespace\n");
		results(0, 1, 0);
		return 1;
	}
	err = bpffs_ensure();
	if (err) {
		fprintf(stderr, "bpf: cannot mount bpffs at %s: %s\n", PINGX_BPF_DIR_MNT,
			strerror(-err));
		results(0, 1, 0);
		return 1;
	}
	snprintf(pin, sizeof(test_pin_dir), "%s/pingx-test-%d", PINGX_BPF_DIR_MNT, (int)getpid());
	if (mkdir(pin, 0700) && errno != EEXIST) {
		fprintf(stderr, "bpf: mkdir %s: %s\n", pin, strerror(errno));
		results(0, 1, 0);
		return 1;
	}
	lb = lb_bpf__open_opts(&oo);
	err = lb ? lb_bpf__load(lb) : -errno;
	if (!err) {
		dc = decap_bpf__open_opts(&oo);
		err = dc ? decap_bpf__load(dc) : -errno;
	}
	if (err) {
		fprintf(stderr,
			"bpf: loading the programs failed: %s (PINGX_VERBOSE=2 shows the "
			"verifier log)\n",
			strerror(err < 0 ? -err : err));
		failed = 1;
		goto out;
	}
	E.prog = bpf_program__fd(lb->progs.lb_xdp);
	E.decap_prog = bpf_program__fd(dc->progs.lb_decap);
	E.meta = bpf_map__fd(lb->maps.lb_meta);
	E.node = bpf_map__fd(lb->maps.lb_node);
	E.services = bpf_map__fd(lb->maps.lb_services);
	E.svc_by_id = bpf_map__fd(lb->maps.lb_svc_by_id);
	E.backends = bpf_map__fd(lb->maps.lb_backends);
	E.maglev = bpf_map__fd(lb->maps.lb_maglev);
	E.ring = bpf_map__fd(lb->maps.lb_ring);
	E.ct = bpf_map__fd(lb->maps.lb_conntrack);
	E.ct4 = bpf_map__fd(lb->maps.lb_conntrack4);
	E.svc_stats = bpf_map__fd(lb->maps.lb_svc_stats);
	E.be_stats = bpf_map__fd(lb->maps.lb_be_stats);
	E.reasons = bpf_map__fd(lb->maps.lb_reasons);
	E.guard = bpf_map__fd(lb->maps.lb_guard);
	E.vip_filter = bpf_map__fd(lb->maps.lb_vip_filter);
	E.tx = bpf_map__fd(lb->maps.lb_tx_ports);
	E.deny = bpf_map__fd(lb->maps.lb_deny);
	E.deny_plens = bpf_map__fd(lb->maps.lb_deny_plens);
	E.deny_filter = bpf_map__fd(lb->maps.lb_deny_filter);
	E.deny_last = bpf_map__fd(lb->maps.lb_deny_last);
	E.src_rate = bpf_map__fd(lb->maps.lb_src_rate);
	E.src_bucket = bpf_map__fd(lb->maps.lb_src_bucket);
	E.decap_stats = bpf_map__fd(dc->maps.lb_decap_stats);
	E.ncpu = libbpf_num_possible_cpus();
	bpf_map_update_elem(E.meta, &zero, &meta, BPF_ANY);

	for (t = 0; t < 2; t++)
		for (f = tables[t]; f->name; f++) {
			if (!selected(argc, argv, f->name))
				continue;
			printf(" %-50s ", f->name);
			check_failed = 0;
			env_reset();
			clock_gettime(CLOCK_MONOTONIC, &t0);
			f->fn();
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (verbose)
				printf("(%.0f ms) ", (t1.tv_sec - t0.tv_sec) * 1e3 +
							     (t1.tv_nsec - t0.tv_nsec) / 1e6);
			if (check_failed) {
				printf("\n %-50s FAIL\n", "");
				record_failure(f->name);
				failed++;
			} else {
				printf("ok\n");
				passed++;
			}
		}
out:
	decap_bpf__destroy(dc);
	lb_bpf__destroy(lb);
	if (pin_dir_remove(pin)) {
		fprintf(stderr, "bpf: could not remove %s\n", pin);
		failed++;
	}
	results(passed, failed, 0);
	return failed ? 1 : 0;
}
