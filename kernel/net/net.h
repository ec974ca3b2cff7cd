/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: the peer transport's interface - all that the layers above
 * kernel/net/ (membership, regions, pages) use of it, and all that it knows
 * of them.
 *
 * The transport is a message service between the members of a cluster:
 *  - send to a member, reliably and in order (dsm_net_send, dsm_out_queue),
 *    or ask it and wait for its reply (dsm_net_call); a message to this
 *    node itself is delivered by a work item, in order too;
 *  - one handler per message type, registered at module init
 *    (dsm_net_set_handler), called with a complete, validated message, in
 *    order per sender;
 *  - callbacks (struct dsm_net_ops) for what the transport must ask or
 *    tell: who is a member and at which epoch, a member's link is up, a
 *    member is lost;
 *  - peers to link to (dsm_net_peer_add/remove), and a join exchange with a
 *    node that is not a member yet (dsm_net_join).
 * It never calls a function of the layers above by name.
 */
#ifndef _DSM_NET_H
#define _DSM_NET_H

#include <linux/list.h>
#include <linux/types.h>

#include "wire.h"

struct sk_buff;
struct dsm_conn;

/**
 * struct dsm_out - a queued message (outbox.c)
 * @node:    on the destination's queue
 * @seq:     its sequence number (0 for this node itself)
 * @epoch:   the membership epoch when it was queued (a MEMBERS list's own)
 * @req_id:  request id, or the request's for a reply
 * @type:    DSM_MSG_* (DSM_MSG_PAGE for dsm_out_queue)
 * @sent:    written to a link once: writing it again is a resend
 * @pooled:  from the page messages' cache (dsm_out_alloc)
 * @len:     payload bytes
 * @cap:     room for payload bytes (a page message without data grows when
 *           others are packed into it: see dsm_out_queue)
 * @payload: for DSM_MSG_PAGE, struct dsm_wire_page and the page for
 *           messages with data
 */
struct dsm_out {
	struct list_head node;
	u64 seq;
	u64 epoch;
	u64 req_id;
	u8 type;
	bool sent;
	bool pooled;
	size_t len;
	size_t cap;
	u8 payload[];
};

/**
 * struct dsm_net_msg - a received message, as a handler sees it
 * @from:    the sender's node id (checked against the link's handshake)
 * @type:    DSM_MSG_*
 * @req_id:  its request id
 * @epoch:   the sender's membership epoch when it sent it
 * @payload: @len bytes, within the type's registered bounds
 * @len:     payload length
 * @addr, @port: on a join connection, where the sender says it listens
 * @conn:    the connection it came on (for dsm_net_reply only)
 */
struct dsm_net_msg {
	u32 from;
	u8 type;
	u64 req_id;
	u64 epoch;
	const void *payload;
	u32 len;
	__be32 addr;
	u16 port;
	struct dsm_conn *conn;
};

/*
 * A message handler: runs in a receive work item, must not wait for the
 * network (it may queue messages and dsm_out_try_flush them). Returns 0,
 * or the DSM_REASON_* to close the link with (DSM_REASON_PROTOCOL for a
 * malformed message, also counted).
 */
typedef u32 (*dsm_net_handler_t)(const struct dsm_net_msg *m);

/**
 * struct dsm_net_ops - what the transport asks of and tells the layers above
 * @is_member: is node @id a member? (lockless)
 * @epoch:     this node's membership epoch (0: not a member)
 * @link_up:   a link to member @id is up; it announced epoch @peer_epoch
 * @lost:      member @id is gone: lost (@reason DSM_REASON_HEARTBEAT: a
 *             quorum suspects it; INCARNATION: it restarted; DECLARED:
 *             another member declared it lost), or removed (LEFT: it
 *             left gracefully, its pages were moved before; SHUTDOWN:
 *             this node leaves); runs in a work item, may wait
 * @event:     a link event for the netlink monitor (DSM_EVENT_PEER_*)
 * @quorum:    is the node set @mask (bit id % 64) a quorum of the members?
 * @fenced:    this node lost its lease (@on), or holds one again; runs in
 *             a work item, may wait
 * @evicted:   member @by forgot this node: a quorum declared it lost
 */
struct dsm_net_ops {
	bool (*is_member)(u32 id);
	u64 (*epoch)(void);
	void (*link_up)(u32 id, u64 peer_epoch);
	void (*lost)(u32 id, u32 reason);
	void (*event)(u32 event, u32 id, u32 reason);
	bool (*quorum)(u64 mask);
	void (*fenced)(bool on);
	void (*evicted)(u32 by);
};

/* transport.c */
int dsm_net_init(const struct dsm_net_ops *ops);
void dsm_net_exit(void);
void dsm_net_set_handler(u8 type, dsm_net_handler_t fn);

/* listen.c, handshake.c */
int dsm_listen_start(__be32 addr, u16 port);
void dsm_listen_stop(void);
int dsm_hs_set_key(const u8 *key);
bool dsm_hs_keyed(void);
const char *dsm_reason_name(u32 reason);

/* outbox.c: reliable, ordered sending (see its top) */
struct dsm_out *dsm_out_alloc(size_t len);
void dsm_out_queue(u32 dst, struct dsm_out *out);
void dsm_out_queue_type(u32 dst, u8 type, struct dsm_out *out);
void dsm_out_flush(u32 dst);
void dsm_out_flush_mask(u64 mask);
void dsm_out_settle(u64 mask, unsigned int ms);
void dsm_out_try_flush(u64 mask);
void dsm_out_kick(u64 mask);
int dsm_net_send(u32 dst, u8 type, u64 req_id, const void *payload,
		 size_t len);
int dsm_net_reply(const struct dsm_net_msg *m, u8 type, const void *payload,
		  size_t len);

/**
 * struct dsm_net_req - a request to answer later, after its handler
 * returned (dsm_net_hold, dsm_net_answer)
 * @from:   its sender
 * @req_id: its request id
 * @conn:   a join connection's, held; NULL for a peer link's
 */
struct dsm_net_req {
	u32 from;
	u64 req_id;
	struct dsm_conn *conn;
};

void dsm_net_hold(struct dsm_net_req *req, const struct dsm_net_msg *m);
int dsm_net_answer(struct dsm_net_req *req, u8 type, const void *payload,
		   size_t len);
void dsm_net_release(struct dsm_net_req *req);

/* quorum.c (see its top) */
bool dsm_net_fenced(void);
unsigned int dsm_net_fenced_ms(void);
bool dsm_net_suspecting(void);
void dsm_net_quorum_update(bool joined);

/* peer.c */
int dsm_net_call(u32 dst, u8 type, const void *payload, size_t len,
		 void *reply, size_t reply_max, unsigned int timeout_ms,
		 u64 *epoch);
void dsm_net_peer_add(u32 id, __be32 addr, u16 port);
void dsm_net_peer_remove(u32 id, u32 reason);
void dsm_net_peers_drop(void);
void dsm_net_peer_addr(u32 id, __be32 *addr, u16 *port);
bool dsm_net_addr_is_member(__be32 addr);
bool dsm_net_peer_up(u32 id);
bool dsm_net_peer_silent(u32 id, unsigned int ms);
bool dsm_node_lost(u32 id);
void dsm_net_declare_lost(u32 id);
u64 dsm_net_peer_incarnation(u32 id);
int dsm_peer_fill(struct sk_buff *skb, u32 id);

/* join.c */
int dsm_net_join(__be32 addr, u16 port, void *reply, size_t reply_max,
		 const char **why);

#endif /* _DSM_NET_H */
