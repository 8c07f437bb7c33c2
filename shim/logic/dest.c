/* dest.c - destination keys for the idle table. */
#include "logic/dest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int kw_dest_from_sockaddr(struct kw_dest *d, const struct sockaddr *sa, socklen_t len)
{
	memset(d, 0, sizeof *d);
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		d->family = AF_INET;
		d->port = in->sin_port;
		memcpy(d->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		d->family = AF_INET6;
		d->port = in6->sin6_port;
		d->scope_id = in6->sin6_scope_id;
		memcpy(d->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

socklen_t kw_dest_to_sockaddr(const struct kw_dest *d, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (d->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = d->port;
		in6->sin6_scope_id = d->scope_id;
		memcpy(&in6->sin6_addr, d->addr, 16);
		return sizeof *in6;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	in->sin_family = AF_INET;
	in->sin_port = d->port;
	memcpy(&in->sin_addr, d->addr, 4);
	return sizeof *in;
}

bool kw_dest_equal(const struct kw_dest *a, const struct kw_dest *b)
{
	return a->family == b->family && a->port == b->port && a->scope_id == b->scope_id &&
	       a->tls == b->tls && !memcmp(a->addr, b->addr, sizeof a->addr);
}

uint32_t kw_dest_hash(const struct kw_dest *d)
{
	/* FNV-1a over the key's fields (the struct has no padding, but be explicit). */
	uint32_t h = 2166136261u;
	const uint8_t *parts[] = { (const uint8_t *)&d->family, (const uint8_t *)&d->port,
	                           (const uint8_t *)&d->scope_id, d->addr, &d->tls };
	const size_t sizes[] = { sizeof d->family, sizeof d->port, sizeof d->scope_id, sizeof d->addr,
	                         sizeof d->tls };

	for (size_t p = 0; p < 5; p++)
		for (size_t i = 0; i < sizes[p]; i++)
			h = (h ^ parts[p][i]) * 16777619u;
	return h;
}

void kw_dest_format(const struct kw_dest *d, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (!size)
		return;
	inet_ntop(d->family == AF_INET6 ? AF_INET6 : AF_INET, d->addr, a, sizeof a);
	if (d->family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", a, ntohs(d->port));
	else
		snprintf(buf, size, "%s:%u", a, ntohs(d->port));
}
