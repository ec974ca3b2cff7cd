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

TEST(u64)
{
	uint64_t v;

	ASSERT_EQ(0, parse_u64("18446744073709551615", 1, &v));
	EXPECT_EQ(UINT64_MAX, v);
	EXPECT_EQ(-ERANGE, parse_u64("0", 1, &v));
	EXPECT_EQ(-ERANGE, parse_u64("18446744073709551616", 0, &v));
	EXPECT_EQ(-EINVAL, parse_u64("12a", 0, &v));
	EXPECT_EQ(-EINVAL, parse_u64("-3", 0, &v));
}

TEST(addr_port)
{
	uint32_t a;
	uint16_t p = 7878;

	ASSERT_EQ(0, parse_addr_port("10.0.0.1", &a, &p));
	EXPECT_EQ(inet_addr("10.0.0.1"), a);
	EXPECT_EQ(7878, p);	/* unchanged without a port */
	ASSERT_EQ(0, parse_addr_port("10.0.0.2:9000", &a, &p));
	EXPECT_EQ(inet_addr("10.0.0.2"), a);
	EXPECT_EQ(9000, p);
	EXPECT_EQ(-EINVAL, parse_addr_port("10.0.0.2:", &a, &p));
	EXPECT_EQ(-EINVAL, parse_addr_port("10.0.0.2:0", &a, &p));
	EXPECT_EQ(-EINVAL, parse_addr_port("10.0.0.2:65536", &a, &p));
	EXPECT_EQ(-EINVAL, parse_addr_port(":80", &a, &p));
	EXPECT_EQ(-EINVAL, parse_addr_port("host:80", &a, &p));
	EXPECT_EQ(-EINVAL, parse_addr_port("1.2.3.4.5.6.7.8.9.10.11:1", &a, &p));
	EXPECT_EQ(-EINVAL, parse_addr_port("", &a, &p));
}

TEST(hex_key)
{
	uint8_t k[4];

	ASSERT_EQ(0, parse_hex_key("  00ff10Ab\n", k, 4));
	EXPECT_EQ(0x00, k[0]);
	EXPECT_EQ(0xff, k[1]);
	EXPECT_EQ(0x10, k[2]);
	EXPECT_EQ(0xab, k[3]);
	EXPECT_EQ(-EINVAL, parse_hex_key("00ff10a", k, 4));	/* short */
	EXPECT_EQ(-EINVAL, parse_hex_key("00ff10ab00", k, 4));	/* long */
	EXPECT_EQ(-EINVAL, parse_hex_key("00ff10ag", k, 4));
	EXPECT_EQ(-EINVAL, parse_hex_key("00 ff10ab", k, 4));
	EXPECT_EQ(-EINVAL, parse_hex_key("", k, 4));
}

TEST_HARNESS_MAIN
