/* dest_rules.h - KEEPWARM_DESTINATIONS: which destinations keepwarm may
 * follow, as allow and deny rules on address and port.
 *
 * Pure logic. A list is rules separated by commas (or semicolons):
 *
 *   deny 10.1.2.3:8080, allow 127.0.0.0/8, deny *:9200, deny [2001:db8::/32]:443
 *
 * Each rule is `allow` or `deny`, then a target: an IPv4 address or prefix
 * (10.0.0.0/8), an IPv6 one in brackets ([::1], [2001:db8::/32]; without a
 * port the brackets may be left out), or `*` for any address; then, after a
 * colon, a port (1 to 65535) or `*` for any port (also when no port is
 * given). The first rule that matches decides; a destination no rule
 * matches is allowed. An IPv4-mapped IPv6 address (::ffff:10.1.2.3) matches
 * IPv4 rules as the IPv4 address it carries. */
#ifndef KW_DEST_RULES_H
#define KW_DEST_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logic/dest.h"

#define KW_DEST_RULES_MAX 64
/* Room for any list kw_dest_rules_format writes: 64 rules of at most 66
 * bytes ("allow [", 45 of address, "/128]:65535, ") and the terminator. */
#define KW_DEST_RULES_TEXT (KW_DEST_RULES_MAX * 66 + 1)

struct kw_dest_rule {
	bool     deny;
	uint16_t family;   /* AF_INET, AF_INET6, or 0 for any address */
	uint8_t  prefix;   /* leading bits of addr that must match */
	uint16_t port;     /* host byte order; 0: any port */
	uint8_t  addr[16]; /* IPv4 in the first 4 bytes */
};

struct kw_dest_rules {
	unsigned n;
	struct kw_dest_rule rule[KW_DEST_RULES_MAX];
};

/* Parse a list into out (an empty or blank text: no rules). Returns 0, or
 * -1 with out unchanged and err set to one line (no newline) that names the
 * bad rule by its number and text and says what is wrong. */
int kw_dest_rules_parse(const char *text, struct kw_dest_rules *out, char *err, size_t err_size);

/* Is d allowed by rules (the first match decides, none: allowed)? */
bool kw_dest_rules_allow(const struct kw_dest_rules *rules, const struct kw_dest *d);

/* The rules as a list kw_dest_rules_parse reads back to the same rules
 * ("" for none), each target in its canonical form. */
void kw_dest_rules_format(const struct kw_dest_rules *rules, char *buf, size_t size);

#endif
