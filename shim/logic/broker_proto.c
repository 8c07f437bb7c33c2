/* broker_proto.c - the broker's messages, field by field. */
#include "logic/broker_proto.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define KEY_LEN  32
#define TIME_LEN 16
#define META_LEN 64
#define FULL_LEN (KEY_LEN + TIME_LEN + META_LEN)

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

#define UNKNOWN ((size_t)-1)
#define VARIES  ((size_t)-2) /* REPORT: up to KW_BROKER_REPORT_MAX */

/* The body's length for type t, UNKNOWN for an unknown type. */
static size_t body_len(uint16_t t)
{
	switch (t) {
	case KW_BMSG_HELLO:
	case KW_BMSG_STATUS:
		return 0;
	case KW_BMSG_REPORT:
		return VARIES;
	case KW_BMSG_PUT:
	case KW_BMSG_GIVE:
		return FULL_LEN;
	case KW_BMSG_TAKE:
	case KW_BMSG_MISS:
		return KEY_LEN;
	default:
		return UNKNOWN;
	}
}

unsigned kw_bmsg_fds(enum kw_bmsg_type t)
{
	return t == KW_BMSG_PUT || t == KW_BMSG_TAKE || t == KW_BMSG_GIVE ? 1 : 0;
}

static bool key_sayable(const struct kw_key *k)
{
	const struct kw_dest *d = &k->dest;

	static const uint8_t zero[12];

	return (d->family == AF_INET || d->family == AF_INET6) && !d->tls &&
	       k->transport == KW_TRANSPORT_PLAIN &&
	       (d->family == AF_INET6 || (!d->scope_id && !memcmp(d->addr + 4, zero, 12)));
}

static void put_key(uint8_t *p, const struct kw_key *k)
{
	memset(p, 0, KEY_LEN);
	put16(p, k->dest.family);
	put16(p + 2, k->dest.port);
	put32(p + 4, k->dest.scope_id);
	memcpy(p + 8, k->dest.addr, 16);
	p[24] = k->dest.tls;
	p[25] = k->transport;
	put32(p + 28, k->opts);
}

static bool get_key(const uint8_t *p, struct kw_key *k)
{
	struct kw_dest d;

	memset(&d, 0, sizeof d);
	d.family = get16(p);
	d.port = get16(p + 2);
	d.scope_id = get32(p + 4);
	memcpy(d.addr, p + 8, 16);
	d.tls = p[24];
	kw_key_make(k, &d, (enum kw_transport_kind)p[25], get32(p + 28));
	k->transport = p[25];
	if (p[26] || p[27])
		return false;
	return key_sayable(k);
}

static void put_meta(uint8_t *p, const struct kw_conn_meta *c)
{
	put16(p, KW_CONN_META_VERSION);
	put16(p + 2, META_LEN);
	put32(p + 4, c->touched);
	put64(p + 8, c->born_ms);
	put64(p + 16, c->max_lifetime_ms);
	put32(p + 24, c->requests);
	put32(p + 28, c->max_requests);
	put32(p + 32, (uint32_t)c->server_max);
	put32(p + 36, 0);
	put64(p + 40, c->patience_ms);
	put64(p + 48, c->wire_sent);
	put64(p + 56, c->wire_received);
}

static bool get_meta(const uint8_t *p, struct kw_conn_meta *c)
{
	memset(c, 0, sizeof *c);
	if (get16(p) != KW_CONN_META_VERSION || get16(p + 2) != META_LEN || get32(p + 36))
		return false;
	c->version = KW_CONN_META_VERSION;
	c->size = sizeof *c;
	c->touched = get32(p + 4);
	c->born_ms = get64(p + 8);
	c->max_lifetime_ms = get64(p + 16);
	c->requests = get32(p + 24);
	c->max_requests = get32(p + 28);
	c->server_max = (int32_t)get32(p + 32);
	c->patience_ms = get64(p + 40);
	c->wire_sent = get64(p + 48);
	c->wire_received = get64(p + 56);
	return c->server_max >= -1;
}

size_t kw_bmsg_encode(const struct kw_bmsg *m, uint8_t *buf, size_t size)
{
	size_t body = body_len(m->type);

	if (body == VARIES) {
		if (m->text_len > KW_BROKER_REPORT_MAX || size < KW_BROKER_HEAD + m->text_len ||
		    (m->text_len && !m->text))
			return 0;
		body = m->text_len;
		if (body)
			memcpy(buf + KW_BROKER_HEAD, m->text, body);
		put32(buf, KW_BROKER_MAGIC);
		put16(buf + 4, KW_BROKER_VERSION);
		put16(buf + 6, m->type);
		put32(buf + 8, m->id);
		put32(buf + 12, (uint32_t)body);
		return KW_BROKER_HEAD + body;
	}
	if (body == UNKNOWN || size < KW_BROKER_HEAD + body || (body && !key_sayable(&m->key)) ||
	    (body == FULL_LEN && m->conn.server_max < -1))
		return 0;
	put32(buf, KW_BROKER_MAGIC);
	put16(buf + 4, KW_BROKER_VERSION);
	put16(buf + 6, m->type);
	put32(buf + 8, m->id);
	put32(buf + 12, (uint32_t)body);
	if (body)
		put_key(buf + KW_BROKER_HEAD, &m->key);
	if (body == FULL_LEN) {
		put64(buf + KW_BROKER_HEAD + KEY_LEN, m->idle_ms);
		put64(buf + KW_BROKER_HEAD + KEY_LEN + 8, m->expires_in_ms);
		put_meta(buf + KW_BROKER_HEAD + KEY_LEN + TIME_LEN, &m->conn);
	}
	return KW_BROKER_HEAD + body;
}

enum kw_bproto_error kw_bmsg_decode(const uint8_t *buf, size_t len, unsigned nfds,
                                    struct kw_bmsg *m)
{
	size_t body;

	memset(m, 0, sizeof *m);
	if (len < KW_BROKER_HEAD)
		return KW_BPROTO_SHORT;
	if (get32(buf) != KW_BROKER_MAGIC)
		return KW_BPROTO_MAGIC;
	if (get16(buf + 4) != KW_BROKER_VERSION)
		return KW_BPROTO_VERSION;
	m->type = get16(buf + 6);
	m->id = get32(buf + 8);
	if ((body = body_len(m->type)) == UNKNOWN)
		return KW_BPROTO_TYPE;
	if (body == VARIES) {
		body = get32(buf + 12);
		if (body > KW_BROKER_REPORT_MAX)
			return KW_BPROTO_LENGTH;
		if (len != KW_BROKER_HEAD + body)
			return len < KW_BROKER_HEAD + body ? KW_BPROTO_SHORT : KW_BPROTO_LENGTH;
		if (nfds)
			return KW_BPROTO_FDS;
		m->text = (const char *)buf + KW_BROKER_HEAD;
		m->text_len = body;
		return KW_BPROTO_OK;
	}
	if (get32(buf + 12) != body)
		return KW_BPROTO_LENGTH;
	if (len < KW_BROKER_HEAD + body)
		return KW_BPROTO_SHORT;
	if (len > KW_BROKER_HEAD + body)
		return KW_BPROTO_LENGTH;
	if (nfds != kw_bmsg_fds((enum kw_bmsg_type)m->type))
		return KW_BPROTO_FDS;
	if (body && !get_key(buf + KW_BROKER_HEAD, &m->key))
		return KW_BPROTO_FIELD;
	if (body == FULL_LEN) {
		m->idle_ms = get64(buf + KW_BROKER_HEAD + KEY_LEN);
		m->expires_in_ms = get64(buf + KW_BROKER_HEAD + KEY_LEN + 8);
		if (!get_meta(buf + KW_BROKER_HEAD + KEY_LEN + TIME_LEN, &m->conn))
			return KW_BPROTO_FIELD;
	}
	return KW_BPROTO_OK;
}

const char *kw_bproto_error_name(enum kw_bproto_error e)
{
	static const char *const names[] = {
		[KW_BPROTO_OK] = "ok",         [KW_BPROTO_SHORT] = "short",
		[KW_BPROTO_MAGIC] = "magic",   [KW_BPROTO_VERSION] = "version",
		[KW_BPROTO_TYPE] = "type",     [KW_BPROTO_LENGTH] = "length",
		[KW_BPROTO_FDS] = "descriptors", [KW_BPROTO_FIELD] = "field",
	};
	return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "unknown";
}

void kw_bmsg_attach_fd(struct msghdr *mh, void *ctrl, size_t size, int fd)
{
	struct cmsghdr *cm;

	memset(ctrl, 0, size);
	mh->msg_control = ctrl;
	mh->msg_controllen = CMSG_SPACE(sizeof(int));
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
}

unsigned kw_bmsg_received_fds(struct msghdr *mh, int *fds, unsigned max)
{
	unsigned n = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) && n < max; i++)
			memcpy(&fds[n++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	return n;
}

bool kw_bmsg_answers(const struct kw_bmsg *r, const struct kw_bmsg *q)
{
	return r->id == q->id && (r->type == KW_BMSG_GIVE || r->type == KW_BMSG_MISS) &&
	       r->key.transport == q->key.transport && r->key.opts == q->key.opts &&
	       kw_dest_equal(&r->key.dest, &q->key.dest);
}

bool kw_broker_path(const char *value, const char *xdg_runtime_dir, unsigned uid,
                    char *path, size_t path_size, char *dir, size_t dir_size)
{
	const char *slash;
	int n;

	if (!value || !*value || !strcmp(value, "off"))
		return false;
	if (!strcmp(value, "auto")) {
		if (xdg_runtime_dir && xdg_runtime_dir[0] == '/')
			n = snprintf(dir, dir_size, "%s/keepwarm", xdg_runtime_dir);
		else
			n = snprintf(dir, dir_size, "/tmp/keepwarm-%u", uid);
		if (n < 0 || (size_t)n >= dir_size)
			return false;
		n = snprintf(path, path_size, "%s/broker", dir);
	} else {
		if (value[0] != '/' || !(slash = strrchr(value, '/')) || !slash[1])
			return false;
		n = snprintf(path, path_size, "%s", value);
		if (n < 0 || (size_t)n >= path_size)
			return false;
		n = snprintf(dir, dir_size, "%.*s", slash == value ? 1 : (int)(slash - value), value);
		if (n < 0 || (size_t)n >= dir_size)
			return false;
		n = (int)strlen(path);
	}
	return n > 0 && (size_t)n < path_size && n < 108;
}
