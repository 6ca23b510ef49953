// SPDX-License-Identifier: GPL-2.0
/* Fixtures for the control-plane library, against the maps the BPF fixtures use: CRUD, the
 * tables it builds as the program reads them, atomic publication under a concurrent reader,
 * the pin-directory lock across processes, health write-back, stats, attach and detach. */
#include "tests/bpf/env.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/hash.h"
#include "ketama/ketama.h"
#include "userspace/ctrl/ctrl.h"

extern char test_pin_dir[];

static struct ctrl *open_ctrl(void)
{
	struct ctrl *c = ctrl_open(test_pin_dir, 0);

	CHECK(c, "ctrl_open(%s): %s", test_pin_dir, strerror(errno));
	return c;
}

static void vip_key(struct lb_svc_key *k, int family, const char *vip, uint16_t port)
{
	memset(k, 0, sizeof(*k));
	inet_pton(family == 4 ? AF_INET : AF_INET6, vip, k->addr.bytes);
	k->family = family == 4 ? LB_AF_INET : LB_AF_INET6;
	k->port = htons(port);
	k->proto = IPPROTO_TCP;
}

static struct lb_backend backend(int family, const char *addr, uint32_t weight)
{
	struct lb_backend b = {.family = family == 4 ? LB_AF_INET : LB_AF_INET6,
		.weight = weight,
		.port = htons(80)};

	inet_pton(family == 4 ? AF_INET : AF_INET6, addr, b.addr.bytes);
	return b;
}

/* Read the published table of service <svc_id> from <outer> into <vals> (<max> values of
 * <vsize>). Returns the number of entries, 0 when none is published, -1 on error. */
static int read_table(int outer, uint32_t svc_id, void *vals, uint32_t vsize, uint32_t max)
{
	struct bpf_map_info info = {};
	uint32_t id, len = sizeof(info), i;
	int fd, n = -1;

	if (bpf_map_lookup_elem(outer, &svc_id, &id))
		return errno == ENOENT ? 0 : -1;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -1; /* replaced and freed between the two calls: the caller retries */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.max_entries > max ||
		info.value_size != vsize)
		goto out;
	{
		LIBBPF_OPTS(bpf_map_batch_opts, bo);
		uint32_t *keys = malloc(info.max_entries * sizeof(*keys)), count = info.max_entries,
			 ob;

		if (!keys)
			goto out;
		if (bpf_map_lookup_batch(fd, NULL, &ob, keys, vals, &count, &bo) &&
			!(errno == ENOENT && count == info.max_entries)) {
			for (i = 0; i < info.max_entries; i++)
				if (bpf_map_lookup_elem(fd, &i, (char *)vals + i * vsize))
					break;
			if (i < info.max_entries) {
				free(keys);
				goto out;
			}
		}
		free(keys);
	}
	n = (int)info.max_entries;
out:
	close(fd);
	return n;
}

static void fx_ctrl_open_and_abi(void)
{
	char dir[128];
	struct ctrl *c;
	struct lb_meta meta = {.abi_version = LB_ABI_VERSION + 1};
	struct stat st;
	__u32 zero = 0;

	c = open_ctrl();
	CHECK(c && ctrl_abi_version(c) == LB_ABI_VERSION, "ABI version");
	ctrl_close(c);
	/* Another version in lb_meta: refused. */
	bpf_map_update_elem(E.meta, &zero, &meta, BPF_ANY);
	c = ctrl_open(test_pin_dir, 0);
	CHECK(!c && errno == EPROTO, "a foreign ABI version was accepted");
	ctrl_close(c);
	meta.abi_version = LB_ABI_VERSION;
	bpf_map_update_elem(E.meta, &zero, &meta, BPF_ANY);
	/* A fresh directory: ENOENT without CTRL_F_CREATE; created, stamped, removed with it. */
	snprintf(dir, sizeof(dir), "%s-new", test_pin_dir);
	c = ctrl_open(dir, 0);
	CHECK(!c && errno == ENOENT, "opened a missing pin directory");
	c = ctrl_open(dir, CTRL_F_CREATE);
	CHECK(c && ctrl_abi_version(c) == LB_ABI_VERSION, "create: %s", strerror(errno));
	/* New maps get a random flow-table seed, which node writes keep and reads hide. */
	if (c) {
		struct lb_node n = {.hash_seed = 7}, raw = {};
		__u64 seed;

		CHECK(!bpf_map_lookup_elem(ctrl_map_fd(c, "lb_node"), &zero, &raw) && raw.ct_seed,
			"new maps have no flow-table seed");
		seed = raw.ct_seed;
		CHECK(!ctrl_node_set(c, &n), "node set");
		CHECK(!bpf_map_lookup_elem(ctrl_map_fd(c, "lb_node"), &zero, &raw) &&
			      raw.ct_seed == seed && raw.hash_seed == 7,
			"a node write changed the seed");
		CHECK(!ctrl_node_get(c, &n) && n.ct_seed == 0 && n.hash_seed == 7,
			"ctrl_node_get shows the seed");
	}
	ctrl_close(c);
	c = ctrl_open(dir, 0);
	CHECK(c, "reopen of created maps: %s", strerror(errno));
	ctrl_close(c);
	CHECK(ctrl_destroy(dir) == 0, "destroy");
	CHECK(stat(dir, &st) && errno == ENOENT, "the pin directory survived ctrl_destroy");
}

/* True when lb_svc_by_id[<id>] holds service <k> with id <id> and algorithm <algo>. */
static bool svc_by_id_is(__u32 id, const struct lb_svc_key *k, __u8 algo)
{
	struct lb_svc_ent e;

	return !bpf_map_lookup_elem(E.svc_by_id, &id, &e) && !memcmp(&e.key, k, sizeof(*k)) &&
	       e.svc.id == id && e.svc.algo == algo;
}

static void fx_ctrl_crud(void)
{
	struct lb_svc conf = {.table_size = TBL_M}, got;
	struct ctrl_service *svcs = NULL;
	struct ctrl_backend *bes = NULL;
	struct lb_mg_slot slots[TBL_M];
	struct lb_svc_key k, k6;
	struct lb_backend b;
	size_t n, i, count[3] = {0};
	__u32 id, be_id;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	vip_key(&k, 4, VIP4, 80);
	CHECK(ctrl_svc_add(c, &k, &conf, &id) == 0 && id == 0, "service add");
	CHECK(ctrl_svc_add(c, &k, &conf, NULL) == -EEXIST, "duplicate service");
	CHECK(svc_by_id_is(0, &k, LB_ALGO_MAGLEV), "lb_svc_by_id after add");
	conf.table_size = 250;
	vip_key(&k6, 6, VIP6, 443);
	CHECK(ctrl_svc_add(c, &k6, &conf, NULL) == -EINVAL, "non-prime table size accepted");
	conf.table_size = TBL_M;
	conf.fwd = LB_FWD_IPIP;
	CHECK(ctrl_svc_add(c, &k6, &conf, &id) == 0 && id == 1, "second service id %u", id);
	b = backend(4, BE4[0], 1);
	CHECK(ctrl_be_add(c, &k6, &b, NULL) == -EINVAL, "IPv4 backend for an IPv6 IPIP service");
	CHECK(ctrl_svc_list(c, &svcs, &n) == 0 && n == 2, "service list");
	free(svcs);
	for (i = 0; i < 3; i++) {
		b = backend(4, BE4[i], 1);
		CHECK(ctrl_be_add(c, &k, &b, &be_id) == 0 && be_id == i, "backend %zu add", i);
	}
	b = backend(4, BE4[1], 5);
	CHECK(ctrl_be_add(c, &k, &b, NULL) == -EEXIST, "duplicate backend");
	CHECK(read_table(E.maglev, 0, slots, sizeof(slots[0]), TBL_M) == (int)TBL_M,
		"no Maglev table published");
	for (i = 0; i < TBL_M; i++)
		if (slots[i].backend < 3)
			count[slots[i].backend]++;
	CHECK(count[0] + count[1] + count[2] == TBL_M, "slots name unknown backends");
	for (i = 0; i < 3; i++)
		CHECK(count[i] > TBL_M / 3 - 10 && count[i] < TBL_M / 3 + 10,
			"backend %zu has %zu slots", i, count[i]);
	/* Drain backend 1: out of the table, state kept. */
	b = backend(4, BE4[1], 1);
	CHECK(ctrl_be_set(c, &k, LB_AF_INET, &b.addr, -1, LB_BE_DRAIN) == 0, "drain");
	read_table(E.maglev, 0, slots, sizeof(slots[0]), TBL_M);
	for (i = 0; i < TBL_M; i++)
		CHECK(slots[i].backend != 1, "drained backend in slot %zu", i);
	CHECK(ctrl_be_list(c, &k, &bes, &n) == 0 && n == 3 && bes[1].be.state == LB_BE_DRAIN,
		"backend list");
	free(bes);
	/* Weight 0 takes backend 2 out as well. */
	b = backend(4, BE4[2], 1);
	CHECK(ctrl_be_set(c, &k, LB_AF_INET, &b.addr, 0, -1) == 0, "weight 0");
	read_table(E.maglev, 0, slots, sizeof(slots[0]), TBL_M);
	for (i = 0; i < TBL_M; i++)
		CHECK(slots[i].backend == 0, "slot %zu names %u", i, slots[i].backend);
	/* Deleting the last usable backend removes the table. */
	b = backend(4, BE4[0], 1);
	CHECK(ctrl_be_del(c, &k, LB_AF_INET, &b.addr) == 0, "backend del");
	CHECK(read_table(E.maglev, 0, slots, sizeof(slots[0]), TBL_M) == 0, "table left behind");
	CHECK(ctrl_be_del(c, &k, LB_AF_INET, &b.addr) == -ENOENT, "deleted twice");
	/* Switch to ketama with the other backend usable again. */
	b = backend(4, BE4[2], 1);
	CHECK(ctrl_be_set(c, &k, LB_AF_INET, &b.addr, 3, -1) == 0, "weight 3");
	conf.algo = LB_ALGO_KETAMA;
	CHECK(ctrl_svc_update(c, &k, &conf) == 0, "service update");
	CHECK(ctrl_svc_get(c, &k, &got) == 0 && got.algo == LB_ALGO_KETAMA, "algo not stored");
	CHECK(svc_by_id_is(0, &k, LB_ALGO_KETAMA), "lb_svc_by_id after update");
	{
		struct lb_ring_point ring[1024];
		int np = read_table(E.ring, 0, ring, sizeof(ring[0]), 1024);

		CHECK(np == 160 * 3 + 1 && ring[0].hash == 160 * 3, "ring of %d entries", np);
		CHECK(read_table(E.maglev, 0, slots, sizeof(slots[0]), TBL_M) == 0,
			"the Maglev table survived the switch");
	}
	CHECK(ctrl_svc_del(c, &k) == 0, "service del");
	CHECK(ctrl_svc_get(c, &k, &got) == -ENOENT, "service still there");
	{
		struct lb_svc_ent e;

		CHECK(!bpf_map_lookup_elem(E.svc_by_id, &(__u32){0}, &e) && !e.key.family,
			"lb_svc_by_id keeps a deleted service");
	}
	CHECK(ctrl_be_list(c, NULL, &bes, &n) == 0 && n == 0, "backends of a deleted service");
	free(bes);
	CHECK(read_table(E.ring, 0, slots, sizeof(slots[0]), TBL_M) == 0, "ring left behind");
	ctrl_close(c);
}

/* The data plane picks what the library published: Maglev slot hash_slot(hash, M) and the ketama
 * point ketama_pick() finds. */
/* True when lb_node holds LB_NODE_F_ALL_PORTS (read from the map: ctrl_node_get() hides it). */
static bool all_ports_flag(struct ctrl *c)
{
	struct lb_node n;
	__u32 zero = 0;

	return bpf_map_lookup_elem(ctrl_map_fd(c, "lb_node"), &zero, &n) == 0 &&
	       (n.flags & LB_NODE_F_ALL_PORTS);
}

static void fx_ctrl_all_ports_flag(void)
{
	struct lb_svc conf = {.table_size = TBL_M};
	struct lb_svc_key k80, k0, k0b;
	struct lb_node n;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	vip_key(&k80, 4, VIP4, 80);
	vip_key(&k0, 4, VIP4, 0);
	vip_key(&k0b, 6, VIP6, 0);
	CHECK(ctrl_svc_add(c, &k80, &conf, NULL) == 0 && !all_ports_flag(c), "port 80 set it");
	CHECK(ctrl_svc_add(c, &k0, &conf, NULL) == 0 && all_ports_flag(c), "port 0 did not");
	CHECK(ctrl_svc_add(c, &k0b, &conf, NULL) == 0 && all_ports_flag(c), "second port 0");
	/* Node settings written without the flag keep it. */
	CHECK(ctrl_node_get(c, &n) == 0, "node get");
	n.flags = LB_NODE_F_GW_MAC;
	CHECK(ctrl_node_set(c, &n) == 0 && all_ports_flag(c), "node set cleared it");
	CHECK(ctrl_node_get(c, &n) == 0 && n.flags == LB_NODE_F_GW_MAC, "node get flags %u",
		n.flags);
	CHECK(ctrl_svc_del(c, &k0) == 0 && all_ports_flag(c), "one all-ports service is left");
	CHECK(ctrl_svc_del(c, &k0b) == 0 && !all_ports_flag(c), "last one deleted, flag kept");
	/* ... and with it set while no service has port 0, lose it. */
	n.flags |= LB_NODE_F_ALL_PORTS;
	CHECK(ctrl_node_set(c, &n) == 0 && !all_ports_flag(c), "node set forced the flag");
	ctrl_close(c);
}

/* The bit of an address in lb_vip_filter. */
static bool vip_bit(const union lb_addr *a)
{
	uint32_t bit = hash_vip_bit(a), w = bit / 64;
	struct lb_vip_word v = {};

	CHECK(!bpf_map_lookup_elem(E.vip_filter, &w, &v), "lb_vip_filter: %s", strerror(errno));
	return v.bits & (1ull << (bit % 64));
}

/* The control plane keeps lb_vip_filter in step: a service's address bit is set once the
 * service exists, and cleared when the last service of the address goes. */
static void fx_ctrl_vip_filter(void)
{
	struct lb_svc conf = {.table_size = TBL_M};
	struct lb_svc_key k80, k443;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	vip_key(&k80, 4, VIP4, 80);
	vip_key(&k443, 4, VIP4, 443);
	CHECK(!vip_bit(&k80.addr), "bit set before any service");
	CHECK(ctrl_svc_add(c, &k80, &conf, NULL) == 0 && vip_bit(&k80.addr), "add: bit not set");
	CHECK(ctrl_svc_add(c, &k443, &conf, NULL) == 0, "add 443");
	CHECK(ctrl_svc_del(c, &k80) == 0 && vip_bit(&k80.addr), "443 still needs the bit");
	CHECK(ctrl_svc_del(c, &k443) == 0 && !vip_bit(&k80.addr), "last one deleted, bit kept");
	ctrl_close(c);
}

static void fx_ctrl_tables_match_program(void)
{
	struct lb_svc conf = {.table_size = TBL_M, .fwd = LB_FWD_IPIP};
	struct lb_mg_slot slots[TBL_M];
	struct pkt_spec s = {.family = 4,
		.src = CLIENT4,
		.dst = VIP4,
		.proto = IPPROTO_TCP,
		.dport = 80,
		.tcp_flags = 0x02};
	struct ketama_server srv[3];
	struct lb_flow_key key;
	uint8_t in[PKT_MAX], out[PKT_MAX], be_addr[4];
	struct ketama *r;
	struct lb_svc_key k;
	struct lb_backend b;
	size_t out_len;
	uint32_t want;
	char names[3][32];
	int i, j;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	memcpy(s.dmac, MAC_LB, 6);
	vip_key(&k, 4, VIP4, 80);
	CHECK(ctrl_svc_add(c, &k, &conf, NULL) == 0, "service add");
	for (i = 0; i < 3; i++) {
		b = backend(4, BE4[i], (uint32_t)i + 1);
		CHECK(ctrl_be_add(c, &k, &b, NULL) == 0, "backend add");
		snprintf(names[i], sizeof(names[i]), "%s:80", BE4[i]);
		srv[i].name = names[i];
		srv[i].weight = (uint32_t)i + 1;
	}
	read_table(E.maglev, 0, slots, sizeof(slots[0]), TBL_M);
	for (j = 0; j < 2; j++) {
		r = ketama_new(KETAMA_NGINX, srv, 3);
		for (i = 0; i < 60; i++) {
			s.sport = (uint16_t)(30000 + i * 7);
			flow_of(&s, &key);
			/* Backends were added in address order, so ids equal server indexes. */
			want = j == 0 ? slots[hash_slot(flow_hash(&key, false), TBL_M)].backend :
					ketama_pick(r, flow_hash(&key, false));
			CHECK(run(E.prog, in, pkt_build(&s, in), out, &out_len) == XDP_TX,
				"verdict");
			inet_pton(AF_INET, BE4[want], be_addr);
			CHECK(!memcmp(out + 14 + 16, be_addr, 4), "%s flow %d: not on backend %u",
				j ? "ketama" : "maglev", i, want);
		}
		ketama_free(r);
		conf.algo = LB_ALGO_KETAMA;
		CHECK(ctrl_svc_update(c, &k, &conf) == 0, "switch to ketama");
		ct_del(&key);
	}
	ctrl_close(c);
}

struct reader_arg {
	atomic_int stop;
	uint32_t m;
	struct lb_mg_slot *t_a, *t_b; /* the only two tables ever published */
	long reads, mixed, errors;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	struct lb_mg_slot *buf = malloc(a->m * sizeof(*buf));
	int n;

	while (buf && !atomic_load(&a->stop)) {
		n = read_table(E.maglev, 0, buf, sizeof(*buf), a->m);
		if (n != (int)a->m) {
			a->errors++; /* freed between lookup and open: the race is the kernel's */
			continue;
		}
		a->reads++;
		if (memcmp(buf, a->t_a, a->m * sizeof(*buf)) &&
			memcmp(buf, a->t_b, a->m * sizeof(*buf)))
			a->mixed++;
	}
	free(buf);
	return NULL;
}

static void fx_ctrl_publish_is_atomic(void)
{
	struct lb_svc conf = {.table_size = LB_DEFAULT_TABLE_SIZE};
	struct reader_arg a = {.m = LB_DEFAULT_TABLE_SIZE};
	struct lb_svc_key k;
	struct lb_backend b;
	pthread_t th;
	int i, rounds = 150;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	a.t_a = calloc(a.m, sizeof(*a.t_a));
	a.t_b = calloc(a.m, sizeof(*a.t_b));
	vip_key(&k, 4, VIP4, 80);
	CHECK(ctrl_svc_add(c, &k, &conf, NULL) == 0, "service add");
	for (i = 0; i < 3; i++) {
		b = backend(4, BE4[i], 1);
		CHECK(ctrl_be_add(c, &k, &b, NULL) == 0, "backend add");
	}
	b = backend(4, BE4[2], 1);
	/* Table A has three backends, table B two: toggling backend 2's weight swaps them. */
	read_table(E.maglev, 0, a.t_a, sizeof(*a.t_a), a.m);
	ctrl_be_set(c, &k, LB_AF_INET, &b.addr, 0, -1);
	read_table(E.maglev, 0, a.t_b, sizeof(*a.t_b), a.m);
	CHECK(memcmp(a.t_a, a.t_b, a.m * sizeof(*a.t_a)), "the two tables are equal");
	pthread_create(&th, NULL, reader, &a);
	for (i = 0; i < rounds; i++)
		CHECK(ctrl_be_set(c, &k, LB_AF_INET, &b.addr, i % 2 ? 0 : 1, -1) == 0,
			"republish %d", i);
	atomic_store(&a.stop, 1);
	pthread_join(th, NULL);
	CHECK(a.reads > 10, "only %ld reads during %d republishes", a.reads, rounds);
	CHECK(a.mixed == 0, "%ld of %ld reads saw a mixed table", a.mixed, a.reads);
	if (getenv("PINGX_VERBOSE"))
		printf("(%ld reads, %ld retried) ", a.reads, a.errors);
	free(a.t_a);
	free(a.t_b);
	ctrl_close(c);
}

/* Two processes add backends to one service at the same time: none is lost. */
static void fx_ctrl_two_processes_lose_nothing(void)
{
	struct lb_svc conf = {.table_size = TBL_M};
	struct ctrl_backend *bes = NULL;
	struct lb_svc_key k;
	pid_t pid[2];
	size_t n = 0;
	int p, st, per = 100;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	vip_key(&k, 6, VIP6, 80);
	CHECK(ctrl_svc_add(c, &k, &conf, NULL) == 0, "service add");
	for (p = 0; p < 2; p++) {
		pid[p] = fork();
		if (pid[p] == 0) {
			struct ctrl *cc = ctrl_open(test_pin_dir, 0);
			char a[64];
			int i, bad = 0;

			for (i = 0; cc && i < per; i++) {
				struct lb_backend b;

				snprintf(a, sizeof(a), "2001:db8:be:%x::%x", p + 1, i + 1);
				b = backend(6, a, 1);
				bad += ctrl_be_add(cc, &k, &b, NULL) != 0;
			}
			ctrl_close(cc);
			_exit(!cc || bad);
		}
	}
	for (p = 0; p < 2; p++) {
		CHECK(waitpid(pid[p], &st, 0) == pid[p] && WIFEXITED(st) && !WEXITSTATUS(st),
			"writer %d failed", p);
	}
	CHECK(ctrl_be_list(c, &k, &bes, &n) == 0 && n == (size_t)(2 * per), "%zu backends of %d", n,
		2 * per);
	free(bes);
	{
		static struct lb_mg_slot slots[TBL_M];
		char seen[2 * 100 + 8] = {0};
		size_t i, distinct = 0;

		read_table(E.maglev, 0, slots, sizeof(slots[0]), TBL_M);
		for (i = 0; i < TBL_M; i++)
			if (slots[i].backend < sizeof(seen) && !seen[slots[i].backend]++)
				distinct++;
		CHECK(distinct == (size_t)(2 * per), "the table names %zu backends", distinct);
	}
	ctrl_close(c);
}

static void fx_ctrl_health_write_back(void)
{
	struct lb_svc conf = {.table_size = TBL_M};
	struct lb_mg_slot slots[TBL_M];
	struct ctrl_backend *bes = NULL;
	struct lb_svc_key k;
	struct lb_backend b;
	size_t i, n;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	vip_key(&k, 4, VIP4, 80);
	ctrl_svc_add(c, &k, &conf, NULL);
	for (i = 0; i < 3; i++) {
		b = backend(4, BE4[i], 1);
		ctrl_be_add(c, &k, &b, NULL);
	}
	b = backend(4, BE4[0], 1);
	CHECK(ctrl_health_set(c, NULL, LB_AF_INET, &b.addr, false) == 1, "health down");
	read_table(E.maglev, 0, slots, sizeof(slots[0]), TBL_M);
	for (i = 0; i < TBL_M; i++)
		CHECK(slots[i].backend != 0, "a down backend is in slot %zu", i);
	CHECK(ctrl_health_set(c, NULL, LB_AF_INET, &b.addr, false) == 0, "down twice changed");
	CHECK(ctrl_health_set(c, &k, LB_AF_INET, &b.addr, true) == 1, "health up");
	ctrl_be_list(c, &k, &bes, &n);
	CHECK(n == 3 && bes[0].be.state == LB_BE_UP, "state after up");
	free(bes);
	/* A drained backend stays drained when its health changes. */
	ctrl_be_set(c, &k, LB_AF_INET, &b.addr, -1, LB_BE_DRAIN);
	CHECK(ctrl_health_set(c, NULL, LB_AF_INET, &b.addr, true) == 0, "drain overridden");
	ctrl_close(c);
}

static void fx_ctrl_stats_and_conntrack(void)
{
	struct lb_svc conf = {.table_size = TBL_M};
	struct pkt_spec s = {.family = 4,
		.src = CLIENT4,
		.dst = VIP4,
		.proto = IPPROTO_TCP,
		.dport = 80,
		.tcp_flags = 0x02,
		.payload = 10};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	__u64 reasons[LB_REASON_MAX];
	struct lb_stats st, sum = {};
	struct lb_svc_key k;
	struct lb_backend b;
	size_t out_len, n, len = 0;
	int i;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	vip_key(&k, 4, VIP4, 80);
	ctrl_svc_add(c, &k, &conf, NULL);
	for (i = 0; i < 3; i++) {
		b = backend(4, BE4[i], 1);
		ctrl_be_add(c, &k, &b, NULL);
	}
	for (i = 0; i < 25; i++) {
		s.sport = (uint16_t)(20000 + i);
		len = pkt_build(&s, in);
		run(E.prog, in, len, out, &out_len);
	}
	CHECK(ctrl_stats_svc(c, 0, &st) == 0 && st.packets == 25 && st.new_flows == 25 &&
			st.bytes == 25 * len,
		"service stats %llu packets", (unsigned long long)st.packets);
	for (i = 0; i < 3; i++) {
		ctrl_stats_be(c, (__u32)i, &st);
		sum.packets += st.packets;
	}
	CHECK(sum.packets == 25, "backend packets sum to %llu", (unsigned long long)sum.packets);
	CHECK(ctrl_stats_reasons(c, reasons) == 0 && reasons[LB_FWD_TX] == 25, "reasons");
	CHECK(!strcmp(ctrl_reason_name(LB_DROP_TRUNCATED), "drop_truncated"), "reason name");
	CHECK(ctrl_ct_count(c, 1000, &n) == 0 && n == 25, "conntrack count %zu", n);
	CHECK(ctrl_ct_flush(c) == 0 && ctrl_ct_count(c, 1000, &n) == 0 && n == 0, "flush");
	ctrl_close(c);
}

static void fx_ctrl_attach_detach(void)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ifindex = (int)if_nametoindex("pxt1");
	char path[256];
	struct ctrl *c = open_ctrl();
	struct stat st;
	__u32 first;

	if (!c)
		return;
	CHECK(ctrl_attach(c, "pxt1", CTRL_XDP_NATIVE, "pxt0") == 0, "attach");
	CHECK(!bpf_xdp_query(ifindex, 0, &q) && q.drv_prog_id && q.attach_mode == XDP_ATTACHED_DRV,
		"not attached in native mode");
	first = q.drv_prog_id;
	CHECK(stat("/proc/self/ns/net", &st) == 0, "netns");
	snprintf(path, sizeof(path), "%s/link_xdp_pxt1:%llu", test_pin_dir,
		(unsigned long long)st.st_ino);
	CHECK(access(path, F_OK) == 0, "link not pinned at %s", path);
	/* Attaching again replaces the program; the link stays. */
	CHECK(ctrl_attach(c, "pxt1", CTRL_XDP_AUTO, NULL) == 0, "re-attach");
	CHECK(!bpf_xdp_query(ifindex, 0, &q) && q.drv_prog_id && q.drv_prog_id != first,
		"program not replaced");
	CHECK(ctrl_detach(c, "pxt1") == 0, "detach");
	CHECK(!bpf_xdp_query(ifindex, 0, &q) && !q.prog_id && !q.drv_prog_id, "still attached");
	CHECK(access(path, F_OK) && errno == ENOENT, "link pin left behind");
	CHECK(ctrl_detach(c, "pxt1") == -ENOENT, "second detach");
	CHECK(ctrl_attach(c, "no-such-if0", CTRL_XDP_AUTO, NULL) == -ENODEV, "unknown interface");
	/* Generic mode, and the decapsulation program beside it. */
	CHECK(ctrl_attach(c, "pxt1", CTRL_XDP_GENERIC, NULL) == 0, "generic attach");
	CHECK(!bpf_xdp_query(ifindex, 0, &q) && q.attach_mode == XDP_ATTACHED_SKB, "not generic");
	CHECK(ctrl_detach(c, "pxt1") == 0, "generic detach");
	CHECK(ctrl_decap_attach(test_pin_dir, "pxt1", CTRL_XDP_AUTO, 0) == 0, "decap attach");
	CHECK(!bpf_xdp_query(ifindex, 0, &q) && (q.drv_prog_id || q.skb_prog_id), "no decap");
	CHECK(ctrl_decap_detach(test_pin_dir, "pxt1") == 0, "decap detach");
	ctrl_close(c);
}

/* ctrl_flow_backend() (behind "pingctl hash --service") answers what the program does. */
static void fx_ctrl_flow_backend_matches_program(void)
{
	struct lb_svc conf = {.table_size = TBL_M, .fwd = LB_FWD_IPIP};
	struct pkt_spec s = {.family = 4,
		.src = CLIENT4,
		.dst = VIP4,
		.proto = IPPROTO_TCP,
		.dport = 80,
		.tcp_flags = 0x02};
	uint8_t in[PKT_MAX], out[PKT_MAX], be_addr[4];
	struct lb_flow_key key;
	struct lb_svc_key k;
	struct lb_backend b;
	size_t out_len;
	__u32 want;
	bool ct;
	int i, j, algo;
	struct ctrl *c = open_ctrl();

	if (!c)
		return;
	memcpy(s.dmac, MAC_LB, 6);
	vip_key(&k, 4, VIP4, 80);
	CHECK(ctrl_svc_add(c, &k, &conf, NULL) == 0, "service add");
	for (i = 0; i < 3; i++) {
		b = backend(4, BE4[i], (uint32_t)(3 - i));
		CHECK(ctrl_be_add(c, &k, &b, NULL) == 0, "backend add");
	}
	for (algo = 0; algo < 2; algo++) {
		conf.algo = (uint8_t)algo;
		conf.flags = algo ? LB_SVC_F_HASH_SRC : 0;
		CHECK(ctrl_svc_update(c, &k, &conf) == 0, "service update");
		for (i = 0; i < 50; i++) {
			s.sport = (uint16_t)(10000 + i * 31);
			s.src = i % 2 ? CLIENT4 : "203.0.113.99";
			flow_of(&s, &key);
			CHECK(ctrl_flow_backend(c, &k, &key, false, &want, &ct) == 0 && !ct,
				"flow %d: no answer", i);
			CHECK(run(E.prog, in, pkt_build(&s, in), out, &out_len) == XDP_TX,
				"verdict");
			inet_pton(AF_INET, BE4[want], be_addr);
			CHECK(!memcmp(out + 14 + 16, be_addr, 4), "%s flow %d: program disagrees",
				algo ? "ketama" : "maglev", i);
			/* With conntrack the answer is the recorded backend. */
			j = (int)want;
			CHECK(ctrl_flow_backend(c, &k, &key, true, &want, &ct) == 0 && ct &&
					want == (__u32)j,
				"flow %d: conntrack answer", i);
		}
		ctrl_ct_flush(c);
	}
	vip_key(&k, 4, VIP4, 81);
	CHECK(ctrl_flow_backend(c, &k, &key, false, &want, &ct) == -ENOENT, "unknown service");
	ctrl_close(c);
}

const struct fixture ctrl_fixtures[] = {
	{"ctrl_open_and_abi", fx_ctrl_open_and_abi},
	{"ctrl_crud", fx_ctrl_crud},
	{"ctrl_all_ports_flag", fx_ctrl_all_ports_flag},
	{"ctrl_vip_filter", fx_ctrl_vip_filter},
	{"ctrl_tables_match_program", fx_ctrl_tables_match_program},
	{"ctrl_publish_is_atomic", fx_ctrl_publish_is_atomic},
	{"ctrl_two_processes_lose_nothing", fx_ctrl_two_processes_lose_nothing},
	{"ctrl_health_write_back", fx_ctrl_health_write_back},
	{"ctrl_stats_and_conntrack", fx_ctrl_stats_and_conntrack},
	{"ctrl_attach_detach", fx_ctrl_attach_detach},
	{"ctrl_flow_backend_matches_program", fx_ctrl_flow_backend_matches_program},
	{NULL, NULL},
};
