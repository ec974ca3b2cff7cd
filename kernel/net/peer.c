// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: peers - link state, reconnection and liveness.
 *
 * Theory of operation. Every member has a slot in dsm_peers[]. For each pair
 * of members exactly one side initiates the link: the lower node id. The
 * initiator's connect_work connects and starts the handshake; on failure, or
 * when an established link is lost, it retries after a randomised
 * exponential backoff (DSM_BACKOFF_MIN_MS doubling up to DSM_BACKOFF_MAX_MS,
 * each delay drawn from [b/2, b]) so that restarting nodes do not reconnect
 * in lockstep.
 *
 * A link that closes (reset, send timeout, malformed message, replaced)
 * only makes the peer's link down: what was queued for the peer stays
 * queued and is resent on the next link (outbox.c). Whether the node is
 * alive is decided apart from its links: a member from which nothing
 * arrived for the dead timeout is lost, whether its link is up, down or
 * reconnecting. Losing a node (dsm_peer_declare_lost, and removal) runs
 * its lost_work: close its link, fail the requests waiting for it, tell the
 * page layer, and only then forget the delivery state, so the handshake
 * refuses the node (DSM_REASON_INCARNATION) until it has been forgotten,
 * and the next link starts afresh.
 *
 * One heartbeat work runs every dead_timeout / 5 for as long as the module
 * is loaded (not only while a member: the listener is up from `node set` on,
 * and its pending connections must expire either way). It pings every peer
 * that is up (the ping also acknowledges, the pong gives the round trip and
 * renews this node's lease), suspects a member silent for longer than the
 * dead timeout and declares lost one a quorum suspects (quorum.c), abandons
 * handshakes past their deadline, starts due reconnections and expires
 * pending accepted connections. A lost node stays a member: only `leave`
 * (or its coordinator) removes a member.
 */
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <net/genetlink.h>

#include "transport.h"

#define DSM_BACKOFF_MIN_MS	100
#define DSM_BACKOFF_MAX_MS	5000

struct dsm_peer dsm_peers[DSM_MAX_NODES + 1];
static struct delayed_work dsm_hb_work;

/*
 * Fault injection for the selftests: the next N connections this node
 * initiates are closed as soon as they are made, before they are installed
 * as links, as an end of stream arriving then would close them.
 */
static int dsm_inject_early_close;
module_param_named(inject_early_close, dsm_inject_early_close, int, 0600);
MODULE_PARM_DESC(inject_early_close,
		 "testing: close the next N connections this node initiates before they become links");

/*
 * Take one of @n injections. Connect works to different peers run at once:
 * a plain decrement let two of them take the last one (and left -1).
 */
static bool dsm_inject_take(int *n)
{
	int old = READ_ONCE(*n);

	do {
		if (old <= 0)
			return false;
	} while (!try_cmpxchg(n, &old, old - 1));
	return true;
}

static unsigned long dsm_hb_interval(void)
{
	return msecs_to_jiffies(dsm_dead_timeout_ms() / 5);
}

static bool dsm_we_initiate(const struct dsm_peer *peer)
{
	return dsm_self_id() < peer->id;
}

/* Schedule the next reconnection; called under peer->lock. */
static void dsm_peer_backoff(struct dsm_peer *peer)
{
	unsigned int b = peer->backoff_ms;

	lockdep_assert_held(&peer->lock);
	peer->next_connect = jiffies +
		msecs_to_jiffies(b / 2 + get_random_u32() % (b / 2 + 1));
	peer->backoff_ms = min(b * 2, DSM_BACKOFF_MAX_MS);
}

static void dsm_peer_set_state(struct dsm_peer *peer, u32 state, u32 reason)
{
	lockdep_assert_held(&peer->lock);
	peer->state = state;
	peer->since = jiffies;
	if (reason)
		peer->reason = reason;
}

/**
 * dsm_peer_conn() - the peer's current link, with a reference
 * @peer: the peer
 *
 * Return: the connection (put it when done) or NULL.
 */
struct dsm_conn *dsm_peer_conn(struct dsm_peer *peer)
{
	struct dsm_conn *conn;

	spin_lock_bh(&peer->lock);
	conn = peer->conn;
	if (conn)
		dsm_conn_get(conn);
	spin_unlock_bh(&peer->lock);
	return conn;
}

static void dsm_peer_tx_fn(struct work_struct *work)
{
	dsm_out_flush(container_of(work, struct dsm_peer, tx_work)->id);
}

/* The node is gone (lost, removed, or restarted): forget it. */
static void dsm_peer_lost_fn(struct work_struct *work)
{
	struct dsm_peer *peer = container_of(work, struct dsm_peer, lost_work);
	u32 reason = READ_ONCE(peer->lost_reason);
	struct dsm_conn *conn;

	/* a node that leaves gets what was queued for it: the last replies */
	if (reason == DSM_REASON_LEFT || reason == DSM_REASON_SHUTDOWN)
		dsm_out_flush(peer->id);
	conn = dsm_peer_conn(peer);	/* no new one: @forgetting is set */
	if (conn) {
		dsm_conn_close(conn, reason);
		dsm_conn_put(conn);
	}
	/* a node that left may be back already (a rejoin re-adds it) */
	if (reason != DSM_REASON_LEFT || !dsm_net_ops->is_member(peer->id))
		WRITE_ONCE(peer->lost, 1);
	dsm_calls_fail(&peer->calls, &peer->lock);
	/* a message being delivered from it is handled before it is forgotten */
	mutex_lock(&peer->rx_lock);
	mutex_unlock(&peer->rx_lock);
	dsm_net_ops->lost(peer->id, reason);
	dsm_out_reset(peer);	/* now the handshake may start it afresh */
	dsm_quorum_forget(peer);
	spin_lock_bh(&peer->lock);
	peer->forgetting = false;
	spin_unlock_bh(&peer->lock);
}

/* Have the peer forgotten by its lost_work (once, however often asked). */
static void dsm_peer_forget(struct dsm_peer *peer, u32 reason)
{
	spin_lock_bh(&peer->lock);
	peer->forgetting = true;
	WRITE_ONCE(peer->lost_reason, reason);
	spin_unlock_bh(&peer->lock);
	queue_work(dsm_wq, &peer->lost_work);
}

/**
 * dsm_peer_declare_lost() - the node is gone: forget it (see the top)
 * @peer:   the peer
 * @reason: DSM_REASON_HEARTBEAT (a quorum suspects it) or
 *          DSM_REASON_INCARNATION (it restarted), or DSM_REASON_DECLARED
 *          (another member declared it lost: dsm_net_declare_lost)
 */
void dsm_peer_declare_lost(struct dsm_peer *peer, u32 reason)
{
	if (xchg(&peer->lost, 1))
		return;		/* being forgotten, or forgotten already */
	dsm_stat_inc(DSM_STAT_NODES_LOST);
	pr_info("node %u lost: %s\n", peer->id, dsm_reason_name(reason));
	dsm_peer_forget(peer, reason);
}

/**
 * dsm_net_call() - send a request to a member and wait for its reply
 * @dst:        the member
 * @type:       DSM_MSG_*
 * @payload:    request payload
 * @len:        its length
 * @reply:      where the reply payload goes
 * @reply_max:  room at @reply
 * @timeout_ms: how long to wait at most
 * @epoch:      if not NULL, gets @dst's membership epoch when it replied
 *
 * The request is delivered like every message to @dst (reliably, in order
 * after what was queued before it); a link reset only delays it. It fails
 * when @dst is lost.
 *
 * Return: the reply's length, -ENOTCONN if @dst is lost, -ECONNRESET if it
 * is lost meanwhile, -ETIMEDOUT, -EINTR if the caller was killed, -ENOMEM.
 */
int dsm_net_call(u32 dst, u8 type, const void *payload, size_t len,
		 void *reply, size_t reply_max, unsigned int timeout_ms,
		 u64 *epoch)
{
	struct dsm_peer *peer = &dsm_peers[dst];
	struct dsm_call call = { .buf = reply, .max = reply_max };
	long left;
	int err;

	if (WARN_ON_ONCE(!dst || dst > DSM_MAX_NODES || dst == dsm_self_id()))
		return -EINVAL;
	init_completion(&call.done);
	call.id = dsm_conn_next_req_id();
	spin_lock_bh(&peer->lock);
	if (READ_ONCE(peer->lost)) {
		spin_unlock_bh(&peer->lock);
		return -ENOTCONN;
	}
	list_add_tail(&call.node, &peer->calls);
	spin_unlock_bh(&peer->lock);

	err = dsm_net_send(dst, type, call.id, payload, len);
	if (!err) {
		dsm_out_flush(dst);
		left = wait_for_completion_killable_timeout(&call.done,
							    msecs_to_jiffies(timeout_ms));
		err = left > 0 ? call.err : left ? -EINTR : -ETIMEDOUT;
	}
	spin_lock_bh(&peer->lock);
	list_del_init(&call.node);
	spin_unlock_bh(&peer->lock);
	if (!err && epoch)
		*epoch = call.epoch;
	return err ? err : (int)call.len;
}

/**
 * dsm_node_lost() - is a node gone (silent past the dead timeout, or
 * removed), with no link since?
 * @id: node id
 *
 * Return: true if requests to it cannot be answered.
 */
bool dsm_node_lost(u32 id)
{
	return id && id <= DSM_MAX_NODES && READ_ONCE(dsm_peers[id].lost);
}

/**
 * dsm_net_peer_incarnation() - the incarnation of node @id this node's
 * delivery state is with (0: none, e.g. once it was forgotten)
 * @id: node id
 */
u64 dsm_net_peer_incarnation(u32 id)
{
	return id && id <= DSM_MAX_NODES ? READ_ONCE(dsm_peers[id].peer_inc) : 0;
}

/**
 * dsm_net_declare_lost() - another member declared member @id lost: so
 * does this node. A member declares a node lost only when a quorum
 * suspects it, whose lease had then run out (quorum.c): following it is
 * safe, and it must be followed, since the layer above rebuilds the
 * node's directories with every member that stays.
 * @id: the node
 */
void dsm_net_declare_lost(u32 id)
{
	if (id && id <= DSM_MAX_NODES && id != dsm_self_id() &&
	    dsm_net_ops->is_member(id))
		dsm_peer_declare_lost(&dsm_peers[id], DSM_REASON_DECLARED);
}

static void dsm_peer_connect_fn(struct work_struct *work)
{
	struct dsm_peer *peer = container_of(work, struct dsm_peer, connect_work);
	struct dsm_conn *conn;
	struct socket *sock;
	int err;

	if (!dsm_net_ops->is_member(peer->id))
		return;
	spin_lock_bh(&peer->lock);
	if (peer->conn) {
		spin_unlock_bh(&peer->lock);
		return;
	}
	dsm_peer_set_state(peer, DSM_PEER_CONNECTING, 0);
	spin_unlock_bh(&peer->lock);

	err = dsm_conn_connect(peer->addr, peer->port, &sock);
	conn = err ? NULL : dsm_conn_create(sock, true);
	if (!conn) {
		spin_lock_bh(&peer->lock);
		if (!peer->conn) {
			dsm_peer_set_state(peer, DSM_PEER_DOWN, DSM_REASON_CONNECT);
			dsm_peer_backoff(peer);
		}
		spin_unlock_bh(&peer->lock);
		return;
	}
	conn->peer = peer;
	if (dsm_inject_take(&dsm_inject_early_close))
		dsm_conn_close(conn, DSM_REASON_CLOSED);
	spin_lock_bh(&peer->lock);
	if (peer->conn || !dsm_net_ops->is_member(peer->id)) {
		spin_unlock_bh(&peer->lock);
		dsm_conn_close(conn, DSM_REASON_SHUTDOWN);
		dsm_conn_put(conn);
		return;
	}
	/*
	 * A connection already closed (an end of stream before we got here)
	 * is never installed: its close found no link to take down, and a
	 * dead link would stay in place, refusing every message, forever.
	 */
	if (dsm_conn_dead(conn)) {
		dsm_peer_set_state(peer, DSM_PEER_DOWN, DSM_REASON_CLOSED);
		dsm_peer_backoff(peer);
		spin_unlock_bh(&peer->lock);
		dsm_conn_put(conn);
		return;
	}
	dsm_conn_get(conn);
	peer->conn = conn;
	dsm_peer_set_state(peer, DSM_PEER_HANDSHAKE, 0);
	spin_unlock_bh(&peer->lock);

	if (dsm_hs_start(conn, peer->id, false))
		dsm_conn_close(conn, DSM_REASON_CLOSED);
	dsm_conn_put(conn);
}

/* A heartbeat on @conn: our clock, and whom we suspect (quorum.c). */
static void dsm_peer_ping(struct dsm_conn *conn)
{
	struct dsm_wire_ping ping = {
		.stamp_ns = cpu_to_le64(ktime_get_ns()),
		.suspects = cpu_to_le64(dsm_quorum_suspects()),
	};

	dsm_conn_send(conn, DSM_MSG_PING, 0, &ping, sizeof(ping));
}

/**
 * dsm_peer_up() - a handshake finished: @conn is the peer's link now
 * @peer: the peer
 * @conn: the established connection, its HELLO checked against the
 *        delivery state (dsm_hs_check_incarnation)
 *
 * Return: 0, or the DSM_REASON_* to close @conn with: it was closed
 * meanwhile, the node is no member, or its delivery state was forgotten
 * since the check (it must start afresh).
 */
u32 dsm_peer_up(struct dsm_peer *peer, struct dsm_conn *conn)
{
	struct dsm_conn *old = NULL;
	u32 reason = 0;

	dsm_conn_unpend(conn);
	spin_lock_bh(&peer->lock);
	spin_lock(&peer->txq_lock);
	if (dsm_conn_dead(conn))	/* see dsm_peer_connect_fn */
		reason = DSM_REASON_CLOSED;
	else if (!dsm_net_ops->is_member(peer->id))
		reason = DSM_REASON_NOT_MEMBER;
	else if (peer->forgetting || peer->gen != conn->hello_gen)
		reason = DSM_REASON_INCARNATION;
	else
		peer->peer_inc = conn->hello_inc;
	spin_unlock(&peer->txq_lock);
	if (reason) {
		spin_unlock_bh(&peer->lock);
		return reason;
	}
	if (peer->conn != conn) {
		old = peer->conn;
		dsm_conn_get(conn);
		peer->conn = conn;
	}
	dsm_peer_set_state(peer, DSM_PEER_UP, 0);
	peer->reason = DSM_REASON_NONE;
	WRITE_ONCE(peer->last_rx, jiffies);
	/* the handshake's last message says which epoch the peer is at */
	WRITE_ONCE(peer->epoch_seen, le64_to_cpu(conn->rx_hdr.epoch));
	peer->backoff_ms = DSM_BACKOFF_MIN_MS;
	WRITE_ONCE(peer->lost, 0);
	spin_unlock_bh(&peer->lock);

	if (old) {
		dsm_conn_close(old, DSM_REASON_REPLACED);
		dsm_conn_put(old);
	}
	pr_info("node %u up\n", peer->id);
	dsm_peer_ping(conn);	/* a lease at once, not a heartbeat later */
	dsm_net_ops->event(DSM_EVENT_PEER_UP, peer->id, 0);
	/* resends what it lacks; checked against tx_seq by the handshake */
	dsm_out_link_up(peer, conn->hello_rx_seq);
	dsm_net_ops->link_up(peer->id, le64_to_cpu(conn->rx_hdr.epoch));
	return 0;
}

/**
 * dsm_peer_link_lost() - a connection closed; if it was the peer's link,
 * the peer is down
 * @conn:   the closed connection (conn->peer is set)
 * @reason: DSM_REASON_*
 */
void dsm_peer_link_lost(struct dsm_conn *conn, u32 reason)
{
	struct dsm_peer *peer = conn->peer;
	bool mine = false, was_up = false;

	spin_lock_bh(&peer->lock);
	if (peer->conn == conn) {
		mine = true;
		was_up = peer->state == DSM_PEER_UP;
		peer->conn = NULL;
		dsm_peer_set_state(peer, DSM_PEER_DOWN, reason);
		if (dsm_we_initiate(peer))
			dsm_peer_backoff(peer);
	}
	spin_unlock_bh(&peer->lock);
	if (!mine)
		return;
	dsm_conn_put(conn);
	if (was_up) {
		dsm_stat_inc(DSM_STAT_PEER_DOWN);
		pr_info("node %u down: %s\n", peer->id, dsm_reason_name(reason));
		dsm_net_ops->event(DSM_EVENT_PEER_DOWN, peer->id, reason);
	}
}

/**
 * dsm_peer_received() - account for a message from the peer
 * @peer:  the peer
 * @hdr:   the message's header
 * @bytes: header and payload
 */
void dsm_peer_received(struct dsm_peer *peer, const struct dsm_wire_hdr *hdr,
		       size_t bytes)
{
	atomic64_inc(&peer->rx_msgs);
	atomic64_add(bytes, &peer->rx_bytes);
	WRITE_ONCE(peer->last_rx, jiffies);
	WRITE_ONCE(peer->epoch_seen, le64_to_cpu(hdr->epoch));
}

/**
 * dsm_peer_pong() - a heartbeat came back
 * @peer: the peer
 * @ping: our ping, echoed
 */
void dsm_peer_pong(struct dsm_peer *peer, const struct dsm_wire_ping *ping)
{
	u64 sent = le64_to_cpu(ping->stamp_ns), now = ktime_get_ns();

	if (sent > now)		/* the stamp is the peer's echo: untrusted */
		return;
	WRITE_ONCE(peer->rtt_us, min_t(u64, (now - sent) / 1000, U32_MAX));
	dsm_quorum_on_pong(peer, sent);
}

/**
 * dsm_net_peer_add() - a node became a member: start linking to it
 * @id:   node id
 * @addr: its address
 * @port: its port
 */
void dsm_net_peer_add(u32 id, __be32 addr, u16 port)
{
	struct dsm_peer *peer = &dsm_peers[id];

	spin_lock_bh(&peer->lock);
	peer->addr = addr;
	peer->port = port;
	peer->backoff_ms = DSM_BACKOFF_MIN_MS;
	peer->next_connect = jiffies;
	WRITE_ONCE(peer->last_rx, jiffies);	/* a dead timeout from now */
	WRITE_ONCE(peer->lost, 0);	/* a member again */
	if (!peer->conn)
		dsm_peer_set_state(peer, DSM_PEER_DOWN, 0);
	spin_unlock_bh(&peer->lock);
	if (dsm_we_initiate(peer))
		queue_work(dsm_wq, &peer->connect_work);
}

/**
 * dsm_net_peer_remove() - a node is no longer a member: drop its link
 * @id:     node id
 * @reason: DSM_REASON_* for the link
 */
void dsm_net_peer_remove(u32 id, u32 reason)
{
	/* its lost_work sends what is queued for it, then closes the link */
	dsm_peer_forget(&dsm_peers[id], reason);
}

static void dsm_peer_tick(struct dsm_peer *peer, unsigned long dead)
{
	struct dsm_conn *conn;
	bool connect;
	u32 state;

	spin_lock_bh(&peer->lock);
	conn = peer->conn;
	if (conn)
		dsm_conn_get(conn);
	state = peer->state;
	connect = !conn && dsm_we_initiate(peer) &&
		  time_after_eq(jiffies, peer->next_connect);
	spin_unlock_bh(&peer->lock);

	if (connect)
		queue_work(dsm_wq, &peer->connect_work);
	if (!conn)
		return;
	if (state != DSM_PEER_UP && time_after(jiffies, conn->deadline))
		dsm_conn_close(conn, DSM_REASON_TIMEOUT);
	else if (state == DSM_PEER_UP)
		dsm_peer_ping(conn);
	dsm_conn_put(conn);
}

static void dsm_hb_fn(struct work_struct *work)
{
	unsigned long dead = msecs_to_jiffies(dsm_dead_timeout_ms());
	u32 id;

	/* silent for the dead timeout, whatever its link does: suspected */
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (id != dsm_self_id() && dsm_net_ops->is_member(id))
			dsm_quorum_suspect(&dsm_peers[id], dead);
	for (id = 1; id <= DSM_MAX_NODES; id++)	/* the pings report them */
		if (id != dsm_self_id() && dsm_net_ops->is_member(id))
			dsm_peer_tick(&dsm_peers[id], dead);
	dsm_quorum_judge();
	dsm_net_quorum_update(false);	/* the members may have changed */
	dsm_conn_pending_expire(false);
	queue_delayed_work(dsm_wq, &dsm_hb_work, dsm_hb_interval());
}

/**
 * dsm_peers_init() - set up the slots at module load
 */
void dsm_peers_init(void)
{
	u32 id;

	for (id = 0; id <= DSM_MAX_NODES; id++) {
		struct dsm_peer *peer = &dsm_peers[id];

		peer->id = id;
		spin_lock_init(&peer->lock);
		INIT_WORK(&peer->connect_work, dsm_peer_connect_fn);
		INIT_LIST_HEAD(&peer->calls);
		mutex_init(&peer->rx_lock);
		spin_lock_init(&peer->txq_lock);
		INIT_LIST_HEAD(&peer->txq);
		mutex_init(&peer->tx_flush);
		INIT_WORK(&peer->tx_work, dsm_peer_tx_fn);
		INIT_WORK(&peer->lost_work, dsm_peer_lost_fn);
	}
	INIT_DELAYED_WORK(&dsm_hb_work, dsm_hb_fn);
}

/**
 * dsm_peers_heartbeat() - start or stop the heartbeat
 * @run: start it (module load) or stop it and wait (module unload)
 */
void dsm_peers_heartbeat(bool run)
{
	if (run)
		queue_delayed_work(dsm_wq, &dsm_hb_work, dsm_hb_interval());
	else	/* safe although the work requeues itself */
		cancel_delayed_work_sync(&dsm_hb_work);
}

/**
 * dsm_net_peers_drop() - drop every link and forget every peer (membership
 * is already empty, so no new link starts)
 */
void dsm_net_peers_drop(void)
{
	u32 id;

	/*
	 * A new incarnation first: a HELLO made while the peers are being
	 * forgotten must not show the old one not knowing a peer, which a
	 * member that still knows it takes for its own eviction (handshake.c).
	 */
	dsm_out_new_incarnation();
	for (id = 1; id <= DSM_MAX_NODES; id++) {
		cancel_work_sync(&dsm_peers[id].connect_work);
		dsm_net_peer_remove(id, DSM_REASON_SHUTDOWN);
		flush_work(&dsm_peers[id].lost_work);
		cancel_work_sync(&dsm_peers[id].tx_work);
	}
}

/**
 * dsm_net_peer_addr() - where a peer listens
 * @id:   node id
 * @addr: its address (network byte order)
 * @port: its port
 */
void dsm_net_peer_addr(u32 id, __be32 *addr, u16 *port)
{
	struct dsm_peer *peer = &dsm_peers[id];

	spin_lock_bh(&peer->lock);
	*addr = peer->addr;
	*port = peer->port;
	spin_unlock_bh(&peer->lock);
}

/**
 * dsm_net_addr_is_member() - is @addr where a member listens?
 * @addr: an IPv4 address (network byte order)
 *
 * Return: true if some member's recorded address is @addr.
 */
bool dsm_net_addr_is_member(__be32 addr)
{
	__be32 at;
	u16 port;
	u32 id;

	for (id = 1; addr && id <= DSM_MAX_NODES; id++) {
		if (id == dsm_self_id() || !dsm_net_ops->is_member(id))
			continue;
		dsm_net_peer_addr(id, &at, &port);
		if (at == addr)
			return true;
	}
	return false;
}

/**
 * dsm_net_peer_up() - is the link to a peer up? (lockless)
 * @id: node id
 *
 * Return: true if its handshake finished and the link is not closed.
 */
bool dsm_net_peer_up(u32 id)
{
	return id && id <= DSM_MAX_NODES &&
	       READ_ONCE(dsm_peers[id].state) == DSM_PEER_UP;
}

/**
 * dsm_net_peer_silent() - is the link to a peer down, with nothing heard
 * from it for @ms? (lockless)
 * @id: node id
 * @ms: how long
 *
 * Return: true if so: it left, died or is cut off, not just reconnecting.
 */
bool dsm_net_peer_silent(u32 id, unsigned int ms)
{
	return !dsm_net_peer_up(id) &&
	       time_after(jiffies, READ_ONCE(dsm_peers[id].last_rx) +
			  msecs_to_jiffies(ms));
}

static int dsm_peer_put_u64(struct sk_buff *skb, int attr, atomic64_t *v)
{
	return nla_put_u64_64bit(skb, attr, atomic64_read(v), DSM_PEER_A_PAD);
}

/**
 * dsm_peer_fill() - describe a peer in a netlink message
 * @skb: the message
 * @id:  the peer's node id
 *
 * Return: 0 or -EMSGSIZE.
 */
int dsm_peer_fill(struct sk_buff *skb, u32 id)
{
	struct dsm_peer *peer = &dsm_peers[id];
	struct nlattr *nest;
	u32 state, reason;
	unsigned long since;

	spin_lock_bh(&peer->lock);
	state = peer->state;
	reason = peer->reason;
	since = peer->since;
	spin_unlock_bh(&peer->lock);

	nest = nla_nest_start(skb, DSM_A_PEER);
	if (!nest ||
	    nla_put_u32(skb, DSM_PEER_A_ID, id) ||
	    nla_put_be32(skb, DSM_PEER_A_ADDR, peer->addr) ||
	    nla_put_u16(skb, DSM_PEER_A_PORT, peer->port) ||
	    nla_put_u32(skb, DSM_PEER_A_STATE, state) ||
	    nla_put_u64_64bit(skb, DSM_PEER_A_SINCE_MS,
			      jiffies_to_msecs(jiffies - since), DSM_PEER_A_PAD) ||
	    nla_put_u32(skb, DSM_PEER_A_REASON, reason) ||
	    nla_put_u32(skb, DSM_PEER_A_RTT_US, READ_ONCE(peer->rtt_us)) ||
	    nla_put_u64_64bit(skb, DSM_PEER_A_EPOCH, READ_ONCE(peer->epoch_seen),
			      DSM_PEER_A_PAD) ||
	    dsm_peer_put_u64(skb, DSM_PEER_A_TX_MSGS, &peer->tx_msgs) ||
	    dsm_peer_put_u64(skb, DSM_PEER_A_TX_BYTES, &peer->tx_bytes) ||
	    dsm_peer_put_u64(skb, DSM_PEER_A_RX_MSGS, &peer->rx_msgs) ||
	    dsm_peer_put_u64(skb, DSM_PEER_A_RX_BYTES, &peer->rx_bytes) ||
	    dsm_peer_put_u64(skb, DSM_PEER_A_ERRORS, &peer->errors) ||
	    dsm_peer_put_u64(skb, DSM_PEER_A_RESENT, &peer->resent) ||
	    nla_put_u64_64bit(skb, DSM_PEER_A_UNACKED, READ_ONCE(peer->tx_queued),
			      DSM_PEER_A_PAD)) {
		if (nest)
			nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}
