// SPDX-License-Identifier: GPL-2.0
/* dsmctl: parsing of command-line words. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/**
 * parse_u32() - a decimal (or 0x hex) integer within [min, max]
 * @s: the text
 * @min: smallest accepted value
 * @max: largest accepted value
 * @out: the value
 *
 * Return: 0, -EINVAL if @s is not a number, -ERANGE if out of range.
 */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = parse_u64(s, min, &v);

	if (err)
		return err;
	if (v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

/**
 * parse_ipv4() - a dotted-quad IPv4 address
 * @s: the text
 * @be_addr: the address, network byte order
 *
 * Return: 0 or -EINVAL.
 */
int parse_ipv4(const char *s, uint32_t *be_addr)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*be_addr = a.s_addr;
	return 0;
}

/**
 * match_word() - find @arg among @words, exactly or by unambiguous prefix
 * @arg: what the user typed
 * @words: NULL-terminated list
 *
 * Return: the index, -ENOENT if nothing matches, -EINVAL if ambiguous.
 */
int match_word(const char *arg, const char *const *words)
{
	size_t len = strlen(arg);
	int i, found = -ENOENT;

	if (!len)
		return -ENOENT;
	for (i = 0; words[i]; i++) {
		if (!strcmp(arg, words[i]))
			return i;
		if (!strncmp(arg, words[i], len))
			found = found == -ENOENT ? i : -EINVAL;
	}
	return found;
}

/**
 * parse_u64() - a decimal (or 0x hex) integer of at least @min
 * @s: the text
 * @min: smallest accepted value
 * @out: the value
 *
 * Return: 0, -EINVAL if @s is not a number, -ERANGE if out of range.
 */
int parse_u64(const char *s, uint64_t min, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

/**
 * parse_addr_port() - "A.B.C.D" or "A.B.C.D:PORT"
 * @s: the text
 * @be_addr: the address, network byte order
 * @port: the port, left unchanged when @s has none
 *
 * Return: 0 or -EINVAL.
 */
int parse_addr_port(const char *s, uint32_t *be_addr, uint16_t *port)
{
	char buf[INET_ADDRSTRLEN];
	const char *colon = s ? strchr(s, ':') : NULL;
	size_t alen = colon ? (size_t)(colon - s) : (s ? strlen(s) : 0);
	uint32_t p;

	if (!s || !alen || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (parse_ipv4(buf, be_addr))
		return -EINVAL;
	if (colon) {
		if (parse_u32(colon + 1, 1, 65535, &p))
			return -EINVAL;
		*port = (uint16_t)p;
	}
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/**
 * parse_hex_key() - exactly 2 * @len hex digits, surrounding space ignored
 * @s: the text (a key file's contents)
 * @key: @len bytes out
 * @len: key length in bytes
 *
 * Return: 0 or -EINVAL.
 */
int parse_hex_key(const char *s, uint8_t *key, size_t len)
{
	size_t i;
	int hi, lo;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (i = 0; i < len; i++) {
		hi = hex_digit(s[2 * i]);
		lo = hi < 0 ? -1 : hex_digit(s[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	for (s += 2 * len; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return -EINVAL;
	return 0;
}
