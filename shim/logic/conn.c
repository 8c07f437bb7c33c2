/* conn.c - bookkeeping for a followed socket. */
#include "logic/conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

void kw_conn_reset(struct kw_conn *c, pid_t owner, ino_t ino, const struct kw_transport *tp)
{
	c->gen++;
	c->owner = owner;
	c->ino = ino;
	c->reused = false;
	c->watch_only = false;
	c->tp = tp;
	memset(&c->dest, 0, sizeof c->dest);
	c->meta = kw_conn_meta_fresh(0);
	kw_track_init(&c->track);
	c->nopts = 0;
	c->nregs = 0;
	c->eof_after_response = false;
	c->restore_close = false;
	c->replayable = false;
	c->replayed = false;
	c->answered = false;
	c->park_veto = KW_REASON_NONE;
	c->parked_idle_ms = 0;
	c->file_flags = c->fd_flags = -1;
	c->aside_ino = 0;
	c->replay_len = 0; /* the buffer is kept for the next connection on this number */
	c->tls = NULL;
	c->tls_handle = NULL;
	c->tls_lib = 0;
	c->tls_kept = false;
	c->tls_pending = false;
}

void kw_conn_dialled(struct kw_conn *c, uint64_t now_ms)
{
	c->meta.born_ms = now_ms;
	c->meta.wire_sent = 0;
	c->meta.wire_received = 0;
}

bool kw_conn_keep_replay(struct kw_conn *c, const void *buf, size_t len)
{
	if (c->replay_len + len > KW_REPLAY_MAX) {
		c->replayable = false;
		return false;
	}
	if (c->replay_len + len > c->replay_cap) {
		size_t cap = c->replay_cap ? c->replay_cap : 4096;
		char *grown;
		while (cap < c->replay_len + len)
			cap *= 2;
		grown = realloc(c->replay, cap);
		if (!grown) {
			c->replayable = false;
			return false;
		}
		c->replay = grown;
		c->replay_cap = cap;
	}
	memcpy(c->replay + c->replay_len, buf, len);
	c->replay_len += len;
	return true;
}

bool kw_conn_record_opt(struct kw_conn *c, int level, int name, const void *val, socklen_t len)
{
	struct kw_sockopt *o = NULL;

	if (len > KW_CONN_OPT_MAX_LEN || (len && !val))
		return false;
	for (unsigned i = 0; i < c->nopts; i++)
		if (c->opts[i].level == level && c->opts[i].name == name)
			o = &c->opts[i];
	if (!o) {
		if (c->nopts == KW_CONN_MAX_OPTS)
			return false;
		o = &c->opts[c->nopts++];
	}
	o->level = level;
	o->name = name;
	o->len = len;
	if (len)
		memcpy(o->value, val, len);
	return true;
}

bool kw_conn_keep_replay_iov(struct kw_conn *c, const struct iovec *iov, int iovcnt, size_t n)
{
	for (int i = 0; i < iovcnt && n; i++) {
		size_t take = iov[i].iov_len < n ? iov[i].iov_len : n;
		if (!kw_conn_keep_replay(c, iov[i].iov_base, take))
			return false;
		n -= take;
	}
	return true;
}

/* Every option here can be put back to any value, a fresh socket's
 * included, by setting it again (SO_LINGER with care: see the TCP
 * transport). Tested one by one in tests/clients/sockopt_reset.c. */
const struct kw_copied_opt kw_copied_opts[] = {
	{ SOL_SOCKET, SO_KEEPALIVE, 0 },      { SOL_SOCKET, SO_RCVTIMEO, 0 },
	{ SOL_SOCKET, SO_SNDTIMEO, 0 },       { SOL_SOCKET, SO_LINGER, 0 },
	{ SOL_SOCKET, SO_PRIORITY, 0 },       { SOL_SOCKET, SO_RCVLOWAT, 0 },
	{ SOL_SOCKET, SO_OOBINLINE, 0 },      { IPPROTO_TCP, TCP_NODELAY, 0 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 0 },     { IPPROTO_TCP, TCP_KEEPINTVL, 0 },
	{ IPPROTO_TCP, TCP_KEEPCNT, 0 },      { IPPROTO_TCP, TCP_USER_TIMEOUT, 0 },
	{ IPPROTO_TCP, TCP_CORK, 0 },         { IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0 },
	{ IPPROTO_IP, IP_TOS, AF_INET },      { IPPROTO_IPV6, IPV6_TCLASS, AF_INET6 },
	{ IPPROTO_TCP, TCP_QUICKACK, 0 },     { IPPROTO_TCP, TCP_CONGESTION, 0 },
	{ IPPROTO_IP, IP_TTL, AF_INET },      { IPPROTO_IPV6, IPV6_UNICAST_HOPS, AF_INET6 },
	{ SOL_SOCKET, SO_ZEROCOPY, 0 },       { SOL_SOCKET, SO_MAX_PACING_RATE, 0 },
	{ SOL_SOCKET, SO_TIMESTAMP, 0 },      { SOL_SOCKET, SO_TIMESTAMPNS, 0 },
	{ SOL_SOCKET, SO_TIMESTAMPING, 0 },
};
const unsigned kw_ncopied_opts = sizeof kw_copied_opts / sizeof kw_copied_opts[0];

uint32_t kw_copied_opt_bit(int level, int name)
{
	for (unsigned i = 0; i < kw_ncopied_opts; i++)
		if (kw_copied_opts[i].level == level && kw_copied_opts[i].name == name)
			return 1u << i;
	return 0;
}

uint32_t kw_keepalive_opt_bits(void)
{
	return kw_copied_opt_bit(SOL_SOCKET, SO_KEEPALIVE) |
	       kw_copied_opt_bit(IPPROTO_TCP, TCP_KEEPIDLE) |
	       kw_copied_opt_bit(IPPROTO_TCP, TCP_KEEPINTVL);
}

uint32_t kw_conn_opts_hash(const struct kw_conn *c)
{
	uint32_t h = 2166136261u;
	bool any = false;

	/* FNV-1a over (level, name, value) of each, in the order set. */
	for (unsigned i = 0; i < c->nopts; i++) {
		const struct kw_sockopt *o = &c->opts[i];

		if (kw_copied_opt_bit(o->level, o->name))
			continue;
		any = true;
		h = (h ^ (uint32_t)o->level) * 16777619u;
		h = (h ^ (uint32_t)o->name) * 16777619u;
		for (socklen_t k = 0; k < o->len; k++)
			h = (h ^ o->value[k]) * 16777619u;
	}
	return any ? (h ? h : 1) : 0;
}

bool kw_sockopt_pins_socket(int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_BINDTODEVICE || name == SO_MARK || name == SO_REUSEPORT ||
		       name == SO_ATTACH_FILTER || name == SO_ATTACH_BPF;
	if (level == IPPROTO_IP)
		return name == IP_TRANSPARENT || name == IP_FREEBIND || name == IP_BIND_ADDRESS_NO_PORT;
	if (level == IPPROTO_IPV6)
		return name == IPV6_TRANSPARENT || name == IPV6_FREEBIND;
	if (level == IPPROTO_TCP)
		return name == TCP_REPAIR || name == TCP_FASTOPEN_CONNECT || name == TCP_MD5SIG ||
		       name == TCP_ULP;
	return false;
}

bool kw_conn_record_epoll(struct kw_conn *c, int epfd, int op, const struct epoll_event *ev)
{
	unsigned i;

	for (i = 0; i < c->nregs && c->regs[i].epfd != epfd; i++)
		;
	if (op == EPOLL_CTL_DEL) {
		if (i < c->nregs)
			c->regs[i] = c->regs[--c->nregs];
		return true;
	}
	if (i == c->nregs) {
		if (op != EPOLL_CTL_ADD)
			return true; /* MOD of an unknown registration: the kernel will say ENOENT */
		if (c->nregs == KW_CONN_MAX_EPOLL)
			return false;
		c->nregs++;
	}
	c->regs[i].epfd = epfd;
	if (ev)
		c->regs[i].ev = *ev;
	return true;
}
