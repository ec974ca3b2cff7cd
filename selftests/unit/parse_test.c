// SPDX-License-Identifier: GPL-2.0
/* Unit tests (host) for dsmctl's command-line parsing. */
#include <arpa/inet.h>
#include <errno.h>

#include "kselftest_harness.h"
#include "parse.h"

TEST(u32_accepts_range_and_hex)
{
	uint32_t v;

	ASSERT_EQ(0, parse_u32("1", 1, 64, &v));
	EXPECT_EQ(1, v);
	ASSERT_EQ(0, parse_u32("64", 1, 64, &v));
	EXPECT_EQ(64, v);
	ASSERT_EQ(0, parse_u32("0x10", 0, 100, &v));
	EXPECT_EQ(16, v);
	ASSERT_EQ(0, parse_u32("4294967295", 0, UINT32_MAX, &v));
	EXPECT_EQ(UINT32_MAX, v);
}

TEST(u32_rejects)
{
	uint32_t v = 7;

	EXPECT_EQ(-ERANGE, parse_u32("0", 1, 64, &v));
	EXPECT_EQ(-ERANGE, parse_u32("65", 1, 64, &v));
	EXPECT_EQ(-ERANGE, parse_u32("4294967296", 0, UINT32_MAX, &v));
	EXPECT_EQ(-ERANGE, parse_u32("99999999999999999999999", 0, UINT32_MAX, &v));
	EXPECT_EQ(-EINVAL, parse_u32("", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32(NULL, 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32("-1", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32("+1", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32(" 1", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32("1x", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32("1 ", 0, 10, &v));
	EXPECT_EQ(7, v);	/* untouched on error */
}

TEST(ipv4)
{
	uint32_t a;

	ASSERT_EQ(0, parse_ipv4("10.0.0.3", &a));
	EXPECT_EQ(inet_addr("10.0.0.3"), a);
	EXPECT_EQ(-EINVAL, parse_ipv4("10.0.0.256", &a));
	EXPECT_EQ(-EINVAL, parse_ipv4("10.0.0", &a));
	EXPECT_EQ(-EINVAL, parse_ipv4("10.0.0.1:80", &a));
	EXPECT_EQ(-EINVAL, parse_ipv4("::1", &a));
	EXPECT_EQ(-EINVAL, parse_ipv4("", &a));
}

TEST(word_prefixes)
{
	static const char *const w[] = { "show", "set", "node", "help", NULL };

	EXPECT_EQ(0, match_word("show", w));
	EXPECT_EQ(0, match_word("sh", w));
	EXPECT_EQ(1, match_word("set", w));
	EXPECT_EQ(1, match_word("se", w));
	EXPECT_EQ(-EINVAL, match_word("s", w));		/* show or set */
	EXPECT_EQ(2, match_word("n", w));
	EXPECT_EQ(-ENOENT, match_word("shows", w));
	EXPECT_EQ(-ENOENT, match_word("x", w));
	EXPECT_EQ(-ENOENT, match_word("", w));
}

TEST_HARNESS_MAIN
