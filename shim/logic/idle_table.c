/* idle_table.c - idle connections: a fixed pool of entries on two intrusive
 * lists each (all entries by park time, and one key's entries), plus
 * a hash of keys. Every operation is O(1) or O(entries of one host). */
#include "logic/idle_table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct link {
	struct link *prev, *next;
};

struct host;

struct slot {
	struct link by_age;  /* in table->age: oldest at head */
	struct link by_host; /* in host->entries: oldest at head, newest at tail */
	struct host *host;
	struct kw_idle_entry e;
};

struct host {
	struct host *hash_next;
	struct link entries;
	unsigned count;
	struct kw_key key;
};

struct kw_idle_table {
	unsigned max_total, max_per_host, count;
	unsigned nbuckets;
	struct link age;
	struct link *probe_from; /* in age: the oldest entry kw_idle_probe_due has not
	                          * passed yet (&age: none) */
	struct slot *slots;
	struct slot **free_slots;
	unsigned nfree;
	struct host *hosts; /* pool: one host record can serve each slot */
	struct host **free_hosts;
	unsigned nfree_hosts;
	struct host **buckets;
};

#define CONTAINER(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static void list_init(struct link *l) { l->prev = l->next = l; }
static bool list_empty(const struct link *l) { return l->next == l; }

static void list_push_tail(struct link *head, struct link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void list_unlink(struct link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

struct kw_idle_table *kw_idle_create(unsigned max_total, unsigned max_per_host)
{
	struct kw_idle_table *t = calloc(1, sizeof *t);
	unsigned n = max_total ? max_total : 1;

	if (!t)
		return NULL;
	t->max_total = max_total;
	t->max_per_host = max_per_host;
	for (t->nbuckets = 16; t->nbuckets < n && t->nbuckets < (1u << 20); t->nbuckets <<= 1)
		;
	t->slots = calloc(n, sizeof *t->slots);
	t->free_slots = calloc(n, sizeof *t->free_slots);
	t->hosts = calloc(n, sizeof *t->hosts);
	t->free_hosts = calloc(n, sizeof *t->free_hosts);
	t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
	if (!t->slots || !t->free_slots || !t->hosts || !t->free_hosts || !t->buckets) {
		kw_idle_destroy(t);
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		t->free_slots[t->nfree++] = &t->slots[n - 1 - i];
		t->free_hosts[t->nfree_hosts++] = &t->hosts[n - 1 - i];
	}
	list_init(&t->age);
	t->probe_from = &t->age;
	return t;
}

void kw_idle_destroy(struct kw_idle_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->free_slots);
	free(t->hosts);
	free(t->free_hosts);
	free(t->buckets);
	free(t);
}

static struct host **bucket_of(const struct kw_idle_table *t, const struct kw_key *k)
{
	return &t->buckets[kw_key_hash(k) & (t->nbuckets - 1)];
}

static struct host *host_find(const struct kw_idle_table *t, const struct kw_key *k)
{
	for (struct host *h = *bucket_of(t, k); h; h = h->hash_next)
		if (kw_key_equal(&h->key, k))
			return h;
	return NULL;
}

static struct host *host_get(struct kw_idle_table *t, const struct kw_key *k)
{
	struct host *h = host_find(t, k);
	struct host **b;

	if (h || !t->nfree_hosts)
		return h;
	h = t->free_hosts[--t->nfree_hosts];
	memset(h, 0, sizeof *h);
	h->key = *k;
	list_init(&h->entries);
	b = bucket_of(t, k);
	h->hash_next = *b;
	*b = h;
	return h;
}

static void host_release_if_empty(struct kw_idle_table *t, struct host *h)
{
	struct host **p;

	if (h->count)
		return;
	for (p = bucket_of(t, &h->key); *p && *p != h; p = &(*p)->hash_next)
		;
	if (*p)
		*p = h->hash_next;
	t->free_hosts[t->nfree_hosts++] = h;
}

/* Unlink a slot, copy its entry out, return it to the free pool. */
static void remove_slot(struct kw_idle_table *t, struct slot *s, struct kw_idle_entry *out)
{
	struct host *h = s->host;

	*out = s->e;
	if (t->probe_from == &s->by_age)
		t->probe_from = s->by_age.next;
	list_unlink(&s->by_age);
	list_unlink(&s->by_host);
	h->count--;
	t->count--;
	t->free_slots[t->nfree++] = s;
	host_release_if_empty(t, h);
}

int kw_idle_put(struct kw_idle_table *t, int fd, const struct kw_idle_meta *m,
                struct kw_idle_entry *evicted)
{
	struct host *h;
	struct slot *s;
	int pushed = 0;

	if (!t->max_total || !t->max_per_host)
		return -1;
	h = host_find(t, &m->key);
	if (h && h->count >= t->max_per_host) {
		remove_slot(t, CONTAINER(h->entries.next, struct slot, by_host), evicted);
		pushed = 1;
	} else if (t->count >= t->max_total) {
		remove_slot(t, CONTAINER(t->age.next, struct slot, by_age), evicted);
		pushed = 1;
	}
	h = host_get(t, &m->key); /* may have been released by the eviction */
	if (!h || !t->nfree)
		return -1; /* cannot happen while counts are consistent */
	s = t->free_slots[--t->nfree];
	s->e.fd = fd;
	s->e.meta = *m;
	s->host = h;
	list_push_tail(&t->age, &s->by_age);
	if (t->probe_from == &t->age)
		t->probe_from = &s->by_age;
	list_push_tail(&h->entries, &s->by_host);
	h->count++;
	t->count++;
	return pushed;
}

int kw_idle_take(struct kw_idle_table *t, const struct kw_key *k, uint64_t now_ms,
                 struct kw_idle_entry *found, struct kw_idle_entry *expired,
                 unsigned max_expired, unsigned *n_expired)
{
	struct host *h = host_find(t, k);

	*n_expired = 0;
	while (h) {
		struct slot *s = CONTAINER(h->entries.prev, struct slot, by_host); /* newest */
		bool last = h->count == 1;

		if (s->e.meta.expires_ms > now_ms) {
			remove_slot(t, s, found);
			return 1;
		}
		if (*n_expired < max_expired)
			remove_slot(t, s, &expired[(*n_expired)++]);
		else
			return 0; /* no room to hand back more expired fds; leave them */
		if (last)
			break; /* h was released with its last entry */
	}
	return 0;
}

unsigned kw_idle_expire(struct kw_idle_table *t, uint64_t now_ms,
                        struct kw_idle_entry *out, unsigned max)
{
	unsigned n = 0;

	while (n < max && !list_empty(&t->age)) {
		struct slot *s = CONTAINER(t->age.next, struct slot, by_age);
		if (s->e.meta.expires_ms > now_ms)
			break;
		remove_slot(t, s, &out[n++]);
	}
	return n;
}

int kw_idle_pop_oldest(struct kw_idle_table *t, struct kw_idle_entry *out)
{
	if (list_empty(&t->age))
		return 0;
	remove_slot(t, CONTAINER(t->age.next, struct slot, by_age), out);
	return 1;
}

bool kw_idle_renumber(struct kw_idle_table *t, int old_fd, int new_fd)
{
	/* Rare (the program dup2()s onto a parked number): a scan is fine. */
	for (struct link *l = t->age.next; l != &t->age; l = l->next) {
		struct slot *s = CONTAINER(l, struct slot, by_age);
		if (s->e.fd == old_fd) {
			s->e.fd = new_fd;
			return true;
		}
	}
	return false;
}

bool kw_idle_remove_fd(struct kw_idle_table *t, int fd, struct kw_idle_entry *out)
{
	/* A scan, as renumber: a server's close is rare beside takes and parks. */
	for (struct link *l = t->age.next; l != &t->age; l = l->next) {
		struct slot *s = CONTAINER(l, struct slot, by_age);
		if (s->e.fd == fd) {
			remove_slot(t, s, out);
			return true;
		}
	}
	return false;
}

unsigned kw_idle_probe_due(struct kw_idle_table *t, uint64_t before_ms, uint64_t longer_than_ms,
                           uint32_t bits, int *out, unsigned max)
{
	struct link *l = t->probe_from;
	unsigned n = 0;

	for (; l != &t->age && n < max; l = l->next) {
		struct slot *s = CONTAINER(l, struct slot, by_age);

		if (s->e.meta.parked_ms > before_ms)
			break;
		if (s->e.meta.probing)
			continue;
		s->e.meta.probing = true;
		if (s->e.meta.expires_ms - s->e.meta.parked_ms <= longer_than_ms)
			continue; /* gone before a probe could go out: nothing to set */
		s->e.meta.conn.touched |= bits;
		if (s->e.fd >= 0)
			out[n++] = s->e.fd;
	}
	t->probe_from = l;
	return n;
}

unsigned kw_idle_count(const struct kw_idle_table *t)
{
	return t->count;
}

unsigned kw_idle_count_key(const struct kw_idle_table *t, const struct kw_key *k)
{
	const struct host *h = host_find(t, k);
	return h ? h->count : 0;
}
