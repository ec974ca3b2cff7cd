// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libdsm: open, attach, map, unmap, detach and remove regions. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libdsm.h"

#define DSM_EXPORT __attribute__((visibility("default")))

static int dsm_open_device(void)
{
	int fd = open(DSM_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/**
 * dsm_attach() - attach the region @key, creating it if needed
 * @key:    the region's key
 * @size:   its size in bytes (a multiple of 4096), or 0 for an existing
 *          region of any size
 * @flags:  0 or DSM_ATTACH_EXCL / DSM_ATTACH_NOCREATE
 * @region: filled in on success
 *
 * Return: 0 or a negative errno.
 */
DSM_EXPORT int dsm_attach(uint64_t key, size_t size, unsigned int flags,
			  struct dsm_region *region)
{
	struct dsm_attach req = { .key = key, .size = size, .flags = flags };
	int fd = dsm_open_device();

	if (fd < 0)
		return fd;
	if (ioctl(fd, DSM_IOC_ATTACH, &req)) {
		int err = -errno;

		close(fd);
		return err;
	}
	region->fd = fd;
	region->key = key;
	region->size = req.size;
	return 0;
}

/**
 * dsm_map() - map a whole attached region, readable and writable
 * @region: the region
 * @addr:   the mapping's address, on success
 *
 * Return: 0 or a negative errno.
 */
DSM_EXPORT int dsm_map(const struct dsm_region *region, void **addr)
{
	void *p = mmap(NULL, region->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       region->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

/**
 * dsm_unmap() - unmap a mapping made by dsm_map()
 * @region: the region
 * @addr:   the mapping's address
 *
 * Return: 0 or a negative errno.
 */
DSM_EXPORT int dsm_unmap(const struct dsm_region *region, void *addr)
{
	return munmap(addr, region->size) ? -errno : 0;
}

/**
 * dsm_detach() - detach a region; its data stays until it is removed
 * @region: the region; its fd is closed
 *
 * Return: 0 or a negative errno.
 */
DSM_EXPORT int dsm_detach(struct dsm_region *region)
{
	int err = close(region->fd) ? -errno : 0;

	region->fd = -1;
	return err;
}

/**
 * dsm_remove() - remove a region and its data
 * @key: the region's key
 *
 * Return: 0, -ENOENT if there is no such region, -EBUSY while it is mapped.
 */
DSM_EXPORT int dsm_remove(uint64_t key)
{
	struct dsm_remove req = { .key = key };
	int fd = dsm_open_device();
	int err = 0;

	if (fd < 0)
		return fd;
	if (ioctl(fd, DSM_IOC_REMOVE, &req))
		err = -errno;
	close(fd);
	return err;
}
