// SPDX-License-Identifier: GPL-2.0
/* Metrics registry: families and series registered under a mutex, values in per-thread shards
 * updated with plain relaxed loads and stores (one writer per shard), merged when rendered in
 * the Prometheus text format 0.0.4. */
#include "userspace/ops/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LINE   64u
#define MAX_FAMILIES 256u /* fixed, so that workers may read families without the lock */

struct metrics_family {
	char *name;
	char *help;
	enum metrics_type type;
	char *labels[METRICS_MAX_LABELS];
	size_t n_labels;
	double buckets[METRICS_MAX_BUCKETS];
	size_t n_buckets;
	unsigned int slots; /* value slots per series */
};

struct metrics_series {
	int family;
	unsigned int slot; /* first value slot in every shard */
	char *values[METRICS_MAX_LABELS];
};

struct metrics_collector {
	metrics_collect_fn fn;
	void *arg;
};

struct metrics {
	pthread_mutex_t lock; /* registration and rendering */
	unsigned int n_shards;
	unsigned int max_slots;
	uint64_t **shard; /* n_shards arrays of max_slots values, cache-line aligned */
	unsigned int used_slots;
	struct metrics_family *fam; /* MAX_FAMILIES entries, never moved */
	size_t n_fam;
	struct metrics_series *series; /* max_slots entries, never moved (workers read them) */
	int n_series;		       /* published with release stores */
	struct metrics_collector *coll;
	size_t n_coll;
};

struct metrics_writer {
	FILE *f;
	bool in_family;
	char family[METRICS_NAME_MAX];
};

bool metrics_name_ok(const char *s)
{
	if (!s || !*s || strlen(s) >= METRICS_NAME_MAX)
		return false;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';

		if (!alpha && !(i && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

bool metrics_label_ok(const char *s)
{
	if (!metrics_name_ok(s) || strchr(s, ':') || !strncmp(s, "__", 2))
		return false;
	return true;
}

int metrics_escape(FILE *f, const char *s, bool help)
{
	for (; *s; s++) {
		int r;

		if (*s == '\\')
			r = fputs("\\\\", f);
		else if (*s == '\n')
			r = fputs("\\n", f);
		else if (*s == '"' && !help)
			r = fputs("\\\"", f);
		else
			r = fputc(*s, f);
		if (r == EOF)
			return -EIO;
	}
	return 0;
}

const char *metrics_fmt_double(char *buf, size_t len, double v)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return buf;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return buf;
	}
	/* Integers print in full ("1000", not "1e+03"), as far as a double holds them exactly. */
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v) {
		snprintf(buf, len, "%.0f", v);
		return buf;
	}
	/* The shortest %g text that parses back to the same double ("0.005", not
	 * "0.0050000000000000001"). */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

struct metrics *metrics_new(unsigned int n_shards, unsigned int max_slots)
{
	struct metrics *m;
	size_t bytes;

	if (!n_shards || !max_slots) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->n_shards = n_shards;
	m->max_slots = max_slots;
	m->shard = calloc(n_shards, sizeof(*m->shard));
	m->series = calloc(max_slots, sizeof(*m->series));
	m->fam = calloc(MAX_FAMILIES, sizeof(*m->fam));
	if (!m->shard || !m->series || !m->fam)
		goto err;
	/* Whole cache lines per shard, so that two workers never write the same line. */
	bytes = ((size_t)max_slots * sizeof(uint64_t) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	for (unsigned int i = 0; i < n_shards; i++) {
		m->shard[i] = aligned_alloc(CACHE_LINE, bytes);
		if (!m->shard[i])
			goto err;
		memset(m->shard[i], 0, bytes);
	}
	return m;
err:
	metrics_free(m);
	errno = ENOMEM;
	return NULL;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_fam; i++) {
		free(m->fam[i].name);
		free(m->fam[i].help);
		for (size_t j = 0; j < m->fam[i].n_labels; j++)
			free(m->fam[i].labels[j]);
	}
	for (int i = 0; i < m->n_series; i++)
		for (size_t j = 0; j < METRICS_MAX_LABELS; j++)
			free(m->series[i].values[j]);
	if (m->shard)
		for (unsigned int i = 0; i < m->n_shards; i++)
			free(m->shard[i]);
	free(m->shard);
	free(m->series);
	free(m->fam);
	free(m->coll);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Add a series of family <fi> with <values> (NULL for none); lock held. */
static int series_add(struct metrics *m, int fi, const char *const *values)
{
	struct metrics_family *f = &m->fam[fi];
	struct metrics_series *s;
	int id = m->n_series;

	if (m->used_slots + f->slots > m->max_slots)
		return -ENOSPC;
	s = &m->series[id];
	memset(s, 0, sizeof(*s));
	s->family = fi;
	s->slot = m->used_slots;
	for (size_t j = 0; j < f->n_labels; j++) {
		s->values[j] = strdup(values[j]);
		if (!s->values[j]) {
			for (size_t k = 0; k < j; k++)
				free(s->values[k]);
			return -ENOMEM;
		}
	}
	m->used_slots += f->slots;
	__atomic_store_n(&m->n_series, id + 1, __ATOMIC_RELEASE);
	return id;
}

int metrics_family(struct metrics *m, const char *name, const char *help, enum metrics_type type,
	const char *const *labels, size_t n_labels, const double *buckets, size_t n_buckets)
{
	struct metrics_family f = {0};
	int err = -EINVAL, id;

	if (!m || !metrics_name_ok(name) || type >= METRICS_TYPE_MAX ||
		n_labels > METRICS_MAX_LABELS || (n_labels && !labels))
		return -EINVAL;
	if (type == METRICS_HISTOGRAM) {
		if (n_buckets > METRICS_MAX_BUCKETS || (n_buckets && !buckets))
			return -EINVAL;
		for (size_t i = 0; i < n_buckets; i++)
			if (!isfinite(buckets[i]) || (i && buckets[i] <= buckets[i - 1]))
				return -EINVAL;
	} else if (n_buckets) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n_labels; i++) {
		if (!metrics_label_ok(labels[i]) ||
			(type == METRICS_HISTOGRAM && !strcmp(labels[i], "le")))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(labels[i], labels[j]))
				return -EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_fam; i++)
		if (!strcmp(m->fam[i].name, name)) {
			err = -EEXIST;
			goto out;
		}
	if (m->n_fam == MAX_FAMILIES) {
		err = -ENOSPC;
		goto out;
	}
	f.type = type;
	f.name = strdup(name);
	f.help = strdup(help ? help : "");
	if (!f.name || !f.help)
		goto nomem_f;
	for (size_t i = 0; i < n_labels; i++) {
		f.labels[i] = strdup(labels[i]);
		if (!f.labels[i])
			goto nomem_f;
		f.n_labels = i + 1;
	}
	if (n_buckets)
		memcpy(f.buckets, buckets, n_buckets * sizeof(*buckets));
	f.n_buckets = n_buckets;
	/* Histogram: one count per bucket (+Inf included), then the sum's bits. */
	f.slots = type == METRICS_HISTOGRAM ? (unsigned int)n_buckets + 2 : 1;
	id = (int)m->n_fam;
	m->fam[m->n_fam++] = f;
	if (!n_labels) {
		err = series_add(m, id, NULL);
		if (err < 0) {
			m->n_fam--;
			goto err_f;
		}
	}
	err = id;
	goto out;

nomem_f:
	err = -ENOMEM;
err_f:
	free(f.name);
	free(f.help);
	for (size_t i = 0; i < f.n_labels; i++)
		free(f.labels[i]);
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

int metrics_series(struct metrics *m, int family, const char *const *values)
{
	struct metrics_family *f;
	int err;

	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	err = -EINVAL;
	if (family < 0 || (size_t)family >= m->n_fam)
		goto out;
	f = &m->fam[family];
	if (f->n_labels && !values)
		goto out;
	for (size_t j = 0; j < f->n_labels; j++)
		if (!values[j])
			goto out;
	for (int i = 0; i < m->n_series; i++) {
		struct metrics_series *s = &m->series[i];
		size_t j;

		if (s->family != family)
			continue;
		for (j = 0; j < f->n_labels; j++)
			if (strcmp(s->values[j], values[j]))
				break;
		if (j == f->n_labels) {
			err = i;
			goto out;
		}
	}
	err = series_add(m, family, values);
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

int metrics_series0(struct metrics *m, int family)
{
	int err = -EINVAL;

	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (family >= 0 && (size_t)family < m->n_fam && !m->fam[family].n_labels)
		for (int i = 0; i < m->n_series; i++)
			if (m->series[i].family == family) {
				err = i;
				break;
			}
	pthread_mutex_unlock(&m->lock);
	return err;
}

/* Value slot <k> of <series> in <shard>, or NULL for ids that were never handed out. */
static inline uint64_t *slot_of(struct metrics *m, unsigned int shard, int series, unsigned int k)
{
	if (shard >= m->n_shards || series < 0 ||
		series >= __atomic_load_n(&m->n_series, __ATOMIC_ACQUIRE))
		return NULL;
	return &m->shard[shard][m->series[series].slot + k];
}

/* One writer per shard: a relaxed load and store is enough, and keeps the update free of
 * locked instructions; the scraper reads with relaxed loads and never sees a torn value. */
static inline void slot_add(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

void metrics_add(struct metrics *m, unsigned int shard, int series, uint64_t n)
{
	uint64_t *p = slot_of(m, shard, series, 0);

	if (p)
		slot_add(p, n);
}

void metrics_gauge_add(struct metrics *m, unsigned int shard, int series, int64_t delta)
{
	uint64_t *p = slot_of(m, shard, series, 0);

	if (p)
		slot_add(p, (uint64_t)delta);
}

void metrics_gauge_set(struct metrics *m, unsigned int shard, int series, int64_t v)
{
	uint64_t *p = slot_of(m, shard, series, 0);

	if (p)
		__atomic_store_n(p, (uint64_t)v, __ATOMIC_RELAXED);
}

static double bits_double(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

static uint64_t double_bits(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

void metrics_observe(struct metrics *m, unsigned int shard, int series, double v)
{
	uint64_t *p = slot_of(m, shard, series, 0), *sum;
	const struct metrics_family *f;
	size_t b;

	if (!p)
		return;
	f = &m->fam[m->series[series].family];
	if (f->type != METRICS_HISTOGRAM)
		return;
	for (b = 0; b < f->n_buckets && v > f->buckets[b]; b++)
		;
	slot_add(&p[b], 1);
	sum = &p[f->n_buckets + 1];
	__atomic_store_n(sum, double_bits(bits_double(__atomic_load_n(sum, __ATOMIC_RELAXED)) + v),
		__ATOMIC_RELAXED);
}

/* Merged slot <k> of <series> as an unsigned sum over shards. */
static uint64_t merged(struct metrics *m, int series, unsigned int k)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < m->n_shards; i++)
		sum += __atomic_load_n(&m->shard[i][m->series[series].slot + k], __ATOMIC_RELAXED);
	return sum;
}

static double merged_sum(struct metrics *m, int series, unsigned int k)
{
	double sum = 0;

	for (unsigned int i = 0; i < m->n_shards; i++)
		sum += bits_double(__atomic_load_n(
			&m->shard[i][m->series[series].slot + k], __ATOMIC_RELAXED));
	return sum;
}

double metrics_value(struct metrics *m, int series)
{
	const struct metrics_family *f;
	double v = 0;

	if (!m || series < 0 || series >= __atomic_load_n(&m->n_series, __ATOMIC_ACQUIRE))
		return 0;
	/* No lock: a published series and its family never change, and collectors call this
	 * while metrics_render() holds the lock. */
	f = &m->fam[m->series[series].family];
	if (f->type == METRICS_COUNTER)
		v = (double)merged(m, series, 0);
	else if (f->type == METRICS_GAUGE)
		v = (double)(int64_t)merged(m, series, 0);
	else
		for (unsigned int k = 0; k <= f->n_buckets; k++)
			v += (double)merged(m, series, k);
	return v;
}

int metrics_collector(struct metrics *m, metrics_collect_fn fn, void *arg)
{
	struct metrics_collector *v;

	if (!m || !fn)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	v = realloc(m->coll, (m->n_coll + 1) * sizeof(*v));
	if (v) {
		m->coll = v;
		m->coll[m->n_coll++] = (struct metrics_collector){fn, arg};
	}
	pthread_mutex_unlock(&m->lock);
	return v ? 0 : -ENOMEM;
}

static const char *type_name(enum metrics_type t)
{
	static const char *const names[] = {
		[METRICS_COUNTER] = "counter",
		[METRICS_GAUGE] = "gauge",
		[METRICS_HISTOGRAM] = "histogram",
	};

	return t < METRICS_TYPE_MAX ? names[t] : "untyped";
}

static void put_header(FILE *f, const char *name, const char *help, enum metrics_type t)
{
	fprintf(f, "# HELP %s ", name);
	metrics_escape(f, help, true);
	fprintf(f, "\n# TYPE %s %s\n", name, type_name(t));
}

/* name{a="x",b="y"[,le="..."]} -- braces only when there is a label. */
static void put_labels(
	FILE *f, const char *const *names, char *const *values, size_t n, const char *le)
{
	if (!n && !le)
		return;
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", names[i]);
		metrics_escape(f, values[i], false);
		fputc('"', f);
	}
	if (le)
		fprintf(f, "%sle=\"%s\"", n ? "," : "", le);
	fputc('}', f);
}

static void render_series(struct metrics *m, FILE *f, const struct metrics_family *fam, int s)
{
	const char *const *ln = (const char *const *)fam->labels;
	char *const *lv = m->series[s].values;
	char num[64];

	if (fam->type == METRICS_COUNTER) {
		fputs(fam->name, f);
		put_labels(f, ln, lv, fam->n_labels, NULL);
		fprintf(f, " %" PRIu64 "\n", merged(m, s, 0));
		return;
	}
	if (fam->type == METRICS_GAUGE) {
		fputs(fam->name, f);
		put_labels(f, ln, lv, fam->n_labels, NULL);
		fprintf(f, " %" PRId64 "\n", (int64_t)merged(m, s, 0));
		return;
	}
	uint64_t cum = 0;

	for (size_t b = 0; b <= fam->n_buckets; b++) {
		cum += merged(m, s, (unsigned int)b);
		fprintf(f, "%s_bucket", fam->name);
		put_labels(f, ln, lv, fam->n_labels,
			b < fam->n_buckets ? metrics_fmt_double(num, sizeof(num), fam->buckets[b]) :
					     "+Inf");
		fprintf(f, " %" PRIu64 "\n", cum);
	}
	fprintf(f, "%s_sum", fam->name);
	put_labels(f, ln, lv, fam->n_labels, NULL);
	fprintf(f, " %s\n",
		metrics_fmt_double(
			num, sizeof(num), merged_sum(m, s, (unsigned int)fam->n_buckets + 1)));
	fprintf(f, "%s_count", fam->name);
	put_labels(f, ln, lv, fam->n_labels, NULL);
	fprintf(f, " %" PRIu64 "\n", cum);
}

int metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct metrics_writer w = {0};
	char *buf = NULL;
	size_t size = 0;
	int err = 0;

	if (!m || !out || !len)
		return -EINVAL;
	w.f = open_memstream(&buf, &size);
	if (!w.f)
		return -ENOMEM;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_fam; i++) {
		const struct metrics_family *fam = &m->fam[i];

		put_header(w.f, fam->name, fam->help, fam->type);
		for (int s = 0; s < m->n_series; s++)
			if (m->series[s].family == (int)i)
				render_series(m, w.f, fam, s);
	}
	for (size_t i = 0; i < m->n_coll && !err; i++)
		err = m->coll[i].fn(&w, m->coll[i].arg);
	pthread_mutex_unlock(&m->lock);
	if (ferror(w.f) && !err)
		err = -ENOMEM;
	if (fclose(w.f) && !err)
		err = -ENOMEM;
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = size;
	return 0;
}

int metrics_write_family(
	struct metrics_writer *w, const char *name, const char *help, enum metrics_type type)
{
	if (!w || !metrics_name_ok(name) || (type != METRICS_COUNTER && type != METRICS_GAUGE))
		return -EINVAL;
	put_header(w->f, name, help ? help : "", type);
	snprintf(w->family, sizeof(w->family), "%s", name);
	w->in_family = true;
	return ferror(w->f) ? -ENOMEM : 0;
}

int metrics_write_sample(struct metrics_writer *w, const char *const *names,
	const char *const *values, size_t n, double v)
{
	char num[64];

	if (!w || !w->in_family || n > METRICS_MAX_LABELS || (n && (!names || !values)))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!metrics_label_ok(names[i]) || !values[i])
			return -EINVAL;
	fputs(w->family, w->f);
	put_labels(w->f, names, (char *const *)values, n, NULL);
	fprintf(w->f, " %s\n", metrics_fmt_double(num, sizeof(num), v));
	return ferror(w->f) ? -ENOMEM : 0;
}
