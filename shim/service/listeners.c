/* listeners.c - the listened-on addresses, in a page shared across fork(). */
#include "service/listeners.h"

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "service/real.h"

struct listener {
	_Atomic uint32_t ready; /* written last: the fields below are complete */
	uint16_t family;        /* AF_INET or AF_INET6 */
	uint16_t port;          /* network byte order */
	uint8_t  addr[16];      /* IPv4 in the first 4 bytes; all zero: a wildcard */
};

#define MAX_LISTENERS ((4096 - 2 * sizeof(uint32_t)) / sizeof(struct listener))

struct table {
	_Atomic uint32_t used;     /* entries reserved */
	_Atomic uint32_t overflow; /* a listener could not be recorded */
	struct listener entry[MAX_LISTENERS];
};

static struct table *table;

void kw_listeners_init(void)
{
	void *p = mmap(NULL, sizeof *table, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		table = p;
}

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* An address as (family, 16 bytes), IPv4-mapped IPv6 read as IPv4. */
static uint16_t plain_family(uint16_t family, const uint8_t *addr, uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == AF_INET6 && !memcmp(addr, mapped_prefix, 12)) {
		memcpy(out, addr + 12, 4);
		return AF_INET;
	}
	memcpy(out, addr, family == AF_INET ? 4 : 16);
	return family;
}

static bool all_zero(const uint8_t *a)
{
	static const uint8_t zero[16];
	return !memcmp(a, zero, 16);
}

static bool loopback(uint16_t family, const uint8_t *a)
{
	static const uint8_t one[16] = { [15] = 1 };
	return family == AF_INET ? a[0] == 127 : !memcmp(a, one, 16);
}

void kw_listeners_add(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct kw_dest d;
	struct listener l;
	uint32_t n, i;

	if (!table || kw_real.getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    kw_dest_from_sockaddr(&d, (struct sockaddr *)&ss, len) < 0)
		return;
	memset(&l, 0, sizeof l);
	l.port = d.port;
	l.family = plain_family(d.family, d.addr, l.addr);
	n = atomic_load_explicit(&table->used, memory_order_acquire);
	for (i = 0; i < n && i < MAX_LISTENERS; i++) {
		struct listener *e = &table->entry[i];
		if (atomic_load_explicit(&e->ready, memory_order_acquire) && e->port == l.port &&
		    e->family == l.family && !memcmp(e->addr, l.addr, 16))
			return; /* known already */
	}
	i = atomic_fetch_add_explicit(&table->used, 1, memory_order_acq_rel);
	if (i >= MAX_LISTENERS) {
		atomic_store_explicit(&table->overflow, 1, memory_order_release);
		return;
	}
	table->entry[i].family = l.family;
	table->entry[i].port = l.port;
	memcpy(table->entry[i].addr, l.addr, 16);
	atomic_store_explicit(&table->entry[i].ready, 1, memory_order_release);
}

/* Is d's address one of this host's: loopback, or the address the
 * connection on fd itself leaves from (a connection to our own address is
 * routed through loopback and leaves from it)? */
static bool local_address(uint16_t family, const uint8_t *addr, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct kw_dest self;
	uint8_t mine[16];

	if (loopback(family, addr))
		return true;
	if (kw_real.getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    kw_dest_from_sockaddr(&self, (struct sockaddr *)&ss, len) < 0)
		return true; /* cannot tell: as if local */
	return plain_family(self.family, self.addr, mine) == family && !memcmp(mine, addr, 16);
}

bool kw_listeners_match(const struct kw_dest *d, int fd)
{
	uint32_t n;
	uint8_t addr[16];
	uint16_t family;
	int local = -1; /* not asked yet */

	if (!table || !(n = atomic_load_explicit(&table->used, memory_order_acquire)))
		return false;
	family = plain_family(d->family, d->addr, addr);
	if (atomic_load_explicit(&table->overflow, memory_order_acquire))
		return local_address(family, addr, fd); /* some listener is unknown */
	for (uint32_t i = 0; i < n && i < MAX_LISTENERS; i++) {
		const struct listener *e = &table->entry[i];

		if (!atomic_load_explicit(&e->ready, memory_order_acquire) || e->port != d->port)
			continue;
		if (!all_zero(e->addr)) {
			if (e->family == family && !memcmp(e->addr, addr, 16))
				return true;
			continue;
		}
		/* 0.0.0.0 or :: (which also takes IPv4 on a dual-stack socket). */
		if (local < 0)
			local = local_address(family, addr, fd);
		if (local)
			return true;
	}
	return false;
}
