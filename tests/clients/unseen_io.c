/* unseen_io - bytes moved behind keepwarm's back. Each round opens a
 * connection, makes one ordinary exchange (write(), then read() of the whole
 * response), then moves a second request by a path keepwarm does not see, and
 * closes:
 *   --mode raw-write  the second request written with syscall(SYS_write), its
 *                     response never read (it is on its way at close)
 *   --mode raw-read   the second request and its whole response moved with
 *                     syscall(SYS_write) and syscall(SYS_read)
 *   --mode io-uring   the second request sent through io_uring
 *                     (IORING_OP_SEND), its response never read
 * The ordinary response of every round must be its own: round i asks for
 * /gen/(1000+i), the unseen request for /gen/(5000+i), so a response left
 * over from an earlier round has the wrong Content-Length.
 *
 *   unseen_io --port P --mode M [--host H] [--requests ROUNDS] [--timeout S]
 *   unseen_io --probe-io-uring    exit 0 when io_uring can be set up, 77 when
 *                                 the kernel refuses it
 * Exit 0, 1 when a response is not its own, 2 on bad usage, 77 when io_uring
 * is refused. */
#include "client_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SKIP 77

static const char *host = "127.0.0.1";
static int port, rounds = 20;

static long raw_write(int fd, const void *buf, size_t len)
{
	return syscall(SYS_write, fd, buf, len);
}

static long raw_read(int fd, void *buf, size_t len)
{
	return syscall(SYS_read, fd, buf, len);
}

/* ---- io_uring without liburing: one SEND, waited for ---- */

struct ring {
	int fd;
	void *sq, *cq;
	struct io_uring_sqe *sqes;
	size_t sq_size, cq_size, sqes_size;
	struct io_uring_params p;
};

static int ring_open(struct ring *r)
{
	memset(r, 0, sizeof *r);
	r->fd = (int)syscall(__NR_io_uring_setup, 1, &r->p);
	if (r->fd < 0)
		return -1;
	r->sq_size = r->p.sq_off.array + r->p.sq_entries * sizeof(unsigned);
	r->cq_size = r->p.cq_off.cqes + r->p.cq_entries * sizeof(struct io_uring_cqe);
	r->sqes_size = r->p.sq_entries * sizeof(struct io_uring_sqe);
	r->sq = mmap(NULL, r->sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
	             IORING_OFF_SQ_RING);
	r->cq = mmap(NULL, r->cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
	             IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
	               IORING_OFF_SQES);
	if (r->sq == MAP_FAILED || r->cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -1;
	return 0;
}

static void ring_close(struct ring *r)
{
	if (r->sq && r->sq != MAP_FAILED)
		munmap(r->sq, r->sq_size);
	if (r->cq && r->cq != MAP_FAILED)
		munmap(r->cq, r->cq_size);
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_size);
	if (r->fd >= 0)
		close(r->fd);
}

static long uring_send(int fd, const void *buf, size_t len)
{
	struct ring r;
	unsigned *tail, *mask, *array, *head, cmask, idx;
	struct io_uring_cqe *cqes;
	struct io_uring_sqe *e;
	long res;

	if (ring_open(&r) < 0) {
		ring_close(&r);
		return -SKIP;
	}
	tail = (unsigned *)((char *)r.sq + r.p.sq_off.tail);
	mask = (unsigned *)((char *)r.sq + r.p.sq_off.ring_mask);
	array = (unsigned *)((char *)r.sq + r.p.sq_off.array);
	idx = *tail & *mask;
	e = &r.sqes[idx];
	memset(e, 0, sizeof *e);
	e->opcode = IORING_OP_SEND;
	e->fd = fd;
	e->addr = (uint64_t)(uintptr_t)buf;
	e->len = (unsigned)len;
	array[idx] = idx;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r.fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
		ring_close(&r);
		return -1;
	}
	head = (unsigned *)((char *)r.cq + r.p.cq_off.head);
	cmask = *(unsigned *)((char *)r.cq + r.p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)((char *)r.cq + r.p.cq_off.cqes);
	res = cqes[__atomic_load_n(head, __ATOMIC_ACQUIRE) & cmask].res;
	__atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
	ring_close(&r);
	return res;
}

static int request(char *buf, size_t cap, long n)
{
	return snprintf(buf, cap, "GET /gen/%ld HTTP/1.1\r\nHost: %s\r\n\r\n", n, host);
}

static int round_trip(const char *mode, int i)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[256];
	int fd, len;
	long got, want = 1000 + i;

	inet_pton(AF_INET, host, &a.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		return 1;
	}
	len = request(req, sizeof req, want);
	if (write(fd, req, (size_t)len) != len) {
		perror("write");
		return 1;
	}
	got = kc_read_sized(fd, NULL);
	if (got != want) {
		fprintf(stderr, "round %d: the response is not its own: Content-Length %ld, asked %ld\n",
		        i, got, want);
		return 1;
	}
	len = request(req, sizeof req, 5000 + i);
	if (!strcmp(mode, "raw-write")) {
		if (raw_write(fd, req, (size_t)len) != len)
			return 1;
	} else if (!strcmp(mode, "raw-read")) {
		if (raw_write(fd, req, (size_t)len) != len || kc_read_sized(fd, raw_read) != 5000 + i) {
			fprintf(stderr, "round %d: the unseen exchange failed\n", i);
			return 1;
		}
	} else {
		long r = uring_send(fd, req, (size_t)len);
		if (r == -SKIP)
			return SKIP;
		if (r != len) {
			fprintf(stderr, "round %d: io_uring send returned %ld\n", i, r);
			return 1;
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct kc_script o;

	if (argc == 2 && !strcmp(argv[1], "--probe-io-uring")) {
		struct ring r;
		int ok = ring_open(&r) == 0;
		ring_close(&r);
		return ok ? 0 : SKIP;
	}
	if (kc_script_args(&o, argc, argv, NULL, NULL) < 0 || !o.mode ||
	    (strcmp(o.mode, "raw-write") && strcmp(o.mode, "raw-read") && strcmp(o.mode, "io-uring"))) {
		fprintf(stderr, "usage: unseen_io --port P --mode raw-write|raw-read|io-uring [--host H] "
		                "[--requests N] [--timeout S] | --probe-io-uring\n");
		return 2;
	}
	host = o.host;
	port = o.port;
	rounds = o.requests > 0 ? o.requests : 20;
	for (int i = 1; i <= rounds; i++) {
		int rc = round_trip(o.mode, i);
		if (rc)
			return rc;
	}
	return 0;
}
