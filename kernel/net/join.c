// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the join exchange - one request to a node that this node has no
 * link to (it is not a member yet): connect, handshake flagged JOIN, send
 * JOIN, wait for the reply, close. Membership decides what to do with it.
 */
#include "transport.h"

#define DSM_JOIN_TIMEOUT_MS	5000

static const char *dsm_join_refusal(u32 reason)
{
	switch (reason) {
	case DSM_REASON_VERSION:
		return "the contact speaks another protocol version";
	case DSM_REASON_CLUSTER:
		return "the contact belongs to another cluster (cluster id mismatch)";
	case DSM_REASON_TIMEOUTS:
		return "the contact uses another dead timeout";
	case DSM_REASON_KEY:
		return "cluster key mismatch: one side has a key, the other not";
	case DSM_REASON_AUTH:
		return "cluster key proof failed: the keys differ";
	default:
		return "the contact refused the handshake";
	}
}

/**
 * dsm_net_join() - ask the node at @addr:@port to add this node
 * @addr:      its address, network byte order
 * @port:      its port
 * @reply:     where the REPLY payload goes
 * @reply_max: room at @reply
 * @why:       set to a readable reason when it fails
 *
 * Return: the reply's length, or a negative errno (-ECONNREFUSED: the
 * handshake was refused, -ETIMEDOUT: no handshake or no answer in time).
 */
int dsm_net_join(__be32 addr, u16 port, void *reply, size_t reply_max,
		 const char **why)
{
	struct dsm_conn *conn;
	struct socket *sock;
	long left;
	int n;

	n = dsm_conn_connect(addr, port, &sock);
	if (n) {
		*why = "cannot connect to the contact node";
		return n;
	}
	conn = dsm_conn_create(sock, true);
	if (!conn)
		return -ENOMEM;
	n = dsm_hs_start(conn, 0, true);
	if (!n) {
		left = wait_for_completion_killable_timeout(&conn->join_ready,
							    msecs_to_jiffies(DSM_JOIN_TIMEOUT_MS));
		if (left < 0)
			n = -EINTR;
		else if (conn->hs != DSM_HS_UP)
			n = conn->refused ? -ECONNREFUSED : -ETIMEDOUT;
	}
	if (n == -ECONNREFUSED)
		*why = dsm_join_refusal(conn->refused);
	else if (n == -ETIMEDOUT)
		*why = "no handshake with the contact node";
	if (!n) {
		n = dsm_conn_call(conn, DSM_MSG_JOIN, NULL, 0, reply, reply_max,
				  DSM_JOIN_TIMEOUT_MS);
		if (n < 0)
			*why = "no answer to the join request";
	}
	dsm_conn_close(conn, DSM_REASON_CLOSED);
	dsm_conn_put(conn);
	return n;
}
