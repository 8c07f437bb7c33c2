/* pool_broker.c - the broker backend (pool_broker.h): one SOCK_SEQPACKET
 * socket to keepwarmd per process, logic/broker_proto.h on it. */
#include "sink/pool_broker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "logic/broker_proto.h"
#include "service/fdtable.h"
#include "service/forkwatch.h"
#include "service/private.h"
#include "service/real.h"
#include "service/state.h"

#define TAKE_WAIT_MS  1   /* a take waits this long for its answer, then dials */
#define TAKE_SPIN_US  50  /* of which this long asked for without sleeping */
#define TAKE_SPIN_ROUNDS 4096
#define HELLO_WAIT_MS 20  /* opening waits this long for the broker's hello */
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 5000

static struct {
	atomic_flag busy;       /* one call at a time; another thread meanwhile misses */
	bool gone;              /* never again in this process (untrusted, seccomp) */
	int seccomp;            /* -1 not read yet, else /proc/self/status Seccomp: != 0 */
	int fd;                 /* the socket, -1 none */
	ino_t ino;              /* its inode, to see that fd still holds it */
	pid_t pid;              /* the process that opened it */
	uint32_t next_id;
	bool late;              /* a take gave up: its answer may still come */
	uint64_t retry_ms;      /* no attempt before this */
	uint64_t backoff_ms;
	char path[108], dir[KW_TRACE_PATH_MAX];
} br = { .busy = ATOMIC_FLAG_INIT, .seccomp = -1, .fd = -1 };

static void say_once(const char *what)
{
	char line[KW_TRACE_PATH_MAX + 256];
	int n = snprintf(line, sizeof line,
	                 "keepwarm: not using the broker at %s: %s; connections stay in this process\n",
	                 br.path, what);

	if (n > 0)
		(void)kw_real.write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	br.gone = true;
}

static void back_off(void)
{
	br.backoff_ms = br.backoff_ms ? br.backoff_ms * 2 : BACKOFF_MIN_MS;
	if (br.backoff_ms > BACKOFF_MAX_MS)
		br.backoff_ms = BACKOFF_MAX_MS;
	br.retry_ms = kw_now_ms() + br.backoff_ms;
}

static void drop_socket(void)
{
	if (br.fd >= 0)
		kw_private_close(br.fd);
	br.fd = -1;
}

/* Under a seccomp filter (a sandbox whose rules were written for the
 * program's own calls: the broker's socket is something the program never
 * asked for) the broker is not used. */
static bool filtered(void)
{
	br.seccomp = kw_seccomp_filtered();
	return br.seccomp;
}

/* What is wrong with path (lstat, no link followed) for a broker of ours:
 * NULL when nothing; "" when it is simply missing. */
static const char *untrusted(const char *path, bool socket, char *why, size_t size)
{
	struct stat st;
	uid_t me = geteuid();

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? "" : (snprintf(why, size, "%s: %s", path, strerror(errno)), why);
	if (socket ? !S_ISSOCK(st.st_mode) : !S_ISDIR(st.st_mode))
		snprintf(why, size, "%s is not a %s", path, socket ? "socket" : "directory");
	else if (st.st_uid != me)
		snprintf(why, size, "%s is owned by uid %u, not %u", path, (unsigned)st.st_uid,
		         (unsigned)me);
	else if (st.st_mode & 077)
		snprintf(why, size, "%s is open to others (mode %04o)", path,
		         (unsigned)(st.st_mode & 07777));
	else
		return NULL;
	return why;
}

/* Wait until fd is readable or ms have passed, through EINTR. */
static bool wait_readable(int fd, uint64_t until_us)
{
	for (int round = 0; round < 64; round++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = kw_now_us();
		int ms = now >= until_us ? 0 : (int)((until_us - now + 999) / 1000);
		int n = kw_real.poll(&p, 1, ms);

		if (n > 0)
			return true;
		if (n == 0 || errno != EINTR)
			return false;
	}
	return false;
}

/* One message from the broker, without waiting: its length (0: none or an
 * error), its descriptor in *fd (-1 none) and whether more came than fit. */
static ssize_t receive(int *fd, uint8_t *buf, size_t size, unsigned *nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
	                     .msg_controllen = sizeof u.buf };
	ssize_t n = kw_real.recvmsg(br.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	int fds[2];

	*fd = -1;
	*nfds = 0;
	if (n < 0)
		return -1;
	*nfds = kw_bmsg_received_fds(&mh, fds, 2);
	for (unsigned i = 0; i < *nfds; i++) {
		if (i == 0)
			*fd = fds[0];
		else
			kw_real.close(fds[i]);
	}
	/* A cut message or cut descriptors: refuse what came. */
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*fd >= 0)
			kw_real.close(*fd);
		*fd = -1;
		*nfds = 99;
	}
	return n;
}

static bool send_msg(const struct kw_bmsg *m, int fd);

/* A connection in an answer nobody waits for any more: back to the broker. */
static void give_back(struct kw_bmsg *r, int fd)
{
	if (r->type != KW_BMSG_GIVE)
		return;
	r->type = KW_BMSG_PUT;
	r->id = ++br.next_id;
	(void)send_msg(r, fd);
}

/* What earlier calls left unread: an answer that came after its take gave
 * up. A connection in it goes back to the broker, for the next asker. */
static void drain(void)
{
	uint8_t buf[KW_BROKER_MSG_MAX + 1];
	struct kw_bmsg r;
	unsigned nfds;
	ssize_t n;
	int fd;

	if (!br.late)
		return;
	br.late = false;
	for (int round = 0; round < 64 && br.fd >= 0 && (n = receive(&fd, buf, sizeof buf, &nfds)) > 0;
	     round++) {
		if (fd < 0)
			continue;
		if (!kw_bmsg_decode(buf, (size_t)n, nfds, &r))
			give_back(&r, fd);
		kw_real.close(fd);
	}
}

/* The socket, open and ours: false means use no broker now. */
static bool channel(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char why[KW_TRACE_PATH_MAX + 64];
	uint8_t buf[KW_BROKER_MSG_MAX + 1];
	const char *bad;
	struct ucred cr;
	struct stat st;
	struct kw_bmsg hello;
	socklen_t len = sizeof cr;
	unsigned nfds;
	ssize_t n = 0;
	int s, extra = -1;

	if (br.fd >= 0 && br.pid == kw_pid && kw_real.fstat(br.fd, &st) == 0 && st.st_ino == br.ino)
		return true;
	if (br.fd >= 0 && br.pid == kw_pid) {
		/* Its number was closed under us (close_range) and maybe reused:
		 * not ours to close. */
		kw_fd_set_kind(br.fd, KW_FD_NONE);
		br.fd = -1;
	}
	if (kw_now_ms() < br.retry_ms || filtered()) {
		if (br.seccomp == 1)
			br.gone = true;
		return false;
	}
	/* Before any descriptor is sent: the directory and the socket are ours. */
	if ((bad = untrusted(br.dir, false, why, sizeof why)) ||
	    (bad = untrusted(br.path, true, why, sizeof why))) {
		if (*bad)
			say_once(bad);
		else
			back_off();
		return false;
	}
	if ((s = kw_real.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		back_off();
		return false;
	}
	memcpy(sa.sun_path, br.path, strlen(br.path) + 1);
	if (kw_real.connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		kw_real.close(s);
		back_off(); /* no broker (refused), or its backlog is full */
		return false;
	}
	if (kw_real.getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != geteuid()) {
		kw_real.close(s);
		snprintf(why, sizeof why, "its peer runs as uid %u, not %u", (unsigned)cr.uid,
		         (unsigned)geteuid());
		say_once(why);
		return false;
	}
	if ((br.fd = kw_private_move(s)) < 0 || kw_real.fstat(br.fd, &st) < 0) {
		drop_socket();
		back_off();
		return false;
	}
	br.ino = st.st_ino;
	br.pid = kw_pid;
	/* The broker has read who we are once it says hello. */
	if (!wait_readable(br.fd, kw_now_us() + HELLO_WAIT_MS * 1000) ||
	    (n = receive(&extra, buf, sizeof buf, &nfds)) <= 0 ||
	    kw_bmsg_decode(buf, (size_t)n, nfds, &hello) || hello.type != KW_BMSG_HELLO) {
		if (n > 0 && extra >= 0)
			kw_real.close(extra);
		drop_socket();
		back_off();
		return false;
	}
	br.backoff_ms = 0;
	return true;
}

static bool enter(void)
{
	if (br.gone || atomic_flag_test_and_set_explicit(&br.busy, memory_order_acquire))
		return false;
	kw_depth++;
	return true;
}

static void leave(void)
{
	kw_depth--;
	atomic_flag_clear_explicit(&br.busy, memory_order_release);
}

/* Send m with descriptor fd beside it. */
static bool send_msg(const struct kw_bmsg *m, int fd)
{
	uint8_t buf[KW_BROKER_MSG_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = kw_bmsg_encode(m, buf, sizeof buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (!iov.iov_len)
		return false;
	kw_bmsg_attach_fd(&mh, u.buf, sizeof u.buf, fd);
	for (int round = 0; round < 8; round++) {
		struct pollfd p = { .fd = br.fd, .events = POLLOUT };
		if (kw_real.sendmsg(br.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return true;
		if (errno != EAGAIN && errno != EINTR)
			break;
		if (errno == EAGAIN && kw_real.poll(&p, 1, 1) < 0 && errno != EINTR)
			break;
	}
	drop_socket();
	back_off();
	return false;
}

static int broker_park(void *self, int h, const struct kw_idle_meta *m, uint64_t now_ms,
                       struct kw_pool_drops *dropped)
{
	struct kw_bmsg q = { .type = KW_BMSG_PUT, .key = m->key, .conn = m->conn };
	int saved = errno, ret = -1;

	(void)self;
	dropped->n = 0;
	if (m->key.transport != KW_TRANSPORT_PLAIN || m->expires_ms <= now_ms || !enter())
		return -1;
	q.idle_ms = now_ms > m->parked_ms ? now_ms - m->parked_ms : 0;
	q.expires_in_ms = m->expires_ms - now_ms;
	if (channel()) {
		drain();
		q.id = ++br.next_id;
		ret = send_msg(&q, h) ? 0 : -1;
	}
	leave();
	errno = saved;
	return ret;
}

/* Whether h is a connected socket to k's destination, as the answer said. */
static bool goes_to(int h, const struct kw_key *k)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct kw_dest d;

	return kw_real.getpeername(h, (struct sockaddr *)&ss, &len) == 0 &&
	       kw_dest_from_sockaddr(&d, (struct sockaddr *)&ss, len) == 0 && kw_dest_equal(&d, &k->dest);
}

/* A connection another process parked under looser limits than this one's
 * (KEEPWARM_MAX_REQUESTS, KEEPWARM_MAX_LIFETIME): not for this process. */
static bool past_own_limits(const struct kw_conn_meta *c, uint64_t now_ms)
{
	return (kw_cfg.max_requests && c->requests >= kw_cfg.max_requests) ||
	       (kw_cfg.max_lifetime_ms && now_ms >= c->born_ms + kw_cfg.max_lifetime_ms);
}

static int broker_take(void *self, const struct kw_key *k, int near, uint64_t now_ms,
                       struct kw_idle_meta *m, struct kw_pool_drops *dropped)
{
	struct kw_bmsg q = { .type = KW_BMSG_TAKE, .key = *k }, r;
	uint8_t buf[KW_BROKER_MSG_MAX + 1];
	uint64_t start, until;
	unsigned nfds, spins = 0;
	int saved = errno, h = -1;

	(void)self;
	dropped->n = 0;
	if (k->transport != KW_TRANSPORT_PLAIN || k->dest.tls || near < 0 || !enter())
		return -1;
	if (!channel())
		goto out;
	drain();
	q.id = ++br.next_id;
	if (!send_msg(&q, near))
		goto out;
	start = kw_now_us();
	until = start + TAKE_WAIT_MS * 1000;
	while (h < 0 && kw_now_us() < until) {
		int fd;
		ssize_t n = receive(&fd, buf, sizeof buf, &nfds);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			/* Not yet. The broker answers in some tens of µs, about what
			 * a sleep and a wake-up would add: ask again for a moment
			 * (yielding, so a broker on this CPU can run), then sleep. */
			if (spins++ < TAKE_SPIN_ROUNDS && kw_now_us() < start + TAKE_SPIN_US)
				sched_yield();
			else if (!wait_readable(br.fd, until))
				break;
			continue;
		}
		if (n <= 0) {
			drop_socket(); /* the broker went away */
			back_off();
			break;
		}
		if (kw_bmsg_decode(buf, (size_t)n, nfds, &r) || !kw_bmsg_answers(&r, &q)) {
			if (fd >= 0) { /* a late answer to an earlier take, or garbage */
				if (!kw_bmsg_decode(buf, (size_t)n, nfds, &r))
					give_back(&r, fd);
				kw_real.close(fd);
			}
			continue;
		}
		if (r.type == KW_BMSG_MISS)
			break;
		if (!goes_to(fd, k)) {
			kw_real.close(fd);
			break;
		}
		if (past_own_limits(&r.conn, now_ms)) { /* back, for a process it suits */
			give_back(&r, fd);
			kw_real.close(fd);
			break;
		}
		if ((h = kw_private_move(fd)) < 0) /* EMFILE above the program's numbers */
			break;
		memset(m, 0, sizeof *m);
		m->key = *k;
		m->parked_ms = now_ms > r.idle_ms ? now_ms - r.idle_ms : 0;
		m->expires_ms = now_ms + r.expires_in_ms;
		m->conn = r.conn;
	}
	if (h < 0 && kw_now_us() >= until) {
		br.late = true;
		back_off(); /* slow: leave it alone for a while */
		h = -2;
	}
out:
	leave();
	errno = saved;
	return h;
}

static bool broker_pop_oldest(void *self, struct kw_idle_entry *e)
{
	(void)self;
	(void)e;
	return false; /* nothing of the broker's is this process's to give up */
}

static void broker_renumber(void *self, int old_h, int new_h)
{
	(void)self;
	(void)old_h;
	(void)new_h;
}

static const struct kw_pool_ops broker_ops = {
	.name = "broker",
	.remote = true,
	.park = broker_park,
	.take = broker_take,
	.pop_oldest = broker_pop_oldest,
	.renumber = broker_renumber,
};

void kw_pool_broker_create(struct kw_pool *pool, const char *broker, const char *xdg_runtime_dir)
{
	pool->ops = NULL;
	pool->self = NULL;
	if (getauxval(AT_SECURE) ||
	    !kw_broker_path(broker, xdg_runtime_dir, (unsigned)geteuid(), br.path, sizeof br.path,
	                    br.dir, sizeof br.dir))
		return;
	pool->ops = &broker_ops;
}

void kw_pool_broker_after_fork_child(void)
{
	/* The parent's socket: a copy here, closed so that the two never read
	 * each other's answers. */
	if (br.fd >= 0)
		kw_private_close(br.fd);
	br.fd = -1;
	br.backoff_ms = 0;
	br.retry_ms = 0;
	br.late = false;
	atomic_flag_clear(&br.busy);
}
