// SPDX-License-Identifier: GPL-2.0
/* pingd's L4 side: the l4: section applied to the pinned maps at start-up, and active health
 * checks of every L4 backend whose verdicts are written back into lb_backends. */
#include "userspace/l4/l4health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/cfg/cfg.h"
#include "userspace/ctrl/ctrl.h"
#include "userspace/ctrl/l4cfg.h"
#include "userspace/lib/log.h"
#include "userspace/upstream/health.h"

/* One probed backend: where its verdict goes. */
struct l4h_target {
	struct l4health *owner;
	unsigned int id;   /* in the health engine */
	unsigned int rise; /* probes that judge a down backend */
	unsigned int fall; /* probes that judge an up backend */
	struct lb_svc_key key;
	__u8 family;
	union lb_addr addr;
};

struct l4health {
	struct ctrl *ctrl;
	struct health *health;
	struct l4h_target *targets; /* one per backend, owned */
	size_t n_targets;
	void (*notify)(void *arg); /* after each verdict written */
	void *notify_arg;
};

/* Write a verdict into the maps; the tables are rebuilt, so a down backend takes no new
 * flows from the next packet on. */
static void on_change(const struct health_event *ev, void *arg)
{
	struct l4h_target *t = ev->target_arg;
	int n;

	(void)arg;
	n = ctrl_health_set(t->owner->ctrl, &t->key, t->family, &t->addr, ev->up);
	if (n < 0)
		log_err("l4 health: %s is %s (%s), writing it to the maps failed: %s", ev->name,
			ev->up ? "up" : "down", ev->reason, strerror(-n));
	else
		log_notice(
			"l4 health: %s is %s (%s)", ev->name, ev->up ? "up" : "down", ev->reason);
	if (t->owner->notify)
		t->owner->notify(t->owner->notify_arg);
}

/* Does item <h> name service <s>? "*" matches every service. Returns 1, 0, or -EINVAL when
 * the item's service does not parse (with the reason in <err>). */
static int item_matches(
	const struct cfg_l4health *h, const struct ctrl_l4cfg_service *s, char *err, size_t errlen)
{
	union lb_addr addr = {0};
	__u8 family = 0, proto = 0;
	__u16 port = 0;

	if (!strcmp(h->service, "*"))
		return 1;
	if (ctrl_parse_endpoint(h->service, true, &family, &addr, &port, &proto, err, errlen))
		return -EINVAL;
	if (!proto)
		proto = IPPROTO_TCP;
	return family == s->key.family && !memcmp(&addr, &s->key.addr, sizeof(addr)) &&
	       htons(port) == s->key.port && proto == s->key.proto;
}

/* The health item of service <s>: its own, else "*", else NULL (tcp with the defaults). */
static const struct cfg_l4health *item_of(const struct cfg *c, const struct ctrl_l4cfg_service *s)
{
	const struct cfg_l4health *star = NULL;
	char why[128];

	for (size_t i = 0; i < c->n_l4_health; i++) {
		const struct cfg_l4health *h = &c->l4_health[i];

		if (!strcmp(h->service, "*"))
			star = star ? star : h;
		else if (item_matches(h, s, why, sizeof(why)) == 1)
			return h;
	}
	return star;
}

/* Every l4_health item must name a service of the l4 section, once. */
static int check_items(const struct cfg *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n_l4_health; i++) {
		const struct cfg_l4health *h = &c->l4_health[i];
		char why[128];
		bool found = !strcmp(h->service, "*");

		for (size_t j = 0; j < c->n_l4_health; j++)
			if (j != i && !strcmp(c->l4_health[j].service, h->service)) {
				snprintf(err, errlen,
					"%s:%d: 'l4_health[].service': '%s' given twice", c->file,
					h->line, h->service);
				return -EINVAL;
			}
		for (size_t s = 0; !found && s < c->l4->n_services; s++) {
			int r = item_matches(h, &c->l4->services[s], why, sizeof(why));

			if (r < 0) {
				snprintf(err, errlen, "%s:%d: 'l4_health[].service': %s", c->file,
					h->line, why);
				return -EINVAL;
			}
			found = r;
		}
		if (!found) {
			snprintf(err, errlen,
				"%s:%d: 'l4_health[].service': '%s' is not a service of the l4 section",
				c->file, h->line, h->service);
			return -EINVAL;
		}
	}
	return 0;
}

/* Probe parameters of item <h> (NULL: the defaults, tcp). False when checks are off. */
static bool params_of(const struct cfg_l4health *h, struct health_params *p)
{
	if (h)
		return cfg_health_params(&h->health, p);
	health_params_default(p);
	return true;
}

/* Start probing backend <b> of service <s>. Returns 0 or a negative errno. */
static int add_target(struct l4health *l, const struct ctrl_l4cfg_service *s,
	const struct ctrl_l4cfg_backend *b, const struct cfg_l4health *h,
	const struct health_params *p)
{
	struct l4h_target *t = &l->targets[l->n_targets];
	struct sockaddr_storage ss = {0};
	char svc[64], be[64], name[HEALTH_NAME_MAX];
	__u16 port;
	socklen_t len;
	int id;

	port = h && h->port ? (__u16)h->port : ntohs(b->be.port ? b->be.port : s->key.port);
	if (!port)
		return -EINVAL;
	if (b->be.family == LB_AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		memcpy(&a->sin6_addr, b->be.addr.bytes, 16);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = b->be.addr.v4;
		len = sizeof(*a);
	}
	ctrl_format_addr(s->key.family, &s->key.addr, ntohs(s->key.port), svc, sizeof(svc));
	ctrl_format_addr(b->be.family, &b->be.addr, port, be, sizeof(be));
	snprintf(name, sizeof(name), "%s/%s backend %s", svc,
		s->key.proto == IPPROTO_UDP ? "udp" : "tcp", be);
	*t = (struct l4h_target){
		.owner = l, .key = s->key, .family = b->be.family, .addr = b->be.addr};
	id = health_add(l->health, name, (const struct sockaddr *)&ss, len, p, t);
	if (id < 0)
		return id;
	t->id = (unsigned int)id;
	t->rise = p->rise;
	t->fall = p->fall;
	l->n_targets++;
	return 0;
}

/* A deep copy of <src> into <dst> (free with free_copy()), for apply to see the health
 * verdicts already in the maps. Returns 0 or -ENOMEM. */
static int copy_cfg(struct ctrl_l4cfg *dst, const struct ctrl_l4cfg *src)
{
	*dst = *src;
	dst->services = calloc(src->n_services + 1, sizeof(*dst->services));
	if (!dst->services)
		return -ENOMEM;
	for (size_t s = 0; s < src->n_services; s++) {
		const struct ctrl_l4cfg_service *ss = &src->services[s];

		dst->services[s] = *ss;
		dst->services[s].backends = calloc(ss->n_backends + 1, sizeof(*ss->backends));
		if (!dst->services[s].backends) {
			dst->n_services = s;
			return -ENOMEM;
		}
		memcpy(dst->services[s].backends, ss->backends,
			ss->n_backends * sizeof(*ss->backends));
	}
	return 0;
}

static void free_copy(struct ctrl_l4cfg *cfg)
{
	for (size_t s = 0; cfg->services && s < cfg->n_services; s++)
		free(cfg->services[s].backends);
	free(cfg->services);
}

/* Backends that the section says are up but the maps hold down were marked down by health
 * checks (this process before a reload, or a previous pingd): keep them down in <work> so
 * that applying does not bring a dead backend back for <fall> probes. */
static void keep_down(struct ctrl *ctrl, struct ctrl_l4cfg *work)
{
	struct ctrl_backend *list = NULL;
	size_t n = 0;

	if (ctrl_be_list(ctrl, NULL, &list, &n))
		return;
	for (size_t s = 0; s < work->n_services; s++) {
		struct ctrl_l4cfg_service *svc = &work->services[s];
		struct lb_svc cur;

		if (ctrl_svc_get(ctrl, &svc->key, &cur))
			continue;
		for (size_t b = 0; b < svc->n_backends; b++) {
			struct lb_backend *be = &svc->backends[b].be;

			if (be->state != LB_BE_UP)
				continue;
			for (size_t i = 0; i < n; i++)
				if (list[i].be.svc == cur.id && list[i].be.family == be->family &&
					!memcmp(&list[i].be.addr, &be->addr, sizeof(be->addr)) &&
					list[i].be.state == LB_BE_DOWN)
					be->state = LB_BE_DOWN;
		}
	}
	free(list);
}

struct l4health *l4health_new(
	struct event_base *base, const struct cfg *c, char *err, size_t errlen)
{
	struct ctrl_l4cfg_changes ch = {0};
	struct ctrl_l4cfg work = {0};
	struct l4health *l;
	size_t total = 0;
	int rc;

	rc = check_items(c, err, errlen);
	if (rc) {
		errno = -rc;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		goto nomem;
	/* The maps live on bpffs: mount it when nothing is mounted (as pingctl does). A failure
	 * shows as the missing maps below. */
	if (ctrl_bpffs_ensure(c->l4_pin_dir) > 0)
		log_notice("l4: mounted bpffs at %s", PINGX_BPF_DIR_MNT);
	l->ctrl = ctrl_open(c->l4_pin_dir, 0);
	if (!l->ctrl) {
		rc = -errno;
		if (rc == -ENOENT)
			snprintf(err, errlen,
				"l4: no pingx maps in %s: set up the data plane first (pingctl "
				"attach), or set l4_pin_dir",
				c->l4_pin_dir);
		else
			snprintf(err, errlen, "l4: %s: %s", c->l4_pin_dir, strerror(-rc));
		goto fail;
	}
	rc = copy_cfg(&work, c->l4);
	if (rc)
		goto nomem;
	keep_down(l->ctrl, &work);
	rc = ctrl_l4cfg_apply(l->ctrl, &work, &ch, err, errlen);
	if (rc)
		goto fail;
	log_notice("l4: %s: node %s; services: %u added, %u changed, %u deleted; backends: %u "
		   "added, %u changed, %u deleted",
		c->l4_pin_dir, ch.node ? "changed" : "unchanged", ch.svc_add, ch.svc_set,
		ch.svc_del, ch.be_add, ch.be_set, ch.be_del);
	for (size_t s = 0; s < c->l4->n_services; s++)
		total += c->l4->services[s].n_backends;
	l->targets = calloc(total + 1, sizeof(*l->targets));
	l->health = health_new(base, on_change, l);
	if (!l->targets || !l->health)
		goto nomem;
	for (size_t s = 0; s < c->l4->n_services; s++) {
		const struct ctrl_l4cfg_service *svc = &c->l4->services[s];
		const struct cfg_l4health *h = item_of(c, svc);
		struct health_params p;

		if (!params_of(h, &p))
			continue;
		rc = health_params_check(&p, err, errlen);
		if (rc)
			goto fail;
		for (size_t b = 0; b < svc->n_backends; b++) {
			/* An administrative state (down, drain) is not the health checks' to undo.
			 */
			if (svc->backends[b].be.state != LB_BE_UP)
				continue;
			p.start_down = work.services[s].backends[b].be.state == LB_BE_DOWN;
			rc = add_target(l, svc, &svc->backends[b], h, &p);
			if (rc) {
				snprintf(err, errlen, "l4 health: service line %u: %s", svc->line,
					strerror(-rc));
				goto fail;
			}
		}
	}
	log_notice("l4 health: probing %zu backend%s", l->n_targets, l->n_targets == 1 ? "" : "s");
	free_copy(&work);
	return l;
nomem:
	rc = -ENOMEM;
	snprintf(err, errlen, "l4: %s", strerror(ENOMEM));
fail:
	free_copy(&work);
	l4health_free(l);
	errno = -rc;
	return NULL;
}

bool l4health_settled(void *arg)
{
	struct l4health *l = arg;

	for (size_t i = 0; i < l->n_targets; i++) {
		struct health_info hi;

		if (health_info(l->health, l->targets[i].id, &hi))
			continue;
		if (hi.probes < (hi.up ? l->targets[i].fall : l->targets[i].rise))
			return false;
	}
	return true;
}

void l4health_set_notify(struct l4health *l, void (*fn)(void *arg), void *arg)
{
	l->notify = fn;
	l->notify_arg = arg;
}

void l4health_free(struct l4health *l)
{
	if (!l)
		return;
	health_free(l->health);
	ctrl_close(l->ctrl);
	free(l->targets);
	free(l);
}
