/* dest_rules.c - parse and apply KEEPWARM_DESTINATIONS rules. */
#include "logic/dest_rules.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define RULE_MAX 200 /* longer text is no rule kw_dest_rules_format could write */

/* The rule's text for a message: at most 60 bytes of it. */
static void complain(char *err, size_t size, unsigned number, const char *text, const char *what)
{
	snprintf(err, size, "rule %u \"%.60s%s\": %s", number, text, strlen(text) > 60 ? "..." : "",
	         what);
}

/* Digits only, value within 1..max. */
static bool number_in(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!len || len > 6)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return v <= max;
}

/* addr[/prefix] of family into r; false with *what set when it is not. */
static bool read_address(const char *s, size_t len, int family, struct kw_dest_rule *r,
                         const char **what)
{
	char text[64];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	unsigned long bits = family == AF_INET ? 32 : 128, prefix = bits;

	if (!alen || alen >= sizeof text) {
		*what = "not an IPv4 or IPv6 address";
		return false;
	}
	memcpy(text, s, alen);
	text[alen] = '\0';
	memset(r->addr, 0, sizeof r->addr);
	if (inet_pton(family, text, r->addr) != 1) {
		*what = family == AF_INET ? "not an IPv4 address (an IPv6 one goes in brackets)"
		                          : "not an IPv6 address";
		return false;
	}
	if (slash && !number_in(slash + 1, len - alen - 1, 999999, &prefix)) {
		*what = "the prefix after / is not a number";
		return false;
	}
	if (prefix > bits) {
		*what = family == AF_INET ? "the prefix is more than /32" : "the prefix is more than /128";
		return false;
	}
	r->family = (uint16_t)family;
	r->prefix = (uint8_t)prefix;
	/* Host bits past the prefix are ignored, as a route's are. */
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? (unsigned)prefix - 8 * i : 0;
		r->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
	return true;
}

/* One rule's target: address part and port. */
static bool read_target(const char *s, size_t len, struct kw_dest_rule *r, const char **what)
{
	const char *port = NULL, *colon;
	size_t alen = len;
	unsigned long p = 0;

	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close) {
			*what = "a [ without its ]";
			return false;
		}
		if (!read_address(s + 1, (size_t)(close - s - 1), AF_INET6, r, what))
			return false;
		if (close + 1 < s + len) {
			if (close[1] != ':') {
				*what = "after ] comes : and a port, or nothing";
				return false;
			}
			port = close + 2;
		}
	} else {
		colon = memchr(s, ':', len);
		if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
			/* Two colons: an IPv6 address without brackets, so without a port. */
			if (!read_address(s, len, AF_INET6, r, what))
				return false;
		} else {
			if (colon) {
				alen = (size_t)(colon - s);
				port = colon + 1;
			}
			if (alen == 1 && s[0] == '*') {
				r->family = 0;
				r->prefix = 0;
				memset(r->addr, 0, sizeof r->addr);
			} else if (!read_address(s, alen, AF_INET, r, what)) {
				return false;
			}
		}
	}
	r->port = 0;
	if (port) {
		size_t plen = len - (size_t)(port - s);
		if (plen == 1 && port[0] == '*')
			return true;
		if (!number_in(port, plen, 65535, &p) || p == 0) {
			*what = "the port is not 1 to 65535, nor *";
			return false;
		}
		r->port = (uint16_t)p;
	}
	return true;
}

/* One rule, trimmed, of length len. */
static bool read_rule(const char *s, size_t len, struct kw_dest_rule *r, const char **what)
{
	size_t word = 0;

	while (word < len && !isspace((unsigned char)s[word]))
		word++;
	if (word == 5 && !strncasecmp(s, "allow", 5))
		r->deny = false;
	else if (word == 4 && !strncasecmp(s, "deny", 4))
		r->deny = true;
	else {
		*what = "a rule starts with allow or deny";
		return false;
	}
	while (word < len && isspace((unsigned char)s[word]))
		word++;
	if (word == len) {
		*what = "no address after allow or deny (* for any)";
		return false;
	}
	for (size_t i = word; i < len; i++)
		if (isspace((unsigned char)s[i])) {
			*what = "one address and port per rule, without spaces (rules are separated by commas)";
			return false;
		}
	return read_target(s + word, len - word, r, what);
}

int kw_dest_rules_parse(const char *text, struct kw_dest_rules *out, char *err, size_t err_size)
{
	struct kw_dest_rules got;
	char rule[RULE_MAX + 1];
	unsigned number = 0;
	const char *what;

	memset(&got, 0, sizeof got); /* unused entries and padding too: lists compare whole */
	while (text && *text) {
		size_t len = strcspn(text, ",;"), start = 0, end = len;
		while (start < end && isspace((unsigned char)text[start]))
			start++;
		while (end > start && isspace((unsigned char)text[end - 1]))
			end--;
		if (end > start) { /* empty rules between separators are skipped */
			size_t n = end - start < RULE_MAX ? end - start : RULE_MAX;
			number++;
			memcpy(rule, text + start, n);
			rule[n] = '\0';
			if (end - start > RULE_MAX) {
				complain(err, err_size, number, rule, "too long to be a rule");
				return -1;
			}
			if (got.n == KW_DEST_RULES_MAX) {
				complain(err, err_size, number, rule, "more than 64 rules");
				return -1;
			}
			if (!read_rule(rule, n, &got.rule[got.n], &what)) {
				complain(err, err_size, number, rule, what);
				return -1;
			}
			got.n++;
		}
		text += len;
		if (*text)
			text++;
	}
	*out = got;
	return 0;
}

/* Do the first prefix bits of a and b agree? */
static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, whole))
		return false;
	return !rest || !((a[whole] ^ b[whole]) & (uint8_t)(0xff00u >> rest));
}

static bool matches(const struct kw_dest_rule *r, const struct kw_dest *d)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *v4 = d->family == AF_INET ? d->addr
	                    : d->family == AF_INET6 && !memcmp(d->addr, mapped, 12) ? d->addr + 12
	                                                                            : NULL;

	if (r->port && r->port != ntohs(d->port))
		return false;
	switch (r->family) {
	case 0:
		return true;
	case AF_INET:
		return v4 && prefix_match(v4, r->addr, r->prefix);
	case AF_INET6:
		return d->family == AF_INET6 && prefix_match(d->addr, r->addr, r->prefix);
	default:
		return false;
	}
}

bool kw_dest_rules_allow(const struct kw_dest_rules *rules, const struct kw_dest *d)
{
	for (unsigned i = 0; i < rules->n; i++)
		if (matches(&rules->rule[i], d))
			return !rules->rule[i].deny;
	return true;
}

void kw_dest_rules_format(const struct kw_dest_rules *rules, char *buf, size_t size)
{
	size_t used = 0;

	if (size)
		buf[0] = '\0';
	for (unsigned i = 0; i < rules->n && used < size; i++) {
		const struct kw_dest_rule *r = &rules->rule[i];
		char addr[INET6_ADDRSTRLEN] = "*", prefix[8] = "", port[8] = "";
		int n;

		if (r->family)
			inet_ntop(r->family, r->addr, addr, sizeof addr);
		if (r->family && r->prefix != (r->family == AF_INET ? 32 : 128))
			snprintf(prefix, sizeof prefix, "/%u", r->prefix);
		if (r->port)
			snprintf(port, sizeof port, ":%u", r->port);
		n = snprintf(buf + used, size - used, "%s%s %s%s%s%s%s", i ? ", " : "",
		             r->deny ? "deny" : "allow", r->family == AF_INET6 ? "[" : "", addr, prefix,
		             r->family == AF_INET6 ? "]" : "", port);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
