/* keepwarmd.c - the per-user broker: idle plain-HTTP connections held for
 * every process of one user, so that programs run once per request share
 * them.
 *
 * One process, one thread, one epoll loop. Clients (the shim in each
 * program) connect to a SOCK_SEQPACKET socket in a directory only the user
 * can enter and speak logic/broker_proto.h: PUT gives a parked connection,
 * TAKE asks for one. Every key is made from what the kernel says of the
 * descriptors (peer address, network namespace) and of the peer (its
 * cgroup), never from the client's words; a client of another uid is
 * refused at accept. Parked connections are watched, so a server's close or
 * a stray byte drops one at once, and their byte counters are read again
 * before one is handed out. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "kwbroker.h"
#include "kwbroker_dests.h"
#include "kwbroker_stats.h"
#include "logic/broker_proto.h"
#include "logic/config.h"
#include "logic/idle_table.h"

extern char **environ;

enum tag { T_LISTEN = 1, T_SIGNAL, T_CLIENT, T_PARKED, T_DIALING };

/* What keepwarmd knows of each of its descriptors, by number. */
struct slot {
	uint8_t tag;        /* enum tag, 0 = none */
	/* T_CLIENT */
	uid_t uid;
	pid_t pid;
	uint64_t cgroup;
	/* T_PARKED: the kernel's counters when it was parked, its stats row
	 * and when it was parked */
	uint64_t acked, received;
	unsigned row;
	uint64_t parked_ms;
	/* T_DIALING: a warm pool's dial, and since when */
	struct kwb_warm *warm;
	uint64_t dial_ms;
};

static struct kw_config cfg;
static struct kwb_socket sk = { .listen_fd = -1 };
static int sig_fd = -1, ep = -1;
static struct slot *slots;
static unsigned nslots, nclients;
static uint64_t started_ms, stats_due_ms;
static struct kw_idle_table *pool;
static unsigned pool_cap;
/* The broker's own network namespace and cgroup: a warm connection is
 * dialled from them, so only processes of the same key may take one. */
static uint64_t my_netns, my_cgroup;
static unsigned dialing; /* warm dials under way, in all */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void watch(int fd, enum tag t, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)fd };

	slots[fd].tag = (uint8_t)t;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		kwb_log("cannot watch descriptor %d: %s", fd, strerror(errno));
}

static void forget(int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	memset(&slots[fd], 0, sizeof slots[fd]);
	close(fd);
}

static void close_all(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* Close parked entry e, counted and traced with why. */
static void discard(const struct kw_idle_entry *e, enum kwb_count c, const char *why, uint64_t now)
{
	char dest[64];

	kwb_count(kwb_dest(&e->meta.key.dest), c);
	if (kwb_tracing()) {
		kw_dest_format(&e->meta.key.dest, dest, sizeof dest);
		kwb_trace("broker-discard", "dest=%s reason=%s idle_ms=%llu requests=%u", dest, why,
		          (unsigned long long)(now - e->meta.parked_ms), e->meta.conn.requests);
	}
	forget(e->fd);
}

/* Parked connections whose time is up. */
static void expire(uint64_t now)
{
	struct kw_idle_entry e[16];
	unsigned n;

	while ((n = kw_idle_expire(pool, now, e, 16)) > 0)
		for (unsigned i = 0; i < n; i++)
			discard(&e[i], KWB_EXPIRED, "expired", now);
}

/* m's connection on fd, from client c: parked, or closed with a reason. */
static void put(struct slot *c, const struct kw_bmsg *m, int fd)
{
	uint64_t now = now_ms(), idle, lifetime, pat, expires;
	unsigned max_requests;
	struct kw_idle_meta im;
	struct kw_idle_entry evicted;
	struct kwb_conn k;
	unsigned row;
	const char *why = kwb_conn_read(fd, &k);

	if (fd >= (int)nslots)
		why = "a descriptor above the limit";
	else if (!why && !kw_dest_equal(&k.dest, &m->key.dest))
		why = "a destination other than the client said";
	else if (!why && (!k.established || k.unread || k.unacked || k.notsent))
		why = "not idle";
	else if (!why && (k.received != m->conn.wire_received || k.acked != m->conn.wire_sent + 1))
		why = "bytes moved that the client did not see";
	if (why) {
		kwb_log("refused a connection from pid %d: %s", (int)c->pid, why);
		kwb_refused(KWB_REFUSED_CONNECTION);
		kwb_trace("broker-refuse", "reason=connection from=%d", (int)c->pid);
		close(fd);
		return;
	}
	memset(&im, 0, sizeof im);
	im.key = m->key;
	im.key.netns = k.netns;
	im.key.cgroup = c->cgroup;
	im.conn = m->conn;
	/* The stricter of the sender's limits and ours. */
	lifetime = m->conn.max_lifetime_ms;
	if (cfg.max_lifetime_ms && (!lifetime || cfg.max_lifetime_ms < lifetime))
		lifetime = cfg.max_lifetime_ms;
	max_requests = m->conn.max_requests;
	if (cfg.max_requests && (!max_requests || cfg.max_requests < max_requests))
		max_requests = cfg.max_requests;
	im.conn.max_lifetime_ms = lifetime;
	im.conn.max_requests = max_requests;
	pat = kwb_patience_of(&im.key);
	if (m->conn.patience_ms && (!pat || m->conn.patience_ms < pat))
		pat = m->conn.patience_ms;
	im.conn.patience_ms = pat;
	im.parked_ms = now - (m->idle_ms < now ? m->idle_ms : now);
	idle = cfg.idle_timeout_ms ? cfg.idle_timeout_ms : UINT64_MAX / 4;
	expires = im.parked_ms + idle;
	if (now + m->expires_in_ms < expires)
		expires = now + m->expires_in_ms;
	if (pat) {
		uint64_t margin = pat / 10 > 20 ? pat / 10 : 20;
		uint64_t limit = im.parked_ms + (pat > margin ? pat - margin : 0);
		if (limit < expires)
			expires = limit;
	}
	if (lifetime && (m->conn.born_ms < now ? m->conn.born_ms : now) + lifetime < expires)
		expires = (m->conn.born_ms < now ? m->conn.born_ms : now) + lifetime;
	im.expires_ms = expires;
	row = kwb_dest(&im.key.dest);
	if (expires <= now || (max_requests && m->conn.requests >= max_requests) ||
	    m->conn.server_max == 0) {
		kwb_count(row, KWB_NOT_KEPT);
		close(fd);
		return;
	}
	switch (kw_idle_put(pool, fd, &im, &evicted)) {
	case 1:
		discard(&evicted, KWB_EVICTED, "evicted", now);
		break;
	case -1:
		kwb_count(row, KWB_NOT_KEPT);
		close(fd);
		return;
	}
	kwb_count(row, KWB_IN);
	slots[fd].acked = k.acked;
	slots[fd].received = k.received;
	slots[fd].row = row;
	slots[fd].parked_ms = im.parked_ms;
	watch(fd, T_PARKED, EPOLLIN | EPOLLRDHUP);
	if (kwb_tracing()) {
		char dest[64];
		kw_dest_format(&im.key.dest, dest, sizeof dest);
		kwb_trace("broker-put", "dest=%s from=%d idle_ms=%llu requests=%u", dest, (int)c->pid,
		          (unsigned long long)(now - im.parked_ms), m->conn.requests);
	}
}

static int send_msg(int fd, const struct kw_bmsg *m, int pass)
{
	uint8_t buf[KW_BROKER_MSG_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = kw_bmsg_encode(m, buf, sizeof buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass >= 0)
		kw_bmsg_attach_fd(&mh, u.buf, sizeof u.buf, pass);
	return sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* Whether parked connection e may still be handed out: nothing arrived,
 * nothing moved, its server has not closed it. */
static bool still_good(const struct kw_idle_entry *e)
{
	struct kwb_conn k;

	return kwb_conn_counters(e->fd, &k, false) && k.established && !k.unacked && !k.notsent &&
	       k.received == slots[e->fd].received && k.acked == slots[e->fd].acked;
}

/* ---- the warm pool (KEEPWARM_WARM) ---- */

/* How long a warm dial may take: KEEPWARM_CONNECT_TIMEOUT, else 3 s. */
static uint64_t dial_limit_ms(void)
{
	return cfg.connect_timeout_ms ? cfg.connect_timeout_ms : 3000;
}

static void warm_dial(struct kwb_warm *t, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t len = kw_dest_to_sockaddr(&t->key.dest, &ss);
	int fd = socket(t->key.dest.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	t->dialing++;
	if (fd < 0 || fd >= (int)nslots ||
	    (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		kwb_warm_dialled(t, false, now);
		return;
	}
	dialing++;
	slots[fd].warm = t;
	slots[fd].dial_ms = now;
	watch(fd, T_DIALING, EPOLLOUT);
}

/* Dial what t lacks: up to KEEPWARM_WARM held or under way, within the
 * per-host cap and the pool's room, for a destination the rules allow. */
static void warm_fill(struct kwb_warm *t, uint64_t now)
{
	unsigned want = cfg.warm < cfg.max_idle_per_host ? cfg.warm : cfg.max_idle_per_host, n;

	if (!t || !want || !kw_dest_rules_allow(&cfg.destinations, &t->key.dest))
		return;
	n = kwb_warm_wanted(t, kw_idle_count_key(pool, &t->key), want, cfg.idle_timeout_ms, now);
	while (n-- && kw_idle_count(pool) + dialing < pool_cap)
		warm_dial(t, now);
}

/* A warm dial on fd ended (writable, or an error): parked, or closed. */
static void warm_done(int fd, uint64_t now)
{
	struct kwb_warm *t = slots[fd].warm;
	struct kw_idle_entry evicted;
	struct kw_idle_meta im;
	struct kwb_conn k;
	socklen_t len = sizeof(int);
	int err = 0;
	unsigned row;

	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	memset(&slots[fd], 0, sizeof slots[fd]);
	dialing--;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err || kwb_conn_read(fd, &k) ||
	    !k.established || k.received || k.acked != 1 || k.unread) {
		close(fd);
		kwb_warm_dialled(t, false, now);
		return;
	}
	kwb_warm_dialled(t, true, now);
	memset(&im, 0, sizeof im);
	im.key = t->key;
	im.parked_ms = now;
	im.expires_ms = now + (cfg.idle_timeout_ms ? cfg.idle_timeout_ms : UINT64_MAX / 4);
	if (cfg.max_lifetime_ms && now + cfg.max_lifetime_ms < im.expires_ms)
		im.expires_ms = now + cfg.max_lifetime_ms;
	im.conn = kw_conn_meta_fresh(now);
	im.conn.server_max = -1;
	im.conn.max_lifetime_ms = cfg.max_lifetime_ms;
	im.conn.max_requests = cfg.max_requests;
	switch (kw_idle_put(pool, fd, &im, &evicted)) {
	case 1:
		discard(&evicted, KWB_EVICTED, "evicted", now);
		break;
	case -1:
		close(fd);
		return;
	}
	row = kwb_dest(&im.key.dest);
	kwb_count(row, KWB_WARMED);
	slots[fd].acked = k.acked;
	slots[fd].received = k.received;
	slots[fd].row = row;
	slots[fd].parked_ms = now;
	watch(fd, T_PARKED, EPOLLIN | EPOLLRDHUP);
	if (kwb_tracing()) {
		char dest[64];
		kw_dest_format(&im.key.dest, dest, sizeof dest);
		kwb_trace("broker-warm", "dest=%s", dest);
	}
}

/* Dials past their time, and targets whose connections expired. */
static void warm_tick(uint64_t now)
{
	if (!cfg.warm)
		return;
	for (unsigned fd = 0; dialing && fd < nslots; fd++) {
		if (slots[fd].tag != T_DIALING || now - slots[fd].dial_ms < dial_limit_ms())
			continue;
		struct kwb_warm *t = slots[fd].warm;
		forget((int)fd);
		dialing--;
		kwb_warm_dialled(t, false, now);
	}
	for (unsigned i = 0; i < KWB_WARM_MAX; i++)
		warm_fill(kwb_warm_at(i), now);
}

/* A TAKE from client c, whose probe socket tells its network namespace.
 * The answer goes first; what only the broker needs (closing the probe,
 * leaving the epoll set) comes after it, while the asker already works. */
static void take(int cfd, struct slot *c, const struct kw_bmsg *m, int probe)
{
	struct kw_bmsg r = { .type = KW_BMSG_MISS, .id = m->id, .key = m->key };
	struct kw_idle_entry found, expired[16];
	struct kw_key key = m->key;
	uint64_t now = now_ms();
	unsigned n;
	int got = 0;
	char dest[64] = "";

	if (kwb_netns_of(probe, &key.netns)) {
		key.cgroup = c->cgroup;
		for (;;) {
			got = kw_idle_take(pool, &key, now, &found, expired, 16, &n);
			for (unsigned i = 0; i < n; i++)
				discard(&expired[i], KWB_EXPIRED, "expired", now);
			if (!got || still_good(&found))
				break;
			kwb_patience_learn(&key, now - found.meta.parked_ms);
			discard(&found, KWB_STALE, "counters-moved", now);
		}
	}
	if (kwb_tracing())
		kw_dest_format(&m->key.dest, dest, sizeof dest);
	if (!got) {
		send_msg(cfd, &r, -1);
		close(probe);
		kwb_count(kwb_dest(&m->key.dest), KWB_MISS);
		kwb_trace("broker-miss", "dest=%s from=%d", dest, (int)c->pid);
		if (key.netns)
			warm_fill(kwb_warm_note(&key, my_netns, my_cgroup, now), now);
		return;
	}
	r.type = KW_BMSG_GIVE;
	r.idle_ms = now - found.meta.parked_ms;
	r.expires_in_ms = found.meta.expires_ms - now;
	r.conn = found.meta.conn;
	if (send_msg(cfd, &r, found.fd) < 0) {
		/* The asker is gone (it stopped waiting and exited): the
		 * connection stays parked, still watched, for the next one. */
		struct kw_idle_entry evicted;
		close(probe);
		switch (kw_idle_put(pool, found.fd, &found.meta, &evicted)) {
		case 1:
			forget(evicted.fd);
			/* fall through */
		case 0:
			return;
		}
		forget(found.fd);
		return;
	}
	close(probe);
	kwb_count(kwb_dest(&m->key.dest), KWB_OUT);
	kwb_trace("broker-give", "dest=%s to=%d idle_ms=%llu requests=%u", dest, (int)c->pid,
	          (unsigned long long)r.idle_ms, r.conn.requests);
	forget(found.fd);
	warm_fill(kwb_warm_note(&key, my_netns, my_cgroup, now), now);
}

/* The statistics as Prometheus text, into buf. */
static size_t render(char *buf, size_t size)
{
	struct kwb_info info = { sk.path, getpid(), started_ms, nclients };

	kwb_parked_clear();
	for (unsigned fd = 0; fd < nslots; fd++)
		if (slots[fd].tag == T_PARKED)
			kwb_parked_add(slots[fd].row, slots[fd].parked_ms);
	return kwb_render(buf, size, &info, now_ms());
}

/* A STATUS from client fd: the statistics, in one REPORT. */
static void report(int fd, uint32_t id)
{
	static char text[KW_BROKER_REPORT_MAX];
	static uint8_t buf[KW_BROKER_HEAD + KW_BROKER_REPORT_MAX];
	struct kw_bmsg r = { .type = KW_BMSG_REPORT, .id = id, .text = text };
	int sndbuf = (int)sizeof buf * 2;
	size_t n;

	r.text_len = render(text, sizeof text);
	n = kw_bmsg_encode(&r, buf, sizeof buf);
	/* A datagram must fit the send buffer whole. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	if (n && send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		kwb_log("cannot send a status report: %s", strerror(errno));
}

/* The stats file, when one is asked for. */
static void write_stats(void)
{
	static char text[KW_BROKER_REPORT_MAX];

	if (cfg.broker_stats[0])
		kwb_stats_write(cfg.broker_stats, text, render(text, sizeof text));
}

/* Whether client fd's peer is gone (recvmsg's 0 is also an empty datagram). */
static bool hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/* The messages waiting on client fd (a process at exit may send a whole
 * pool at once); false when the client is gone. */
static bool serve(int fd, bool puts_only)
{
	for (int round = 0; round < 4096; round++) {
		uint8_t buf[KW_BROKER_MSG_MAX + 1];
		union {
			char buf[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
		                     .msg_controllen = sizeof u.buf };
		int fds[4];
		unsigned nfds = 0;
		enum kw_bproto_error err;
		struct kw_bmsg m;
		uint8_t head[KW_BROKER_HEAD];
		ssize_t len;

		/* A first pass takes only the PUTs at the head of each queue (a
		 * peek, without descriptors, consumes nothing). */
		if (puts_only && (recv(fd, head, sizeof head, MSG_PEEK | MSG_DONTWAIT) != sizeof head ||
		                  head[6] != KW_BMSG_PUT || head[7] != 0))
			return true;
		len = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (len < 0)
			return errno == EAGAIN || errno == EINTR;
		/* The control space holds 4: the kernel closes any more. */
		nfds = kw_bmsg_received_fds(&mh, fds, 4);
		if (len == 0 && !nfds && hung_up(fd))
			return false; /* else an empty datagram, refused below */
		err = kw_bmsg_decode(buf, (size_t)len, nfds, &m);
		if (!err && (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)))
			err = mh.msg_flags & MSG_TRUNC ? KW_BPROTO_LENGTH : KW_BPROTO_FDS;
		if (!err && m.type != KW_BMSG_PUT && m.type != KW_BMSG_TAKE && m.type != KW_BMSG_STATUS)
			err = KW_BPROTO_TYPE;
		if (err) {
			kwb_log("refused a message from pid %d: %s (%zd bytes, %u descriptors)",
			        (int)slots[fd].pid, kw_bproto_error_name(err), len, nfds);
			kwb_refused(KWB_REFUSED_MESSAGE);
			kwb_trace("broker-refuse", "reason=message from=%d", (int)slots[fd].pid);
			close_all(fds, nfds);
			continue;
		}
		if (m.type == KW_BMSG_STATUS)
			report(fd, m.id);
		else if (m.type == KW_BMSG_PUT)
			put(&slots[fd], &m, fds[0]);
		else
			take(fd, &slots[fd], &m, fds[0]);
	}
	return true;
}

static void accept_clients(void)
{
	for (int round = 0; round < 64; round++) {
		struct ucred cr;
		socklen_t len = sizeof cr;
		uint64_t cgroup;
		struct kw_bmsg hello = { .type = KW_BMSG_HELLO };
		int fd = accept4(sk.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != geteuid()) {
			kwb_log("refused a client of uid %u (pid %d): not this broker's user",
			        (unsigned)cr.uid, (int)cr.pid);
			kwb_refused(KWB_REFUSED_PEER);
			kwb_trace("broker-refuse", "reason=peer-uid uid=%u from=%d", (unsigned)cr.uid,
			          (int)cr.pid);
			close(fd);
			continue;
		}
		if (fd >= (int)nslots || !kwb_cgroup_of(cr.pid, &cgroup)) {
			close(fd);
			continue;
		}
		slots[fd].uid = cr.uid;
		slots[fd].pid = cr.pid;
		slots[fd].cgroup = cgroup;
		watch(fd, T_CLIENT, EPOLLIN);
		nclients++;
		send_msg(fd, &hello, -1);
	}
}

/* A parked connection's server closed it or sent what nobody asked for. */
static void parked_event(int fd)
{
	struct kw_idle_entry e;
	char byte;
	ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && errno == EAGAIN)
		return;
	if (!kw_idle_remove_fd(pool, fd, &e)) {
		forget(fd);
		return;
	}
	if (n == 0)
		kwb_patience_learn(&e.meta.key, now_ms() - e.meta.parked_ms);
	if (n == 0 && e.meta.conn.requests == 0)
		kwb_warm_spoiled(&e.meta.key); /* closed before any use */
	discard(&e, n == 0 ? KWB_CLOSED : KWB_STRAY, n == 0 ? "server-closed" : "unexpected-bytes",
	        now_ms());
}

static void shut_down(void)
{
	struct kw_idle_entry e;
	struct stat st;

	kwb_trace("broker-stop", "parked=%u", kw_idle_count(pool));
	while (kw_idle_pop_oldest(pool, &e)) {
		if (e.fd >= 0 && (unsigned)e.fd < nslots)
			memset(&slots[e.fd], 0, sizeof slots[e.fd]);
		close(e.fd);
	}
	write_stats(); /* the last, nothing parked */
	/* Only our own socket: a broker started after us may own the path,
	 * and an activated socket is its service manager's to remove. */
	if (!sk.activated && lstat(sk.path, &st) == 0 && st.st_ino == sk.ino)
		unlink(sk.path);
}

static const char *get_env(const char *name)
{
	return getenv(name);
}

static void warn_line(const char *line)
{
	fputs(line, stderr);
}

static long read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: keepwarmd [--daemon] [--syslog] [--socket PATH]\n"
	           "Hold idle plain-HTTP connections for every keepwarm process of this user.\n"
	           "  --daemon       detach (log to syslog)\n"
	           "  --syslog       log to syslog from the start\n"
	           "  --socket PATH  listen here instead of KEEPWARM_BROKER's path\n"
	           "  --version      print the version\n"
	           "Under socket activation (LISTEN_FDS) it serves the socket it is given.\n"
	           "Settings: KEEPWARM_BROKER, KEEPWARM_BROKER_LINGER, KEEPWARM_IDLE_TIMEOUT,\n"
	           "KEEPWARM_MAX_IDLE, KEEPWARM_MAX_IDLE_PER_HOST, KEEPWARM_MAX_LIFETIME,\n"
	           "KEEPWARM_MAX_REQUESTS, KEEPWARM_WARM, KEEPWARM_DESTINATIONS,\n"
	           "KEEPWARM_CONNECT_TIMEOUT, KEEPWARM_BROKER_STATS, KEEPWARM_TRACE (see keepwarmd(1)).\n");
}

static int setup(int argc, char **argv, bool *detach)
{
	static const struct option opts[] = {
		{ "daemon", no_argument, NULL, 'd' }, { "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },   { "version", no_argument, NULL, 'V' },
		{ "syslog", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_opt = NULL;
	struct rlimit rl;
	int c, act;

	while ((c = getopt_long(argc, argv, "ds:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd': *detach = true; break;
		case 'l':
			openlog("keepwarmd", LOG_PID, LOG_DAEMON);
			kwb_syslog = true;
			break;
		case 's': socket_opt = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("keepwarmd %s\n", KW_VERSION); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	kw_config_load_all(&cfg, get_env, read_file, environ, warn_line);
	if ((act = kwb_activated(&sk)) < 0)
		exit(2);
	sk.activated = act == 1;
	if (sk.activated)
		socket_opt = NULL; /* the path is the one it was given */
	if (socket_opt && (socket_opt[0] != '/' || strlen(socket_opt) >= sizeof sk.path)) {
		kwb_log("--socket needs an absolute path shorter than 108 bytes: %s", socket_opt);
		exit(2);
	}
	if (!sk.activated &&
	    !kw_broker_path(socket_opt ? socket_opt : cfg.broker, getenv("XDG_RUNTIME_DIR"),
	                    (unsigned)geteuid(), sk.path, sizeof sk.path, sk.dir,
	                    sizeof sk.dir)) {
		kwb_log("KEEPWARM_BROKER is off: no broker to run");
		exit(2);
	}
	/* Every parked connection is a descriptor. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	nslots = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (unsigned)rl.rlim_cur
	                                                                    : 65536;
	slots = calloc(nslots, sizeof *slots);
	pool_cap = cfg.max_idle < nslots / 2 ? cfg.max_idle : nslots / 2;
	pool = kw_idle_create(pool_cap, cfg.max_idle_per_host);
	if (!slots || !pool) {
		kwb_log("out of memory");
		exit(1);
	}
	signal(SIGPIPE, SIG_IGN);
	return sk.activated ? kwb_take_lock(&sk) : kwb_listen(&sk);
}

int main(int argc, char **argv)
{
	bool detach = false;
	sigset_t stop;
	uint64_t quiet_since;
	int lock = setup(argc, argv, &detach);

	if (lock < 0)
		return 1;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (detach)
		kwb_daemonize(lock);
	else
		kwb_write_pid(lock);
	ep = epoll_create1(EPOLL_CLOEXEC);
	sig_fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	if (ep < 0 || sig_fd < 0 || sk.listen_fd >= (int)nslots || sig_fd >= (int)nslots) {
		kwb_log("cannot start: %s", strerror(errno));
		shut_down();
		return 1;
	}
	watch(sk.listen_fd, T_LISTEN, EPOLLIN);
	watch(sig_fd, T_SIGNAL, EPOLLIN);
	kwb_log("serving %s (pid %d)", sk.path, (int)getpid());
	if (cfg.warm && (!kwb_netns_of(sk.listen_fd, &my_netns) || !kwb_cgroup_of(getpid(), &my_cgroup))) {
		kwb_log("KEEPWARM_WARM=%u: cannot read the broker's own network namespace or cgroup; "
		        "no warm pool", cfg.warm);
		cfg.warm = 0;
	}
	kwb_trace_open(cfg.trace);
	kwb_trace("broker-start", "socket=%s version=%s", sk.path, KW_VERSION);
	quiet_since = started_ms = now_ms();
	stats_due_ms = started_ms;
	for (;;) {
		struct epoll_event ev[64];
		uint64_t now = now_ms(), wake = UINT64_MAX;
		int n, timeout;

		expire(now);
		warm_tick(now);
		if (cfg.broker_stats[0] && now >= stats_due_ms) {
			write_stats();
			stats_due_ms = now + (cfg.stats_interval_ms ? cfg.stats_interval_ms : 10000);
		}
		if (cfg.broker_stats[0] && stats_due_ms < wake)
			wake = stats_due_ms;
		if (nclients || kw_idle_count(pool))
			quiet_since = now;
		else if (cfg.broker_linger_ms && now - quiet_since >= cfg.broker_linger_ms) {
			kwb_log("nothing parked and no clients for %llu ms: exiting",
			        (unsigned long long)cfg.broker_linger_ms);
			break;
		}
		if (cfg.broker_linger_ms && !nclients && !kw_idle_count(pool) &&
		    quiet_since + cfg.broker_linger_ms < wake)
			wake = quiet_since + cfg.broker_linger_ms;
		/* The oldest parked entry expires first only roughly (expiry
		 * varies by connection): wake at least once a second. */
		if ((kw_idle_count(pool) || dialing) && wake > now + 1000)
			wake = now + 1000;
		timeout = wake == UINT64_MAX ? -1 : wake > now ? (int)(wake - now) : 0;
		n = epoll_wait(ep, ev, 64, timeout);
		if (n < 0 && errno != EINTR) {
			kwb_log("epoll_wait: %s", strerror(errno));
			break;
		}
		/* What processes gave comes before what they ask for: a process
		 * that exited (its connections sent) before the next one started
		 * may be in the same batch, its PUT behind the next one's TAKE. */
		for (int i = 0; i < n; i++)
			if (slots[(int)ev[i].data.u64].tag == T_CLIENT)
				(void)serve((int)ev[i].data.u64, true);
		for (int i = 0; i < n; i++) {
			int fd = (int)ev[i].data.u64;
			switch (slots[fd].tag) {
			case T_LISTEN:
				accept_clients();
				break;
			case T_SIGNAL:
				kwb_log("stopping: closing %u parked connections", kw_idle_count(pool));
				shut_down();
				return 0;
			case T_CLIENT:
				if (!serve(fd, false) || (ev[i].events & (EPOLLHUP | EPOLLERR))) {
					forget(fd);
					nclients--;
				}
				break;
			case T_PARKED:
				parked_event(fd);
				break;
			case T_DIALING:
				warm_done(fd, now_ms());
				break;
			default:
				break;
			}
		}
	}
	shut_down();
	return 0;
}
