/* pattern.h - the bytes the test server sends, so clients can check bodies
 * byte for byte without a shared file. Body of length n: byte i is
 * kw_pattern_byte(n, i). */
#ifndef KW_TEST_PATTERN_H
#define KW_TEST_PATTERN_H

#include <stddef.h>

static inline char kw_pattern_byte(size_t n, size_t i)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	return alphabet[(i * 7 + n + i / 61) % (sizeof alphabet - 1)];
}

static inline void kw_pattern_fill(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = kw_pattern_byte(n, i);
}

#endif
