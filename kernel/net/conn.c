// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: one TCP connection to a peer module.
 *
 * Theory of operation. A connection owns a kernel TCP socket. Its socket
 * callbacks (data ready, state change) run in softirq context and only queue
 * rx_work, taking a reference for it; they find the connection through
 * sk_user_data under sk_callback_lock, which close clears first, so a
 * callback never sees a connection past its close.
 *
 * rx_work reads without blocking: first the fixed header, which it validates
 * completely (magic, version, type, length bounds from dsm_msgs[], sender and
 * receiver ids, handshake stage) before reading a payload byte into a
 * buffer sized for the largest message; then it dispatches through
 * dsm_msgs[]. Any violation closes the connection and counts a bad message.
 *
 * Senders serialise on tx_lock and use blocking sends bounded by the socket's
 * send timeout; a failed or partial send closes the connection. On a peer
 * link, every message carries the acknowledgment of what was received from
 * the peer, and messages of the types marked reliable carry a sequence
 * number: they are delivered once each, in order, whatever link they came
 * on (dsm_conn_deliver; see outbox.c). Requests carry a fresh id; the reply
 * with that id completes them. A join connection's requests (dsm_conn_call)
 * fail when it closes; a peer's (dsm_net_call, peer.c) when the peer is
 * lost, not when one of its links closes. Replies are matched by id.
 *
 * References: the creator's, one per queued rx_work, one for peer->conn,
 * one for the pending list. The last put releases the socket.
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/sock.h>

#include "transport.h"

#define DSM_CONN_DEAD		0
#define DSM_PENDING_MAX		16	/* unidentified or join connections */
#define DSM_IO_TIMEOUT		(5 * HZ)
#define DSM_CONNECT_TIMEOUT	(2 * HZ)
#define DSM_RX_BUDGET		64	/* messages per rx_work run */
#define DSM_RX_STAGE		(32U << 10)	/* bytes read from a socket at once */

static LIST_HEAD(dsm_pending_conns);
static DEFINE_SPINLOCK(dsm_pending_lock);
static u32 dsm_nr_pending;
static atomic64_t dsm_next_req_id = ATOMIC64_INIT(0);
static atomic64_t dsm_conn_serial = ATOMIC64_INIT(0);

/*
 * Our sockets keep the default lockdep class: a class of our own
 * (sock_lock_init_class_and_name) makes each socket pin the module on
 * lockdep kernels, and then rmmod could never run while peers are connected.
 */

static u32 dsm_on_reply(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
			const void *payload);
static u32 dsm_on_ping(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		       const void *payload);
static u32 dsm_on_pong(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		       const void *payload);
static u32 dsm_on_upper(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
			const void *payload);
static u32 dsm_on_ack(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		      const void *payload);

#define DSM_MEMBERS_MAX_LEN \
	(sizeof(struct dsm_wire_members) + DSM_MAX_NODES * sizeof(struct dsm_wire_member))

/**
 * struct dsm_msg_info - what a message type may look like, and its handler
 * @name:      for logs
 * @min:       smallest payload length
 * @max:       largest payload length
 * @handshake: a handshake message (only before the link is up)
 * @join:      allowed on a join connection once it is up
 * @link:      allowed on a peer link once it is up
 * @reliable:  on a peer link: sequenced, resent until acknowledged
 * @handle:    called with a complete, validated message (NULL: handshake);
 *             returns 0 or the DSM_REASON_* to close the connection with;
 *             dsm_on_upper for the types the layers above handle
 */
struct dsm_msg_info {
	const char *name;
	u32 min, max;
	bool handshake, join, link, reliable;
	u32 (*handle)(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		      const void *payload);
};

static const struct dsm_msg_info dsm_msgs[__DSM_MSG_MAX] = {
	[DSM_MSG_HELLO] = { "hello", sizeof(struct dsm_wire_hello),
			    sizeof(struct dsm_wire_hello), true },
	[DSM_MSG_REFUSE] = { "refuse", sizeof(struct dsm_wire_refuse),
			     sizeof(struct dsm_wire_refuse), true },
	[DSM_MSG_AUTH] = { "auth", sizeof(struct dsm_wire_auth),
			   sizeof(struct dsm_wire_auth), true },
	[DSM_MSG_PING] = { "ping", sizeof(struct dsm_wire_ping),
			   sizeof(struct dsm_wire_ping), false, false, true, false,
			   dsm_on_ping },
	[DSM_MSG_PONG] = { "pong", sizeof(struct dsm_wire_ping),
			   sizeof(struct dsm_wire_ping), false, false, true, false,
			   dsm_on_pong },
	[DSM_MSG_JOIN] = { "join", 0, 0, false, true, false, false,
			   dsm_on_upper },
	[DSM_MSG_LEAVE] = { "leave", 0, 0, false, false, true, true,
			    dsm_on_upper },
	[DSM_MSG_REPLY] = { "reply", sizeof(struct dsm_wire_reply),
			    sizeof(struct dsm_wire_reply) +
			    DSM_MAX_NODES * sizeof(struct dsm_wire_member),
			    false, true, true, true, dsm_on_reply },
	[DSM_MSG_MEMBERS] = { "members", sizeof(struct dsm_wire_members),
			      DSM_MEMBERS_MAX_LEN, false, false, true, true,
			      dsm_on_upper },
	[DSM_MSG_PAGE] = { "page", sizeof(struct dsm_wire_page),
			   sizeof(struct dsm_wire_page) + DSM_WIRE_PAGE_SIZE,
			   false, false, true, true, dsm_on_upper },
	[DSM_MSG_REGION] = { "region", sizeof(struct dsm_wire_region),
			     sizeof(struct dsm_wire_region), false, false, true,
			     true, dsm_on_upper },
	[DSM_MSG_REGION_REPLY] = { "region-reply",
				   sizeof(struct dsm_wire_region_reply),
				   sizeof(struct dsm_wire_region_reply),
				   false, false, true, true, dsm_on_reply },
	[DSM_MSG_ACK] = { "ack", 0, 0, false, false, true, false, dsm_on_ack },
	[DSM_MSG_LEAVING] = { "leaving", 0, 0, false, false, true, true,
			      dsm_on_upper },
	[DSM_MSG_BARRIER] = { "barrier", sizeof(struct dsm_wire_barrier),
			      sizeof(struct dsm_wire_barrier), false, false, true,
			      true, dsm_on_upper },
	[DSM_MSG_PAGES] = { "pages", sizeof(struct dsm_wire_page),
			    DSM_WIRE_PAGES_MAX * sizeof(struct dsm_wire_page),
			    false, false, true, true, dsm_on_upper },
	[DSM_MSG_CENSUS] = { "census", sizeof(struct dsm_wire_census),
			     sizeof(struct dsm_wire_census), false, false, true,
			     true, dsm_on_upper },
	[DSM_MSG_FREEZE] = { "freeze", sizeof(struct dsm_wire_freeze),
			     sizeof(struct dsm_wire_freeze), false, false, true,
			     true, dsm_on_upper },
	[DSM_MSG_REPLICA] = { "replica", sizeof(struct dsm_wire_replica),
			      sizeof(struct dsm_wire_replica) + DSM_WIRE_PAGE_SIZE,
			      false, false, true, true, dsm_on_upper },
	[DSM_MSG_LOG] = { "log", sizeof(struct dsm_wire_log),
			  sizeof(struct dsm_wire_log), false, false, true, true,
			  dsm_on_upper },
};

static_assert(sizeof(struct dsm_wire_reply) + DSM_MAX_NODES *
	      sizeof(struct dsm_wire_member) <= DSM_WIRE_MAX_PAYLOAD);

/**
 * dsm_conn_get() - take a reference
 * @conn: the connection
 */
void dsm_conn_get(struct dsm_conn *conn)
{
	kref_get(&conn->ref);
}

static void dsm_conn_release(struct kref *ref)
{
	struct dsm_conn *conn = container_of(ref, struct dsm_conn, ref);

	WARN_ON_ONCE(!test_bit(DSM_CONN_DEAD, &conn->dead));
	pr_debug("conn %p destroyed\n", conn);
	sock_release(conn->sock);
	kvfree(conn->rx_stage);
	dsm_seal_free(conn->tx_seal);
	dsm_seal_free(conn->rx_seal);
	kfree(conn->rx_buf);
	kfree(conn);
}

/**
 * dsm_conn_put() - drop a reference; the last one releases the socket
 * @conn: the connection
 */
void dsm_conn_put(struct dsm_conn *conn)
{
	kref_put(&conn->ref, dsm_conn_release);
}

static void dsm_conn_queue_rx(struct dsm_conn *conn)
{
	dsm_conn_get(conn);
	if (!queue_work(dsm_wq, &conn->rx_work))
		dsm_conn_put(conn);	/* already queued; never the last ref */
}

/* Socket callbacks: softirq context, only queue work. */
static void dsm_sk_data_ready(struct sock *sk)
{
	struct dsm_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn)
		dsm_conn_queue_rx(conn);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void dsm_sk_state_change(struct sock *sk)
{
	struct dsm_conn *conn;
	void (*orig)(struct sock *sk) = NULL;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn) {
		orig = conn->saved_state_change;
		/* rx_work sees the error or the end of the stream */
		dsm_conn_queue_rx(conn);
	}
	read_unlock_bh(&sk->sk_callback_lock);
	if (orig)
		orig(sk);
}

/**
 * dsm_calls_fail() - fail every request waiting on a list with -ECONNRESET
 * @calls: a connection's or a peer's waiting requests
 * @lock:  the lock that protects @calls
 */
void dsm_calls_fail(struct list_head *calls, spinlock_t *lock)
{
	struct dsm_call *call, *tmp;

	spin_lock_bh(lock);
	list_for_each_entry_safe(call, tmp, calls, node) {
		list_del_init(&call->node);
		call->err = -ECONNRESET;
		complete(&call->done);
	}
	spin_unlock_bh(lock);
}

static void dsm_conn_pending_del(struct dsm_conn *conn)
{
	bool was = false;

	spin_lock_bh(&dsm_pending_lock);
	conn->unpended = true;	/* for good: see dsm_conn_accepted() */
	if (!list_empty(&conn->pending)) {
		list_del_init(&conn->pending);
		dsm_nr_pending--;
		was = true;
	}
	spin_unlock_bh(&dsm_pending_lock);
	if (was)
		dsm_conn_put(conn);
}

/**
 * dsm_conn_dead() - has the connection been closed?
 * @conn: the connection
 *
 * Return: true once dsm_conn_close() has begun on it.
 */
bool dsm_conn_dead(const struct dsm_conn *conn)
{
	return test_bit(DSM_CONN_DEAD, &conn->dead);
}

/**
 * dsm_conn_close() - close a connection (idempotent)
 * @conn:   the connection; the caller holds a reference
 * @reason: DSM_REASON_* recorded on the peer
 *
 * Restores the socket's callbacks, shuts the socket down, fails every
 * waiter, and unlinks the connection from the pending list and its peer.
 */
void dsm_conn_close(struct dsm_conn *conn, u32 reason)
{
	struct sock *sk = conn->sock->sk;

	if (test_and_set_bit(DSM_CONN_DEAD, &conn->dead))
		return;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = conn->saved_data_ready;
	sk->sk_state_change = conn->saved_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	kernel_sock_shutdown(conn->sock, SHUT_RDWR);
	dsm_calls_fail(&conn->calls, &conn->calls_lock);
	complete_all(&conn->join_ready);
	dsm_conn_pending_del(conn);
	if (conn->peer)
		dsm_peer_link_lost(conn, reason);
}

/* A peer link that is up: its messages carry sequence numbers and acks. */
static bool dsm_conn_is_link(const struct dsm_conn *conn)
{
	return conn->peer && !conn->join && READ_ONCE(conn->hs) == DSM_HS_UP;
}

static int dsm_conn_xmit(struct dsm_conn *conn, u8 type, u64 req_id, u64 seq,
			 u64 epoch, const void *payload, size_t len, bool more)
{
	struct dsm_wire_hdr hdr = {
		.magic = cpu_to_le32(DSM_WIRE_MAGIC),
		.version = DSM_WIRE_VERSION,
		.type = type,
		.len = cpu_to_le32(len),
		.src = cpu_to_le32(dsm_self_id()),
		.dst = cpu_to_le32(conn->peer ? conn->peer->id : conn->remote_id),
		.epoch = cpu_to_le64(epoch),
		.req_id = cpu_to_le64(req_id),
		.seq = cpu_to_le64(seq),
	};
	struct kvec iov[3] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0) };
	size_t total = sizeof(hdr) + len;
	bool link = dsm_conn_is_link(conn);
	int ret, n = len ? 2 : 1;

	if (test_bit(DSM_CONN_DEAD, &conn->dead))
		return -ENOTCONN;
	mutex_lock(&conn->tx_lock);
	if (link) {
		/* under tx_lock: acks leave in increasing order */
		hdr.ack = cpu_to_le64(READ_ONCE(conn->peer->rx_seq));
		WRITE_ONCE(conn->peer->rx_unacked, 0);
	}
	if (conn->tx_seal) {
		ret = dsm_seal_message(conn->tx_seal, &hdr, payload, len, iov);
		if (ret) {
			mutex_unlock(&conn->tx_lock);
			dsm_conn_close(conn, DSM_REASON_CLOSED);
			return ret;
		}
		n = 3;
		total += DSM_SEAL_TAG;
	}
	ret = kernel_sendmsg(conn->sock, &msg, iov, n, total);
	mutex_unlock(&conn->tx_lock);
	if (ret != total) {
		dsm_conn_close(conn, DSM_REASON_CLOSED);
		return ret < 0 ? ret : -EIO;
	}
	if (conn->peer) {
		atomic64_inc(&conn->peer->tx_msgs);
		atomic64_add(total, &conn->peer->tx_bytes);
	}
	return 0;
}

/**
 * dsm_conn_send() - send one message that is not sequenced (handshake,
 * heartbeat, idle ack, join connections)
 * @conn:    the connection
 * @type:    DSM_MSG_*
 * @req_id:  request id (a reply's is its request's)
 * @payload: @len bytes, may be NULL if @len is 0
 * @len:     payload length
 *
 * Return: 0, or a negative errno after which the connection is closed.
 */
int dsm_conn_send(struct dsm_conn *conn, u8 type, u64 req_id,
		  const void *payload, size_t len)
{
	return dsm_conn_xmit(conn, type, req_id, 0, dsm_net_ops->epoch(),
			     payload, len, false);
}

/**
 * dsm_conn_send_at() - dsm_conn_send() of a handshake message whose header
 * carries @epoch (the handshake proves it)
 * @conn:    the connection
 * @type:    DSM_MSG_*
 * @epoch:   for the header
 * @payload: @len bytes
 * @len:     payload length
 *
 * Return: 0, or a negative errno after which the connection is closed.
 */
int dsm_conn_send_at(struct dsm_conn *conn, u8 type, u64 epoch,
		     const void *payload, size_t len)
{
	return dsm_conn_xmit(conn, type, 0, 0, epoch, payload, len, false);
}

/**
 * dsm_conn_send_seq() - write a queued message on a peer link (outbox.c)
 * @conn: the link
 * @out:  the message, with its sequence number and epoch
 * @more: another message follows at once: let TCP put them in one segment
 *        (MSG_MORE); the last message of a burst goes without it
 *
 * Return: 0, or a negative errno after which the connection is closed.
 */
int dsm_conn_send_seq(struct dsm_conn *conn, const struct dsm_out *out,
		      bool more)
{
	return dsm_conn_xmit(conn, out->type, out->req_id, out->seq, out->epoch,
			     out->payload, out->len, more);
}

/**
 * dsm_conn_has_room() - whether a message of @bytes can be sent at once
 * @conn:  the connection
 * @bytes: header and payload
 *
 * Twice the bytes must be free in the send buffer, for the socket buffers'
 * own overhead. A hint: taken without the socket lock.
 *
 * Return: true if sending would not wait for the peer to read.
 */
bool dsm_conn_has_room(struct dsm_conn *conn, size_t bytes)
{
	return sk_stream_wspace(conn->sock->sk) >= (int)(2 * bytes);
}

/**
 * dsm_conn_call() - send a request and wait for its reply
 * @conn:       the connection
 * @type:       DSM_MSG_*
 * @payload:    request payload
 * @len:        its length
 * @reply:      where the reply payload goes
 * @reply_max:  room at @reply
 * @timeout_ms: how long to wait
 *
 * Return: the reply's length, -ETIMEDOUT, -ECONNRESET if the connection died,
 * -EINTR if the caller was killed, or a send error.
 */
int dsm_conn_call(struct dsm_conn *conn, u8 type, const void *payload,
		  size_t len, void *reply, size_t reply_max,
		  unsigned int timeout_ms)
{
	struct dsm_call call = { .buf = reply, .max = reply_max };
	long left;
	int err;

	init_completion(&call.done);
	call.id = dsm_conn_next_req_id();
	spin_lock_bh(&conn->calls_lock);
	if (test_bit(DSM_CONN_DEAD, &conn->dead)) {
		spin_unlock_bh(&conn->calls_lock);
		return -ENOTCONN;
	}
	list_add_tail(&call.node, &conn->calls);
	spin_unlock_bh(&conn->calls_lock);

	err = dsm_conn_send(conn, type, call.id, payload, len);
	if (!err) {
		left = wait_for_completion_killable_timeout(&call.done,
							    msecs_to_jiffies(timeout_ms));
		err = left > 0 ? call.err : left ? -EINTR : -ETIMEDOUT;
	}
	spin_lock_bh(&conn->calls_lock);
	list_del_init(&call.node);
	spin_unlock_bh(&conn->calls_lock);
	return err ? err : (int)call.len;
}

/**
 * dsm_conn_next_req_id() - a fresh request id
 *
 * Return: an id no other request of this module load has.
 */
u64 dsm_conn_next_req_id(void)
{
	return atomic64_inc_return(&dsm_next_req_id);
}

/* Complete the call @id waiting on @calls with @payload, sent at @epoch. */
static void dsm_complete_call(struct list_head *calls, spinlock_t *lock,
			      u64 id, const void *payload, u32 len, u64 epoch)
{
	struct dsm_call *call;

	spin_lock_bh(lock);
	list_for_each_entry(call, calls, node) {
		if (call->id != id)
			continue;
		call->len = min_t(size_t, len, call->max);
		memcpy(call->buf, payload, call->len);
		call->epoch = epoch;
		list_del_init(&call->node);
		complete(&call->done);
		break;
	}
	spin_unlock_bh(lock);
	/* no waiter: a reply that came after its request timed out */
}

static u32 dsm_on_reply(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
			const void *payload)
{
	u64 id = le64_to_cpu(hdr->req_id);
	u64 epoch = le64_to_cpu(hdr->epoch);
	u32 len = le32_to_cpu(hdr->len);

	if (conn->join)
		dsm_complete_call(&conn->calls, &conn->calls_lock, id, payload,
				  len, epoch);
	else
		dsm_complete_call(&conn->peer->calls, &conn->peer->lock, id,
				  payload, len, epoch);
	return 0;
}

static u32 dsm_on_ack(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		      const void *payload)
{
	return 0;	/* hdr.ack is handled for every message */
}

/*
 * A pong is a round-trip sample and a lease (quorum.c): skipped rather than
 * waited for when the socket is full (a receive handler must not wait, see
 * outbox.c); the next heartbeat renews the lease.
 */
static u32 dsm_on_ping(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		       const void *payload)
{
	if (dsm_quorum_on_ping(conn->peer, payload) &&
	    dsm_conn_has_room(conn, sizeof(*hdr) + sizeof(struct dsm_wire_ping)))
		dsm_conn_send(conn, DSM_MSG_PONG, le64_to_cpu(hdr->req_id),
			      payload, sizeof(struct dsm_wire_ping));
	return 0;
}

static u32 dsm_on_pong(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		       const void *payload)
{
	dsm_peer_pong(conn->peer, payload);
	return 0;
}

/* The handlers of the layers above, one per type (dsm_net_set_handler). */
static dsm_net_handler_t dsm_net_handlers[__DSM_MSG_MAX];

/**
 * dsm_net_set_handler() - register the handler of a message type
 * @type: DSM_MSG_JOIN, LEAVE, MEMBERS, PAGE or REGION
 * @fn:   the handler (see net.h); called for every such message once it
 *        is complete and validated, in order per sender
 *
 * Called at module init, before the listener can start.
 */
void dsm_net_set_handler(u8 type, dsm_net_handler_t fn)
{
	if (!WARN_ON_ONCE(type >= __DSM_MSG_MAX ||
			  dsm_msgs[type].handle != dsm_on_upper))
		dsm_net_handlers[type] = fn;
}

static u32 dsm_on_upper(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
			const void *payload)
{
	dsm_net_handler_t fn = dsm_net_handlers[hdr->type];
	struct dsm_net_msg m = {
		.from = conn->remote_id,
		.type = hdr->type,
		.req_id = le64_to_cpu(hdr->req_id),
		.epoch = le64_to_cpu(hdr->epoch),
		.payload = payload,
		.len = le32_to_cpu(hdr->len),
		.addr = conn->join_addr,
		.port = conn->join_port,
		.conn = conn,
	};

	return fn ? fn(&m) : DSM_REASON_PROTOCOL;
}

/**
 * dsm_net_deliver_local() - deliver a message this node sent itself
 * @out: the message (outbox.c's work item, in order)
 */
void dsm_net_deliver_local(struct dsm_out *out)
{
	dsm_net_handler_t fn = dsm_net_handlers[out->type];
	struct dsm_net_msg m = {
		.from = dsm_self_id(),
		.type = out->type,
		.req_id = out->req_id,
		.epoch = out->epoch,
		.payload = out->payload,
		.len = out->len,
	};

	if (!fn || fn(&m))
		pr_warn_ratelimited("own %s message refused\n",
				    dsm_msgs[out->type].name);
}

/* Everything about a header that can be checked before its payload. */
static int dsm_conn_check_hdr(struct dsm_conn *conn,
			      const struct dsm_wire_hdr *hdr)
{
	const struct dsm_msg_info *info;
	u32 len = le32_to_cpu(hdr->len);
	u32 src = le32_to_cpu(hdr->src);

	if (le32_to_cpu(hdr->magic) != DSM_WIRE_MAGIC || hdr->flags ||
	    hdr->pad)
		return -EPROTO;
	if (hdr->version != DSM_WIRE_VERSION)
		return conn->hs == DSM_HS_UP ? -EPROTO : -EPROTONOSUPPORT;
	if (!hdr->type || hdr->type >= __DSM_MSG_MAX)
		return -EPROTO;
	info = &dsm_msgs[hdr->type];
	if (len < info->min || len > info->max)
		return -EMSGSIZE;
	if (!src || src > DSM_MAX_NODES || src == dsm_self_id())
		return -EPROTO;
	if (conn->hs != DSM_HS_UP)
		return info->handshake && !hdr->seq && !hdr->ack ? 0 : -EPROTO;
	/* established: the sender is who the handshake said */
	if (src != conn->remote_id || le32_to_cpu(hdr->dst) != dsm_self_id())
		return -EPROTO;
	if (conn->join ? !info->join || hdr->seq || hdr->ack :
			 !info->link || !hdr->epoch || !info->reliable != !hdr->seq)
		return -EPROTO;
	return 0;
}

/* Read up to @len bytes without blocking: > 0 read, 0 nothing yet, < 0 end. */
static int dsm_conn_recv_sock(struct dsm_conn *conn, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	int n = kernel_recvmsg(conn->sock, &msg, &iov, 1, len, msg.msg_flags);

	if (n == -EAGAIN)
		return 0;
	return n ? n : -ECONNRESET;	/* 0: the peer closed */
}

/*
 * dsm_conn_recv_sock() through the staging buffer: one socket read takes
 * what has arrived, up to DSM_RX_STAGE bytes (a page message is two reads
 * otherwise, header and payload, each locking the socket).
 */
static int dsm_conn_recv(struct dsm_conn *conn, void *buf, size_t len)
{
	u32 have = conn->rx_stage_end - conn->rx_stage_pos;
	int n;

	if (!have) {
		n = dsm_conn_recv_sock(conn, conn->rx_stage, DSM_RX_STAGE);
		if (n <= 0)
			return n;
		conn->rx_stage_pos = 0;
		conn->rx_stage_end = n;
		have = n;
	}
	n = min_t(size_t, have, len);
	memcpy(buf, conn->rx_stage + conn->rx_stage_pos, n);
	conn->rx_stage_pos += n;
	return n;
}

static void dsm_conn_bad(struct dsm_conn *conn, int err)
{
	dsm_stat_inc(DSM_STAT_BAD_WIRE);
	if (conn->peer)
		atomic64_inc(&conn->peer->errors);
	pr_debug("conn %p: bad message from node %u (%d), closing\n", conn,
		 le32_to_cpu(conn->rx_hdr.src), err);
	if (err == -EPROTONOSUPPORT) {
		struct dsm_wire_refuse r = {
			.reason = cpu_to_le32(DSM_REASON_VERSION),
		};

		dsm_stat_inc(DSM_STAT_HANDSHAKE_REFUSED);
		dsm_conn_send(conn, DSM_MSG_REFUSE, 0, &r, sizeof(r));
	}
	dsm_conn_close(conn, err == -EPROTONOSUPPORT ? DSM_REASON_VERSION :
				   DSM_REASON_PROTOCOL);
}

/**
 * dsm_conn_seal() - seal what follows on a connection (after a keyed
 * handshake, from its receive work)
 * @conn: the connection
 * @tx:   the seal for what this side sends from now on
 * @rx:   the seal for what it receives after the message being handled
 */
void dsm_conn_seal(struct dsm_conn *conn, struct dsm_seal *tx,
		   struct dsm_seal *rx)
{
	conn->rx_seal = rx;
	mutex_lock(&conn->tx_lock);
	conn->tx_seal = tx;
	mutex_unlock(&conn->tx_lock);
}

/* A sealed message did not open: changed, replayed, or not sealed at all. */
static void dsm_conn_forged(struct dsm_conn *conn)
{
	dsm_stat_inc(DSM_STAT_SEAL_FAILED);
	if (conn->peer)
		atomic64_inc(&conn->peer->errors);
	pr_warn_ratelimited("a message from node %u did not open (forged or replayed): closing the connection\n",
			    le32_to_cpu(conn->rx_hdr.src));
	dsm_conn_close(conn, DSM_REASON_FORGED);
}

/*
 * A sequenced message on a peer link: deliver it if it is the next one
 * from the peer, on the peer's current link; drop a duplicate (resent
 * after a reset) or one on a link that was replaced (it is resent on the
 * new one). Return: 0 or the DSM_REASON_* to close with.
 */
static u32 dsm_conn_deliver(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
			    const struct dsm_msg_info *info)
{
	struct dsm_peer *peer = conn->peer;
	u64 seq = le64_to_cpu(hdr->seq), next = 0;
	u32 reason = 0;
	bool mine;

	mutex_lock(&peer->rx_lock);
	/*
	 * One decision, against a link switch (peer->lock) and a reset of
	 * the delivery state (txq_lock): consumed here, or not at all. A
	 * message is consumed even if malformed: a resend must not repeat it.
	 */
	spin_lock_bh(&peer->lock);
	mine = peer->conn == conn;
	if (mine) {
		spin_lock(&peer->txq_lock);
		next = peer->rx_seq + 1;
		if (seq == next)
			WRITE_ONCE(peer->rx_seq, seq);
		spin_unlock(&peer->txq_lock);
	}
	spin_unlock_bh(&peer->lock);
	if (!mine) {
		/* replaced: the new link carries it again */
	} else if (seq < next) {
		dsm_stat_inc(DSM_STAT_MSGS_DUPLICATE);
	} else if (seq > next) {
		reason = DSM_REASON_PROTOCOL;	/* a gap: never on a FIFO link */
	} else {
		reason = info->handle(conn, hdr, conn->rx_buf);
		dsm_out_received(peer);
	}
	mutex_unlock(&peer->rx_lock);
	return reason;
}

static void dsm_conn_dispatch(struct dsm_conn *conn)
{
	const struct dsm_wire_hdr *hdr = &conn->rx_hdr;
	const struct dsm_msg_info *info = &dsm_msgs[hdr->type];
	bool link = dsm_conn_is_link(conn);
	u32 reason;

	if (link) {
		dsm_peer_received(conn->peer, hdr,
				  sizeof(*hdr) + le32_to_cpu(hdr->len) +
				  (conn->rx_seal ? DSM_SEAL_TAG : 0));
		/* (a closed link's acks may refer to a forgotten state) */
		if (!dsm_conn_dead(conn) &&
		    dsm_out_acked(conn->peer, le64_to_cpu(hdr->ack))) {
			dsm_conn_bad(conn, -EPROTO);
			return;
		}
	}
	if (!info->handle)
		reason = dsm_hs_receive(conn, hdr, conn->rx_buf);
	else if (link && info->reliable)
		reason = dsm_conn_deliver(conn, hdr, info);
	else
		reason = info->handle(conn, hdr, conn->rx_buf);
	if (reason == DSM_REASON_PROTOCOL)
		dsm_conn_bad(conn, -EPROTO);
	else if (reason)
		dsm_conn_close(conn, reason);
}

/* One step of reception. Return: 1 to go on, 0 to wait for data, < 0 dead. */
static int dsm_conn_rx_one(struct dsm_conn *conn)
{
	size_t hlen = sizeof(conn->rx_hdr), len;
	int n, err;

	if (conn->rx_got < hlen) {
		n = dsm_conn_recv(conn, (u8 *)&conn->rx_hdr + conn->rx_got,
				  hlen - conn->rx_got);
		if (n <= 0)
			return n;
		conn->rx_got += n;
		if (conn->rx_got < hlen)
			return 1;
		err = dsm_conn_check_hdr(conn, &conn->rx_hdr);
		if (err) {
			dsm_conn_bad(conn, err);
			return err;
		}
	}
	len = le32_to_cpu(conn->rx_hdr.len);
	if (conn->rx_got < hlen + len) {
		n = dsm_conn_recv(conn, conn->rx_buf + conn->rx_got - hlen,
				  hlen + len - conn->rx_got);
		if (n <= 0)
			return n;
		conn->rx_got += n;
		if (conn->rx_got < hlen + len)
			return 1;
	}
	if (conn->rx_seal && conn->rx_got < hlen + len + DSM_SEAL_TAG) {
		n = dsm_conn_recv(conn, conn->rx_tag + conn->rx_got - hlen - len,
				  hlen + len + DSM_SEAL_TAG - conn->rx_got);
		if (n <= 0)
			return n;
		conn->rx_got += n;
		if (conn->rx_got < hlen + len + DSM_SEAL_TAG)
			return 1;
	}
	conn->rx_got = 0;
	if (conn->rx_seal && dsm_seal_open(conn->rx_seal, &conn->rx_hdr,
					   conn->rx_buf, len, conn->rx_tag)) {
		dsm_conn_forged(conn);
		return -EBADMSG;
	}
	dsm_conn_dispatch(conn);
	return test_bit(DSM_CONN_DEAD, &conn->dead) ? -ECONNRESET : 1;
}

static void dsm_conn_rx_work(struct work_struct *work)
{
	struct dsm_conn *conn = container_of(work, struct dsm_conn, rx_work);
	int budget = DSM_RX_BUDGET, ret = 0;

	while (!test_bit(DSM_CONN_DEAD, &conn->dead) && budget--) {
		ret = dsm_conn_rx_one(conn);
		if (ret <= 0)
			break;
	}
	if (ret < 0)	/* a bad message was closed for already, with its reason */
		dsm_conn_close(conn, DSM_REASON_CLOSED);
	else if (ret > 0)
		dsm_conn_queue_rx(conn);	/* budget spent: yield */
	dsm_conn_put(conn);
}

/**
 * dsm_conn_create() - wrap a connected socket
 * @sock:      the socket; owned by the connection from now on
 * @initiator: we connected (else we accepted)
 *
 * Return: the connection with one reference for the caller, or NULL (the
 * socket is then released).
 */
struct dsm_conn *dsm_conn_create(struct socket *sock, bool initiator)
{
	struct dsm_conn *conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	struct sock *sk = sock->sk;

	if (conn)
		conn->rx_buf = kmalloc(DSM_WIRE_MAX_PAYLOAD, GFP_KERNEL);
	if (conn && conn->rx_buf)
		conn->rx_stage = kvmalloc(DSM_RX_STAGE, GFP_KERNEL);
	if (!conn || !conn->rx_stage) {
		if (conn)
			kfree(conn->rx_buf);
		kfree(conn);
		sock_release(sock);
		return NULL;
	}
	kref_init(&conn->ref);
	conn->serial = atomic64_inc_return(&dsm_conn_serial);
	conn->sock = sock;
	conn->initiator = initiator;
	conn->hs = DSM_HS_HELLO;
	conn->deadline = jiffies + msecs_to_jiffies(dsm_dead_timeout_ms());
	INIT_LIST_HEAD(&conn->pending);
	INIT_LIST_HEAD(&conn->calls);
	init_completion(&conn->join_ready);
	INIT_WORK(&conn->rx_work, dsm_conn_rx_work);
	mutex_init(&conn->tx_lock);
	spin_lock_init(&conn->calls_lock);

	tcp_sock_set_nodelay(sk);
	sk->sk_sndtimeo = DSM_IO_TIMEOUT;
	sk->sk_rcvtimeo = DSM_IO_TIMEOUT;
	sk->sk_allocation = GFP_NOFS;

	write_lock_bh(&sk->sk_callback_lock);
	conn->saved_data_ready = sk->sk_data_ready;
	conn->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = conn;
	sk->sk_data_ready = dsm_sk_data_ready;
	sk->sk_state_change = dsm_sk_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	pr_debug("conn %p created\n", conn);
	dsm_conn_queue_rx(conn);	/* data may have arrived already */
	return conn;
}

/**
 * dsm_conn_connect() - open a TCP connection to a peer's listener
 * @addr: IPv4 address, network byte order
 * @port: TCP port
 * @out:  the connected socket
 *
 * Blocks for at most DSM_CONNECT_TIMEOUT.
 *
 * Return: 0 or a negative errno.
 */
int dsm_conn_connect(__be32 addr, u16 port, struct socket **out)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = addr,
		.sin_port = htons(port),
	};
	struct sockaddr_in self = { .sin_family = AF_INET };
	struct dsm_node_config cfg;
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	sock->sk->sk_sndtimeo = DSM_CONNECT_TIMEOUT;
	/*
	 * From this node's own address, which the others record and check
	 * (a host with several addresses would pick one by route otherwise).
	 */
	dsm_node_get(&cfg);
	self.sin_addr.s_addr = cfg.addr;
	err = cfg.addr ? kernel_bind(sock, (struct sockaddr *)&self, sizeof(self)) : 0;
	if (err)
		pr_warn_ratelimited("cannot connect from %pI4, this node's address: %d\n",
				    &cfg.addr, err);
	else
		err = kernel_connect(sock, (struct sockaddr *)&sin, sizeof(sin), 0);
	if (err) {
		sock_release(sock);
		return err;
	}
	*out = sock;
	return 0;
}

/*
 * Fault injection for the selftests: the next accepted connection waits
 * this long between its receive work starting and its listing as pending,
 * so that a connection closed at once is closed in between.
 */
static unsigned int dsm_inject_accept_delay_ms;
module_param_named(inject_accept_delay_ms, dsm_inject_accept_delay_ms, uint, 0600);
MODULE_PARM_DESC(inject_accept_delay_ms,
		 "testing: delay listing the next accepted connection as pending");

/**
 * dsm_conn_source() - the address a connection comes from
 * @conn: the connection
 *
 * Return: the IPv4 address (network byte order), 0 if it cannot be told.
 */
__be32 dsm_conn_source(struct dsm_conn *conn)
{
	struct sockaddr_in sin;

	if (kernel_getpeername(conn->sock, (struct sockaddr *)&sin) < 0 ||
	    sin.sin_family != AF_INET)
		return 0;
	return sin.sin_addr.s_addr;
}

/*
 * The oldest pending connection that does not come from a member's
 * address and is still in its handshake (a join whose handshake is done
 * is being answered), taken off the list (its reference is the caller's),
 * or NULL.
 */
static struct dsm_conn *dsm_conn_evict_stranger(void)
{
	struct dsm_conn *c;

	lockdep_assert_held(&dsm_pending_lock);
	list_for_each_entry(c, &dsm_pending_conns, pending) {
		if (!c->from_member && READ_ONCE(c->hs) != DSM_HS_UP) {
			list_del_init(&c->pending);
			dsm_nr_pending--;
			return c;
		}
	}
	return NULL;
}

/**
 * dsm_conn_accepted() - take an accepted socket on, if there is room
 * @sock: the socket, owned from now on
 *
 * Unidentified connections wait on the pending list, at most
 * DSM_PENDING_MAX of them, each until its handshake deadline; the rest are
 * closed at once and counted, which bounds what a flood of half-open
 * connections can hold. A connection from a member's address (a member
 * linking again) takes the place of the oldest stranger's if need be, so
 * strangers holding every slot cannot keep members apart.
 */
void dsm_conn_accepted(struct socket *sock)
{
	struct dsm_conn *conn, *evicted = NULL;
	bool room;

	conn = dsm_conn_create(sock, false);
	if (!conn)
		return;
	if (unlikely(READ_ONCE(dsm_inject_accept_delay_ms)))
		msleep(xchg(&dsm_inject_accept_delay_ms, 0));
	conn->from_member = dsm_net_addr_is_member(dsm_conn_source(conn));
	spin_lock_bh(&dsm_pending_lock);
	/*
	 * Its receive work runs already: it may have closed the connection
	 * (an end of stream, a refused hello) or become a peer link, and then
	 * it must not be listed (either unlists before it is listed, under
	 * this lock; a link listed would be closed at the handshake deadline).
	 */
	if (conn->unpended || dsm_conn_dead(conn)) {
		spin_unlock_bh(&dsm_pending_lock);
		dsm_conn_put(conn);
		return;
	}
	room = dsm_nr_pending < DSM_PENDING_MAX;
	if (!room && conn->from_member) {
		evicted = dsm_conn_evict_stranger();
		room = !!evicted;
	}
	if (room) {
		dsm_conn_get(conn);
		list_add_tail(&conn->pending, &dsm_pending_conns);
		dsm_nr_pending++;
	}
	spin_unlock_bh(&dsm_pending_lock);
	if (evicted) {
		dsm_stat_inc(DSM_STAT_CONN_REJECTED);
		dsm_conn_close(evicted, DSM_REASON_BUSY);
		dsm_conn_put(evicted);	/* the pending list's */
	}
	if (room) {
		dsm_stat_inc(DSM_STAT_CONN_ACCEPTED);
	} else {
		dsm_stat_inc(DSM_STAT_CONN_REJECTED);
		dsm_conn_close(conn, DSM_REASON_BUSY);
	}
	dsm_conn_put(conn);
}

/**
 * dsm_conn_unpend() - take a connection off the pending list (it became a
 * peer link)
 * @conn: the connection
 */
void dsm_conn_unpend(struct dsm_conn *conn)
{
	dsm_conn_pending_del(conn);
}

/**
 * dsm_conn_pending_expire() - close pending connections past their deadline
 * @all: close every pending connection (shutdown)
 */
void dsm_conn_pending_expire(bool all)
{
	struct dsm_conn *conn, *found;

	do {
		found = NULL;
		spin_lock_bh(&dsm_pending_lock);
		list_for_each_entry(conn, &dsm_pending_conns, pending) {
			if (all || time_after(jiffies, conn->deadline)) {
				dsm_conn_get(conn);
				found = conn;
				break;
			}
		}
		spin_unlock_bh(&dsm_pending_lock);
		if (found) {
			dsm_conn_close(found, DSM_REASON_TIMEOUT);
			dsm_conn_pending_del(found);	/* even if closed before */
			dsm_conn_put(found);
		}
	} while (found);
}
