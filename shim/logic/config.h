/* config.h - keepwarm settings, read once from the environment.
 *
 * Pure logic: the caller passes the getenv function (secure_getenv in the shim,
 * a fake in unit tests) and a sink for warning lines. */
#ifndef KW_CONFIG_H
#define KW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logic/dest_rules.h"

#define KW_TRACE_PATH_MAX 1024
#define KW_CONFIG_NKEYS   22   /* settings, KEEPWARM to KEEPWARM_WARM */
/* Room for any setting's value as kw_config_value writes it (the longest:
 * a full list of destination rules). */
#define KW_CONFIG_VALUE_MAX KW_DEST_RULES_TEXT
#define KW_ORIGIN_MAX     160  /* "default", "environment", "FILE:LINE", "option --x" */

struct kw_config {
	bool     enabled;            /* KEEPWARM=on|off: off = pure passthrough */
	unsigned max_idle;           /* KEEPWARM_MAX_IDLE, total idle connections */
	unsigned max_idle_per_host;  /* KEEPWARM_MAX_IDLE_PER_HOST */
	uint64_t idle_timeout_ms;    /* KEEPWARM_IDLE_TIMEOUT */
	uint64_t max_lifetime_ms;    /* KEEPWARM_MAX_LIFETIME, 0 = off */
	unsigned max_requests;       /* KEEPWARM_MAX_REQUESTS, 0 = off */
	uint64_t tcp_keepalive_ms;   /* KEEPWARM_TCP_KEEPALIVE on parked sockets, 0 = off */
	char     trace[KW_TRACE_PATH_MAX]; /* KEEPWARM_TRACE: "" off, "stderr", or a path */
	char     stats[KW_TRACE_PATH_MAX]; /* KEEPWARM_STATS: "" off, or a path (%p = pid) */
	uint64_t stats_interval_ms;  /* KEEPWARM_STATS_INTERVAL */
	double   sample;             /* KEEPWARM_SAMPLE: share of processes in the on arm */
	bool     upgrade;            /* KEEPWARM_UPGRADE: make close-style requests keep-alive */
	uint64_t drain_bytes;        /* KEEPWARM_DRAIN: read away this much at close, 0 = off */
	bool     reuse_always;       /* KEEPWARM_REUSE=always (default safe) */
	uint64_t tls_handshake_timeout_ms; /* KEEPWARM_TLS_HANDSHAKE_TIMEOUT: bound a TLS
	                              * handshake (the program's own if shorter), 0 = off */
	bool     tls_reuse;          /* KEEPWARM_TLS_REUSE: park and hand back TLS sessions */
	char     broker[KW_TRACE_PATH_MAX]; /* KEEPWARM_BROKER: "auto", "" off, or a socket path */
	uint64_t broker_linger_ms;   /* KEEPWARM_BROKER_LINGER: an idle broker's lifetime, 0 = forever */
	struct kw_dest_rules destinations; /* KEEPWARM_DESTINATIONS: which destinations are
	                              * followed (none: all) */
	uint64_t connect_timeout_ms; /* KEEPWARM_CONNECT_TIMEOUT: bound a blocking connect()
	                              * and keepwarm's own dials, 0 = off */
	char     broker_stats[KW_TRACE_PATH_MAX]; /* KEEPWARM_BROKER_STATS: where the broker
	                              * writes its Prometheus text, "" off (%p = its pid) */
	unsigned warm;               /* KEEPWARM_WARM: connections the broker keeps ready per
	                              * recently used destination, 0 = none */
	char     origin[KW_CONFIG_NKEYS][KW_ORIGIN_MAX]; /* where each value came from */
};

typedef const char *(*kw_getenv_fn)(const char *name);
typedef void (*kw_warn_fn)(const char *line);
/* Read up to size bytes of a file into buf: the length, or -1 with errno. */
typedef long (*kw_read_fn)(const char *path, char *buf, size_t size);

/* Everything, in the order the library reads it: defaults, /etc/keepwarm.conf,
 * the user's file (kw_config_user_file), a check of env's KEEPWARM* names,
 * the environment. A missing file is silent, except one KEEPWARM_CONFIG
 * names; an unreadable one is said. Both the library and `keepwarm config`
 * call this, so what the launcher shows is what the library reads. */
void kw_config_load_all(struct kw_config *c, kw_getenv_fn getenv_fn, kw_read_fn read_fn,
                        char *const *env, kw_warn_fn warn);

/* The user's configuration file: $KEEPWARM_CONFIG if set, else
 * $XDG_CONFIG_HOME/keepwarm/keepwarm.conf (an absolute XDG_CONFIG_HOME), else
 * $HOME/.config/keepwarm/keepwarm.conf. Returns false (buf "") when there is
 * none to read (no HOME, a path too long). */
bool kw_config_user_file(kw_getenv_fn getenv_fn, char *buf, size_t size);

/* Setting i (0..KW_CONFIG_NKEYS-1): its name, and its value in c as one
 * would write it (durations in ms or s, "" for an unset path). */
const char *kw_config_name(unsigned i);
void kw_config_value(const struct kw_config *c, unsigned i, char *buf, size_t size);

/* The index of a setting's name, -1 if it is not one. */
int kw_config_index(const char *name);

/* Fill c with the documented defaults. */
void kw_config_defaults(struct kw_config *c);

/* Defaults, then every KEEPWARM_* variable found through getenv_fn. A malformed
 * value leaves that field at its default and calls warn once with a line naming
 * the variable, the bad value and the default used. warn may be NULL. */
void kw_config_load(struct kw_config *c, kw_getenv_fn getenv_fn, kw_warn_fn warn);

/* Every KEEPWARM_* variable found through getenv_fn, on top of c's current
 * values (a malformed value keeps the current one and warns). */
void kw_config_apply_env(struct kw_config *c, kw_getenv_fn getenv_fn, kw_warn_fn warn);

/* A configuration file's text on top of c: lines `KEEPWARM_X = value` (the
 * environment's names; blanks and `#` comments ignored; an `export ` prefix
 * and a value in matching single or double quotes are taken as a shell would).
 * A malformed line, an unknown key (with the nearest setting as a hint) or a
 * bad value warns with "origin:line:" and is skipped. */
void kw_config_apply_text(struct kw_config *c, const char *text, const char *origin,
                          kw_warn_fn warn);

/* A byte size: a whole number with an optional binary suffix (B, K/KiB/KB,
 * M/MiB/MB, G/GiB/GB; any case): "64KiB" is 65536. Returns 0 or -1. */
int kw_parse_size(const char *s, uint64_t *out);

/* A fraction in [0, 1] ("0.25", "1", ".5"). Returns 0 or -1. */
int kw_parse_fraction(const char *s, double *out);

/* Go-style duration ("90s", "500ms", "1m30s", "1.5h", "0"); a bare number means
 * seconds. Units: ns us ms s m h. Returns 0 and stores milliseconds (rounded
 * down), or -1 for malformed, negative or overflowing input. */
int kw_parse_duration_ms(const char *s, uint64_t *out_ms);

/* Decimal unsigned integer below 2^31. Returns 0 or -1. */
int kw_parse_uint(const char *s, unsigned *out);

/* on/off, 1/0, true/false, yes/no (any case). Returns 0 or -1. */
int kw_parse_bool(const char *s, bool *out);

/* One warning line for every KEEPWARM* name in env (an environ-style list)
 * that is neither a setting nor a launcher-only name (KEEPWARM_LIBRARY),
 * with the nearest setting as a hint: a typo is reported, not ignored. */
void kw_config_check_env_names(char *const *env, kw_warn_fn warn);

#endif
