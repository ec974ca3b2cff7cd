/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: the peer transport's internals (kernel/net/ only; the layers above
 * use net.h).
 *
 * Objects:
 *  - struct dsm_peer: one slot per possible node id, static, never freed.
 *    Holds the address, the link state and counters, and the current
 *    connection (with a reference). Slots are cheap (DSM_MAX_NODES of them),
 *    and never freeing them removes a whole class of lifetime bugs.
 *  - struct dsm_conn: one TCP connection, refcounted. A peer link while
 *    peer->conn points at it; an unidentified accepted connection or a join
 *    connection while it sits on the pending list.
 *
 * Lock order: peer->rx_lock (held while a handler runs) -> whatever the
 * handlers take (dsm_members_lock, page locks) -> peer->lock -> (none);
 * peer->tx_flush -> peer->txq_lock; conn->tx_lock inside tx_flush. Socket
 * callbacks run in softirq context and only queue work. Nothing is sent
 * while holding a spinlock.
 */
#ifndef _DSM_TRANSPORT_H
#define _DSM_TRANSPORT_H

#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <net/sock.h>

#include "../node.h"
#include "../stats.h"
#include "net.h"

extern struct workqueue_struct *dsm_wq;
extern const struct dsm_net_ops *dsm_net_ops;

/**
 * struct dsm_peer - what this node knows about node @id
 * @id:           node id (the slot's index)
 * @addr, @port:  where the node listens
 * @lock:         protects @conn, @state, @since, @reason, @calls
 * @conn:         the link (handshaking or up), with a reference, or NULL
 * @state:        enum dsm_peer_state
 * @since:        jiffies of the last state change
 * @reason:       enum dsm_reason: why the link last went down or was refused
 * @last_rx:      jiffies of the last message received from the node (or of
 *                when it became a member): the node is lost once this is
 *                older than the dead timeout, whatever the link does
 * @epoch_seen:   the peer's epoch in its last message
 * @rtt_us:       last heartbeat round trip
 * @backoff_ms:   current reconnect backoff (initiator side)
 * @next_connect: jiffies before which no reconnect is tried
 * @connect_work: connects to the peer (initiator side)
 * @calls:        requests to the node waiting for their replies
 * @txq_lock:     protects @txq and the delivery state below it
 * @txq:          messages for the node, in sequence order: sent but not
 *                acknowledged, then not sent yet (outbox.c)
 * @tx_next:      the first message of @txq not sent on @tx_link
 * @tx_busy:      the message being written to the socket (not freed)
 * @tx_link:      the serial of the link @tx_next is a position on: a
 *                flusher on another link starts again from the first
 *                message not acknowledged
 * @gen:          bumped whenever the delivery state is forgotten; a
 *                handshake checked against an older one is not installed
 * @peer_inc:     the node's incarnation the delivery state is with (0: none)
 * @tx_seq:       the last sequence number given to a message for it
 * @tx_acked:     the last one it acknowledged
 * @tx_queued:    bytes on @txq
 * @tx_unsent:    bytes on @txq from @tx_next on (so tx_queued - tx_unsent
 *                are written on @tx_link and not acknowledged)
 * @rx_seq:       the last sequence number received from it in order
 * @rx_unacked:   messages received since this node last acknowledged
 * @rx_lock:      one delivery at a time, in order, whatever link it came on
 * @tx_flush:     one flusher at a time (outbox.c)
 * @tx_work:      flushes @txq (link up, acks, messages left by receivers)
 * @lost_work:    forgets the node (declared lost, removed, or restarted)
 * @lost:         the node is gone (declared lost or removed) until a new
 *                link to it comes up or it is added as a member again
 * @forgetting:   @lost_work is queued or running: no link is installed
 * @lost_reason:  why; DSM_REASON_LEFT if it left gracefully (after a handover)
 * @tx_msgs..@resent: counters for dsmctl peers
 */
struct dsm_peer {
	u32 id;
	__be32 addr;
	u16 port;
	spinlock_t lock;	/* conn, state, since, reason, calls */
	struct dsm_conn *conn;
	u32 state;
	unsigned long since;
	u32 reason;
	unsigned long last_rx;
	u64 epoch_seen;
	u32 rtt_us;
	unsigned int backoff_ms;
	unsigned long next_connect;
	struct work_struct connect_work;
	struct list_head calls;
	spinlock_t txq_lock;	/* txq and the delivery state */
	struct list_head txq;
	struct dsm_out *tx_next;
	struct dsm_out *tx_busy;
	u64 tx_link;
	u64 gen;
	u64 peer_inc;
	u64 tx_seq;
	u64 tx_acked;
	size_t tx_queued;
	size_t tx_unsent;
	u64 rx_seq;
	u32 rx_unacked;
	struct mutex rx_lock;	/* in-order delivery */
	struct mutex tx_flush;	/* one flusher at a time */
	struct work_struct tx_work;
	struct work_struct lost_work;
	int lost;
	bool forgetting;
	bool suspect;		/* silent for the dead timeout (quorum.c) */
	u64 reported;		/* its suspects, from its last ping */
	u64 lease_ns;		/* newest stamp of ours it echoed */
	u32 lost_reason;
	atomic64_t tx_msgs, tx_bytes, rx_msgs, rx_bytes, errors, resent;
};

extern struct dsm_peer dsm_peers[DSM_MAX_NODES + 1];

enum dsm_hs_state {
	DSM_HS_HELLO,	/* waiting for the other side's HELLO */
	DSM_HS_AUTH,	/* waiting for the other side's key proof */
	DSM_HS_UP,	/* established */
};

/**
 * struct dsm_call - a request waiting for its reply
 * @node:  on conn->calls
 * @id:    the request id
 * @done:  completed by the reply or the connection's death
 * @err:   0, or why there is no reply
 * @buf, @max, @len: where the reply payload goes
 * @epoch: the replier's membership epoch when it replied
 */
struct dsm_call {
	struct list_head node;
	u64 id;
	struct completion done;
	int err;
	void *buf;
	size_t max, len;
	u64 epoch;
};

/**
 * struct dsm_conn - one TCP connection to a peer module
 * @ref:         kref; the last put releases the socket
 * @serial:      unique for the module's life (a link's identity)
 * @sock:        the socket
 * @peer:        the peer once known (set before the link is published)
 * @dead:        bit 0 set once closed
 * @hs:          enum dsm_hs_state
 * @initiator:   we connected
 * @join:        a join connection (HELLO flag), not a peer link
 * @remote_id:   the node id the other side claims (after HELLO)
 * @keyed:       the handshake proves the cluster key
 * @refused:     DSM_REASON_* the other side refused us with, or 0
 * @join_addr, @join_port: the address the other side announced in HELLO
 * @join_ready:  completed when the handshake ends (join connections)
 * @nonce:       this side's handshake challenge
 * @hello_out, @hello_in, @hello_out_epoch, @hello_in_epoch: the HELLOs
 *               sent and received, with their headers' epochs (what the
 *               key proofs cover)
 * @hello_inc, @hello_rx_seq, @hello_known: from the other side's HELLO: its
 *               incarnation, the last sequence number it received from us,
 *               and our incarnation as it knows it
 * @hello_gen:   the peer's @gen when the handshake began
 * @deadline:    jiffies by which the handshake (or a join) must finish
 * @pending:     on dsm_pending_conns while unidentified or a join conn
 * @unpended:    taken off the pending list (closed, or a peer link): never
 *               to be listed again
 * @from_member: accepted from an address a member listens at: a stranger's
 *               pending connection still in its handshake makes room for it
 * @rx_work:     reads and dispatches messages
 * @tx_lock:     serialises senders
 * @rx_hdr, @rx_got, @rx_buf, @rx_tag: the message being received (its tag
 *               only on a sealed connection)
 * @tx_seal, @rx_seal: the two directions' seals after a keyed handshake
 *               (seal.c); NULL before it, and without a key
 * @rx_stage, @rx_stage_pos, @rx_stage_end: bytes read from the socket and
 *               not yet taken (one read takes many small messages)
 * @calls_lock, @calls: requests waiting for replies
 * @saved_*:     the socket's original callbacks
 */
struct dsm_conn {
	struct kref ref;
	u64 serial;
	struct socket *sock;
	struct dsm_peer *peer;
	unsigned long dead;
	u32 hs;
	bool initiator;
	bool join;
	u32 remote_id;
	bool keyed;
	u32 refused;
	__be32 join_addr;
	u16 join_port;
	struct completion join_ready;
	u8 nonce[DSM_NONCE_LEN];
	struct dsm_wire_hello hello_out, hello_in;
	u64 hello_out_epoch, hello_in_epoch;
	u64 hello_inc, hello_rx_seq, hello_known, hello_gen;
	unsigned long deadline;
	struct list_head pending;
	bool unpended;
	bool from_member;
	struct work_struct rx_work;
	struct mutex tx_lock;	/* one sender at a time */
	struct dsm_wire_hdr rx_hdr;
	size_t rx_got;
	u8 *rx_buf;
	u8 rx_tag[DSM_SEAL_TAG];
	struct dsm_seal *tx_seal, *rx_seal;
	u8 *rx_stage;
	u32 rx_stage_pos, rx_stage_end;
	spinlock_t calls_lock;	/* protects calls */
	struct list_head calls;
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
};

/* outbox.c: reliable, ordered delivery per peer */
#define DSM_NET_WINDOW	(8U << 20)	/* unacknowledged bytes per peer, at most */
int dsm_out_init(void);
void dsm_out_exit(void);
u64 dsm_out_incarnation(void);
void dsm_out_new_incarnation(void);
int dsm_out_acked(struct dsm_peer *peer, u64 ack);
int dsm_out_link_up(struct dsm_peer *peer, u64 rx_seq);
void dsm_out_reset(struct dsm_peer *peer);
void dsm_out_received(struct dsm_peer *peer);

/* conn.c */
struct dsm_conn *dsm_conn_create(struct socket *sock, bool initiator);
void dsm_conn_accepted(struct socket *sock);
void dsm_conn_unpend(struct dsm_conn *conn);
void dsm_conn_get(struct dsm_conn *conn);
void dsm_conn_put(struct dsm_conn *conn);
void dsm_conn_close(struct dsm_conn *conn, u32 reason);
bool dsm_conn_dead(const struct dsm_conn *conn);
__be32 dsm_conn_source(struct dsm_conn *conn);
void dsm_calls_fail(struct list_head *calls, spinlock_t *lock);
int dsm_conn_send(struct dsm_conn *conn, u8 type, u64 req_id,
		  const void *payload, size_t len);
int dsm_conn_send_at(struct dsm_conn *conn, u8 type, u64 epoch,
		     const void *payload, size_t len);
bool dsm_conn_has_room(struct dsm_conn *conn, size_t bytes);
void dsm_conn_seal(struct dsm_conn *conn, struct dsm_seal *tx,
		   struct dsm_seal *rx);
int dsm_conn_send_seq(struct dsm_conn *conn, const struct dsm_out *out,
		      bool more);
int dsm_conn_call(struct dsm_conn *conn, u8 type, const void *payload,
		  size_t len, void *reply, size_t reply_max,
		  unsigned int timeout_ms);
int dsm_conn_connect(__be32 addr, u16 port, struct socket **out);
u64 dsm_conn_next_req_id(void);
void dsm_conn_pending_expire(bool all);

/* seal.c */
struct dsm_seal;
int dsm_seal_available(void);
struct dsm_seal *dsm_seal_new(const u8 *key, bool sending);
void dsm_seal_free(struct dsm_seal *s);
int dsm_seal_message(struct dsm_seal *s, const struct dsm_wire_hdr *hdr,
		     const void *payload, size_t len, struct kvec iov[3]);
int dsm_seal_open(struct dsm_seal *s, struct dsm_wire_hdr *hdr, void *payload,
		  size_t len, u8 *tag);

/* handshake.c */
int dsm_hs_start(struct dsm_conn *conn, u32 to_node, bool join);
u32 dsm_hs_receive(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		   const void *payload);

/* listen.c */
void dsm_listen_init(void);

/* peer.c */
void dsm_peers_init(void);
void dsm_peer_declare_lost(struct dsm_peer *peer, u32 reason);

u32 dsm_peer_up(struct dsm_peer *peer, struct dsm_conn *conn);
void dsm_peer_link_lost(struct dsm_conn *conn, u32 reason);
struct dsm_conn *dsm_peer_conn(struct dsm_peer *peer);
void dsm_peer_received(struct dsm_peer *peer, const struct dsm_wire_hdr *hdr,
		       size_t bytes);
void dsm_peer_pong(struct dsm_peer *peer, const struct dsm_wire_ping *ping);
void dsm_peers_heartbeat(bool run);

/* quorum.c */
void dsm_quorum_init(void);
void dsm_quorum_exit(void);
void dsm_quorum_suspect(struct dsm_peer *peer, unsigned long dead);
void dsm_quorum_judge(void);
u64 dsm_quorum_suspects(void);
bool dsm_quorum_on_ping(struct dsm_peer *peer, const struct dsm_wire_ping *ping);
void dsm_quorum_on_pong(struct dsm_peer *peer, u64 stamp);
void dsm_quorum_forget(struct dsm_peer *peer);

/* conn.c: delivery to the handlers registered by the layers above */
void dsm_net_deliver_local(struct dsm_out *out);

#endif /* _DSM_TRANSPORT_H */
