/* fuzz_track.c - libFuzzer harness for shim/logic/http_track.c.
 *
 * Input framing (all multi-byte numbers little-endian):
 *   byte 0      flags: bit 0 = the program reads end-of-file at the end;
 *               bits 1-3 = extra coarse cuts per side (0-7); bits 4-7 unused
 *   bytes 1-4   seed for the coarse cuts and the random splittings
 *   bytes 5-6   length of the request stream (clamped to what follows)
 *   the rest    request stream, then response stream
 *
 * Each stream is cut at the same coarse points in every run, and the coarse
 * segments are fed alternately: req[0], resp[0], req[1], resp[1], ... So the
 * interleaving of the two sides is chosen by the input and is the same in
 * every run; only how each segment is split differs:
 *   run 0: every segment whole (the reference);
 *   runs 1-4: random pieces (many of 1 byte), zero-length feeds and
 *             MSG_PEEK-like steps that feed nothing but query the state;
 *   run 5: one byte at a time;
 *   runs 6-9: kw_track_*_iov with random iovec layouts (empty entries,
 *             n shorter than the iovec total, the rest in the next call);
 *   runs 10-11: TLS record-sized pieces, as a session's plaintext arrives
 *             (gnutls_record_recv, SSL_read: one record of up to 16 KiB per
 *             call): whole 16 KiB records, then random sizes up to 16 KiB.
 * Property: no crash, no hang, and the same final observable state (status,
 * kw_track_reusable, kw_track_why_not, requests, responses, Keep-Alive
 * values, answers observed, kw_track_response_left) after every run. Bytes are always copied into
 * exact-size heap buffers so ASan sees any read past what was given. */
#include "logic/http_track.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 12
#define TLS_RECORD 16384 /* the largest TLS plaintext record */
#define MAX_SEGS 8

struct rng { uint64_t s; };

static uint32_t next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s >> 16);
}

/* A piece length in [0, left], mostly small. */
static size_t piece(struct rng *r, size_t left)
{
	uint32_t k = next(r) % 8;
	size_t n;

	if (k < 3)
		n = 1;
	else if (k < 5)
		n = next(r) % 8;
	else if (k < 7)
		n = next(r) % 64;
	else
		n = left;
	return n < left ? n : left;
}

struct state {
	int status;
	int reusable;
	const char *why;
	uint32_t requests, responses;
	int ka_timeout_s, ka_max;
	unsigned answers;
	long long left;
};

/* Times only move forward and the wait starts no later than the request, so
 * the wait is never the shorter. */
static void on_answer(void *arg, uint64_t request_us, uint64_t wait_us)
{
	if (wait_us < request_us)
		abort();
	(*(unsigned *)arg)++;
}

typedef enum kw_track_status (*feed_fn)(struct kw_track *, const void *, size_t);
typedef enum kw_track_status (*feed_iov_fn)(struct kw_track *, const struct iovec *, int, size_t);

/* Feed through an exact-size copy. */
static void feed_copy(struct kw_track *t, feed_fn fn, const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (!b)
		abort();
	memcpy(b, p, n);
	fn(t, b, n);
	free(b);
}

/* A MSG_PEEK-like step: the program looked, nothing is fed; queries must
 * not change anything. */
static void peek_step(struct kw_track *t)
{
	struct kw_track before = *t;

	(void)kw_track_reusable(t);
	(void)kw_track_why_not(t);
	(void)kw_track_response_left(t);
	if (memcmp(&before, t, sizeof before))
		abort();
}

static void feed_iov_random(struct kw_track *t, feed_iov_fn fn, struct rng *r, const uint8_t *p,
                            size_t n)
{
	static uint8_t junk[256]; /* past n: must never be read */

	while (n) {
		struct iovec iov[12];
		uint8_t *bufs[12];
		int cnt = 1 + (int)(next(r) % 12);
		size_t total = 0, give;

		for (int i = 0; i < cnt; i++) {
			size_t len = (i == cnt - 1 || total >= n) ? 0 : piece(r, n - total);
			if (i == cnt - 1)
				len = n - total < 64 ? n - total : piece(r, n - total);
			bufs[i] = malloc(len ? len : 1);
			if (!bufs[i])
				abort();
			memcpy(bufs[i], p + total, len);
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = len;
			total += len;
		}
		if (!total) { /* make progress */
			iov[cnt - 1].iov_len = 1;
			bufs[cnt - 1][0] = p[0];
			total = 1;
		}
		/* Sometimes a short read/write: n covers only part of the iovec,
		 * and a trailing entry holds bytes that must not be looked at. */
		give = total;
		if (next(r) % 3 == 0)
			give = piece(r, total);
		if (cnt < 12 && next(r) % 2) {
			memset(junk, 0x5a, sizeof junk);
			iov[cnt].iov_base = junk;
			iov[cnt].iov_len = sizeof junk;
			fn(t, iov, cnt + 1, give);
		} else {
			fn(t, iov, cnt, give);
		}
		for (int i = 0; i < cnt; i++)
			free(bufs[i]);
		p += give;
		n -= give;
		if (next(r) % 4 == 0)
			peek_step(t);
	}
}

static void feed_segment(struct kw_track *t, int run, int side, struct rng *r, const uint8_t *p,
                         size_t n)
{
	feed_fn fn = side ? kw_track_response : kw_track_request;
	feed_iov_fn ifn = side ? kw_track_response_iov : kw_track_request_iov;

	if (run == 0) {
		if (n)
			feed_copy(t, fn, p, n);
		return;
	}
	if (run >= 10) {
		while (n) {
			size_t k = run == 10 || next(r) % 4 == 0 ? TLS_RECORD : 1 + next(r) % TLS_RECORD;
			if (k > n)
				k = n;
			feed_copy(t, fn, p, k);
			p += k;
			n -= k;
		}
		return;
	}
	if (run >= 6) {
		feed_iov_random(t, ifn, r, p, n);
		return;
	}
	while (n) {
		size_t k = run == 5 ? 1 : piece(r, n);
		uint32_t what = run == 5 ? 7 : next(r) % 8;

		if (what == 0)
			peek_step(t);
		else if (what == 1)
			fn(t, p, 0); /* a zero-length feed changes nothing */
		feed_copy(t, fn, p, k);
		p += k;
		n -= k;
	}
}

static void cuts(struct rng *r, size_t len, int extra, size_t *at)
{
	/* at[0] = 0 <= at[1] <= ... <= at[extra + 1] = len */
	at[0] = 0;
	for (int i = 1; i <= extra; i++)
		at[i] = len ? next(r) % (len + 1) : 0;
	at[extra + 1] = len;
	for (int i = 1; i <= extra; i++) /* insertion sort */
		for (int j = i; j > 1 && at[j] < at[j - 1]; j--) {
			size_t x = at[j];
			at[j] = at[j - 1];
			at[j - 1] = x;
		}
}

static const char *normalise(const char *why)
{
	return why;
}

static void run_once(int run, uint64_t seed, int eof, int extra, const uint8_t *req, size_t rlen,
                     const uint8_t *resp, size_t slen, struct state *out)
{
	struct rng coarse = { seed | 1 };
	struct rng fine = { (seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(run + 1))) | 1 };
	size_t rc[MAX_SEGS + 1], sc[MAX_SEGS + 1];
	struct kw_track t;
	unsigned answers = 0;

	cuts(&coarse, rlen, extra, rc);
	cuts(&coarse, slen, extra, sc);
	kw_track_init(&t);
	kw_track_set_observer(&t, on_answer, &answers);
	t.asked_us = 1; /* connect() */
	for (int i = 0; i <= extra; i++) {
		t.now_us = 10 + 2 * (uint64_t)i;
		feed_segment(&t, run, 0, &fine, req + rc[i], rc[i + 1] - rc[i]);
		t.now_us++;
		feed_segment(&t, run, 1, &fine, resp + sc[i], sc[i + 1] - sc[i]);
	}
	if (eof)
		kw_track_response_eof(&t);
	out->status = t.status;
	out->reusable = kw_track_reusable(&t);
	out->why = normalise(kw_reason_name(kw_track_why_not(&t)));
	out->requests = t.requests;
	out->responses = t.responses;
	out->ka_timeout_s = t.ka_timeout_s;
	out->ka_max = t.ka_max;
	out->answers = answers;
	out->left = kw_track_response_left(&t);
	/* Internal consistency of one run. */
	if (out->reusable != !*out->why || (out->status == KW_TRACK_LET_GO && out->reusable) ||
	    out->answers != out->responses || t.pending_count > KW_TRACK_MAX_PENDING ||
	    t.responses > t.requests)
		abort();
}

static void report(const char *what, int run, const struct state *a, const struct state *b)
{
	fprintf(stderr,
	        "fuzz_track: %s differs in run %d: status %d/%d reusable %d/%d why \"%s\"/\"%s\" "
	        "requests %u/%u responses %u/%u ka %d,%d/%d,%d answers %u/%u left %lld/%lld\n",
	        what, run, a->status, b->status, a->reusable, b->reusable, a->why, b->why, a->requests,
	        b->requests, a->responses, b->responses, a->ka_timeout_s, a->ka_max, b->ka_timeout_s,
	        b->ka_max, a->answers, b->answers, a->left, b->left);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state ref, got;
	uint64_t seed;
	size_t rlen;
	int eof, extra;

	if (size < 7 || size > 65536)
		return 0;
	eof = data[0] & 1;
	extra = (data[0] >> 1) & 7;
	seed = (uint64_t)data[1] | (uint64_t)data[2] << 8 | (uint64_t)data[3] << 16 |
	       (uint64_t)data[4] << 24;
	seed = seed * 0x2545f4914f6cdd1dULL + 0x1234567;
	rlen = (size_t)data[5] | (size_t)data[6] << 8;
	data += 7;
	size -= 7;
	if (rlen > size)
		rlen = size;
	run_once(0, seed, eof, extra, data, rlen, data + rlen, size - rlen, &ref);
	for (int run = 1; run < RUNS; run++) {
		run_once(run, seed, eof, extra, data, rlen, data + rlen, size - rlen, &got);
		if (got.status != ref.status || got.reusable != ref.reusable ||
		    strcmp(got.why, ref.why) || got.requests != ref.requests ||
		    got.responses != ref.responses || got.ka_timeout_s != ref.ka_timeout_s ||
		    got.ka_max != ref.ka_max || got.answers != ref.answers || got.left != ref.left)
			report("final state", run, &ref, &got);
	}
	return 0;
}
