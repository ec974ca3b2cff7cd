// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libdsm: open, attach, map (anywhere, or at the key's fixed address),
 * unmap, detach and remove regions; this node's identity.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libdsm.h"
#include "internal.h"

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

/* The fixed address of a key: one 64 GiB slot of 1024, from 32 TiB up. */
#define DSM_FIXED_BASE	(32ULL << 40)
#define DSM_FIXED_SLOT	(64ULL << 30)
#define DSM_FIXED_SLOTS	1024

static uint64_t dsm_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/**
 * dsm_map_fixed() - map a whole region at the same address on every node
 * @region: the region
 * @addr:   the mapping's address, on success
 *
 * The address depends only on the key (a 64 GiB slot of a window at
 * 32-96 TiB), so pointers stored in the region are valid on every node.
 *
 * Return: 0; -EEXIST if something is mapped there already (another region
 * whose key shares the slot, or a mapping of this one); another negative
 * errno from mmap.
 */
DSM_EXPORT int dsm_map_fixed(const struct dsm_region *region, void **addr)
{
	void *want = (void *)(uintptr_t)(DSM_FIXED_BASE + DSM_FIXED_SLOT *
					 (dsm_mix(region->key) % DSM_FIXED_SLOTS));
	void *p = mmap(want, region->size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED_NOREPLACE, region->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	if (p != want) {	/* a kernel without MAP_FIXED_NOREPLACE */
		munmap(p, region->size);
		return -EEXIST;
	}
	*addr = p;
	return 0;
}

/*
 * One descriptor of /dev/dsm for the process's waits, opened on first use
 * and kept (close-on-exec); a thread that loses the race to set it closes
 * its own.
 */
static int dsm_wait_fd = -1;

static int dsm_wait_device(void)
{
	int fd = __atomic_load_n(&dsm_wait_fd, __ATOMIC_ACQUIRE), none = -1;

	if (fd >= 0)
		return fd;
	fd = dsm_open_device();
	if (fd < 0)
		return fd;
	if (!__atomic_compare_exchange_n(&dsm_wait_fd, &none, fd, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		close(fd);
		fd = none;
	}
	return fd;
}

/**
 * dsm_wait() - sleep while a word of a dsm mapping holds @expected
 * @word:       the word, 4-byte aligned, in a region this process maps
 * @expected:   the value to sleep on
 * @timeout_ns: the longest sleep
 *
 * A store by another node wakes the sleeper at once (it invalidates this
 * node's copy of the page); a store by this node only ends the sleep at the
 * timeout. Callers re-read the word after any return.
 *
 * Return: 0 (re-read the word), -ETIMEDOUT, -EINTR, or another negative
 * errno (-EINVAL: not a dsm mapping; -ENOTTY: a module without waits).
 */
DSM_EXPORT int dsm_wait(const uint32_t *word, uint32_t expected, long timeout_ns)
{
	struct dsm_wait req = {
		.addr = (uintptr_t)word,
		.expected = expected,
		.timeout_ns = timeout_ns > 0 ? timeout_ns : 0,
	};
	int fd = dsm_wait_device();

	if (fd < 0)
		return fd;
	return ioctl(fd, DSM_IOC_WAIT, &req) ? -errno : 0;
}

/*
 * A barrier counted by the kernel (DSM_IOC_BARRIER), named by @word; for
 * dsm_barrier_wait(). Return: 1 for the last arrival, 0 for the others,
 * or a negative errno (-EINVAL: not a dsm mapping; -ENOTTY: a module
 * without cluster barriers).
 */
int dsm_barrier_arrive(const uint32_t *word, unsigned int parties)
{
	struct dsm_barrier_arrive req = {
		.addr = (uintptr_t)word,
		.parties = parties,
	};
	int fd = dsm_wait_device(), ret;

	if (fd < 0)
		return fd;
	ret = ioctl(fd, DSM_IOC_BARRIER, &req);
	return ret < 0 ? -errno : ret;
}

/**
 * dsm_info() - this node's identity and cluster
 * @info: filled in: node id (0 while not configured), members (0 outside a
 *        cluster), membership epoch, dead timeout
 *
 * Return: 0 or a negative errno.
 */
DSM_EXPORT int dsm_info(struct dsm_info *info)
{
	int fd = dsm_open_device(), err = 0;

	if (fd < 0)
		return fd;
	if (ioctl(fd, DSM_IOC_INFO, info))
		err = -errno;
	close(fd);
	return err;
}

/**
 * dsm_node_id() - this node's id
 *
 * Return: 1..64, 0 while the node is not configured, or a negative errno.
 */
DSM_EXPORT int dsm_node_id(void)
{
	struct dsm_info info;
	int err = dsm_info(&info);

	return err ? err : (int)info.node_id;
}

/**
 * dsm_node_count() - the number of cluster members, this node included
 *
 * Return: the count, 1 outside a cluster, or a negative errno.
 */
DSM_EXPORT int dsm_node_count(void)
{
	struct dsm_info info;
	int err = dsm_info(&info);

	return err ? err : info.members ? (int)info.members : 1;
}

/**
 * dsm_unmap() - unmap a mapping made by dsm_map() or dsm_map_fixed()
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
 * dsm_commit() - commit what this node wrote to a replicated region: every
 * page it wrote since it last committed is kept on the region's replica
 * holders when this returns
 * @region: the region
 *
 * Return: 0 (also for a region without copies), -EIO if a push since the
 * region's last commit may not have been kept (a replica holder was lost,
 * kept nothing or did not answer: commit again), -ENXIO, -ENOMEM, -EINTR.
 */
DSM_EXPORT int dsm_commit(const struct dsm_region *region)
{
	return ioctl(region->fd, DSM_IOC_COMMIT) ? -errno : 0;
}

/**
 * dsm_remove() - remove a region and its data
 * @key: the region's key
 *
 * Return: 0, -ENOENT if there is no such region, -EBUSY while it is mapped
 * (on any node, for a cluster region).
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
