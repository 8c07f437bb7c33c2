/* dest.h - a connection's destination: family, address, port (and IPv6 scope),
 * and whether its HTTP travels inside TLS.
 * Pure logic, used as the idle table's key. */
#ifndef KW_DEST_H
#define KW_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct kw_dest {
	uint16_t family;   /* AF_INET or AF_INET6 */
	uint16_t port;     /* network byte order */
	uint32_t scope_id; /* IPv6 only, else 0 */
	uint8_t  addr[16]; /* IPv4 uses the first 4 bytes, the rest stay zero */
	uint8_t  tls;      /* 1: HTTP inside a TLS session (https), a destination of its own */
	uint8_t  reserved[3]; /* zero */
};

/* Fill d from a connect() address. Returns 0, or -1 when the address is not a
 * complete AF_INET/AF_INET6 address (then the socket is not followed). */
int kw_dest_from_sockaddr(struct kw_dest *d, const struct sockaddr *sa, socklen_t len);

/* The connect() address for d. Returns its length. */
socklen_t kw_dest_to_sockaddr(const struct kw_dest *d, struct sockaddr_storage *ss);

bool kw_dest_equal(const struct kw_dest *a, const struct kw_dest *b);

/* A hash spread over the whole key, for the idle table's buckets. */
uint32_t kw_dest_hash(const struct kw_dest *d);

/* "127.0.0.1:8080" or "[::1]:8080" into buf (always terminated). */
void kw_dest_format(const struct kw_dest *d, char *buf, size_t size);

#endif
