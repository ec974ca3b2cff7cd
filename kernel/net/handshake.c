// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the connection handshake and the cluster key proof.
 *
 *   initiator                           acceptor
 *   HELLO(nonce_i, cluster, timeouts) ->
 *                                    <- HELLO(nonce_a, ...) or REFUSE(reason)
 *   with a cluster key only:
 *   AUTH(mac_i)                      ->
 *                                    <- AUTH(mac_a) or REFUSE(AUTH)
 *
 * Both sides check the other's HELLO: same cluster id, same dead timeout,
 * both keyed or neither, the expected node ids (a peer link is always
 * initiated by the lower node id and only between members; a join
 * connection is marked as such and may come from a stranger). A mismatch is
 * answered with REFUSE naming the reason, logged, counted and shown by
 * `dsmctl peers`.
 *
 * A peer link's HELLO also says which incarnation of the other side the
 * sender has delivery state for and what it received from it (outbox.c).
 * Both sides see both HELLOs, so they agree on whether the link continues
 * the pair's sequence numbers (each knows the other's current
 * incarnation) or starts them (neither knows the other). Anything else -
 * one side restarted, or declared the other lost - is refused with
 * DSM_REASON_INCARNATION, and the side that still had state forgets the
 * other (dsm_peer_declare_lost); the next attempt starts afresh. But when
 * the other side is the incarnation we knew and no longer knows ours, a
 * quorum declared this node lost (quorum.c): this node is out of the
 * cluster (ops->evicted) and does not start afresh with it. This is
 * decided once the other side is authenticated (after AUTH in a keyed
 * cluster), so a stranger cannot make a node forget a member.
 *
 * mac = HMAC-SHA256(key, "dsm1" | role | cluster id | initiator id |
 * acceptor id | HELLO_i | epoch_i | HELLO_a | epoch_a | auth epoch), role
 * 'I' or 'A': both HELLO payloads as sent, with the epochs of their
 * headers, and the epoch in the header of the AUTH that carries the proof.
 * Each side proves it holds the key over both fresh nonces (in the
 * HELLOs), so a recorded proof cannot be replayed, and over everything the
 * handshake tells (incarnations, what was received, addresses, epochs), so
 * nothing of it can be changed on the way; the proofs are compared in
 * constant time.
 *
 * The same fields up to epoch_a with role 'i' (what the initiator sends) or
 * 'a' (what the acceptor sends), and a final byte 1, give the connection's
 * two session keys: HKDF-Expand (RFC 5869) with the cluster key as the
 * pseudorandom key. Everything after the proofs is sealed with them
 * (seal.c); an initiator that refuses the acceptor's proof does not say
 * so (the acceptor already seals).
 */
#include <crypto/hash.h>
#include <crypto/algapi.h>
#include <linux/random.h>

#include "transport.h"

static DEFINE_MUTEX(dsm_hmac_lock);
static struct crypto_shash *dsm_hmac;	/* NULL: no cluster key */

static const char *const dsm_reason_names[__DSM_REASON_MAX] = {
	[DSM_REASON_NONE] = "none",
	[DSM_REASON_VERSION] = "protocol version mismatch",
	[DSM_REASON_CLUSTER] = "cluster id mismatch",
	[DSM_REASON_NODE] = "unexpected node id",
	[DSM_REASON_NOT_MEMBER] = "not a cluster member",
	[DSM_REASON_TIMEOUTS] = "dead timeout mismatch",
	[DSM_REASON_KEY] = "cluster key on one side only",
	[DSM_REASON_AUTH] = "cluster key proof failed",
	[DSM_REASON_PROTOCOL] = "malformed message",
	[DSM_REASON_HEARTBEAT] = "heartbeat timeout",
	[DSM_REASON_CLOSED] = "connection closed",
	[DSM_REASON_CONNECT] = "connect failed",
	[DSM_REASON_TIMEOUT] = "handshake timeout",
	[DSM_REASON_BUSY] = "too many pending connections",
	[DSM_REASON_LEFT] = "left the cluster",
	[DSM_REASON_REPLACED] = "replaced by a newer connection",
	[DSM_REASON_SHUTDOWN] = "shutting down",
	[DSM_REASON_INCARNATION] = "restarted, or forgot the other side",
	[DSM_REASON_ADDRESS] = "not from the member's address",
	[DSM_REASON_DECLARED] = "declared lost by another member",
	[DSM_REASON_FORGED] = "a sealed message did not open (forged or replayed)",
};

/**
 * dsm_reason_name() - a reason in words
 * @reason: DSM_REASON_*
 *
 * Return: a static string.
 */
const char *dsm_reason_name(u32 reason)
{
	return reason < __DSM_REASON_MAX ? dsm_reason_names[reason] : "?";
}

/**
 * dsm_hs_set_key() - set or clear the cluster key
 * @key: DSM_KEY_LEN bytes, or NULL to clear
 *
 * Return: 0 or a negative errno.
 */
int dsm_hs_set_key(const u8 *key)
{
	struct crypto_shash *tfm = NULL, *old;
	int err;

	if (key) {
		err = dsm_seal_available();
		if (err)
			return err;
		tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
		if (IS_ERR(tfm))
			return PTR_ERR(tfm);
		err = crypto_shash_setkey(tfm, key, DSM_KEY_LEN);
		if (err) {
			crypto_free_shash(tfm);
			return err;
		}
	}
	mutex_lock(&dsm_hmac_lock);
	old = dsm_hmac;
	dsm_hmac = tfm;
	mutex_unlock(&dsm_hmac_lock);
	crypto_free_shash(old);	/* NULL is fine */
	return 0;
}

/**
 * dsm_hs_keyed() - is a cluster key set?
 *
 * Return: true if handshakes prove a key.
 */
bool dsm_hs_keyed(void)
{
	return READ_ONCE(dsm_hmac);
}

/*
 * HMAC-SHA256 with the cluster key over the handshake (see the top): a
 * proof (@role 'I' or 'A', over the epoch in its AUTH's header, @epoch) or
 * a session key (@role 'i' or 'a').
 */
static int dsm_hs_prf(const struct dsm_conn *conn, u8 role, u64 epoch, u8 *out)
{
	bool proof = role == 'I' || role == 'A';
	u32 self = dsm_self_id();
	struct {
		char tag[4];
		u8 role;
		__le64 cluster;
		__le32 initiator, acceptor;
		struct dsm_wire_hello hello_i;
		__le64 epoch_i;
		struct dsm_wire_hello hello_a;
		__le64 epoch_a;
		union {
			__le64 auth_epoch;	/* proofs */
			u8 expand;		/* session keys: 1 */
		};
	} __packed msg = {
		.tag = "dsm1",
		.role = role,
		.cluster = cpu_to_le64(dsm_cluster_id()),
		.initiator = cpu_to_le32(conn->initiator ? self : conn->remote_id),
		.acceptor = cpu_to_le32(conn->initiator ? conn->remote_id : self),
		.hello_i = conn->initiator ? conn->hello_out : conn->hello_in,
		.epoch_i = cpu_to_le64(conn->initiator ? conn->hello_out_epoch :
							 conn->hello_in_epoch),
		.hello_a = conn->initiator ? conn->hello_in : conn->hello_out,
		.epoch_a = cpu_to_le64(conn->initiator ? conn->hello_in_epoch :
							 conn->hello_out_epoch),
	};
	size_t len = proof ? sizeof(msg) : offsetof(typeof(msg), expand) + 1;
	int err = -ENOKEY;

	if (proof)
		msg.auth_epoch = cpu_to_le64(epoch);
	else
		msg.expand = 1;
	mutex_lock(&dsm_hmac_lock);
	if (dsm_hmac) {
		SHASH_DESC_ON_STACK(desc, dsm_hmac);

		desc->tfm = dsm_hmac;
		err = crypto_shash_digest(desc, (u8 *)&msg, len, out);
		shash_desc_zero(desc);
	}
	mutex_unlock(&dsm_hmac_lock);
	return err;
}

static int dsm_hs_send_hello(struct dsm_conn *conn)
{
	struct dsm_node_config cfg;
	struct dsm_wire_hello h = {};

	dsm_node_get(&cfg);
	h.cluster_id = cpu_to_le64(cfg.cluster_id);
	h.dead_timeout_ms = cpu_to_le32(cfg.dead_timeout_ms);
	h.flags = cpu_to_le16((conn->keyed ? DSM_HELLO_KEYED : 0) |
			      (conn->join ? DSM_HELLO_JOIN : 0));
	h.port = cpu_to_le16(cfg.port);
	h.addr = cfg.addr;
	memcpy(h.nonce, conn->nonce, DSM_NONCE_LEN);
	h.incarnation = cpu_to_le64(dsm_out_incarnation());
	if (conn->peer && !conn->join) {
		spin_lock_bh(&conn->peer->txq_lock);
		h.peer_incarnation = cpu_to_le64(conn->peer->peer_inc);
		h.rx_seq = cpu_to_le64(conn->peer->rx_seq);
		spin_unlock_bh(&conn->peer->txq_lock);
	}
	/* as sent, for the key proofs and the session keys */
	conn->hello_out = h;
	conn->hello_out_epoch = dsm_net_ops->epoch();
	return dsm_conn_send_at(conn, DSM_MSG_HELLO, conn->hello_out_epoch,
				&h, sizeof(h));
}

/* A key proof, in the initiator's role or the acceptor's. */
static int dsm_hs_mac(const struct dsm_conn *conn, bool initiator_role,
		      u64 epoch, u8 *mac)
{
	return dsm_hs_prf(conn, initiator_role ? 'I' : 'A', epoch, mac);
}

/* The connection's seals, from its session keys; 0 or a negative errno. */
static int dsm_hs_seals(struct dsm_conn *conn, struct dsm_seal **tx,
			struct dsm_seal **rx)
{
	u8 k_i[DSM_KEY_LEN], k_a[DSM_KEY_LEN];
	int err = dsm_hs_prf(conn, 'i', 0, k_i) ?: dsm_hs_prf(conn, 'a', 0, k_a);

	*tx = *rx = NULL;
	if (!err) {
		*tx = dsm_seal_new(conn->initiator ? k_i : k_a, true);
		*rx = dsm_seal_new(conn->initiator ? k_a : k_i, false);
		err = PTR_ERR_OR_ZERO(*tx) ?: PTR_ERR_OR_ZERO(*rx);
	}
	memzero_explicit(k_i, sizeof(k_i));
	memzero_explicit(k_a, sizeof(k_a));
	if (err) {
		if (!IS_ERR(*tx))
			dsm_seal_free(*tx);
		if (!IS_ERR(*rx))
			dsm_seal_free(*rx);
		*tx = *rx = NULL;
	}
	return err;
}

static int dsm_hs_send_auth(struct dsm_conn *conn)
{
	u64 epoch = dsm_net_ops->epoch();	/* proven too: dsm_peer_up uses it */
	struct dsm_wire_auth a;
	int err = dsm_hs_mac(conn, conn->initiator, epoch, a.mac);

	return err ?: dsm_conn_send_at(conn, DSM_MSG_AUTH, epoch, &a, sizeof(a));
}

/**
 * dsm_hs_start() - begin the handshake on a connection we initiated
 * @conn:    the connection
 * @to_node: the node we expect to reach, 0 for a join contact
 * @join:    a join connection
 *
 * Return: 0 or a negative errno.
 */
int dsm_hs_start(struct dsm_conn *conn, u32 to_node, bool join)
{
	conn->remote_id = to_node;
	conn->join = join;
	conn->keyed = dsm_hs_keyed();
	get_random_bytes(conn->nonce, DSM_NONCE_LEN);
	return dsm_hs_send_hello(conn);
}

/* Refuse a connection without telling the other side. Return: @reason. */
static u32 dsm_hs_refused(struct dsm_conn *conn, u32 src, u32 reason)
{
	dsm_stat_inc(DSM_STAT_HANDSHAKE_REFUSED);
	if (reason == DSM_REASON_AUTH)
		dsm_stat_inc(DSM_STAT_AUTH_FAILED);
	pr_warn_ratelimited("refused a connection from node %u: %s\n", src,
			    dsm_reason_name(reason));
	return reason;
}

/* Refuse a connection, and say why. Return: @reason. */
static u32 dsm_hs_refuse(struct dsm_conn *conn, u32 src, u32 reason)
{
	struct dsm_wire_refuse r = { .reason = cpu_to_le32(reason) };

	dsm_conn_send(conn, DSM_MSG_REFUSE, 0, &r, sizeof(r));
	return dsm_hs_refused(conn, src, reason);
}

/*
 * Does the connection come from the address the member list records for
 * member @id? Without a cluster key, any host that reaches the port could
 * otherwise take over a member's link by claiming its id.
 */
static bool dsm_hs_from_member(struct dsm_conn *conn, u32 id)
{
	__be32 addr;
	u16 port;

	dsm_net_peer_addr(id, &addr, &port);
	return dsm_conn_source(conn) == addr;
}

/* The checks both sides make on the other's HELLO; 0 if it is acceptable. */
static u32 dsm_hs_check_hello(struct dsm_conn *conn,
			      const struct dsm_wire_hdr *hdr,
			      const struct dsm_wire_hello *h)
{
	u32 src = le32_to_cpu(hdr->src), dst = le32_to_cpu(hdr->dst);
	u16 flags = le16_to_cpu(h->flags);
	bool join = flags & DSM_HELLO_JOIN;

	if (flags & ~(DSM_HELLO_KEYED | DSM_HELLO_JOIN))
		return DSM_REASON_PROTOCOL;
	if (le64_to_cpu(h->cluster_id) != dsm_cluster_id())
		return DSM_REASON_CLUSTER;
	if (le32_to_cpu(h->dead_timeout_ms) != dsm_dead_timeout_ms())
		return DSM_REASON_TIMEOUTS;
	if (!!(flags & DSM_HELLO_KEYED) != conn->keyed)
		return DSM_REASON_KEY;
	if (dst != dsm_self_id() && !(join && !dst))
		return DSM_REASON_NODE;
	if (conn->initiator) {
		if (join != conn->join || (!join && src != conn->remote_id))
			return DSM_REASON_NODE;
		return 0;
	}
	if (join)
		return 0;	/* membership is decided by the JOIN request */
	if (src > dsm_self_id())	/* the lower id initiates */
		return DSM_REASON_NODE;
	if (!dsm_net_ops->is_member(src))
		return DSM_REASON_NOT_MEMBER;
	if (!conn->keyed && !dsm_hs_from_member(conn, src))
		return DSM_REASON_ADDRESS;	/* with a key, the proof binds it */
	return 0;
}

/*
 * Once the other side is authenticated (the key proof, where there is a
 * key): does the link continue the pair's delivery state, or start it on
 * both sides? 0 if so, else DSM_REASON_INCARNATION, and this side forgets
 * the peer if it still knew it. dsm_peer_up() installs the link only if
 * the state was not forgotten meanwhile (@gen).
 */
static u32 dsm_hs_check_incarnation(struct dsm_conn *conn, struct dsm_peer *peer)
{
	bool ok, had, evicted;

	spin_lock_bh(&peer->txq_lock);
	had = peer->peer_inc;
	ok = conn->hello_inc &&
	     (had ? peer->peer_inc == conn->hello_inc &&
		    conn->hello_known == dsm_out_incarnation() &&
		    !READ_ONCE(peer->lost) :
		    !conn->hello_known && !conn->hello_rx_seq) &&
	     conn->hello_rx_seq <= peer->tx_seq;
	evicted = had && peer->peer_inc == conn->hello_inc &&
		  conn->hello_known != dsm_out_incarnation();
	conn->hello_gen = peer->gen;
	spin_unlock_bh(&peer->txq_lock);
	if (ok)
		return 0;
	if (evicted) {
		dsm_stat_inc(DSM_STAT_EVICTIONS);
		dsm_net_ops->evicted(peer->id);
	} else if (had) {
		dsm_peer_declare_lost(peer, DSM_REASON_INCARNATION);
	}
	return DSM_REASON_INCARNATION;
}

static u32 dsm_hs_established(struct dsm_conn *conn)
{
	u32 reason;

	conn->hs = DSM_HS_UP;
	if (conn->join) {
		/* a join connection serves one request, then closes */
		complete_all(&conn->join_ready);
		return 0;
	}
	reason = dsm_hs_check_incarnation(conn, conn->peer);
	if (reason) {
		conn->hs = DSM_HS_AUTH;	/* so the refusal goes as one */
		return dsm_hs_refuse(conn, conn->remote_id, reason);
	}
	return dsm_peer_up(conn->peer, conn);
}

static u32 dsm_hs_on_hello(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
			   const struct dsm_wire_hello *h)
{
	u32 src = le32_to_cpu(hdr->src), reason;

	if (conn->hs != DSM_HS_HELLO)
		return DSM_REASON_PROTOCOL;
	if (!conn->initiator) {
		conn->join = le16_to_cpu(h->flags) & DSM_HELLO_JOIN;
		conn->keyed = dsm_hs_keyed();
		get_random_bytes(conn->nonce, DSM_NONCE_LEN);
	}
	reason = dsm_hs_check_hello(conn, hdr, h);
	if (reason)
		return dsm_hs_refuse(conn, src, reason);

	conn->remote_id = src;
	/*
	 * A joiner is recorded at the address it claims only if it comes
	 * from there (else its JOIN is refused, EINVAL): nobody can join in
	 * another host's name, and be taken for it by every member.
	 */
	conn->join_addr = !conn->join || conn->initiator || conn->keyed ||
			  h->addr == dsm_conn_source(conn) ? h->addr : 0;
	conn->join_port = le16_to_cpu(h->port);
	conn->hello_in = *h;
	conn->hello_in_epoch = le64_to_cpu(hdr->epoch);
	conn->hello_inc = le64_to_cpu(h->incarnation);
	conn->hello_known = le64_to_cpu(h->peer_incarnation);
	conn->hello_rx_seq = le64_to_cpu(h->rx_seq);
	if (!conn->initiator && !conn->join)
		conn->peer = &dsm_peers[src];
	if (!conn->initiator) {
		if (dsm_hs_send_hello(conn))
			return DSM_REASON_CLOSED;
	}
	if (!conn->keyed)
		return dsm_hs_established(conn);
	conn->hs = DSM_HS_AUTH;
	if (conn->initiator && dsm_hs_send_auth(conn))
		return DSM_REASON_CLOSED;
	return 0;
}

static u32 dsm_hs_on_auth(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
			  const struct dsm_wire_auth *a)
{
	struct dsm_seal *tx, *rx;
	u8 want[DSM_MAC_LEN];
	int err;

	if (conn->hs != DSM_HS_AUTH)
		return DSM_REASON_PROTOCOL;
	/* the other side's proof is made in the other role */
	if (dsm_hs_mac(conn, !conn->initiator, le64_to_cpu(hdr->epoch), want) ||
	    crypto_memneq(want, a->mac, DSM_MAC_LEN)) {
		memzero_explicit(want, sizeof(want));
		/* the acceptor seals already: a REFUSE in clear would not open */
		if (conn->initiator)
			return dsm_hs_refused(conn, conn->remote_id, DSM_REASON_AUTH);
		return dsm_hs_refuse(conn, conn->remote_id, DSM_REASON_AUTH);
	}
	memzero_explicit(want, sizeof(want));
	err = dsm_hs_seals(conn, &tx, &rx);
	if (err) {
		pr_warn_ratelimited("cannot seal the connection with node %u (%d)\n",
				    conn->remote_id, err);
		return DSM_REASON_CLOSED;
	}
	/* the acceptor's proof goes clear; what follows it, sealed */
	if (!conn->initiator && dsm_hs_send_auth(conn)) {
		dsm_seal_free(tx);
		dsm_seal_free(rx);
		return DSM_REASON_CLOSED;
	}
	dsm_conn_seal(conn, tx, rx);
	return dsm_hs_established(conn);
}

/**
 * dsm_hs_receive() - handle a handshake message
 * @conn:    the connection
 * @hdr:     the validated header
 * @payload: the payload, of the length the dispatch table requires
 *
 * Return: 0, or the DSM_REASON_* to close the connection with.
 */
u32 dsm_hs_receive(struct dsm_conn *conn, const struct dsm_wire_hdr *hdr,
		   const void *payload)
{
	u32 reason;

	switch (hdr->type) {
	case DSM_MSG_HELLO:
		return dsm_hs_on_hello(conn, hdr, payload);
	case DSM_MSG_AUTH:
		return dsm_hs_on_auth(conn, hdr, payload);
	case DSM_MSG_REFUSE:
		reason = le32_to_cpu(((const struct dsm_wire_refuse *)payload)->reason);
		if (!reason || reason >= __DSM_REASON_MAX)
			reason = DSM_REASON_PROTOCOL;
		dsm_stat_inc(DSM_STAT_HANDSHAKE_REFUSED);
		pr_warn_ratelimited("node %u refused our connection: %s\n",
				    le32_to_cpu(hdr->src), dsm_reason_name(reason));
		/*
		 * Unauthenticated: it changes nothing here. (An incarnation
		 * refusal comes after the proofs; this side, seeing the same
		 * HELLOs, refuses and forgets the peer itself.)
		 */
		conn->refused = reason;
		return reason;
	}
	return DSM_REASON_PROTOCOL;
}
