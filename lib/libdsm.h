/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libdsm: a thin C API over /dev/dsm.
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure; none prints. See uapi <linux/dsm.h> for what each errno means.
 */
#ifndef LIBDSM_H
#define LIBDSM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/dsm.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct dsm_region - a region attached by this process
 * @fd:   the /dev/dsm file bound to the region; closing it detaches
 * @key:  the region's key
 * @size: the region's size in bytes
 */
struct dsm_region {
	int fd;
	uint64_t key;
	size_t size;
};

int dsm_attach(uint64_t key, size_t size, unsigned int flags,
	       struct dsm_region *region);
int dsm_map(const struct dsm_region *region, void **addr);
int dsm_unmap(const struct dsm_region *region, void *addr);
int dsm_detach(struct dsm_region *region);
int dsm_remove(uint64_t key);

#ifdef __cplusplus
}
#endif

#endif /* LIBDSM_H */
