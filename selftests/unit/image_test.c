// SPDX-License-Identifier: GPL-2.0
/* Unit tests (host) for the saved-region file format (dsmctl region save). */
#include "image.h"
#include "kselftest_harness.h"

static const struct image_header sample = {
	.key = 0xc0de0075, .size = 3 * 4096, .pages = 3, .epoch = 7,
	.time = 1800000000, .data_crc = 0x12345678,
};

TEST(crc32_is_the_ieee_crc_and_continues)
{
	/* the check value of CRC-32/ISO-HDLC, as zlib's crc32() */
	EXPECT_EQ(0xcbf43926u, image_crc32(0, "123456789", 9));
	EXPECT_EQ(0xcbf43926u, image_crc32(image_crc32(0, "1234", 4), "56789", 5));
	EXPECT_EQ(0u, image_crc32(0, "", 0));
}

TEST(header_round_trips)
{
	uint8_t b[IMAGE_HEADER_SIZE];
	struct image_header h;
	const char *why;

	image_header_encode(&sample, b);
	ASSERT_EQ(0, memcmp(b, "DSMIMG01", 8));
	ASSERT_EQ(0, image_header_decode(b, &h, &why));
	EXPECT_EQ(sample.key, h.key);
	EXPECT_EQ(sample.size, h.size);
	EXPECT_EQ(sample.pages, h.pages);
	EXPECT_EQ(sample.epoch, h.epoch);
	EXPECT_EQ(sample.time, h.time);
	EXPECT_EQ(sample.data_crc, h.data_crc);
	EXPECT_EQ(0x75, b[16]);		/* little-endian on every host */
}

TEST(every_damaged_byte_is_refused)
{
	uint8_t b[IMAGE_HEADER_SIZE], c[IMAGE_HEADER_SIZE];
	struct image_header h;
	const char *why;
	int i;

	image_header_encode(&sample, b);
	for (i = 0; i < IMAGE_HEADER_SIZE; i++) {
		memcpy(c, b, sizeof(c));
		c[i] ^= 0x10;
		EXPECT_EQ(-EINVAL, image_header_decode(c, &h, &why));
		EXPECT_NE(NULL, why);
	}
}

TEST(sizes_must_agree)
{
	struct image_header bad = sample;
	uint8_t b[IMAGE_HEADER_SIZE];
	struct image_header h;
	const char *why;

	bad.pages = 4;
	image_header_encode(&bad, b);
	EXPECT_EQ(-EINVAL, image_header_decode(b, &h, &why));
	EXPECT_STREQ("the header's size and page count disagree", why);
	bad = sample;
	bad.size = 4096 + 1;
	image_header_encode(&bad, b);
	EXPECT_EQ(-EINVAL, image_header_decode(b, &h, &why));
	bad.size = 0;
	bad.pages = 0;
	image_header_encode(&bad, b);
	EXPECT_EQ(-EINVAL, image_header_decode(b, &h, &why));
}

TEST_HARNESS_MAIN
