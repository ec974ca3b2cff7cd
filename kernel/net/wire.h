/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: the wire format between peer modules.
 *
 * Every message is a fixed 56-byte little-endian header followed by
 * hdr.len bytes of payload. On a peer link, every message but the
 * heartbeat and the idle ack carries a sequence number, and every message
 * acknowledges what its sender received (net/outbox.c).
 *
 * Everything read from the network is untrusted: the receiver checks
 * magic, version, type and the payload length against the type's bounds
 * (dsm_msg_info) before it reads a payload byte, and the sender's node id
 * against the connection's peer. Any violation closes the connection and
 * is counted.
 */
#ifndef _DSM_WIRE_H
#define _DSM_WIRE_H

#ifdef __KERNEL__
#include <linux/build_bug.h>
#include <linux/types.h>
#else	/* the selftests speak the protocol too; they define __packed */
#include <assert.h>
#include <linux/types.h>
#endif

#define DSM_WIRE_MAGIC		0x314d5344	/* "DSM1" */
#define DSM_WIRE_VERSION	15
#define DSM_WIRE_MAX_PAYLOAD	8192

/**
 * struct dsm_wire_hdr - header of every message (coherence messages will
 * add region key and page index in their payload)
 * @magic:   DSM_WIRE_MAGIC
 * @version: DSM_WIRE_VERSION
 * @type:    enum dsm_msg_type
 * @flags:   zero for now
 * @len:     payload bytes that follow
 * @src:     sender's node id
 * @dst:     receiver's node id (0 before the handshake names it)
 * @pad:     zero
 * @epoch:   sender's membership epoch
 * @req_id:  request id; a reply carries its request's id
 * @seq:     peer links: this message's sequence number, 1, 2, ... per
 *           direction and pair of incarnations; 0 for messages that are
 *           not resent (handshake, heartbeat, idle ack, join connections)
 * @ack:     peer links: the last sequence number the sender received in
 *           order from the receiver (cumulative); 0 elsewhere
 */
struct dsm_wire_hdr {
	__le32 magic;
	__u8 version;
	__u8 type;
	__le16 flags;
	__le32 len;
	__le32 src;
	__le32 dst;
	__le32 pad;
	__le64 epoch;
	__le64 req_id;
	__le64 seq;
	__le64 ack;
} __packed;
static_assert(sizeof(struct dsm_wire_hdr) == 56);

enum dsm_msg_type {
	DSM_MSG_HELLO = 1,	/* handshake: who I am, what I expect */
	DSM_MSG_REFUSE,		/* handshake refused, with a reason */
	DSM_MSG_AUTH,		/* handshake: proof of the cluster key */
	DSM_MSG_PING,		/* heartbeat */
	DSM_MSG_PONG,
	DSM_MSG_JOIN,		/* request: add me to the cluster */
	DSM_MSG_LEAVE,		/* request: remove me from the cluster */
	DSM_MSG_REPLY,		/* reply to JOIN, LEAVE or BARRIER: status (+ members) */
	DSM_MSG_MEMBERS,	/* the member list of hdr.epoch */
	DSM_MSG_PAGE,		/* a coherence message about one page */
	DSM_MSG_REGION,		/* request: look up or create a region */
	DSM_MSG_REGION_REPLY,	/* its reply */
	DSM_MSG_ACK,		/* an acknowledgment with nothing else to carry it */
	DSM_MSG_LEAVING,	/* the sender is handing its pages over to leave */
	DSM_MSG_BARRIER,	/* a party arrives at a barrier this node counts */
	DSM_MSG_PAGES,		/* coherence messages without data, in order */
	DSM_MSG_CENSUS,		/* the sender reported what it holds of a lost home's pages */
	DSM_MSG_FREEZE,		/* request: hold, or end holding, a region's writes */
	DSM_MSG_REPLICA,	/* a page version for a replica holder, or its ack */
	DSM_MSG_LOG,		/* the member list's log: a proposal, a vote */
	__DSM_MSG_MAX,
};

#define DSM_NONCE_LEN	32
#define DSM_MAC_LEN	32	/* HMAC-SHA256 */
#define DSM_SEAL_TAG	16	/* after a sealed message's payload (seal.c) */

/* HELLO flags */
#define DSM_HELLO_KEYED	0x1	/* sender holds a cluster key */
#define DSM_HELLO_JOIN	0x2	/* a join connection, not a peer link */

/**
 * struct dsm_wire_hello - DSM_MSG_HELLO payload
 * @cluster_id:      the cluster the sender belongs to
 * @dead_timeout_ms: the sender's dead timeout; must match
 * @flags:           DSM_HELLO_*
 * @port:            the sender's listening port
 * @addr:            the sender's address (network byte order)
 * @nonce:           random challenge for the key proof
 * @incarnation:     the sender's incarnation: random, new each time it
 *                   forms or joins a cluster (and at module load)
 * @peer_incarnation: the receiver's incarnation the sender has delivery
 *                   state for, 0 if none (peer links only)
 * @rx_seq:          the last sequence number the sender received in
 *                   order from that incarnation (peer links only)
 */
struct dsm_wire_hello {
	__le64 cluster_id;
	__le32 dead_timeout_ms;
	__le16 flags;
	__le16 port;
	__be32 addr;
	__u8 nonce[DSM_NONCE_LEN];
	__le64 incarnation;
	__le64 peer_incarnation;
	__le64 rx_seq;
} __packed;
static_assert(sizeof(struct dsm_wire_hello) == 76);

/* REFUSE reasons, mirrored in uapi as DSM_REASON_* for dsmctl peers */
struct dsm_wire_refuse {
	__le32 reason;
} __packed;

struct dsm_wire_auth {
	__u8 mac[DSM_MAC_LEN];
} __packed;

/*
 * A heartbeat. PONG echoes the PING (see net/quorum.c): the stamp, taken
 * from the pinger's clock, is what its lease counts from; the pinger's
 * suspects ride along.
 */
struct dsm_wire_ping {
	__le64 stamp_ns;	/* the pinger's clock (ktime_get_ns) */
	__le64 suspects;	/* members it suspects or declared lost, bit id % 64 */
} __packed;

/**
 * struct dsm_wire_member - one entry of DSM_MSG_MEMBERS
 * @id:   node id
 * @port: TCP port
 * @addr: IPv4 address (network byte order)
 */
struct dsm_wire_member {
	__le32 id;
	__le16 port;
	__le16 pad;
	__be32 addr;
} __packed;
static_assert(sizeof(struct dsm_wire_member) == 12);

/**
 * struct dsm_wire_members - DSM_MSG_MEMBERS payload (and JOIN's reply)
 * @count:   entries that follow, 0..DSM_MAX_NODES
 * @cluster: cluster id
 */
struct dsm_wire_members {
	__le32 count;
	__le32 pad;
	__le64 cluster;
	struct dsm_wire_member m[];
} __packed;

/**
 * struct dsm_wire_log - DSM_MSG_LOG payload: one message of the member
 * list's log (kernel/membership_log.h); COMMIT goes as DSM_MSG_MEMBERS
 * @type:     PREPARE, PROMISE, ACCEPT, ACCEPTED or NACK (1-4, 6)
 * @op:       the change: 0 (none), JOIN or LEAVE
 * @port:     a joiner's port
 * @node:     the node joining or leaving
 * @addr:     a joiner's address
 * @pad:      zero
 * @epoch:    the epoch decided (NACK: the sender's)
 * @term:     the proposal's (NACK: the sender's promise)
 * @acc_term: PROMISE: the term of the change the sender accepted, 0 none
 */
struct dsm_wire_log {
	__u8 type;
	__u8 op;
	__le16 port;
	__le32 node;
	__be32 addr;
	__le32 pad;
	__le64 epoch;
	__le64 term;
	__le64 acc_term;
} __packed;
static_assert(sizeof(struct dsm_wire_log) == 40);

/**
 * struct dsm_wire_reply - DSM_MSG_REPLY payload
 * @status:  0 or a negative errno
 * @redirect_id: for -EAGAIN on JOIN, the coordinator to ask instead
 * @redirect_port: its port
 * @pad: zero
 * @redirect_addr: its address
 * @epoch: on success of JOIN, the epoch of @members
 * @members: on success of JOIN, the new member list
 */
struct dsm_wire_reply {
	__le32 status;
	__le32 redirect_id;
	__le16 redirect_port;
	__le16 pad;
	__be32 redirect_addr;
	__le64 epoch;
	struct dsm_wire_members members;
} __packed;

#define DSM_WIRE_PAGE_SIZE	4096

/**
 * struct dsm_wire_page - DSM_MSG_PAGE payload, followed by the page's
 * DSM_WIRE_PAGE_SIZE bytes for DATA and for a GRANT with data
 * @key:       the region
 * @npages:    its size in pages (every node checks it agrees)
 * @homes:     the region's home set: bit (id % 64) per node id
 * @lost:      the nodes the home set lost with their directories (a lost
 *             node's pages move to a new home, which rebuilds their
 *             entries by census): a page that was homed at one of them and
 *             that no survivor held is lost, not a fresh zero page
 * @index:     the page
 * @type:      enum dsm_coh_msg_type (kernel/coherence/protocol.h)
 * @with_data: GRANT: the page follows
 * @flags:     DSM_WIRE_PAGE_* (REQ_READ only)
 * @copies:    the region's replica count (DSM_ATTACH_COPIES, 0..2)
 * @requester: the node the transaction is for
 * @txn:       the requester's token for its transaction: random, set on
 *             its request, copied by the home's forward and by the data or
 *             grant that answer it; a node that was not on the path cannot
 *             answer in the owner's place; REPORT: what the requester
 *             holds (DSM_WIRE_REPORT_*); QUERY: the lost owner's id
 * @version:   with the page's data: how many times it was committed (the
 *             version moves with the page); REPORT: the version of the
 *             replica the requester holds (DSM_WIRE_REPORT_REPLICA), or
 *             its read's token (DSM_WIRE_REPORT_PENDING)
 */
struct dsm_wire_page {
	__le64 key;
	__le64 npages;
	__le64 homes;
	__le64 lost;
	__le64 index;
	__u8 type;
	__u8 with_data;
	__u8 flags;
	__u8 copies;
	__le32 requester;
	__le64 txn;
	__le64 version;
} __packed;

#define DSM_WIRE_PAGE_SPECULATIVE	0x01	/* a read-ahead: may be declined */
static_assert(sizeof(struct dsm_wire_page) == 64);

/*
 * A REPORT's txn: the requester's copy of the page (INVALID: none), whether
 * it owns it, and whether it holds a replica (its version in @version).
 * The answer to a QUERY (SETTLE) names the copy only, maybe none, or that
 * a read of it is in flight (PENDING, the read's token in @version), and
 * then maybe that the home's invalidation it had kept is dropped (ACKED).
 */
#define DSM_WIRE_REPORT_STATE	0xff	/* DSM_COH_* */
#define DSM_WIRE_REPORT_OWNER	0x100
#define DSM_WIRE_REPORT_REPLICA	0x200
#define DSM_WIRE_REPORT_SETTLE	0x400
#define DSM_WIRE_REPORT_PENDING	0x800
#define DSM_WIRE_REPORT_ACKED	0x1000

/* A FAIL's version: why the request failed (0: the page's data is lost) */
#define DSM_WIRE_FAIL_NO_MEMORY	1	/* the home is at its memory cap */

/*
 * DSM_MSG_PAGES: 1 to DSM_WIRE_PAGES_MAX struct dsm_wire_page without data,
 * back to back, handled in order exactly as that many DSM_MSG_PAGE would
 * be. The sender packs them when messages wait for the same peer (a
 * read-ahead's requests, a home's forwards of them: net/outbox.c).
 */
#define DSM_WIRE_PAGES_MAX	20

#define DSM_REGION_LOOKUP	1	/* do you know this region? */
#define DSM_REGION_CREATE	2	/* (to its metadata home) find or create */
#define DSM_REGION_SYNC		3	/* answer once all before it is processed */
#define DSM_REGION_PREPARE	4	/* removal: not mapped here? hold mappings */
#define DSM_REGION_COMMIT	5	/* removal: remove it */
#define DSM_REGION_ABORT	6	/* removal: take mappings again */

/**
 * struct dsm_wire_region - DSM_MSG_REGION payload
 * @key:   the region
 * @size:  bytes, 0 for any
 * @flags: DSM_ATTACH_* (uapi)
 * @op:    DSM_REGION_*
 */
struct dsm_wire_region {
	__le64 key;
	__le64 size;
	__le32 flags;
	__le32 op;
} __packed;

/**
 * struct dsm_wire_region_reply - DSM_MSG_REGION_REPLY payload
 * @status: 0 or a negative errno
 * @copies: the region's replica count (0..DSM_COPIES_MAX)
 * @size:   the region's size in bytes
 * @homes:  its home set
 * @lost:   the nodes its home set lost (see struct dsm_wire_page)
 */
struct dsm_wire_region_reply {
	__le32 status;
	__le32 copies;
	__le64 size;
	__le64 homes;
	__le64 lost;
} __packed;

/**
 * struct dsm_wire_census - DSM_MSG_CENSUS payload: the sender begins to
 * report, or has reported (REPORT, before DONE on the link), every copy it
 * holds of the pages homed at @lost that moved to the receiver
 * @lost:  the lost node
 * @phase: 1 (BEGIN: the sender declared @lost lost and starts reporting)
 *         or 2 (DONE)
 * @pad:   zero
 * @inc:   the incarnation of @lost the sender declared lost (0: unknown):
 *         a receiver linked to a newer one drops the message
 */
struct dsm_wire_census {
	__le32 lost;
	__u8 phase;
	__u8 pad[3];
	__le64 inc;
} __packed;

/**
 * struct dsm_wire_freeze - DSM_MSG_FREEZE payload, a call answered with
 * REPLY: the sender freezes a region (its homes here hold write requests)
 * or ends that freeze (the status says whether it held here all along)
 * @key:  the region
 * @id:   the freeze, the sender's token (non-zero)
 * @op:   DSM_WIRE_FREEZE_BEGIN or DSM_WIRE_FREEZE_END
 * @pad:  zero
 */
struct dsm_wire_freeze {
	__le64 key;
	__le64 id;
	__u8 op;
	__u8 pad[7];
} __packed;

#define DSM_WIRE_FREEZE_BEGIN	1
#define DSM_WIRE_FREEZE_END	2

/**
 * struct dsm_wire_replica - DSM_MSG_REPLICA payload: a page version for a
 * replica holder (PUSH, followed by the page's DSM_WIRE_PAGE_SIZE bytes),
 * or the holder's answer that it has it (ACK, nothing follows)
 * @key, @npages, @homes, @lost: the region, as in struct dsm_wire_page
 * @index:   the page
 * @version: the version pushed
 * @op:      DSM_WIRE_REPLICA_PUSH or DSM_WIRE_REPLICA_ACK
 * @copies:  the region's replica count (1..DSM_COPIES_MAX)
 * @pad:     zero
 */
struct dsm_wire_replica {
	__le64 key;
	__le64 npages;
	__le64 homes;
	__le64 lost;
	__le64 index;
	__le64 version;
	__u8 op;
	__u8 copies;
	__u8 pad[6];
} __packed;

#define DSM_WIRE_REPLICA_PUSH	1
#define DSM_WIRE_REPLICA_ACK	2

/**
 * struct dsm_wire_barrier - DSM_MSG_BARRIER payload: a party arrives; the
 * coordinator answers with REPLY once all parties have arrived
 * @key:     the region the barrier's word is in
 * @offset:  the word's byte offset in the region (4-byte aligned)
 * @parties: how many arrivals release the barrier (1..DSM_BARRIER_MAX_PARTIES)
 * @pad:     zero
 */
struct dsm_wire_barrier {
	__le64 key;
	__le64 offset;
	__le32 parties;
	__le32 pad;
} __packed;

#endif /* _DSM_WIRE_H */
