/* sockopt_reset - socket options from a connection's previous user never
 * show. For each option in the table below: a first socket connects, makes
 * one exchange, sets the option to a value a fresh socket does not have, and
 * closes (keepwarm parks it when it can put the option back); a second
 * socket connects (keepwarm hands the connection back), reads the option and
 * must read what a fresh socket of the same family reads, then makes one
 * exchange. Also: SO_RCVBUF set after connect (not resettable: never
 * parked), and SO_RCVBUF set before connect (the connection goes only to a
 * socket that set the same).
 *
 *   sockopt_reset --port P [--host 127.0.0.1|::1] [--timeout S]
 * Prints "ok NAME" or "DIFF NAME: ..." per option; exit 0 when every option
 * reads as on a fresh socket, 1 otherwise. */
#include "client_common.h"

#include <arpa/inet.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static int port, family = AF_INET; /* family: of the host, for the table */

struct opt {
	const char *name;
	int level, optname, family; /* family 0: both */
	unsigned char value[16];    /* what the first user sets */
	socklen_t len;
};

#define INT(v) { (unsigned char)((v) & 0xff), (unsigned char)(((v) >> 8) & 0xff), \
		 (unsigned char)(((v) >> 16) & 0xff), (unsigned char)(((v) >> 24) & 0xff) }, 4

static const struct opt opts[] = {
	{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 0, INT(1) },
	{ "SO_RCVTIMEO", SOL_SOCKET, SO_RCVTIMEO, 0, { 5 }, sizeof(struct timeval) },
	{ "SO_SNDTIMEO", SOL_SOCKET, SO_SNDTIMEO, 0, { 5 }, sizeof(struct timeval) },
	{ "SO_LINGER", SOL_SOCKET, SO_LINGER, 0, { 1, 0, 0, 0, 5 }, sizeof(struct linger) },
	{ "SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 0, INT(3) },
	{ "SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 0, INT(10) },
	{ "SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, 0, INT(1) },
	{ "SO_ZEROCOPY", SOL_SOCKET, SO_ZEROCOPY, 0, INT(1) },
	{ "SO_MAX_PACING_RATE", SOL_SOCKET, SO_MAX_PACING_RATE, 0, INT(1000000) },
	{ "SO_TIMESTAMP", SOL_SOCKET, SO_TIMESTAMP, 0, INT(1) },
	{ "SO_TIMESTAMPNS", SOL_SOCKET, SO_TIMESTAMPNS, 0, INT(1) },
	{ "SO_TIMESTAMPING", SOL_SOCKET, SO_TIMESTAMPING, 0,
	  INT(SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE) },
	{ "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 0, INT(1) },
	{ "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 0, INT(77) },
	{ "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 0, INT(11) },
	{ "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, 0, INT(3) },
	{ "TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 0, INT(5000) },
	{ "TCP_CORK", IPPROTO_TCP, TCP_CORK, 0, INT(1) },
	{ "TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0, INT(12345) },
	{ "TCP_QUICKACK", IPPROTO_TCP, TCP_QUICKACK, 0, INT(0) },
	{ "TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION, 0, "reno", 4 },
	{ "IP_TOS", IPPROTO_IP, IP_TOS, AF_INET, INT(0x10) },
	{ "IP_TTL", IPPROTO_IP, IP_TTL, AF_INET, INT(33) },
	{ "IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS, AF_INET6, INT(0x10) },
	{ "IPV6_UNICAST_HOPS", IPPROTO_IPV6, IPV6_UNICAST_HOPS, AF_INET6, INT(33) },
};

static int dial(const struct opt *before_connect)
{
	int fd = before_connect
	                 ? kc_dial_opt(host, port, before_connect->level, before_connect->optname,
	                               before_connect->value, before_connect->len)
	                 : kc_dial(host, port);

	if (fd < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

/* One request and its whole response (Content-Length 100). */
static void exchange(int fd)
{
	if (kc_get_sized(fd, host, 100) < 0) {
		fprintf(stderr, "short or wrong response\n");
		exit(1);
	}
}

static int read_opt(int fd, const struct opt *o, unsigned char *val, socklen_t *len)
{
	*len = 32;
	memset(val, 0, 32);
	return getsockopt(fd, o->level, o->optname, val, len);
}

static void hex(const unsigned char *v, socklen_t n, char *out)
{
	for (socklen_t i = 0; i < n && i < 24; i++)
		sprintf(out + 2 * i, "%02x", v[i]);
}

/* A first socket sets SO_RCVBUF (before or after its connect), makes one
 * exchange and closes; the next one, which set nothing, must not read the
 * first one's value (the kernel doubles what is set: 16384). */
static int rcvbuf_case(const struct opt *rcvbuf, bool before, const char *when)
{
	unsigned char got[32];
	socklen_t gl;
	int fd = dial(before ? rcvbuf : NULL), bad = 0;

	exchange(fd);
	if (!before)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf->value, rcvbuf->len);
	close(fd);
	fd = dial(NULL);
	read_opt(fd, rcvbuf, got, &gl);
	if (gl == 4 && got[0] + (got[1] << 8) + (got[2] << 16) == 16384) {
		printf("DIFF SO_RCVBUF %s: the next user reads the first user's 16384\n", when);
		bad = 1;
	} else {
		printf("ok SO_RCVBUF %s\n", when);
	}
	exchange(fd);
	close(fd);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned char fresh[sizeof opts / sizeof opts[0]][32];
	socklen_t fresh_len[sizeof opts / sizeof opts[0]];
	struct opt rcvbuf = { "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 0, INT(8192) };
	int bad = 0, probe, fd;
	struct kc_script args;

	if (kc_script_args(&args, argc, argv, NULL, NULL) < 0) {
		fprintf(stderr, "usage: sockopt_reset --port P [--host H] [--timeout S]\n");
		return 2;
	}
	host = args.host;
	port = args.port;
	if (strchr(host, ':'))
		family = AF_INET6;
	/* What a fresh connected socket reads, before anything is parked (it
	 * carries no request, so it is never parked itself). */
	probe = dial(NULL);
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		read_opt(probe, &opts[i], fresh[i], &fresh_len[i]);

	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		const struct opt *o = &opts[i];
		unsigned char got[32];
		socklen_t len;
		char a[64] = "", b[64] = "";

		if (o->family && o->family != family)
			continue;
		fd = dial(NULL);
		exchange(fd);
		if (setsockopt(fd, o->level, o->optname, o->value, o->len) < 0) {
			printf("skip %s: setsockopt refused here\n", o->name);
			close(fd);
			continue;
		}
		close(fd);
		fd = dial(NULL);
		read_opt(fd, o, got, &len);
		if (len == fresh_len[i] && !memcmp(got, fresh[i], len)) {
			printf("ok %s\n", o->name);
		} else {
			hex(got, len, a);
			hex(fresh[i], fresh_len[i], b);
			printf("DIFF %s: the next user reads %s, a fresh socket %s\n", o->name, a, b);
			bad = 1;
		}
		exchange(fd);
		close(fd);
	}

	/* SO_RCVBUF after connect (cannot be put back, so never parked) and
	 * before it (the connection goes only to a socket that set the same). */
	bad |= rcvbuf_case(&rcvbuf, false, "after connect");
	bad |= rcvbuf_case(&rcvbuf, true, "before connect");
	close(probe);
	return bad;
}
