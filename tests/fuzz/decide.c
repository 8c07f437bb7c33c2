/* decide.c - print the decisions the pure shim code takes on each input file,
 * one line per file, so two revisions can be compared (tests/fuzz/differential.sh).
 *
 *   decide --bytes|--track FILE...
 *
 * For every file, its bytes read as:
 *   req    a request head the program writes: the head's status, whether it
 *          may travel on a reused connection (replay), and the upgraded head
 *          (its length and FNV-1a hash, or '-' when not upgraded);
 *   resp   the first response bytes to an upgraded request: what the program
 *          reads once the close-style head is put back (length and hash,
 *          "as-sent" when they are the server's bytes unchanged);
 *   treq   a request stream fed to the tracker: its status and let-go reason;
 *   tresp  a response stream to one GET: status, reason, reusable, and the
 *          body length still expected (what the drain at close decides by).
 * With --track the files are fuzz_track inputs (tests/fuzz/fuzz_track.c's
 * framing: flags, seed, request length, request stream, response stream),
 * fed whole: "track" gives status, reason, reusable, requests, responses and
 * the Keep-Alive values.
 *
 * Compiled against one revision's shim/logic. Revisions before the parser
 * change (19c58e7 and earlier) lack kw_head_replayable, kw_response_head_final
 * and kw_track_response_left; built with -DKW_DECIDE_BEFORE_ONE_PARSER this
 * file takes those decisions the way feature/replay.c and feature/closestyle.c
 * took them then. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logic/catalog.h"
#include "logic/conn.h"
#include "logic/http_track.h"
#include "logic/upgrade.h"

#ifdef KW_DECIDE_BEFORE_ONE_PARSER
static bool head_replayable(enum kw_head_status st, const struct kw_head *h, const char *buf,
                            size_t len)
{
	const char *sp;

	if (st == KW_HEAD_OK)
		return (h->idempotent || h->idempotency_key) && !h->chunked &&
		       h->len + (size_t)(h->content_length > 0 ? h->content_length : 0) <= KW_REPLAY_MAX;
	return st == KW_HEAD_INCOMPLETE && (sp = memchr(buf, ' ', len)) &&
	       kw_method_idempotent(buf, (size_t)(sp - buf));
}

static size_t response_head_final(const char *data, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (!memcmp(data + i, "\r\n\r\n", 4))
			return len > 9 && data[9] == '1' ? 0 : i + 4;
	return 0;
}

static long long response_left(const struct kw_track *t)
{
	const http_parser *p = &t->response;

	if (!t->response_open || (p->flags & F_CHUNKED) || p->content_length == ULLONG_MAX)
		return -1;
	return p->content_length > LLONG_MAX ? LLONG_MAX : (long long)p->content_length;
}
#else
static bool head_replayable(enum kw_head_status st, const struct kw_head *h, const char *buf,
                            size_t len)
{
	(void)buf;
	(void)len;
	return kw_head_replayable(st, h, KW_REPLAY_MAX);
}

#define response_head_final kw_response_head_final
#define response_left       kw_track_response_left
#endif

static uint64_t fnv(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static const char *status_name(enum kw_head_status st)
{
	return st == KW_HEAD_OK ? "ok" : st == KW_HEAD_INCOMPLETE ? "incomplete" : "malformed";
}

static void request_head(const char *in, size_t size)
{
	struct kw_head h;
	enum kw_head_status st = kw_head_parse(in, size, &h);
	char out[2 * KW_HEAD_MAX + 64];
	size_t n = 0;

	printf(" req=%s,replay=%d", status_name(st), head_replayable(st, &h, in, size));
	if (st == KW_HEAD_OK && h.close_style)
		n = kw_head_upgrade(in, &h, out, sizeof out);
	if (n)
		printf(",upgrade=%zu:%016llx", n, (unsigned long long)fnv(out, n));
	else
		printf(",upgrade=-");
}

static void response_head(const char *in, size_t size)
{
	char *buf = malloc(size ? size : 1);
	size_t head = response_head_final(in, size), n = size;

	if (!buf)
		abort();
	memcpy(buf, in, size);
	if (head)
		n = kw_response_restore_close(buf, head, size);
	printf(" resp=%s%zu:%016llx", n == size && !memcmp(buf, in, size) ? "as-sent," : "", n,
	       (unsigned long long)fnv(buf, n));
	free(buf);
}

static void track_state(const char *label, const struct kw_track *t)
{
	printf(" %s=%s,%s,reusable=%d,left=%lld", label,
	       t->status == KW_TRACK_FOLLOWING ? "following" : "let-go", kw_reason_name(t->reason),
	       kw_track_reusable(t), response_left(t));
}

static void track_streams(const char *in, size_t size)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct kw_track t;

	kw_track_init(&t);
	kw_track_request(&t, in, size);
	track_state("treq", &t);
	kw_track_init(&t);
	kw_track_request(&t, get, sizeof get - 1);
	kw_track_response(&t, in, size);
	track_state("tresp", &t);
}

static void track_input(const unsigned char *in, size_t size)
{
	struct kw_track t;
	size_t req_len;

	if (size < 7) {
		printf(" track=short");
		return;
	}
	req_len = (size_t)in[5] | (size_t)in[6] << 8;
	if (req_len > size - 7)
		req_len = size - 7;
	kw_track_init(&t);
	kw_track_request(&t, in + 7, req_len);
	kw_track_response(&t, in + 7 + req_len, size - 7 - req_len);
	if (in[0] & 1)
		kw_track_response_eof(&t);
	track_state("track", &t);
	printf(",requests=%u,responses=%u,ka=%d/%d", t.requests, t.responses, t.ka_timeout_s,
	       t.ka_max);
}

int main(int argc, char **argv)
{
	int track;

	if (argc < 2 || (strcmp(argv[1], "--track") && strcmp(argv[1], "--bytes"))) {
		fprintf(stderr, "usage: decide --bytes|--track FILE...\n");
		return 2;
	}
	track = !strcmp(argv[1], "--track");
	for (int i = 2; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		static char in[1 << 20];
		size_t size;

		if (!f) {
			perror(argv[i]);
			return 2;
		}
		size = fread(in, 1, sizeof in, f);
		fclose(f);
		printf("%s", argv[i]);
		if (track) {
			track_input((const unsigned char *)in, size);
		} else {
			request_head(in, size);
			response_head(in, size);
			track_streams(in, size);
		}
		printf("\n");
	}
	return 0;
}
