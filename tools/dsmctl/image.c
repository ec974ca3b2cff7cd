// SPDX-License-Identifier: GPL-2.0
/* dsmctl: the saved-region file format (see image.h). */
#include <errno.h>
#include <string.h>

#include "image.h"

static const char image_magic[8] = { 'D', 'S', 'M', 'I', 'M', 'G', '0', '1' };

/*
 * CRC-32 (IEEE 802.3, as zlib and gzip): image_crc32(0, buf, len) for a
 * buffer, image_crc32(crc, next, len) to continue.
 */
uint32_t image_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;
	uint32_t c;
	int i, k;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = v >> (8 * i);
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void image_header_encode(const struct image_header *h,
			 uint8_t out[IMAGE_HEADER_SIZE])
{
	memcpy(out, image_magic, sizeof(image_magic));
	put_le(out + 8, IMAGE_VERSION, 4);
	put_le(out + 12, IMAGE_PAGE_SIZE, 4);
	put_le(out + 16, h->key, 8);
	put_le(out + 24, h->size, 8);
	put_le(out + 32, h->pages, 8);
	put_le(out + 40, h->epoch, 8);
	put_le(out + 48, h->time, 8);
	put_le(out + 56, h->data_crc, 4);
	put_le(out + 60, image_crc32(0, out, 60), 4);
}

/* Return: 0, or -EINVAL with @why saying what is wrong. */
int image_header_decode(const uint8_t in[IMAGE_HEADER_SIZE],
			struct image_header *h, const char **why)
{
	*why = NULL;
	if (memcmp(in, image_magic, sizeof(image_magic)))
		*why = "not a saved dsm region (bad magic)";
	else if (get_le(in + 8, 4) != IMAGE_VERSION)
		*why = "a saved region of another format version";
	else if (get_le(in + 60, 4) != image_crc32(0, in, 60))
		*why = "the header is damaged (checksum mismatch)";
	else if (get_le(in + 12, 4) != IMAGE_PAGE_SIZE)
		*why = "saved with another page size";
	if (*why)
		return -EINVAL;
	h->key = get_le(in + 16, 8);
	h->size = get_le(in + 24, 8);
	h->pages = get_le(in + 32, 8);
	h->epoch = get_le(in + 40, 8);
	h->time = get_le(in + 48, 8);
	h->data_crc = get_le(in + 56, 4);
	if (!h->size || h->size % IMAGE_PAGE_SIZE ||
	    h->pages != h->size / IMAGE_PAGE_SIZE) {
		*why = "the header's size and page count disagree";
		return -EINVAL;
	}
	return 0;
}
