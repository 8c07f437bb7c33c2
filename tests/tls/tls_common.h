/* tls_common.h - what the GnuTLS and OpenSSL test clients share: URLs, the
 * TCP connect, waiting on a non-blocking socket (poll or epoll), the HTTP/1.1
 * exchange and the modes (blocking, poll, epoll, threads, fork). Each client
 * supplies only its TLS library's calls (struct tls_ops). */
#ifndef KW_TLS_COMMON_H
#define KW_TLS_COMMON_H

#include <stddef.h>
#include <sys/types.h>

enum io_mode { IO_BLOCKING, IO_POLL, IO_EPOLL, IO_THREADS, IO_FORK };

struct url {
	char host[256];
	char port[8];
	char path[2048];
	int host_is_ip; /* no SNI for an address (RFC 6066) */
};

/* A TCP connection and how to wait on it. */
struct sock {
	int fd;
	int epfd;   /* IO_EPOLL: this connection's epoll instance, else -1 */
	int nonblock;
	enum io_mode mode;
};

struct tls_ops {
	/* Global set-up after the arguments are read (the CA file). */
	int (*init)(const char *ca);
	/* TLS over an open socket, handshake done; NULL on failure. */
	void *(*open)(struct sock *s, const struct url *u);
	/* >0 bytes, 0 at the end of the stream, -1 on error. */
	ssize_t (*read)(void *c, void *buf, size_t n);
	/* 0 when all was written, -1 on error. */
	int (*write)(void *c, const void *buf, size_t n);
	/* Shutdown, free, close the socket. */
	void (*close)(void *c);
	/* sha256 of a body as 64 hex digits and a NUL. */
	int (*sha256_hex)(const void *buf, size_t n, char hex[65]);
};

/* Wait until s can be read (want_write 0) or written (1): 0, or -1 after
 * the timeout or an error. */
int sock_wait(struct sock *s, int want_write);

/* Parse the arguments and fetch; the client's main returns this. */
int tls_client_main(int argc, char **argv, const struct tls_ops *ops);

#endif
