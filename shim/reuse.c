/* reuse.c - park a clean connection at close(), hand it back at connect(). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "report.h"
#include "real.h"
#include "reuse.h"
#include "closestyle.h"

/* Options copied from the program's fresh socket onto a handed-back one, so
 * it carries the program's settings (and the defaults it did not touch), not
 * those of the connection's previous user or of its parked state. */
static const struct { int level, name; sa_family_t family; } copied_opts[] = {
	{ SOL_SOCKET, SO_KEEPALIVE, 0 },   { SOL_SOCKET, SO_RCVTIMEO, 0 },
	{ SOL_SOCKET, SO_SNDTIMEO, 0 },    { SOL_SOCKET, SO_LINGER, 0 },
	{ SOL_SOCKET, SO_PRIORITY, 0 },    { SOL_SOCKET, SO_RCVLOWAT, 0 },
	{ SOL_SOCKET, SO_OOBINLINE, 0 },   { IPPROTO_TCP, TCP_NODELAY, 0 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 0 },  { IPPROTO_TCP, TCP_KEEPINTVL, 0 },
	{ IPPROTO_TCP, TCP_KEEPCNT, 0 },   { IPPROTO_TCP, TCP_USER_TIMEOUT, 0 },
	{ IPPROTO_TCP, TCP_CORK, 0 },      { IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0 },
	{ IPPROTO_IP, IP_TOS, AF_INET },   { IPPROTO_IPV6, IPV6_TCLASS, AF_INET6 },
};

uint32_t kw_copied_opt_bit(int level, int name)
{
	for (size_t i = 0; i < sizeof copied_opts / sizeof copied_opts[0]; i++)
		if (copied_opts[i].level == level && copied_opts[i].name == name)
			return 1u << i;
	return 0;
}

#define KEEPALIVE_BITS                                                       \
	(kw_copied_opt_bit(SOL_SOCKET, SO_KEEPALIVE) |                       \
	 kw_copied_opt_bit(IPPROTO_TCP, TCP_KEEPIDLE) |                      \
	 kw_copied_opt_bit(IPPROTO_TCP, TCP_KEEPINTVL))

void kw_carry_options(const struct kw_conn *c, int from, int to, uint32_t touched)
{
	/* Only options changed on either socket can differ: a handback then
	 * costs no system call for a program that sets none. */
	for (size_t i = 0; i < sizeof copied_opts / sizeof copied_opts[0]; i++) {
		unsigned char val[32];
		socklen_t len = sizeof val;

		if (!(touched & (1u << i)) ||
		    (copied_opts[i].family && copied_opts[i].family != c->dest.family))
			continue;
		if (getsockopt(from, copied_opts[i].level, copied_opts[i].name, val, &len) == 0)
			kw_real.setsockopt(to, copied_opts[i].level, copied_opts[i].name, val, len);
	}
	/* The rest of what the program set (buffer sizes, ...) is replayed. */
	for (unsigned i = 0; i < c->nopts; i++)
		if (!kw_copied_opt_bit(c->opts[i].level, c->opts[i].name))
			kw_real.setsockopt(to, c->opts[i].level, c->opts[i].name, c->opts[i].value,
			                   c->opts[i].len);
}

/* Idle and healthy: nothing to read, no FIN, no error. */
bool kw_looks_alive(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	return fd >= 0 && poll(&p, 1, 0) == 0;
}

/* Put the parked connection P on the program's number fd, with the program's
 * flags, options and epoll registrations. Returns 0, or -1 (fd untouched). */
static int install(struct kw_fd *s, int fd, int parked, const struct kw_idle_meta *m)
{
	struct kw_conn *c = &s->conn;
	int fl = kw_real.fcntl(fd, F_GETFL);
	int fdfl = kw_real.fcntl(fd, F_GETFD);
	struct stat st;

	if (fl < 0 || fdfl < 0)
		return -1;
	kw_carry_options(c, fd, parked, m->touched | c->touched);
	if (kw_real.fcntl(parked, F_SETFL, fl) < 0)
		return -1;
	if (kw_real.dup3(parked, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		return -1;
	kw_private_close(parked);
	/* The fresh socket's registrations died with it. */
	for (unsigned i = 0; i < c->nregs; i++)
		kw_real.epoll_ctl(c->regs[i].epfd, EPOLL_CTL_ADD, fd, &c->regs[i].ev);
	c->reused = true;
	c->born_ms = m->born_ms;
	c->requests_before = m->requests;
	c->parked_idle_ms = kw_now_ms() - m->parked_ms;
	c->touched |= m->touched;
	if (fstat(fd, &st) == 0)
		c->ino = st.st_ino;
	return 0;
}

static void on_answer(void *arg, uint64_t latency_us)
{
	struct kw_fd *s = arg;
	kw_report_answer(&s->conn.dest, latency_us);
}

/* Start following a new exchange on s (dialled or handed back). */
void kw_follow(struct kw_fd *s)
{
	kw_track_init(&s->conn.track);
	if (kw_report_latency)
		kw_track_set_observer(&s->conn.track, on_answer, s);
	atomic_store_explicit(&s->kind, KW_FD_HTTP, memory_order_release);
}

int kw_connect(struct kw_fd *s, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct kw_conn *c = &s->conn;
	struct kw_idle_meta m;
	int saved = errno, parked, ret, err;

	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_SOCKET) {
		kw_slot_unlock(s);
		return kw_real.connect(fd, addr, len); /* a second connect(): the kernel answers */
	}
	if (kw_dest_from_sockaddr(&c->dest, addr, len) < 0) {
		kw_let_go_locked(s, "passthrough", "not-inet");
		kw_slot_unlock(s);
		return kw_real.connect(fd, addr, len);
	}
	kw_report_tick();
	while (kw_mode == KW_MODE_REUSE && (parked = kw_pool_local.take(&c->dest, &m)) >= 0) {
		uint64_t idle = kw_now_ms() - m.parked_ms;

		if (!kw_looks_alive(parked)) {
			kw_event("stale", parked, &c->dest, "closed-while-idle", (int64_t)idle, m.requests);
			kw_learn(&c->dest, idle);
			kw_private_close(parked);
			continue;
		}
		if (install(s, fd, parked, &m) == 0) {
			kw_follow(s);
			kw_event("reuse", fd, &c->dest, NULL, (int64_t)idle, m.requests);
			kw_slot_unlock(s);
			errno = saved;
			return 0;
		}
		kw_event("discard", parked, &c->dest, "handback-failed", (int64_t)idle, m.requests);
		kw_private_close(parked);
		break;
	}
	ret = kw_real.connect(fd, addr, len);
	err = errno;
	if (ret == 0 || err == EINPROGRESS || err == EINTR) {
		c->born_ms = kw_now_ms();
		kw_follow(s);
		kw_event("dial", fd, &c->dest, NULL, -1, -1);
	} else {
		kw_let_go_locked(s, "discard", "connect-failed");
	}
	kw_slot_unlock(s);
	errno = err;
	return ret;
}

static void keep_alive_probes(int fd)
{
	int on = 1, secs = (int)(kw_cfg.tcp_keepalive_ms / 1000);

	if (!kw_cfg.tcp_keepalive_ms)
		return;
	if (secs < 1)
		secs = 1;
	kw_real.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	kw_real.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof secs);
	kw_real.setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &secs, sizeof secs);
}

/* How long this connection may wait: our idle timeout, lowered by the
 * server's Keep-Alive: timeout= (with a margin) and by the maximum lifetime. */
static uint64_t expiry(const struct kw_conn *c, uint64_t now)
{
	uint64_t idle = kw_cfg.idle_timeout_ms, expires;

	if (c->track.ka_timeout_s >= 0) {
		uint64_t server = (uint64_t)c->track.ka_timeout_s * 1000;
		uint64_t margin = server / 10 < 500 ? server / 10 : 500;
		if (server - margin < idle)
			idle = server - margin;
	}
	/* What this server was seen to tolerate, less a margin. */
	uint64_t patience = kw_pool_local.patience(&c->dest);
	if (patience) {
		uint64_t margin = patience / 10 > 20 ? patience / 10 : 20;
		uint64_t limit = patience > margin ? patience - margin : 0;
		if (limit < idle)
			idle = limit;
	}
	expires = now + idle;
	if (kw_cfg.max_lifetime_ms && c->born_ms + kw_cfg.max_lifetime_ms < expires)
		expires = c->born_ms + kw_cfg.max_lifetime_ms;
	return expires;
}

/* Park s's connection; NULL on success, else why not. Slot lock held. */
const char *kw_park(struct kw_fd *s, int fd, bool unused)
{
	struct kw_conn *c = &s->conn;
	const char *why = unused ? "" : kw_track_why_not(&c->track);
	uint64_t now = kw_now_ms();
	struct kw_idle_meta m;
	struct stat st;
	int unread = 0, parked;

	if (*why)
		return why;
	if (c->owner != getpid())
		return "inherited-from-parent";
	m.dest = c->dest;
	m.born_ms = c->born_ms;
	m.parked_ms = now;
	m.expires_ms = expiry(c, now);
	m.requests = c->requests_before + c->track.responses;
	m.touched = c->touched | (kw_cfg.tcp_keepalive_ms ? KEEPALIVE_BITS : 0);
	if (kw_cfg.max_requests && m.requests >= kw_cfg.max_requests)
		return "max-requests";
	if (c->track.ka_max == 0)
		return "server-max-requests";
	if (m.expires_ms <= now)
		return "no-time-left";
	if (fstat(fd, &st) < 0 || st.st_ino != c->ino)
		return "not-our-socket";
	if (!kw_looks_alive(fd))
		return kw_real.ioctl(fd, FIONREAD, &unread) == 0 && unread > 0 ? "unread-bytes"
		                                                               : "server-closed";
	/* An epoll set keeps reporting a description until all its fds close. */
	for (unsigned i = 0; i < c->nregs; i++)
		kw_real.epoll_ctl(c->regs[i].epfd, EPOLL_CTL_DEL, fd, NULL);
	parked = kw_real.fcntl(fd, F_DUPFD_CLOEXEC, kw_private_base);
	if (parked < 0)
		return "no-private-fd";
	if (!kw_fd_set_kind(parked, KW_FD_PRIVATE)) {
		kw_real.close(parked);
		return "no-private-fd";
	}
	keep_alive_probes(parked);
	if (kw_pool_local.park(parked, &m) < 0) {
		kw_private_close(parked);
		return "pool-full";
	}
	kw_event("park", fd, &c->dest, NULL, -1, m.requests);
	return NULL;
}

int kw_close(struct kw_fd *s, int fd)
{
	int saved = errno;
	const char *why;

	if (atomic_load_explicit(&s->kind, memory_order_acquire) == KW_FD_PRIVATE)
		return kw_ebadf();
	if (kw_depth) /* re-entered (signal handler): no decisions, just close */
		return kw_real.close(fd);
	kw_report_tick();
	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_HTTP &&
	    kw_mode == KW_MODE_REUSE) {
		why = kw_park(s, fd, false);
		if (why && kw_cfg.drain_bytes && (!strcmp(why, "response-incomplete") ||
		                                  !strcmp(why, "response-pending"))) {
			kw_drain(s, fd);
			why = kw_park(s, fd, false);
		}
		if (why)
			kw_event("discard", fd, &s->conn.dest, why, -1,
			         s->conn.requests_before + s->conn.track.responses);
	}
	atomic_store_explicit(&s->kind, KW_FD_NONE, memory_order_release);
	kw_slot_unlock(s);
	errno = saved;
	return kw_real.close(fd);
}
