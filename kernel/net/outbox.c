// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the outbox - ordered sending of coherence messages.
 *
 * Theory of operation. The coherence state machine needs FIFO delivery per
 * ordered pair of nodes, including a node and itself, but it runs under a
 * page lock, where nothing may wait for the network. So a message is queued
 * on its destination's peer slot while the page lock is held (the order is
 * fixed there, under a spinlock), and sent later by dsm_out_flush(), which
 * whoever queued calls once its locks are dropped. One flusher at a time per
 * destination (tx_flush) drains the queue in order; a message with more
 * queued behind it is sent with MSG_MORE, so a burst (read-ahead, a fan of
 * invalidations) leaves in few segments.
 *
 * A receive handler must never wait for room in a socket: if the peer's
 * receive handler waits too, sending to us, neither reads again (a
 * deadlock that ended after 5 s with the send timing out, the link closed
 * and faults on both sides answered with SIGBUS; seen when three nodes
 * read each other's pages at once on the debug kernel). So receive paths
 * call dsm_out_try_flush(): it sends only what the socket takes at once
 * and leaves the rest to the peer's tx_work, which may wait.
 *
 * Messages to a node whose link is not up yet stay queued, and go when the
 * link comes up (dsm_peer_up queues the peer's tx_work). Messages to this
 * node itself are delivered by one work item, which the workqueue never runs
 * twice at once: FIFO as well. When a node is lost or is no longer a
 * member, its queue is dropped.
 */
#include <linux/slab.h>
#include "transport.h"

/* The largest coherence message: a header, struct dsm_wire_page, a page */
#define DSM_OUT_MAX	(sizeof(struct dsm_wire_hdr) + \
			 sizeof(struct dsm_wire_page) + DSM_WIRE_PAGE_SIZE)

static void dsm_out_self_fn(struct work_struct *work);
static DECLARE_WORK(dsm_out_self_work, dsm_out_self_fn);

static struct dsm_out *dsm_out_pop(struct dsm_peer *peer)
{
	struct dsm_out *out;

	spin_lock_bh(&peer->txq_lock);
	out = list_first_entry_or_null(&peer->txq, struct dsm_out, node);
	if (out)
		list_del(&out->node);
	spin_unlock_bh(&peer->txq_lock);
	return out;
}

/* Is another message queued for @peer? (a hint: a burst goes together) */
static bool dsm_out_pending(struct dsm_peer *peer)
{
	bool more;

	spin_lock_bh(&peer->txq_lock);
	more = !list_empty(&peer->txq);
	spin_unlock_bh(&peer->txq_lock);
	return more;
}

/**
 * dsm_out_queue() - queue a message for a node (may run under a page lock)
 * @dst: the destination, possibly this node
 * @out: the message, handed over
 */
void dsm_out_queue(u32 dst, struct dsm_out *out)
{
	struct dsm_peer *peer = &dsm_peers[dst];

	spin_lock_bh(&peer->txq_lock);
	list_add_tail(&out->node, &peer->txq);
	spin_unlock_bh(&peer->txq_lock);
}

static void dsm_out_self_fn(struct work_struct *work)
{
	struct dsm_peer *self = &dsm_peers[dsm_self_id()];
	struct dsm_out *out;

	while ((out = dsm_out_pop(self))) {
		if (dsm_pages_receive(self->id, out->payload, out->len))
			pr_warn_ratelimited("own coherence message refused\n");
		kfree(out);
	}
}

/* Send what is queued for @dst in order; without @wait, only what fits. */
static void dsm_out_send(u32 dst, bool wait)
{
	struct dsm_peer *peer = &dsm_peers[dst];
	struct dsm_conn *conn;
	struct dsm_out *out;

	if (dst == dsm_self_id()) {
		queue_work(dsm_wq, &dsm_out_self_work);
		return;
	}
	if (!dsm_members_has(dst)) {	/* it left: nothing will reach it */
		dsm_out_purge(dst);
		return;
	}
	if (wait) {
		mutex_lock(&peer->tx_flush);
	} else if (!mutex_trylock(&peer->tx_flush)) {
		queue_work(dsm_wq, &peer->tx_work);	/* after that flusher */
		return;
	}
	while ((conn = dsm_peer_conn(peer))) {
		if (!wait && !dsm_conn_has_room(conn, DSM_OUT_MAX)) {
			dsm_conn_put(conn);
			queue_work(dsm_wq, &peer->tx_work);
			break;
		}
		out = READ_ONCE(peer->state) == DSM_PEER_UP ? dsm_out_pop(peer) : NULL;
		if (!out) {
			dsm_conn_put(conn);
			break;
		}
		dsm_conn_send_more(conn, DSM_MSG_PAGE, 0, out->payload, out->len,
				   dsm_out_pending(peer));
		dsm_conn_put(conn);
		kfree(out);	/* a failed send closed the link: that is a loss */
	}
	mutex_unlock(&peer->tx_flush);
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
 * dsm_out_try_flush() - for receive handlers: send what is queued for a
 * set of nodes as far as their sockets take it at once; the peers'
 * tx_work sends the rest
 * @mask: bit (id % 64) per node id
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
 * dsm_out_purge() - drop what is queued for a node that is gone
 * @dst: the node
 */
void dsm_out_purge(u32 dst)
{
	struct dsm_peer *peer = &dsm_peers[dst];
	struct dsm_out *out;

	while ((out = dsm_out_pop(peer)))
		kfree(out);
}

/**
 * dsm_out_exit() - at unload: nothing may stay queued
 */
void dsm_out_exit(void)
{
	u32 id;

	flush_work(&dsm_out_self_work);
	for (id = 0; id <= DSM_MAX_NODES; id++)
		dsm_out_purge(id);
}
