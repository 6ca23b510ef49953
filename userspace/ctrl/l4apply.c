// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: applying a parsed l4: section to the maps, touching only what
 * differs, under the pin directory's lock. */
#include "userspace/ctrl/l4cfg.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

/* <n> with every "0 = default" field replaced by its default, to compare meanings. */
static struct lb_node node_effective(const struct lb_node *n)
{
	struct lb_node e = *n;

	if (!e.mtu)
		e.mtu = LB_DEFAULT_MTU;
	if (!e.gue_port)
		e.gue_port = htons(LB_DEFAULT_GUE_PORT);
	if (!e.udp_timeout)
		e.udp_timeout = LB_DEFAULT_UDP_TIMEOUT;
	if (!e.flow_rate)
		e.flow_rate = LB_DEFAULT_FLOW_RATE;
	if (!e.src4_plen)
		e.src4_plen = 32;
	if (!e.src6_plen)
		e.src6_plen = 128;
	return e;
}

static bool same_addr(const struct lb_backend *a, const struct lb_backend *b)
{
	return a->family == b->family && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static const char *svc_name(const struct lb_svc_key *k, char *buf, size_t len)
{
	char a[CTRL_ADDRSTRLEN];

	snprintf(buf, len, "%s/%s",
		ctrl_format_addr(k->family, &k->addr, ntohs(k->port), a, sizeof(a)),
		k->proto == IPPROTO_UDP ? "udp" : "tcp");
	return buf;
}

static int fail(int err, char *buf, size_t len, const char *what, const struct lb_svc_key *k,
	const struct lb_backend *b)
{
	char s[CTRL_ADDRSTRLEN + 8], a[CTRL_ADDRSTRLEN];

	if (b)
		snprintf(buf, len, "%s %s: backend %s: %s", what, svc_name(k, s, sizeof(s)),
			ctrl_format_addr(b->family, &b->addr, 0, a, sizeof(a)), strerror(-err));
	else if (k)
		snprintf(buf, len, "%s %s: %s", what, svc_name(k, s, sizeof(s)), strerror(-err));
	else
		snprintf(buf, len, "%s: %s", what, strerror(-err));
	return err;
}

/* Make the backends of service <s> (which exists) those of the configuration. */
static int apply_backends(struct ctrl *c, const struct ctrl_l4cfg_service *s,
	struct ctrl_l4cfg_changes *ch, char *err, size_t len)
{
	struct ctrl_backend *cur = NULL;
	size_t n = 0, i, j;
	bool *keep = NULL;
	int r;

	r = ctrl_be_list(c, &s->key, &cur, &n);
	if (r)
		return fail(r, err, len, "listing the backends of", &s->key, NULL);
	keep = calloc(n ? n : 1, sizeof(*keep));
	if (!keep) {
		r = fail(-ENOMEM, err, len, "restore", NULL, NULL);
		goto out;
	}
	/* Deletions first: they free slots for the additions. A backend whose port or MAC
	 * changes is deleted and added again (no call changes them in place). */
	for (i = 0; i < n; i++) {
		for (j = 0; j < s->n_backends; j++) {
			const struct lb_backend *w = &s->backends[j].be;

			if (same_addr(&cur[i].be, w) && cur[i].be.port == w->port &&
				!memcmp(cur[i].be.mac, w->mac, sizeof(w->mac)))
				keep[i] = true;
		}
		if (keep[i])
			continue;
		r = ctrl_be_del(c, &s->key, cur[i].be.family, &cur[i].be.addr);
		if (r)
			goto err_del;
		ch->be_del++;
	}
	for (j = 0; j < s->n_backends; j++) {
		const struct lb_backend *w = &s->backends[j].be;

		for (i = 0; i < n; i++)
			if (keep[i] && same_addr(&cur[i].be, w))
				break;
		if (i == n) {
			struct lb_backend nb = *w;

			nb.marked_by = LB_MARK_RESTORE;
			r = ctrl_be_add(c, &s->key, &nb, NULL);
			if (r) {
				r = fail(r, err, len, "adding to", &s->key, w);
				goto out;
			}
			ch->be_add++;
		} else if (cur[i].be.weight != w->weight || cur[i].be.state != w->state) {
			/* marked_by/marked_at are history, not configuration: they never make
			 * a difference here, and the restore marks only what it changes. */
			r = ctrl_be_set_marked(c, &s->key, w->family, &w->addr, w->weight, w->state,
				LB_MARK_RESTORE);
			if (r) {
				r = fail(r, err, len, "changing", &s->key, w);
				goto out;
			}
			ch->be_set++;
		}
	}
	r = 0;
	goto out;
err_del:
	r = fail(r, err, len, "deleting from", &s->key, &cur[i].be);
out:
	free(keep);
	free(cur);
	return r;
}

/* Make the per-source new-flow guard of service <s> (which exists) that of the
 * configuration. Returns 1 when it changed, 0 when it was equal, or a negative errno. */
static int apply_syn_rate(struct ctrl *c, const struct ctrl_l4cfg_service *s,
	struct ctrl_l4cfg_changes *ch, char *err, size_t len)
{
	struct lb_src_rate cur = {};
	int r;

	r = ctrl_src_rate_get(c, &s->key, &cur);
	if (r && r != -ENOENT)
		return fail(r, err, len, "reading the syn_rate of", &s->key, NULL);
	if (cur.rate == s->syn.rate && cur.burst == s->syn.burst)
		return 0;
	r = ctrl_src_rate_set(c, &s->key, &s->syn);
	if (r)
		return fail(r, err, len, "setting the syn_rate of", &s->key, NULL);
	ch->syn_set++;
	return 1;
}

static int apply_services(struct ctrl *c, const struct ctrl_l4cfg *cfg,
	struct ctrl_l4cfg_changes *ch, char *err, size_t len)
{
	struct ctrl_service *cur = NULL;
	size_t n = 0, i, j;
	struct lb_svc old;
	int r;

	r = ctrl_svc_list(c, &cur, &n);
	if (r)
		return fail(r, err, len, "listing the services", NULL, NULL);
	for (i = 0; i < n; i++) {
		for (j = 0; j < cfg->n_services; j++)
			if (!memcmp(&cur[i].key, &cfg->services[j].key, sizeof(cur[i].key)))
				break;
		if (j < cfg->n_services)
			continue;
		r = ctrl_svc_del(c, &cur[i].key);
		if (r) {
			r = fail(r, err, len, "deleting service", &cur[i].key, NULL);
			goto out;
		}
		ch->svc_del++;
	}
	for (j = 0; j < cfg->n_services; j++) {
		const struct ctrl_l4cfg_service *s = &cfg->services[j];
		bool added = false, changed = false;

		r = ctrl_svc_get(c, &s->key, &old);
		if (!r && old.table_size != s->conf.table_size) {
			/* The table size is fixed for a service's life. */
			r = ctrl_svc_del(c, &s->key);
			if (r) {
				r = fail(r, err, len, "deleting service", &s->key, NULL);
				goto out;
			}
			ch->svc_del++;
			r = -ENOENT;
		}
		if (r == -ENOENT) {
			r = ctrl_svc_add(c, &s->key, &s->conf, NULL);
			if (r) {
				r = fail(r, err, len, "adding service", &s->key, NULL);
				goto out;
			}
			ch->svc_add++;
			added = true;
		} else if (r) {
			r = fail(r, err, len, "reading service", &s->key, NULL);
			goto out;
		} else if (old.mode != s->conf.mode || old.algo != s->conf.algo ||
			   old.fwd != s->conf.fwd || old.flags != s->conf.flags) {
			r = ctrl_svc_update(c, &s->key, &s->conf);
			if (r) {
				r = fail(r, err, len, "changing service", &s->key, NULL);
				goto out;
			}
			ch->svc_set++;
			changed = true;
		}
		/* A new guard of a service that was only added or changed is no more change. */
		r = apply_syn_rate(c, s, ch, err, len);
		if (r > 0 && !added && !changed)
			ch->svc_set++;
		if (r >= 0)
			r = apply_backends(c, s, ch, err, len);
		if (r)
			goto out;
	}
out:
	free(cur);
	return r;
}

int ctrl_l4cfg_apply(struct ctrl *c, const struct ctrl_l4cfg *cfg, struct ctrl_l4cfg_changes *ch,
	char *err, size_t err_len)
{
	struct ctrl_l4cfg_changes none;
	struct lb_node want, cur, a, b;
	int r;

	if (!ch)
		ch = &none;
	memset(ch, 0, sizeof(*ch));
	r = ctrl_lock(c);
	if (r)
		return fail(r, err, err_len, ctrl_pin_dir(c), NULL, NULL);
	if (cfg->has_node) {
		want = cfg->node;
		/* Resolved before any change, so that a missing interface changes nothing. */
		if (cfg->egress[0]) {
			want.egress_ifindex = if_nametoindex(cfg->egress);
			if (!want.egress_ifindex) {
				snprintf(err, err_len, "node: egress '%s': no such interface",
					cfg->egress);
				r = -ENODEV;
				goto out;
			}
		}
		r = ctrl_node_get(c, &cur);
		if (r) {
			fail(r, err, err_len, "reading the node settings", NULL, NULL);
			goto out;
		}
		a = node_effective(&cur);
		b = node_effective(&want);
		if (memcmp(&a, &b, sizeof(a))) {
			r = ctrl_node_set(c, &want);
			if (r) {
				fail(r, err, err_len, "writing the node settings", NULL, NULL);
				goto out;
			}
			ch->node++;
		}
	}
	r = apply_services(c, cfg, ch, err, err_len);
out:
	ctrl_unlock(c);
	return r;
}
