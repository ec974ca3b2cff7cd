// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the outbox - reliable, ordered delivery of messages to a peer.
 *
 * Theory of operation. Every message for a member goes through its peer
 * slot's queue (txq): coherence messages, region requests and replies,
 * membership lists and replies. Only the handshake, the heartbeat and the
 * idle ack are written to a link directly.
 *
 *  - Order. A message gets the next sequence number of its destination when
 *    it is queued (under txq_lock, so the order is fixed where the caller
 *    decides it, e.g. under a page lock where nothing may wait). It is
 *    written later by dsm_out_flush(), which the caller runs once its locks
 *    are dropped; one flusher at a time per destination (tx_flush) writes
 *    the queue in order. A message with more behind it goes with MSG_MORE.
 *  - Acknowledgment. Every message on a link carries, in hdr.ack, the last
 *    sequence number its sender received in order (cumulative). A message
 *    stays on txq until acknowledged; the receiver of DSM_ACK_EVERY messages
 *    with nothing to send back answers with an ACK message, and so does the
 *    heartbeat.
 *  - Resend. When a link to the same incarnation of the peer comes up
 *    again, the HELLO says what the peer received; what it did not is
 *    written again, in order (dsm_out_link_up). The receiver delivers
 *    sequence number rx_seq + 1 only, drops older ones as duplicates, and
 *    treats a gap as a protocol error (TCP is FIFO, resends start at the
 *    peer's rx_seq + 1). So a reset link loses and reorders nothing.
 *  - Incarnations. Sequence numbers are per pair of incarnations. A peer
 *    that restarted, or that forgot this node (it declared it lost), is
 *    refused by the handshake until both sides have forgotten each other
 *    (dsm_out_reset, from the peer's lost_work); then the pair starts again
 *    from sequence number 1. A restarted node is never a continuation.
 *  - Packing. A page message without data queued behind another such
 *    one that is not written yet goes in it (dsm_out_pack): one message,
 *    DSM_MSG_PAGES, whose records the receiver handles in order.
 *  - Bound. At most DSM_NET_WINDOW bytes are written and not acknowledged
 *    per peer: past it the flusher stops (counted as tx_window_full) and the
 *    peer's acknowledgments start it again. What is queued beyond waits on
 *    txq (see Documentation/protocol.md for what that bounds).
 *
 * A receive handler must never wait for room in a socket: if the peer's
 * receive handler waits too, sending to us, neither reads again. So
 * receive paths call dsm_out_try_flush(): it writes what the socket takes
 * at once and leaves the rest to the peer's tx_work, which may wait.
 *
 * Messages to this node itself (a home forwarding to itself as the owner,
 * say) are delivered in order by one deliverer at a time, the holder of the
 * self slot's tx_flush: a receive handler that queued them delivers up to
 * DSM_OUT_SELF_BUDGET itself once its page lock is dropped
 * (dsm_out_try_flush), which saves a work item's wake-up per message; a
 * work item delivers the rest. When a node is lost or is no longer a
 * member, its queue is dropped, and messages queued for it until it is up
 * again are dropped at once.
 *
 * Memory. Page messages (a page and its header: the bulk of the traffic)
 * come from a slab cache of their own size, not from kmalloc's 8 KiB one,
 * which would waste half of each; they are made under a page lock, where
 * failing is no option, so the cache has a reserve (a mempool): when
 * memory is short, a sender waits for a message the peers acknowledge
 * instead of looping in the allocator.
 */
#include <linux/delay.h>
#include <linux/mempool.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include "transport.h"

#define DSM_OUT_BIG	(sizeof(struct dsm_wire_page) + DSM_WIRE_PAGE_SIZE)
#define DSM_OUT_PACK	(DSM_WIRE_PAGES_MAX * sizeof(struct dsm_wire_page))
#define DSM_OUT_RESERVE	16	/* page messages kept for a shortage */

static struct kmem_cache *dsm_out_cache;
static mempool_t *dsm_out_pool;

/* The largest message: a header and DSM_WIRE_MAX_PAYLOAD */
#define DSM_OUT_MAX	(sizeof(struct dsm_wire_hdr) + DSM_WIRE_MAX_PAYLOAD)
#define DSM_ACK_EVERY	32	/* received messages per idle ack, at most */

static void dsm_out_self_fn(struct work_struct *work);
static DECLARE_WORK(dsm_out_self_work, dsm_out_self_fn);
static u64 dsm_incarnation;

static size_t dsm_out_size(const struct dsm_out *out)
{
	return sizeof(struct dsm_wire_hdr) + out->len;
}

/**
 * dsm_out_alloc() - a message with room for @len payload bytes, for
 * dsm_out_queue; never fails (may wait for memory)
 * @len: at most a page message's (struct dsm_wire_page and a page)
 *
 * Return: the message, @len set.
 */
struct dsm_out *dsm_out_alloc(size_t len)
{
	struct dsm_out *out;
	size_t cap = len;

	if (WARN_ON_ONCE(len > DSM_OUT_BIG))
		len = DSM_OUT_BIG;
	if (len > DSM_OUT_BIG / 2) {
		out = mempool_alloc(dsm_out_pool, GFP_KERNEL);
		out->pooled = true;
		cap = DSM_OUT_BIG;
	} else {
		out = kmalloc(sizeof(*out) + cap, GFP_KERNEL | __GFP_NOFAIL);
		out->pooled = false;
	}
	out->len = len;
	out->cap = cap;
	return out;
}

static void dsm_out_free(struct dsm_out *out)
{
	if (out->pooled)
		mempool_free(out, dsm_out_pool);
	else
		kfree(out);
}

/**
 * dsm_out_incarnation() - this node's incarnation
 *
 * Return: a random non-zero number, new at each dsm_out_new_incarnation().
 */
u64 dsm_out_incarnation(void)
{
	return READ_ONCE(dsm_incarnation);
}

/**
 * dsm_out_new_incarnation() - start a new incarnation (module load, and
 * whenever this node has dropped every peer: it forgot them all)
 */
void dsm_out_new_incarnation(void)
{
	u64 inc;

	do {
		inc = get_random_u64();
	} while (!inc);
	WRITE_ONCE(dsm_incarnation, inc);
}

/* Free acknowledged messages from the head of @peer's queue. */
static void dsm_out_trim(struct dsm_peer *peer)
{
	struct dsm_out *out, *tmp;

	lockdep_assert_held(&peer->txq_lock);
	list_for_each_entry_safe(out, tmp, &peer->txq, node) {
		if (out->seq > peer->tx_acked || out == peer->tx_busy)
			break;
		if (peer->tx_next == out) {	/* acknowledged before resent */
			peer->tx_next = list_is_last(&out->node, &peer->txq) ? NULL :
					list_next_entry(out, node);
			peer->tx_unsent -= dsm_out_size(out);
		}
		list_del(&out->node);
		peer->tx_queued -= dsm_out_size(out);
		dsm_out_free(out);
	}
}

/* Bytes written on peer->tx_link and not acknowledged. */
static size_t dsm_out_inflight(const struct dsm_peer *peer)
{
	return peer->tx_queued - peer->tx_unsent;
}

/**
 * dsm_out_acked() - the peer acknowledged everything up to @ack
 * @peer: the peer
 * @ack:  the cumulative acknowledgment from a message's header
 *
 * Return: 0, or -EPROTO if it acknowledges what was never sent to it.
 */
int dsm_out_acked(struct dsm_peer *peer, u64 ack)
{
	bool resume = false;
	int err = 0;

	spin_lock_bh(&peer->txq_lock);
	if (ack > peer->tx_seq) {
		err = -EPROTO;
	} else if (ack > peer->tx_acked) {
		resume = peer->tx_next && dsm_out_inflight(peer) >= DSM_NET_WINDOW;
		peer->tx_acked = ack;
		dsm_out_trim(peer);
	}
	spin_unlock_bh(&peer->txq_lock);
	if (resume)
		queue_work(dsm_wq, &peer->tx_work);
	return err;
}

/**
 * dsm_out_link_up() - a link to the peer is up: resend what it has not got
 * @peer:   the peer
 * @rx_seq: the last sequence number it received from us (its HELLO)
 *
 * The first flusher on the new link starts from the first message not
 * acknowledged (dsm_out_next), whatever was being written on the old one.
 *
 * Return: 0, or -EPROTO if @rx_seq acknowledges what was never sent.
 */
int dsm_out_link_up(struct dsm_peer *peer, u64 rx_seq)
{
	int err = dsm_out_acked(peer, rx_seq);

	queue_work(dsm_wq, &peer->tx_work);
	return err;
}

/**
 * dsm_out_reset() - forget everything about delivery to and from the peer
 * @peer: the peer, lost or restarted
 *
 * Drops its queue; the next link to it starts from sequence number 1 with
 * whatever incarnation it then has.
 */
void dsm_out_reset(struct dsm_peer *peer)
{
	struct dsm_out *out, *tmp;
	LIST_HEAD(drop);

	mutex_lock(&peer->tx_flush);	/* no message is being written */
	spin_lock_bh(&peer->txq_lock);
	list_splice_init(&peer->txq, &drop);
	peer->gen++;
	peer->tx_next = NULL;
	peer->tx_link = 0;
	peer->tx_queued = 0;
	peer->tx_unsent = 0;
	peer->tx_seq = 0;
	peer->tx_acked = 0;
	peer->rx_seq = 0;
	peer->rx_unacked = 0;
	peer->peer_inc = 0;
	spin_unlock_bh(&peer->txq_lock);
	mutex_unlock(&peer->tx_flush);
	list_for_each_entry_safe(out, tmp, &drop, node)
		dsm_out_free(out);
}

/*
 * Pack a page message without data into the last message queued for the
 * peer, if that one is such messages too, has room, is of the same epoch
 * and has not been written yet: the receiver handles the records in order,
 * as it would the messages, so nothing is reordered; it saves a message
 * per record on the link and in both ends' message handling. A page
 * message with data is never packed, nor one to this node.
 */
static bool dsm_out_pack(struct dsm_peer *peer, struct dsm_out *out)
{
	struct dsm_out *tail, *big;

	lockdep_assert_held(&peer->txq_lock);
	if (out->type != DSM_MSG_PAGE || out->len != sizeof(struct dsm_wire_page) ||
	    !peer->tx_next || list_empty(&peer->txq))
		return false;
	tail = list_last_entry(&peer->txq, struct dsm_out, node);
	if (tail->sent || tail == peer->tx_busy || tail->epoch != out->epoch ||
	    (tail->type != DSM_MSG_PAGE && tail->type != DSM_MSG_PAGES) ||
	    tail->len % sizeof(struct dsm_wire_page) || tail->pooled ||
	    tail->len + out->len > DSM_OUT_PACK)
		return false;
	if (tail->len + out->len > tail->cap) {
		/*
		 * The first record packed behind it: the message grows to a
		 * pack's size (a message waits at its own size until then).
		 * Not written yet, it is only on txq and maybe tx_next.
		 */
		big = kmalloc(sizeof(*big) + DSM_OUT_PACK, GFP_ATOMIC | __GFP_NOWARN);
		if (!big)
			return false;
		memcpy(big, tail, sizeof(*tail) + tail->len);
		big->cap = DSM_OUT_PACK;
		list_replace(&tail->node, &big->node);
		if (peer->tx_next == tail)
			peer->tx_next = big;
		kfree(tail);
		tail = big;
	}
	memcpy(tail->payload + tail->len, out->payload, out->len);
	tail->len += out->len;
	tail->type = DSM_MSG_PAGES;
	peer->tx_queued += out->len;
	peer->tx_unsent += out->len;
	dsm_stat_inc(DSM_STAT_COH_MSGS_PACKED);
	return true;
}

/* Give @out the next sequence number of @dst and queue it. */
static void dsm_out_enqueue(u32 dst, struct dsm_out *out)
{
	struct dsm_peer *peer = &dsm_peers[dst];

	out->sent = false;
	out->epoch = dsm_net_ops->epoch();
	spin_lock_bh(&peer->txq_lock);
	/* lost: nothing reaches it until it is up again as new */
	if (dst != dsm_self_id() && (READ_ONCE(peer->lost) || dsm_out_pack(peer, out))) {
		spin_unlock_bh(&peer->txq_lock);
		dsm_out_free(out);	/* dropped, or packed into the last */
		return;
	}
	out->seq = dst == dsm_self_id() ? 0 : ++peer->tx_seq;
	list_add_tail(&out->node, &peer->txq);
	peer->tx_queued += dsm_out_size(out);
	peer->tx_unsent += dsm_out_size(out);
	if (!peer->tx_next)
		peer->tx_next = out;
	spin_unlock_bh(&peer->txq_lock);
}

/**
 * dsm_out_queue_type() - queue a message made with dsm_out_alloc() for a
 * node (may run under a page lock)
 * @dst:  the destination, possibly this node
 * @type: DSM_MSG_*
 * @out:  the message (len and payload set), handed over
 */
void dsm_out_queue_type(u32 dst, u8 type, struct dsm_out *out)
{
	out->type = type;
	out->req_id = 0;
	dsm_out_enqueue(dst, out);
}

/**
 * dsm_out_queue() - queue a coherence message (DSM_MSG_PAGE) for a node
 * @dst: the destination, possibly this node
 * @out: the message (len and payload set), handed over
 */
void dsm_out_queue(u32 dst, struct dsm_out *out)
{
	dsm_out_queue_type(dst, DSM_MSG_PAGE, out);
}

/**
 * dsm_net_send() - queue a message for a node, to be delivered reliably and
 * in order with every other message queued for it
 * @dst:     a member, not this node
 * @type:    DSM_MSG_*
 * @req_id:  request id (a reply's is its request's)
 * @payload: @len bytes
 * @len:     at most DSM_WIRE_MAX_PAYLOAD
 *
 * Queues only: the caller flushes (dsm_out_flush, or dsm_out_try_flush in a
 * receive handler).
 *
 * Return: 0 or -ENOMEM.
 */
int dsm_net_send(u32 dst, u8 type, u64 req_id, const void *payload,
		 size_t len)
{
	struct dsm_out *out;

	if (WARN_ON_ONCE(!dst || dst > DSM_MAX_NODES || dst == dsm_self_id() ||
			 len > DSM_WIRE_MAX_PAYLOAD))
		return -EINVAL;
	out = kmalloc(sizeof(*out) + len, GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	out->pooled = false;
	out->type = type;
	out->req_id = req_id;
	out->len = len;
	out->cap = len;
	memcpy(out->payload, payload, len);
	dsm_out_enqueue(dst, out);
	return 0;
}

/* The task delivering messages to this node now, under self's tx_flush. */
static struct task_struct *dsm_out_self_runner;

/* Messages to this node a receive handler delivers, at most, then the work item. */
#define DSM_OUT_SELF_BUDGET	16

/*
 * Deliver what this node queued for itself, in order, at most @budget
 * messages; tx_flush held. Return: true if it stopped at @budget (some may
 * be left).
 */
static bool dsm_out_self_deliver(struct dsm_peer *self, unsigned int budget)
{
	struct dsm_out *out;

	lockdep_assert_held(&self->tx_flush);
	WRITE_ONCE(dsm_out_self_runner, current);
	for (; budget; budget--) {
		spin_lock_bh(&self->txq_lock);
		out = list_first_entry_or_null(&self->txq, struct dsm_out, node);
		if (out) {
			list_del(&out->node);
			self->tx_queued -= dsm_out_size(out);
		}
		self->tx_next = NULL;
		self->tx_unsent = 0;
		spin_unlock_bh(&self->txq_lock);
		if (!out)
			break;
		dsm_net_deliver_local(out);	/* may queue more: this loop takes them */
		dsm_out_free(out);
	}
	WRITE_ONCE(dsm_out_self_runner, NULL);
	return !budget;
}

static void dsm_out_self_fn(struct work_struct *work)
{
	struct dsm_peer *self = &dsm_peers[dsm_self_id()];

	mutex_lock(&self->tx_flush);
	dsm_out_self_deliver(self, UINT_MAX);
	mutex_unlock(&self->tx_flush);
}

/*
 * Messages to this node: from a receive handler (!@wait), up to
 * DSM_OUT_SELF_BUDGET delivered at once unless another task is delivering
 * (it takes them, or its work item does), so that the handler's link is
 * not kept waiting; the rest, and those of any other caller (it may hold
 * locks the handlers take), by the work item.
 */
static void dsm_out_send_self(bool wait)
{
	struct dsm_peer *self = &dsm_peers[dsm_self_id()];
	bool left;

	if (READ_ONCE(dsm_out_self_runner) == current)
		return;		/* nested: the delivering loop takes it */
	if (!wait && mutex_trylock(&self->tx_flush)) {
		left = dsm_out_self_deliver(self, DSM_OUT_SELF_BUDGET);
		mutex_unlock(&self->tx_flush);
		if (!left)
			return;
	}
	queue_work(dsm_wq, &dsm_out_self_work);
}

/*
 * The next message to write on @conn, marked busy; NULL: none may go. The
 * position belongs to one link: on another, writing starts again from the
 * first message not acknowledged. Called with tx_flush held.
 */
static struct dsm_out *dsm_out_next(struct dsm_peer *peer,
				    const struct dsm_conn *conn, bool *more)
{
	struct dsm_out *out;

	lockdep_assert_held(&peer->tx_flush);
	spin_lock_bh(&peer->txq_lock);
	if (peer->tx_link != conn->serial) {
		peer->tx_link = conn->serial;
		peer->tx_next = list_first_entry_or_null(&peer->txq,
							 struct dsm_out, node);
		peer->tx_unsent = peer->tx_queued;
	}
	out = peer->tx_next;
	if (out && dsm_out_inflight(peer) >= DSM_NET_WINDOW) {
		dsm_stat_inc(DSM_STAT_TX_WINDOW_FULL);
		out = NULL;
	}
	if (out) {
		peer->tx_busy = out;
		peer->tx_next = list_is_last(&out->node, &peer->txq) ? NULL :
				list_next_entry(out, node);
		peer->tx_unsent -= dsm_out_size(out);
		*more = peer->tx_next && dsm_out_inflight(peer) < DSM_NET_WINDOW;
	}
	spin_unlock_bh(&peer->txq_lock);
	return out;
}

static void dsm_out_done(struct dsm_peer *peer, struct dsm_out *out)
{
	spin_lock_bh(&peer->txq_lock);
	if (out->sent) {
		atomic64_inc(&peer->resent);
		dsm_stat_inc(DSM_STAT_MSGS_RESENT);
	}
	out->sent = true;
	peer->tx_busy = NULL;
	dsm_out_trim(peer);
	spin_unlock_bh(&peer->txq_lock);
}

/* Send what is queued for @dst in order; without @wait, only what fits. */
static void dsm_out_send(u32 dst, bool wait)
{
	struct dsm_peer *peer = &dsm_peers[dst];
	struct dsm_conn *conn;
	struct dsm_out *out;
	bool more = false;
	int err;

	if (dst == dsm_self_id()) {
		dsm_out_send_self(wait);
		return;
	}
	if (wait) {
		mutex_lock(&peer->tx_flush);
	} else if (!mutex_trylock(&peer->tx_flush)) {
		queue_work(dsm_wq, &peer->tx_work);	/* after that flusher */
		return;
	}
	while ((conn = dsm_peer_conn(peer))) {
		if (READ_ONCE(peer->state) != DSM_PEER_UP) {
			dsm_conn_put(conn);	/* sent when it comes up */
			break;
		}
		if (!wait && !dsm_conn_has_room(conn, DSM_OUT_MAX)) {
			dsm_conn_put(conn);
			queue_work(dsm_wq, &peer->tx_work);
			break;
		}
		out = dsm_out_next(peer, conn, &more);
		if (!out) {
			/* nothing carried our acknowledgment: an idle ack */
			if (wait && READ_ONCE(peer->rx_unacked) &&
			    dsm_net_ops->epoch())	/* (not once we left) */
				dsm_conn_send(conn, DSM_MSG_ACK, 0, NULL, 0);
			dsm_conn_put(conn);
			break;
		}
		err = dsm_conn_send_seq(conn, out, more);
		dsm_out_done(peer, out);
		dsm_conn_put(conn);
		if (err)	/* the link is closed; resent on the next one */
			break;
	}
	mutex_unlock(&peer->tx_flush);
}

/**
 * dsm_net_reply() - answer a received request, where it came from
 * @m:       the request
 * @type:    DSM_MSG_REPLY or DSM_MSG_REGION_REPLY
 * @payload: @len bytes
 * @len:     payload length
 *
 * On a peer link, the reply is queued like every message to the sender and
 * sent as far as its socket takes it at once (a receive handler must not
 * wait); on a join connection, it is sent on it.
 *
 * Return: 0 or a negative errno.
 */
int dsm_net_reply(const struct dsm_net_msg *m, u8 type, const void *payload,
		  size_t len)
{
	int err;

	if (m->conn && m->conn->join)
		return dsm_conn_send(m->conn, type, m->req_id, payload, len);
	err = dsm_net_send(m->from, type, m->req_id, payload, len);
	if (!err)
		dsm_out_try_flush(dsm_node_bit(m->from));
	return err;
}

/**
 * dsm_net_hold() - keep what answering request @m later takes
 * @req: where
 * @m:   the request, in its handler
 */
void dsm_net_hold(struct dsm_net_req *req, const struct dsm_net_msg *m)
{
	req->from = m->from;
	req->req_id = m->req_id;
	req->conn = m->conn && m->conn->join ? m->conn : NULL;
	if (req->conn)
		dsm_conn_get(req->conn);
}

/**
 * dsm_net_answer() - answer a request kept with dsm_net_hold(), as
 * dsm_net_reply() would have, and release it
 * @req:     the request
 * @type:    DSM_MSG_REPLY
 * @payload: @len bytes
 * @len:     at most DSM_WIRE_MAX_PAYLOAD
 *
 * Return: 0 or a negative errno (its connection may be gone).
 */
int dsm_net_answer(struct dsm_net_req *req, u8 type, const void *payload,
		   size_t len)
{
	struct dsm_net_msg m = {
		.from = req->from,
		.req_id = req->req_id,
		.conn = req->conn,
	};
	int err = dsm_net_reply(&m, type, payload, len);

	dsm_net_release(req);
	return err;
}

/**
 * dsm_net_release() - forget a request kept with dsm_net_hold()
 * @req: the request
 */
void dsm_net_release(struct dsm_net_req *req)
{
	if (req->conn)
		dsm_conn_put(req->conn);
	req->conn = NULL;
}

/**
 * dsm_out_received() - a sequenced message was delivered from @peer: have
 * it acknowledged if nothing else will soon
 * @peer: the peer
 */
void dsm_out_received(struct dsm_peer *peer)
{
	u32 n = READ_ONCE(peer->rx_unacked) + 1;

	WRITE_ONCE(peer->rx_unacked, n);
	if (n >= DSM_ACK_EVERY)
		queue_work(dsm_wq, &peer->tx_work);
}

/**
 * dsm_out_flush() - send what is queued for a node, in order, waiting for
 * room in the socket if need be
 * @dst: the destination
 *
 * Never call it holding a page lock or a spinlock, nor from a receive
 * handler (see the top): it may wait.
 */
void dsm_out_flush(u32 dst)
{
	dsm_out_send(dst, true);
}

static void dsm_out_send_mask(u64 mask, bool wait)
{
	u32 id;

	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (mask & dsm_node_bit(id))
			dsm_out_send(id, wait);
}

/**
 * dsm_out_flush_mask() - dsm_out_flush() for every node in a set
 * @mask: bit (id % 64) per node id
 */
void dsm_out_flush_mask(u64 mask)
{
	dsm_out_send_mask(mask, true);
}

/**
 * dsm_out_settle() - wait until the nodes of a set whose links are up
 * have acknowledged what is queued for them now, for at most @ms
 * @mask: bit (id % 64) per node id; flushed first
 * @ms:   the bound (an idle peer acknowledges with its heartbeat)
 *
 * For a node about to drop its links: what it queued last (its final
 * member list) is then known to be delivered, not in a socket that the
 * close may reset. A link that goes down meanwhile is not waited for.
 */
void dsm_out_settle(u64 mask, unsigned int ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(ms);
	struct dsm_peer *peer;
	u64 want, gen;
	u32 id;

	dsm_out_flush_mask(mask);
	for (id = 1; id <= DSM_MAX_NODES; id++) {
		if (!(mask & dsm_node_bit(id)) || id == dsm_self_id())
			continue;
		peer = &dsm_peers[id];
		spin_lock_bh(&peer->txq_lock);
		want = peer->tx_seq;
		gen = peer->gen;	/* (a reset starts the numbers again) */
		spin_unlock_bh(&peer->txq_lock);
		while (dsm_net_peer_up(id) && READ_ONCE(peer->tx_acked) < want &&
		       READ_ONCE(peer->gen) == gen && time_before(jiffies, deadline) &&
		       !fatal_signal_pending(current))
			msleep(20);
	}
}

/**
 * dsm_out_try_flush() - for receive handlers: send what is queued for a
 * set of nodes as far as their sockets take it at once; the peers'
 * tx_work sends the rest
 * @mask: bit (id % 64) per node id
 *
 * Messages to this node itself are delivered here (their handlers run):
 * a caller whose @mask has this node's bit must hold no lock a handler
 * takes (page locks, dsm_regions_lock, a region's table_lock).
 */
void dsm_out_try_flush(u64 mask)
{
	dsm_out_send_mask(mask, false);
}

/**
 * dsm_out_kick() - have what is queued for a set of nodes sent by a work
 * item, for callers that hold a page lock
 * @mask: bit (id % 64) per node id
 */
void dsm_out_kick(u64 mask)
{
	u32 id;

	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (mask & dsm_node_bit(id))
			queue_work(dsm_wq, id == dsm_self_id() ? &dsm_out_self_work :
								 &dsm_peers[id].tx_work);
}

/**
 * dsm_out_exit() - at unload: nothing may stay queued
 */
void dsm_out_exit(void)
{
	u32 id;

	flush_work(&dsm_out_self_work);
	for (id = 0; id <= DSM_MAX_NODES; id++)
		dsm_out_reset(&dsm_peers[id]);
	mempool_destroy(dsm_out_pool);
	kmem_cache_destroy(dsm_out_cache);
}

/**
 * dsm_out_init() - the page messages' cache and reserve
 *
 * Return: 0 or -ENOMEM.
 */
int dsm_out_init(void)
{
	dsm_out_cache = kmem_cache_create("dsm_page_msg",
					  sizeof(struct dsm_out) + DSM_OUT_BIG,
					  0, 0, NULL);
	if (!dsm_out_cache)
		return -ENOMEM;
	dsm_out_pool = mempool_create_slab_pool(DSM_OUT_RESERVE, dsm_out_cache);
	if (!dsm_out_pool) {
		kmem_cache_destroy(dsm_out_cache);
		return -ENOMEM;
	}
	return 0;
}
