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
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
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
