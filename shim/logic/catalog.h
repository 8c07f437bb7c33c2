/* catalog.h - every event and reason keepwarm reports, defined once.
 *
 * Trace lines, stats counters and decisions all name these by their enum; the
 * strings exist only for output (kw_event_name, kw_reason_name). No code
 * compares them as strings: tests/analysis/static.sh fails on a strcmp
 * against a catalogue string, and tests/unit/test_catalog.c holds
 * docs/formats.md to this list. */
#ifndef KW_CATALOG_H
#define KW_CATALOG_H

/* Stats counters, in the order keepwarm_events_total lists them:
 * X(ID, "name in the stats file"). */
#define KW_COUNTERS(X)                                   \
	X(DIALED, "dialed")                              \
	X(REUSED, "reused")                              \
	X(PARKED, "parked")                              \
	X(EXPIRED, "expired")                            \
	X(EVICTED, "evicted")                            \
	X(STALE, "stale")                                \
	X(DISCARDED, "discarded")                        \
	X(ERRORS, "errors")                              \
	X(REPLAYS, "replays")                            \
	X(UPGRADES, "upgrades")                          \
	X(DRAINS, "drains")                              \
	X(PASSTHROUGH, "passthrough")                    \
	X(TAINTED, "tainted")

/* Trace events: X(ID, "name", COUNTER it adds one to, or NONE). */
#define KW_EVENTS(X)                                     \
	X(START, "start", NONE)                          \
	X(DIAL, "dial", DIALED)                          \
	X(REUSE, "reuse", REUSED)                        \
	X(PARK, "park", PARKED)                          \
	X(EXPIRE, "expire", EXPIRED)                     \
	X(EVICT, "evict", EVICTED)                       \
	X(STALE, "stale", STALE)                         \
	X(DISCARD, "discard", DISCARDED)                 \
	X(PASSTHROUGH, "passthrough", PASSTHROUGH)       \
	X(TAINT, "taint", TAINTED)                       \
	X(UPGRADE, "upgrade", UPGRADES)                  \
	X(EOF, "eof", NONE)                              \
	X(DRAIN, "drain", DRAINS)                        \
	X(FRESH, "fresh", NONE)                          \
	X(REPLAY, "replay", REPLAYS)                     \
	X(LEARN, "learn", NONE)                          \
	X(REQUEST, "request", NONE)                      \
	X(REDIRECT, "redirect", NONE)                    \
	X(TLS, "tls", NONE)                              \
	X(HANDOFF, "handoff", NONE)

/* Reasons: X(ID, "name", EVENT it comes with, COUNTER it also adds one to).
 * A connection let go for a reason is traced with that event; a reason that
 * keeps a connection from being parked at close() is traced as discard. */
#define KW_REASONS(X)                                                        \
	/* not followed from the start: passed straight through */          \
	X(NOT_HTTP, "not-http", PASSTHROUGH, NONE)                           \
	X(NOT_HTTP1, "not-http1", PASSTHROUGH, NONE)                         \
	X(SERVER_SPOKE_FIRST, "server-spoke-first", PASSTHROUGH, NONE)       \
	X(UPGRADE, "upgrade", PASSTHROUGH, NONE)                             \
	X(CONNECT, "connect", PASSTHROUGH, NONE)                             \
	X(NOT_INET, "not-inet", PASSTHROUGH, NONE)                           \
	X(DEST_RULE, "dest-rule", PASSTHROUGH, NONE)                         \
	X(BOUND, "bound", PASSTHROUGH, NONE)                                 \
	X(PINNED_BY_SOCKOPT, "pinned-by-sockopt", PASSTHROUGH, NONE)         \
	X(TLS_UNBOUND, "tls-unbound", PASSTHROUGH, NONE)                     \
	X(TLS_TOO_MANY, "tls-too-many", PASSTHROUGH, NONE)                   \
	X(TLS_ALPN, "tls-alpn", PASSTHROUGH, NONE)                           \
	/* the exchange cannot be followed or is not reusable */            \
	X(MALFORMED_REQUEST, "malformed-request", DISCARD, NONE)             \
	X(MALFORMED_RESPONSE, "malformed-response", DISCARD, NONE)           \
	X(NOT_HTTP1_RESPONSE, "not-http1-response", DISCARD, NONE)           \
	X(UNSOLICITED_RESPONSE, "unsolicited-response", DISCARD, NONE)       \
	X(TOO_MANY_PIPELINED, "too-many-pipelined", DISCARD, NONE)           \
	X(RESPONSE_CLOSE, "response-close", DISCARD, NONE)                   \
	X(SERVER_CLOSED, "server-closed", DISCARD, NONE)                     \
	X(READ_ERROR, "read-error", DISCARD, ERRORS)                         \
	X(WRITE_ERROR, "write-error", DISCARD, ERRORS)                       \
	X(SEND_RETRIED, "send-retried", DISCARD, NONE)                       \
	X(CONNECT_FAILED, "connect-failed", DISCARD, ERRORS)                 \
	X(CONNECT_TIMEOUT, "connect-timeout", DISCARD, ERRORS)               \
	X(REPLACED_BY_DUP, "replaced-by-dup", DISCARD, NONE)                 \
	X(NO_FD_FOR_EOF, "no-fd-for-eof", DISCARD, NONE)                     \
	X(TLS_RENEGOTIATION, "tls-renegotiation", DISCARD, NONE)             \
	/* not parked at close() */                                         \
	X(NO_REQUEST, "no-request", DISCARD, NONE)                           \
	X(REQUEST_CLOSE, "request-close", DISCARD, NONE)                     \
	X(REQUEST_INCOMPLETE, "request-incomplete", DISCARD, NONE)           \
	X(RESPONSE_INCOMPLETE, "response-incomplete", DISCARD, NONE)         \
	X(RESPONSE_PENDING, "response-pending", DISCARD, NONE)               \
	X(INHERITED_FROM_PARENT, "inherited-from-parent", DISCARD, NONE)     \
	X(MAX_REQUESTS, "max-requests", DISCARD, NONE)                       \
	X(SERVER_MAX_REQUESTS, "server-max-requests", DISCARD, NONE)         \
	X(NO_TIME_LEFT, "no-time-left", DISCARD, NONE)                       \
	X(NOT_OUR_SOCKET, "not-our-socket", DISCARD, NONE)                   \
	X(UNREAD_BYTES, "unread-bytes", DISCARD, NONE)                       \
	X(UNACKED, "unacked", DISCARD, NONE)                                 \
	X(UNSEEN_IO, "unseen-io", DISCARD, NONE)                             \
	X(OWN_SERVER, "own-server", DISCARD, NONE)                           \
	X(NO_PRIVATE_FD, "no-private-fd", DISCARD, NONE)                     \
	X(POOL_FULL, "pool-full", DISCARD, NONE)                             \
	X(HANDBACK_FAILED, "handback-failed", DISCARD, NONE)                 \
	X(FD_PRESSURE, "fd-pressure", DISCARD, NONE)                         \
	X(TLS_NOT_POOLED, "tls-not-pooled", DISCARD, NONE)                   \
	/* the program made a call keepwarm does not model */               \
	X(DUP, "dup", TAINT, NONE)                                           \
	X(SHUTDOWN, "shutdown", TAINT, NONE)                                 \
	X(FCNTL, "fcntl", TAINT, NONE)                                       \
	X(IOCTL, "ioctl", TAINT, NONE)                                       \
	X(IOCTL_ASYNC, "ioctl-async", TAINT, NONE)                           \
	X(FDOPEN, "fdopen", TAINT, NONE)                                     \
	X(FCLOSE, "fclose", TAINT, NONE)                                     \
	X(KERNEL_COPY, "kernel-copy", TAINT, NONE)                           \
	X(RECV_FLAGS, "recv-flags", TAINT, NONE)                             \
	X(SEND_OOB, "send-oob", TAINT, NONE)                                 \
	X(SEND_BEFORE_CONNECT, "send-before-connect", TAINT, NONE)           \
	X(SOCKOPT_NOT_REPLAYABLE, "sockopt-not-replayable", TAINT, NONE)     \
	X(SOCKOPT_NOT_RESETTABLE, "sockopt-not-resettable", TAINT, NONE)     \
	X(EPOLL_SETS, "epoll-sets", TAINT, NONE)                             \
	X(FD_PASSED, "fd-passed", TAINT, NONE)                               \
	X(INHERITED_BY_CHILD, "inherited-by-child", TAINT, NONE)             \
	X(TLS_TRANSPORT_CHANGED, "tls-transport-changed", TAINT, NONE)       \
	X(TLS_CALL, "tls-call", TAINT, NONE)                                 \
	/* details of other events */                                       \
	X(CLOSED_WHILE_IDLE, "closed-while-idle", STALE, NONE)               \
	X(CLOSE_REMOVED, "close-removed", UPGRADE, NONE)                     \
	X(HTTP10_KEEP_ALIVE, "http10-keep-alive", UPGRADE, NONE)             \
	X(RESPONSE_COMPLETE, "response-complete", EOF, NONE)                 \
	X(SERVER_KEPT_TALKING, "server-kept-talking", EOF, NONE)             \
	X(DRAIN_COMPLETE, "complete", DRAIN, NONE)                           \
	X(DRAIN_GAVE_UP, "gave-up", DRAIN, NONE)                             \
	X(REQUEST_NOT_REPLAYABLE, "request-not-replayable", FRESH, NONE)     \
	X(TLS_NOT_HELLO, "tls-not-hello", FRESH, NONE)                       \
	X(TLS_SETTING, "tls-setting", FRESH, NONE)                           \
	X(TLS_CLIENT_AUTH, "tls-client-auth", FRESH, NONE)                   \
	X(TLS_TRANSPORT_STYLE, "tls-transport-style", FRESH, NONE)           \
	X(TLS_SERVER_NAME, "tls-server-name", FRESH, NONE)                   \
	X(TLS_ALPN_OFFER, "tls-alpn-offer", FRESH, NONE)                     \
	X(TLS_POLICY, "tls-policy", FRESH, NONE)                             \
	X(TLS_VERIFY, "tls-verify", FRESH, NONE)                             \
	X(REPLAY_EOF, "eof", REPLAY, NONE)                                   \
	X(REPLAY_RESET, "reset", REPLAY, NONE)                               \
	X(FROM_BROKER, "broker", REUSE, NONE)                                \
	X(BROKER_SLOW, "broker-slow", DIAL, NONE)                            \
	X(OVERFLOW, "overflow", HANDOFF, NONE)                               \
	X(AT_EXIT, "exit", HANDOFF, NONE)                                    \
	X(OBJECT_UNREADABLE, "object-unreadable", REDIRECT, NONE)

enum kw_counter {
#define KW_COUNTER_ID(id, name) KW_COUNTER_##id,
	KW_COUNTERS(KW_COUNTER_ID)
#undef KW_COUNTER_ID
	KW_COUNTER_COUNT,
	KW_COUNTER_NONE = KW_COUNTER_COUNT, /* an event or reason that counts nothing */
};

enum kw_event {
#define KW_EVENT_ID(id, name, counter) KW_EVENT_##id,
	KW_EVENTS(KW_EVENT_ID)
#undef KW_EVENT_ID
	KW_EVENT_COUNT,
};

enum kw_reason {
	KW_REASON_NONE = 0, /* no reason: reusable, or nothing to say */
#define KW_REASON_ID(id, name, event, counter) KW_REASON_##id,
	KW_REASONS(KW_REASON_ID)
#undef KW_REASON_ID
	KW_REASON_COUNT,
};

/* The name written to the trace ("dial"); "?" for a value out of range. */
const char *kw_event_name(enum kw_event e);

/* The counter an event adds one to, or KW_COUNTER_NONE. */
enum kw_counter kw_event_counter(enum kw_event e);

/* The name of a stats counter ("dialed"); "?" out of range. */
const char *kw_counter_name(enum kw_counter c);

/* The name written to the trace ("server-closed"); "" for KW_REASON_NONE. */
const char *kw_reason_name(enum kw_reason r);

/* The event a connection let go for r is traced with (discard, passthrough,
 * taint), or that r is a detail of. */
enum kw_event kw_reason_event(enum kw_reason r);

/* The counter r adds one to besides its event's (errors), or KW_COUNTER_NONE. */
enum kw_counter kw_reason_counter(enum kw_reason r);

/* Look a name up (tools and tests): the event or reason so named, or -1.
 * Names are unique among events and among reasons. */
int kw_event_from_name(const char *name);
int kw_reason_from_name(const char *name);

#endif
