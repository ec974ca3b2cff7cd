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
 *    DSM_CMD_NODE_SET (CAP_NET_ADMIN; EBUSY while a cluster member)
 *        DSM_A_NODE_ID       u32, 1..DSM_MAX_NODES           (required)
 *        DSM_A_NODE_ADDR     be32, unicast IPv4 address      (required)
 *        DSM_A_NODE_PORT     u16, 1..65535  (optional, default DSM_DEFAULT_PORT)
 *        DSM_A_CLUSTER_ID    u64, non-zero  (optional, default 1)
 *        DSM_A_DEAD_TIMEOUT_MS u32, DSM_DEAD_TIMEOUT_MIN..MAX (optional,
 *                            default DSM_DEAD_TIMEOUT_DEFAULT)
 *        DSM_A_CLUSTER_KEY   binary, DSM_KEY_LEN bytes (optional; an empty
 *                            attribute clears the key). Never reported back.
 *      The node binds its listening socket here: an address that is not
 *      local fails with EADDRNOTAVAIL, a port in use with EADDRINUSE.
 *
 *    DSM_CMD_JOIN (CAP_NET_ADMIN)
 *        DSM_A_CONTACT_ADDR  be32   (optional: without it, form a new cluster)
 *        DSM_A_CONTACT_PORT  u16    (optional, default DSM_DEFAULT_PORT)
 *
 *    DSM_CMD_LEAVE (CAP_NET_ADMIN)
 *
 *    DSM_CMD_GET (any user) replies with:
 *        DSM_A_VERSION       string, module version
 *        DSM_A_NODE_ID       u32, 0 while the node is not configured
 *        DSM_A_NODE_ADDR     be32   (only once configured)
 *        DSM_A_NODE_PORT     u16    (only once configured)
 *        DSM_A_CLUSTER_ID    u64
 *        DSM_A_DEAD_TIMEOUT_MS u32
 *        DSM_A_KEYED         u8, 1 if a cluster key is set
 *        DSM_A_EPOCH         u64, membership epoch, 0 while not a member
 *        DSM_A_MEMBERS       u32, members including this node
 *        DSM_A_COORDINATOR   u32, node id of the coordinator (members only)
 *        DSM_A_FENCED_MS     u32, for how long this node has had no quorum
 *                            lease (0: it has one; see membership.md)
 *        DSM_A_REGIONS       u32, regions currently known on this node
 *        DSM_A_PAGES         u64, pages currently held by this node
 *        DSM_A_CLUSTER_PAGES u64, ... of them, of cluster regions
 *        DSM_A_MEM_MAX_MIB   u32, the cap of DSM_CMD_LIMIT_SET (0: none)
 *        DSM_A_STATS         nest of DSM_STAT_* u64 counters
 *
 *    DSM_CMD_STATS_RESET (CAP_NET_ADMIN): sets every DSM_STAT_* counter to 0
 *
 *    DSM_CMD_LIMIT_SET (CAP_NET_ADMIN; member or not)
 *        DSM_A_MEM_MAX_MIB   u32, 0..DSM_MEM_MAX_MIB_MAX: the most memory
 *                            this node's pages of cluster regions may take
 *                            (0: no cap). Past it, a peer's request for a
 *                            page homed here that this node does not hold
 *                            yet is refused (its fault gets SIGBUS), and so
 *                            is a fault here that needs a page it does not
 *                            hold. Pages that keep data a leave, a loss or
 *                            a replica hands here are never refused.
 *
 *    DSM_CMD_PEER_GET (any user; dump) one message per member peer:
 *        DSM_A_PEER          nest of DSM_PEER_A_*
 *
 *    DSM_CMD_REGION_GET (CAP_NET_ADMIN: a key is all it takes to attach a
 *    region; dump) one message per region this node
 *    knows (attached here, or a shadow of a cluster region it holds pages of):
 *        request: DSM_A_REGION_KEY u64 (optional: only that region)
 *        DSM_A_REGION        nest of DSM_REGION_A_*
 *
 *    DSM_CMD_HOT_GET (CAP_NET_ADMIN; dump) one message per page of a
 *    cluster region that this node has counted an event for:
 *        request: DSM_A_REGION_KEY u64 (optional: only that region)
 *        DSM_A_HOT           nest of DSM_HOT_A_*
 *      A bad request ends the dump with the errno and an extended-ack
 *      message in its NLMSG_DONE.
 *
 *    DSM_CMD_EVENT (multicast group DSM_GENL_MCGRP_EVENTS, CAP_NET_ADMIN):
 *        DSM_A_EVENT         u32, enum dsm_event
 *        DSM_A_PEER_ID       u32, the node concerned
 *        DSM_A_EPOCH         u64, the epoch after the event
 *        DSM_A_REASON        u32, enum dsm_reason (for PEER_DOWN)
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
#define DSM_KEY_LEN		32		/* cluster key bytes */
#define DSM_DEAD_TIMEOUT_DEFAULT 5000		/* ms without a message */
#define DSM_DEAD_TIMEOUT_MIN	1000
#define DSM_DEAD_TIMEOUT_MAX	60000
#define DSM_MEM_MAX_MIB_MAX	16777216	/* MiB: 16 TiB */

/* ---- /dev/dsm ioctls ---- */

/**
 * struct dsm_attach - argument of DSM_IOC_ATTACH
 * @key:   region key, any 64-bit value
 * @size:  region size in bytes, a non-zero multiple of DSM_PAGE_SIZE, at most
 *         DSM_REGION_MAX_SIZE; 0 attaches an existing region of any size.
 *         On return, the region's size.
 * @flags: zero or DSM_ATTACH_* flags, and DSM_ATTACH_COPIES(n)
 * @pad:   must be zero
 *
 * DSM_ATTACH_COPIES(n), n = 1 or 2, creates a replicated cluster region:
 * the data each node commits (DSM_IOC_COMMIT, or msync(MS_SYNC) or fsync
 * on the file) is kept on n other nodes, and survives the loss of up to n
 * of a page's holders (Documentation/coherence.md, "Replicas"). Attaching
 * an existing region, n must be its own, or 0 (any).
 *
 * Errors: EINVAL (bad size, flags or pad, @size or the copies differ from
 * an existing region's, copies on a local region), ENOENT (@size is 0 or
 * DSM_ATTACH_NOCREATE and no such region), EEXIST (DSM_ATTACH_EXCL and the
 * region exists), EBUSY (this file already has a region attached), ENOSPC
 * (DSM_MAX_REGIONS reached), ENOMEM.
 */
struct dsm_attach {
	__u64 key;
	__u64 size;
	__u32 flags;
	__u32 pad;
};

#define DSM_ATTACH_EXCL		0x1	/* fail if the region exists */
#define DSM_ATTACH_NOCREATE	0x2	/* fail if it does not */
#define DSM_ATTACH_HOME_SELF	0x4	/* created here: the only home of its pages */
#define DSM_ATTACH_COPIES_SHIFT	8
#define DSM_ATTACH_COPIES_MASK	(0x3 << DSM_ATTACH_COPIES_SHIFT)
#define DSM_ATTACH_COPIES(n)	((n) << DSM_ATTACH_COPIES_SHIFT)
#define DSM_ATTACH_COPIES_OF(flags) \
	(((flags) & DSM_ATTACH_COPIES_MASK) >> DSM_ATTACH_COPIES_SHIFT)
#define DSM_COPIES_MAX		2
#define DSM_ATTACH_FLAGS	(DSM_ATTACH_EXCL | DSM_ATTACH_NOCREATE | \
				 DSM_ATTACH_HOME_SELF | DSM_ATTACH_COPIES_MASK)

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

/**
 * struct dsm_info - result of DSM_IOC_INFO (any open file of /dev/dsm)
 * @node_id:         this node's id, 0 while not configured
 * @members:         cluster members, this node included; 0 outside a cluster
 * @epoch:           membership epoch, 0 outside a cluster
 * @dead_timeout_ms: how long a silent node takes to be declared lost
 * @pad:             zero
 */
struct dsm_info {
	__u32 node_id;
	__u32 members;
	__u64 epoch;
	__u32 dead_timeout_ms;
	__u32 pad;
};

/**
 * struct dsm_members - result of DSM_IOC_MEMBERS (any open file of /dev/dsm)
 * @nodes: the members that are not lost, this node included, as a node set
 *         (bit id % 64: node 64 is bit 0); 0 outside a cluster. A node
 *         leaves the set when it leaves, and once this node declares it
 *         lost (silent for the dead timeout, or restarted).
 * @epoch: the membership epoch of @nodes, 0 outside a cluster
 */
struct dsm_members {
	__u64 nodes;
	__u64 epoch;
};

/**
 * struct dsm_wait - argument of DSM_IOC_WAIT (any open file of /dev/dsm): a
 * cross-node futex wait
 * @addr:       a 4-byte aligned address in a dsm mapping of the calling
 *              process
 * @expected:   sleep only while the 32-bit word at @addr holds this value
 * @pad:        zero
 * @timeout_ns: the longest sleep (0: only compare)
 *
 * Sleeps while the word holds @expected and this node's copy of its page
 * stands; another node's store to the page invalidates the copy and wakes
 * the sleeper. A store by a process of this node to a page this node holds
 * writable does not (only the timeout ends that sleep): callers re-read the
 * word and wait again, with a short timeout if writers may be local.
 *
 * Return: 0 when the word differs from @expected, this node holds no valid
 * copy of the page (a load fetches it), or the copy was invalidated meanwhile:
 * re-read the word. Errors: ETIMEDOUT, EINTR (a signal), EINVAL (@addr not
 * aligned or not in a dsm mapping, @pad not zero), EFAULT (nothing mapped at
 * @addr), ENOMEM.
 */
struct dsm_wait {
	__u64 addr;
	__u32 expected;
	__u32 pad;
	__u64 timeout_ns;
};

/**
 * struct dsm_barrier_arrive - argument of DSM_IOC_BARRIER (any open file of
 * /dev/dsm): a barrier across the cluster
 * @addr:    a 4-byte aligned address in a dsm mapping of the calling
 *           process; the word there names the barrier (its content is not
 *           used), on every node that maps the region
 * @parties: how many calls, on all nodes together, the barrier waits for;
 *           1..DSM_BARRIER_MAX_PARTIES, the same in every call
 * @pad:     zero
 *
 * Sleeps until @parties calls naming the same word have arrived; then all
 * return. One node counts the arrivals (the coordinator, chosen from the
 * members as a page's home is), so a barrier of n nodes costs n messages
 * and n replies. Stores a caller made before arriving are seen by every
 * party after it returns (the region is sequentially consistent). When the
 * membership changes, arrivals are counted again by the new epoch's
 * coordinator: the caller does not see it.
 *
 * Return: once all parties arrived, 1 to the last arrival, 0 to the
 * others. Errors: EINVAL (@addr not aligned or
 * not in a dsm mapping, @pad not zero, @parties out of range or not what
 * the other parties said), EFAULT (nothing mapped at @addr), ENOLINK (a
 * node whose party arrived at this barrier left or was lost: it cannot
 * arrive again; or the node counting it was lost), ENOSPC (the coordinator
 * counts too many barriers, or too many arrivals from this node), EPROTO
 * (the coordinator answered what an arrival cannot get),
 * ENOTCONN (this node left the cluster), EINTR (a fatal signal; on the
 * coordinator's node the arrival is taken back, elsewhere it still counts).
 */
struct dsm_barrier_arrive {
	__u64 addr;
	__u32 parties;
	__u32 pad;
};

#define DSM_BARRIER_MAX_PARTIES	1024

/*
 * DSM_IOC_FREEZE and DSM_IOC_THAW (no argument; on a file attached to a
 * cluster region): a consistent copy of the region (dsmctl region save).
 * FREEZE asks every member to grant no write access to the region's pages
 * until the thaw; a process that then reads every page reads one state of
 * the whole region, a point in the order of all accesses: each page stays
 * as read until THAW. Writes meanwhile wait (a node that holds a page
 * writable keeps writing it until the copy reads it). THAW ends the freeze
 * and says whether it held everywhere all along.
 *
 * A freeze ends early, on every node that sees it, when the membership
 * changes, a member leaves or is lost, or after the module parameter
 * freeze_max_ms (from FREEZE); closing the file ends it too.
 *
 * While this node freezes a region, stores to it by this node's processes
 * wait too (its reads of pages it holds exclusively need no other node).
 *
 * FREEZE errors: EOPNOTSUPP (a local region), ENXIO (no region attached),
 * EBUSY (this file holds a freeze already), EAGAIN (the membership is
 * changing: a leave or a census is under way, or a member did not answer
 * or a write of this node did not end within the dead timeout; try
 * again), ENOSPC (a node holds DSM_FREEZES_MAX freezes, or 4 of this
 * node's), ENOTCONN (not a member, or a member was lost meanwhile),
 * EPROTO (a member answered what a freeze cannot get), ENOMEM, EINTR.
 * THAW returns 0 if the freeze held on every member until THAW, the copy
 * is then a cut; else EAGAIN (it ended early somewhere, or a member did
 * not answer: copy again), ETIME (7/8 of freeze_max_ms passed), EINVAL (no
 * freeze on this file), EPROTO, ENOMEM, EINTR (the freeze still ends
 * everywhere).
 */
#define DSM_FREEZES_MAX		16	/* freezes a node holds at once */

/*
 * DSM_IOC_COMMIT (no argument; on a file attached to a cluster region;
 * fsync on the file does the same, msync(MS_SYNC) for the pages of its
 * range): every page of the region this node wrote since it last
 * committed is sent, with its version, to the page's replica holders, and
 * the call returns once they all stored it (and whatever this node sent
 * them before). A region without copies commits nothing (0).
 * Errors: ENXIO (no region attached), EIO (since the region's last commit,
 * a push may not have been kept: a holder was lost, kept nothing or did
 * not answer, or a page had too few live holders; commit again), ENOMEM,
 * EINTR.
 */

#define DSM_IOC_MAGIC		0xD5
#define DSM_IOC_ATTACH		_IOWR(DSM_IOC_MAGIC, 1, struct dsm_attach)
#define DSM_IOC_REMOVE		_IOW(DSM_IOC_MAGIC, 2, struct dsm_remove)
#define DSM_IOC_INFO		_IOR(DSM_IOC_MAGIC, 3, struct dsm_info)
#define DSM_IOC_WAIT		_IOW(DSM_IOC_MAGIC, 4, struct dsm_wait)
#define DSM_IOC_BARRIER		_IOW(DSM_IOC_MAGIC, 5, struct dsm_barrier_arrive)
#define DSM_IOC_MEMBERS		_IOR(DSM_IOC_MAGIC, 6, struct dsm_members)
#define DSM_IOC_FREEZE		_IO(DSM_IOC_MAGIC, 7)
#define DSM_IOC_THAW		_IO(DSM_IOC_MAGIC, 8)
#define DSM_IOC_COMMIT		_IO(DSM_IOC_MAGIC, 9)

/* ---- generic netlink ---- */

#define DSM_GENL_NAME		"dsm"
#define DSM_GENL_VERSION	1
#define DSM_GENL_MCGRP_EVENTS	"events"

enum dsm_cmd {
	DSM_CMD_UNSPEC,
	DSM_CMD_GET,
	DSM_CMD_NODE_SET,
	DSM_CMD_JOIN,
	DSM_CMD_LEAVE,
	DSM_CMD_PEER_GET,
	DSM_CMD_EVENT,
	DSM_CMD_STATS_RESET,
	DSM_CMD_REGION_GET,
	DSM_CMD_HOT_GET,
	DSM_CMD_LIMIT_SET,
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
	DSM_A_CLUSTER_ID,
	DSM_A_DEAD_TIMEOUT_MS,
	DSM_A_CLUSTER_KEY,
	DSM_A_KEYED,
	DSM_A_EPOCH,
	DSM_A_MEMBERS,
	DSM_A_COORDINATOR,
	DSM_A_CONTACT_ADDR,
	DSM_A_CONTACT_PORT,
	DSM_A_PEER,
	DSM_A_EVENT,
	DSM_A_PEER_ID,
	DSM_A_REASON,
	DSM_A_REGION,
	DSM_A_REGION_KEY,
	DSM_A_HOT,
	DSM_A_FENCED_MS,
	DSM_A_MEM_MAX_MIB,
	DSM_A_CLUSTER_PAGES,
	__DSM_A_MAX,
};

#define DSM_A_MAX (__DSM_A_MAX - 1)

/* Counters inside DSM_A_STATS, all u64, monotonic since load or reset. */
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
	DSM_STAT_CONN_ACCEPTED,		/* incoming connections taken on */
	DSM_STAT_CONN_REJECTED,		/* ... closed at once: too many pending */
	DSM_STAT_HANDSHAKE_REFUSED,	/* handshakes refused (either side) */
	DSM_STAT_AUTH_FAILED,		/* key proofs that did not verify */
	DSM_STAT_BAD_WIRE,		/* malformed messages (link closed) */
	DSM_STAT_PEER_DOWN,		/* links lost */
	DSM_STAT_EPOCH_CHANGES,		/* membership epochs applied */
	/* coherence (cluster regions) */
	DSM_STAT_READ_FAULTS_LOCAL,	/* read faults served from this node */
	DSM_STAT_READ_FAULTS_REMOTE,	/* ... that sent a request */
	DSM_STAT_WRITE_FAULTS_LOCAL,	/* write faults (and page_mkwrite) */
	DSM_STAT_WRITE_FAULTS_REMOTE,	/* ... that sent a request */
	DSM_STAT_FAULTS_JOINED,		/* faults that joined a request in flight */
	DSM_STAT_FAULT_RETRIES,		/* faults that waited without mmap_lock */
	DSM_STAT_FAULT_FAILURES,	/* faults ended in SIGBUS */
	DSM_STAT_REQUESTS_SERVED,	/* requests served as a page's home */
	DSM_STAT_INV_SENT,		/* invalidations sent (as home) */
	DSM_STAT_INV_RECEIVED,		/* invalidations received */
	DSM_STAT_PAGES_SENT,		/* page contents sent */
	DSM_STAT_PAGES_RECEIVED,	/* page contents received */
	DSM_STAT_BYTES_SENT,		/* coherence bytes sent, headers included */
	DSM_STAT_BYTES_RECEIVED,	/* coherence bytes received */
	DSM_STAT_COH_MSGS_SENT,		/* coherence messages to other nodes */
	DSM_STAT_COH_MSGS_RECEIVED,	/* coherence messages from other nodes */
	DSM_STAT_READAHEAD,		/* pages requested ahead of sequential reads */
	DSM_STAT_MSGS_RESENT,		/* messages sent again on a new link */
	DSM_STAT_MSGS_DUPLICATE,	/* received again: dropped */
	DSM_STAT_NODES_LOST,		/* peers declared lost (any reason) */
	DSM_STAT_TX_WINDOW_FULL,	/* sending paused: unacknowledged bytes at the bound */
	DSM_STAT_COH_MSGS_DROPPED,	/* about a page never asked for here: dropped */
	DSM_STAT_REQUESTS_MOVED,	/* for a page handed over while leaving: dropped */
	DSM_STAT_REQUESTS_RESENT,	/* ours, sent again to a page's new home */
	DSM_STAT_REQUESTS_DEFERRED,	/* from a node ahead of us in a leave: kept */
	DSM_STAT_PREFETCH_USED,		/* read-ahead pages an access then used */
	DSM_STAT_PREFETCH_WASTED,	/* ... invalidated before any access */
	DSM_STAT_PREFETCH_DECLINED,	/* ... declined by the home: a writer has it */
	DSM_STAT_BARRIERS,		/* barrier generations released (as coordinator) */
	DSM_STAT_BARRIER_RETRIES,	/* arrivals sent again: the membership changed */
	DSM_STAT_BARRIER_REFUSED,	/* arrivals refused (EINVAL, ENOSPC, ENOLINK) */
	DSM_STAT_COH_MSGS_PACKED,	/* sent in the message of one before them */
	DSM_STAT_FAULTS_AROUND,		/* pages a read fault mapped after its own */
	DSM_STAT_NODES_SUSPECTED,	/* members silent for the dead timeout here */
	DSM_STAT_FENCES,		/* times this node lost its quorum lease */
	DSM_STAT_FENCED_WAITS,		/* faults that waited for the lease */
	DSM_STAT_EVICTIONS,		/* times the cluster declared this node lost */
	DSM_STAT_CENSUS_PAGES,		/* entries of a lost home's pages rebuilt here */
	DSM_STAT_CENSUS_ORPHANS,	/* ... of which no survivor held a copy: they fail */
	DSM_STAT_FREEZES,		/* region freezes that began here (any freezer) */
	DSM_STAT_FREEZES_BROKEN,	/* ... that ended early: a cluster change, or too long */
	DSM_STAT_COMMITS,		/* commits that returned 0 here */
	DSM_STAT_REPLICAS_SENT,		/* page versions sent to replica holders */
	DSM_STAT_REPLICAS_STORED,	/* ... received and kept here (newer than ours) */
	DSM_STAT_REPLICAS_RESTORED,	/* pages a lost node held, made again from a replica */
	DSM_STAT_CENSUS_SETTLES,	/* entries here whose lost owner others shared: asked */
	DSM_STAT_CENSUS_REREADS,	/* ... reads that went to the lost owner, served again */
	DSM_STAT_REPLICAS_HANDED,	/* versions kept here, handed on as this node left */
	DSM_STAT_SEAL_FAILED,		/* sealed messages that did not open: links closed */
	DSM_STAT_REPLICAS_REFUSED,	/* pushes not kept: replica_max_mib reached */
	DSM_STAT_MEM_CAP_REFUSED,	/* pages not taken: cluster region memory cap */
	DSM_STAT_SHADOWS_REFUSED,	/* peers' regions not made: peer_regions_max */
	DSM_STAT_MEMBERSHIP_REFUSED,	/* joins and leaves this coordinator could not commit */
	__DSM_STAT_MAX,
};

#define DSM_STAT_MAX (__DSM_STAT_MAX - 1)

/* Per peer, inside DSM_A_PEER */
enum dsm_peer_attr {
	DSM_PEER_A_UNSPEC,
	DSM_PEER_A_PAD,
	DSM_PEER_A_ID,			/* u32 */
	DSM_PEER_A_ADDR,		/* be32 */
	DSM_PEER_A_PORT,		/* u16 */
	DSM_PEER_A_STATE,		/* u32, enum dsm_peer_state */
	DSM_PEER_A_SINCE_MS,		/* u64, ms in this state */
	DSM_PEER_A_REASON,		/* u32, enum dsm_reason: last failure */
	DSM_PEER_A_RTT_US,		/* u32, last heartbeat round trip */
	DSM_PEER_A_EPOCH,		/* u64, the epoch it last announced */
	DSM_PEER_A_TX_MSGS,		/* u64 */
	DSM_PEER_A_TX_BYTES,		/* u64 */
	DSM_PEER_A_RX_MSGS,		/* u64 */
	DSM_PEER_A_RX_BYTES,		/* u64 */
	DSM_PEER_A_ERRORS,		/* u64, malformed messages from it */
	DSM_PEER_A_RESENT,		/* u64, messages sent to it again */
	DSM_PEER_A_UNACKED,		/* u64, bytes queued for it, not acknowledged */
	__DSM_PEER_A_MAX,
};

#define DSM_PEER_A_MAX (__DSM_PEER_A_MAX - 1)

/* Per region, inside DSM_A_REGION; page counts are this node's */
enum dsm_region_attr {
	DSM_REGION_A_UNSPEC,
	DSM_REGION_A_PAD,
	DSM_REGION_A_KEY,		/* u64 */
	DSM_REGION_A_SIZE,		/* u64, bytes */
	DSM_REGION_A_CLUSTER,		/* u8, 1: coherent across the cluster */
	DSM_REGION_A_HOMES,		/* u64, home set (bit id % 64), 0 if local */
	DSM_REGION_A_MAPPINGS,		/* u32, VMAs mapping it on this node */
	DSM_REGION_A_FILES,		/* u32, files attached to it on this node */
	DSM_REGION_A_HELD,		/* u64, pages this node holds a copy of */
	DSM_REGION_A_OWNED,		/* u64, pages this node owns */
	DSM_REGION_A_HOMED,		/* u64, pages homed here that are in use */
	DSM_REGION_A_COPIES,		/* u8, replica holders per page (0: none) */
	DSM_REGION_A_REPLICAS,		/* u64, page versions kept here for others */
	__DSM_REGION_A_MAX,
};

#define DSM_REGION_A_MAX (__DSM_REGION_A_MAX - 1)

/*
 * Per page, inside DSM_A_HOT: counts since this node made its entry for the
 * page (they start at 0 when the page is first touched here, and go when
 * the region goes); u32 counts wrap. LOST counts invalidations and pages
 * taken by a writer; MOVES, write requests the home served for a node that
 * was not the owner.
 */
enum dsm_hot_attr {
	DSM_HOT_A_UNSPEC,
	DSM_HOT_A_PAD,
	DSM_HOT_A_KEY,			/* u64, the region */
	DSM_HOT_A_INDEX,		/* u64, the page's index in it */
	DSM_HOT_A_HOME,			/* u32, the page's home node */
	DSM_HOT_A_FAULTS,		/* u32, faults here that sent a request */
	DSM_HOT_A_LOST,			/* u32, this node's copy invalidated */
	DSM_HOT_A_MOVES,		/* u32, (home) handed to a new owner */
	DSM_HOT_A_NODES,		/* u64, (home) nodes it served (bit id % 64) */
	__DSM_HOT_A_MAX,
};

#define DSM_HOT_A_MAX (__DSM_HOT_A_MAX - 1)

enum dsm_peer_state {
	DSM_PEER_DOWN,
	DSM_PEER_CONNECTING,
	DSM_PEER_HANDSHAKE,
	DSM_PEER_UP,
};

/* Why a link went down or a handshake was refused. */
enum dsm_reason {
	DSM_REASON_NONE,
	DSM_REASON_VERSION,	/* protocol version mismatch */
	DSM_REASON_CLUSTER,	/* cluster id mismatch */
	DSM_REASON_NODE,	/* wrong or unexpected node id */
	DSM_REASON_NOT_MEMBER,	/* not a member of the receiver's cluster */
	DSM_REASON_TIMEOUTS,	/* dead timeout mismatch */
	DSM_REASON_KEY,		/* one side has a cluster key, the other not */
	DSM_REASON_AUTH,	/* key proof failed */
	DSM_REASON_PROTOCOL,	/* malformed message */
	DSM_REASON_HEARTBEAT,	/* silent past the dead timeout */
	DSM_REASON_CLOSED,	/* connection closed or reset */
	DSM_REASON_CONNECT,	/* connect failed */
	DSM_REASON_TIMEOUT,	/* handshake did not finish in time */
	DSM_REASON_BUSY,	/* too many pending connections */
	DSM_REASON_LEFT,	/* the node left the cluster */
	DSM_REASON_REPLACED,	/* a newer connection from the same node */
	DSM_REASON_SHUTDOWN,	/* this node is leaving or unloading */
	DSM_REASON_INCARNATION,	/* one side restarted or forgot the other */
	DSM_REASON_ADDRESS,	/* a member's link not from its recorded address */
	DSM_REASON_DECLARED,	/* another member declared it lost */
	DSM_REASON_FORGED,	/* a sealed message did not open */
	__DSM_REASON_MAX,
};

enum dsm_event {
	DSM_EVENT_PEER_UP = 1,
	DSM_EVENT_PEER_DOWN,
	DSM_EVENT_JOIN,		/* a node joined (DSM_A_PEER_ID) */
	DSM_EVENT_LEAVE,	/* a node left */
	DSM_EVENT_EPOCH,	/* this node applied a new membership epoch */
};

#endif /* _UAPI_LINUX_DSM_H */
