/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dsm: page-based distributed shared memory - the user/kernel ABI.
 *
 * Two interfaces:
 *
 * 1. The character device /dev/dsm. Each open file attaches at most one
 *    region (DSM_IOC_ATTACH); mmap(MAP_SHARED) of that file then maps the
 *    region. Closing the file detaches it. Regions outlive their files and
 *    mappings until removed (DSM_IOC_REMOVE) or the module is unloaded.
 *
 * 2. The generic netlink family DSM_GENL_NAME, for node configuration and
 *    status. Attribute tree:
 *
 *    DSM_CMD_NODE_SET (CAP_NET_ADMIN)
 *        DSM_A_NODE_ID       u32, 1..DSM_MAX_NODES           (required)
 *        DSM_A_NODE_ADDR     be32, unicast IPv4 address      (required)
 *        DSM_A_NODE_PORT     u16, 1..65535  (optional, default DSM_DEFAULT_PORT)
 *
 *    DSM_CMD_GET (any user) replies with:
 *        DSM_A_VERSION       string, module version
 *        DSM_A_NODE_ID       u32, 0 while the node is not configured
 *        DSM_A_NODE_ADDR     be32   (only once configured)
 *        DSM_A_NODE_PORT     u16    (only once configured)
 *        DSM_A_REGIONS       u32, regions currently known on this node
 *        DSM_A_PAGES         u64, pages currently held by this node
 *        DSM_A_STATS         nest of DSM_STAT_* u64 counters
 *
 * Every rejected request carries an extended-ack message; the errno is
 * EINVAL for a missing, malformed or unknown attribute, ERANGE for an
 * integer out of range, EPERM without CAP_NET_ADMIN.
 */
#ifndef _UAPI_LINUX_DSM_H
#define _UAPI_LINUX_DSM_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define DSM_DEVICE_PATH		"/dev/dsm"

/* Limits */
#define DSM_PAGE_SIZE		4096ULL
#define DSM_REGION_MAX_SIZE	(64ULL << 30)	/* bytes per region */
#define DSM_MAX_REGIONS		4096		/* regions per node */
#define DSM_MAX_NODES		64		/* node ids are 1..DSM_MAX_NODES */
#define DSM_DEFAULT_PORT	7878

/* ---- /dev/dsm ioctls ---- */

/**
 * struct dsm_attach - argument of DSM_IOC_ATTACH
 * @key:   region key, any 64-bit value
 * @size:  region size in bytes, a non-zero multiple of DSM_PAGE_SIZE, at most
 *         DSM_REGION_MAX_SIZE; 0 attaches an existing region of any size.
 *         On return, the region's size.
 * @flags: zero or DSM_ATTACH_* flags
 * @pad:   must be zero
 *
 * Errors: EINVAL (bad size, flags or pad, or @size differs from the size of
 * an existing region), ENOENT (@size is 0 or DSM_ATTACH_NOCREATE and no such
 * region), EEXIST (DSM_ATTACH_EXCL and the region exists), EBUSY (this file
 * already has a region attached), ENOSPC (DSM_MAX_REGIONS reached), ENOMEM.
 */
struct dsm_attach {
	__u64 key;
	__u64 size;
	__u32 flags;
	__u32 pad;
};

#define DSM_ATTACH_EXCL		0x1	/* fail if the region exists */
#define DSM_ATTACH_NOCREATE	0x2	/* fail if it does not */
#define DSM_ATTACH_FLAGS	(DSM_ATTACH_EXCL | DSM_ATTACH_NOCREATE)

/**
 * struct dsm_remove - argument of DSM_IOC_REMOVE
 * @key: the region to remove
 *
 * Errors: ENOENT (no such region), EBUSY (the region is mapped somewhere).
 * Files still attached to a removed region keep it alive but cannot map it
 * any more (mmap fails with EIDRM).
 */
struct dsm_remove {
	__u64 key;
};

#define DSM_IOC_MAGIC		0xD5
#define DSM_IOC_ATTACH		_IOWR(DSM_IOC_MAGIC, 1, struct dsm_attach)
#define DSM_IOC_REMOVE		_IOW(DSM_IOC_MAGIC, 2, struct dsm_remove)

/* ---- generic netlink ---- */

#define DSM_GENL_NAME		"dsm"
#define DSM_GENL_VERSION	1

enum dsm_cmd {
	DSM_CMD_UNSPEC,
	DSM_CMD_GET,
	DSM_CMD_NODE_SET,
	__DSM_CMD_MAX,
};

#define DSM_CMD_MAX (__DSM_CMD_MAX - 1)

enum dsm_attr {
	DSM_A_UNSPEC,
	DSM_A_PAD,
	DSM_A_VERSION,
	DSM_A_NODE_ID,
	DSM_A_NODE_ADDR,
	DSM_A_NODE_PORT,
	DSM_A_REGIONS,
	DSM_A_PAGES,
	DSM_A_STATS,
	__DSM_A_MAX,
};

#define DSM_A_MAX (__DSM_A_MAX - 1)

/* Counters inside DSM_A_STATS, all u64, monotonic since module load. */
enum dsm_stat {
	DSM_STAT_UNSPEC,
	DSM_STAT_PAD,
	DSM_STAT_FAULTS,		/* page faults served on DSM mappings */
	DSM_STAT_ZERO_FILLS,		/* pages allocated zeroed on first touch */
	DSM_STAT_REGIONS_CREATED,
	DSM_STAT_REGIONS_DESTROYED,
	DSM_STAT_BAD_IOCTL,		/* rejected ioctl calls */
	DSM_STAT_BAD_MMAP,		/* rejected mmap calls */
	DSM_STAT_BAD_NETLINK,		/* rejected netlink requests */
	__DSM_STAT_MAX,
};

#define DSM_STAT_MAX (__DSM_STAT_MAX - 1)

#endif /* _UAPI_LINUX_DSM_H */
