/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsmctl: the file a region is saved to (dsmctl region save / load). Pure
 * functions, unit-tested.
 *
 * Layout, little-endian: a 64-byte header, then the region's bytes.
 *   0  magic "DSMIMG01"        32 pages (size / page size)
 *   8  version (1)             40 membership epoch of the copy
 *  12  page size (4096)        48 time of the copy (Unix seconds)
 *  16  region key              56 CRC-32 of the data
 *  24  size in bytes           60 CRC-32 of bytes 0-59
 */
#ifndef DSMCTL_IMAGE_H
#define DSMCTL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_HEADER_SIZE	64
#define IMAGE_VERSION		1
#define IMAGE_PAGE_SIZE		4096

struct image_header {
	uint64_t key, size, pages, epoch, time;
	uint32_t data_crc;
};

uint32_t image_crc32(uint32_t crc, const void *buf, size_t len);
void image_header_encode(const struct image_header *h,
			 uint8_t out[IMAGE_HEADER_SIZE]);
int image_header_decode(const uint8_t in[IMAGE_HEADER_SIZE],
			struct image_header *h, const char **why);

#endif
