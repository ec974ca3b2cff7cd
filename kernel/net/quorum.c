// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: quorum - who may declare a member lost, and when this node stops.
 *
 * Theory of operation. A member is declared lost only when a quorum of
 * the members suspects it, and a node that cannot show a quorum stops
 * mapping and granting pages before any quorum can have declared it lost:
 * so a partition never has a page served on both of its sides.
 *
 *  - Quorum: more than half of the members, or exactly half with the
 *    lowest member id among them (dsm_quorum_of). Any two quorums of one
 *    member list share a member.
 *  - Suspicion: a member silent here for the dead timeout is suspected,
 *    for good: until it is forgotten (lost, or gone). Every ping carries
 *    the members its sender suspects or declared lost. A member that a
 *    quorum suspects, by this node's own view and the last ping of every
 *    other member, is declared lost (dsm_peer_declare_lost).
 *  - Lease: a ping carries the pinger's clock, and its pong echoes it,
 *    except from a node that suspects the pinger or is at another epoch
 *    (the lease is counted against the pinger's member list, which must be
 *    the echoer's). This node's lease runs
 *    until the newest stamp t such that itself and the members that echoed
 *    a stamp >= t make a quorum, plus 3/5 of the dead timeout. A node
 *    alone in its cluster, or in none, needs no lease. When the lease runs
 *    out the node is fenced (ops->fenced): it unmaps the cluster's pages,
 *    its faults wait, and its directories grant nothing, until it holds a
 *    lease again.
 *
 * Why it holds: let a quorum S declare X lost, and X hold a lease on a
 * ping it sent at t, echoed by a quorum L. Some r is in S and L. r echoed
 * the ping, so before it suspected X (it echoes nothing after), so it
 * heard X at t or later and suspected it at t + dead timeout or later: X's
 * lease ended at t + 3/5 of it, and X had 2/5 of the dead timeout to unmap
 * its pages before anyone could count r. A suspicion is never withdrawn,
 * because a declaration may already count it: after an outage between two
 * members that does not make a quorum suspect either, each stops counting
 * toward the other's lease until one of them is forgotten.
 *
 * Member lists change: a lease counted against the old list may outlive
 * the change at the nodes that have not applied it, and two quorums of
 * different lists need not meet. So after a change a loss is declared
 * only by a quorum of the old list too, until every member of both that
 * is not suspected was heard at the new epoch and a lease has run out
 * since (dsm_quorum_settle). A node keeps its lease across a change (for
 * 3/5 of the dead timeout at most, never past what it had) while the new
 * echoes come: new members suspect nobody for a dead timeout.
 *
 * A node the cluster declared lost learns it when its link comes back: the
 * other side no longer knows its incarnation (handshake.c). It is out of
 * the cluster then (ops->evicted) and must join again.
 */
#include <linux/ktime.h>
#include <linux/sort.h>

#include "transport.h"

static DEFINE_SPINLOCK(dsm_lease_lock);
static u64 dsm_lease_until = U64_MAX;	/* ns, ktime_get_ns(); dsm_lease_lock */
static u64 dsm_lease_floor;		/* kept across a membership change */
static bool dsm_lease_stopping;		/* module unload: no more work */
static bool dsm_fenced;			/* the lease work's view */
static bool dsm_lease_lapsed;		/* seen run out (it may be back before the work runs) */
static u64 dsm_fenced_at;		/* ns, when it was fenced */
static struct delayed_work dsm_lease_work;

/* The member lists (node masks), dsm_lease_lock; see the top. */
static u64 dsm_quorum_list;		/* as of the last change */
static u64 dsm_quorum_prev;		/* the last settled list before it */
static bool dsm_quorum_holdoff;		/* losses need a quorum of both */
static unsigned long dsm_quorum_settled_at;	/* jiffies, 0: not yet */

/**
 * dsm_quorum_of() - is @mask a quorum of @list?
 * @mask: node ids, bit id % 64
 * @list: the members
 *
 * More than half of them, or exactly half with the lowest id (bit 0 is
 * node 64, the highest) among them. Any two quorums of @list meet.
 *
 * Return: true if it is one.
 */
static bool dsm_quorum_of(u64 mask, u64 list)
{
	u64 low = list & ~1ULL ? (list & ~1ULL) & -(list & ~1ULL) : list & 1;
	u32 n = hweight64(list), in = hweight64(mask & list);

	return 2 * in > n || (2 * in == n && in && (mask & low));
}

static u64 dsm_lease_ns(void)
{
	return (u64)dsm_dead_timeout_ms() * NSEC_PER_MSEC * 3 / 5;
}

static bool dsm_quorum_member(u32 id)
{
	return id != dsm_self_id() && dsm_net_ops->is_member(id);
}

/**
 * dsm_quorum_suspect() - suspect @peer if it was silent for @dead
 * @peer: a member's peer
 * @dead: the dead timeout, in jiffies
 *
 * Under the peer's lock, as the echo's decision is (dsm_quorum_on_ping):
 * a ping that renewed last_rx either is echoed before this looks at it,
 * or finds the peer suspected and is not echoed.
 */
void dsm_quorum_suspect(struct dsm_peer *peer, unsigned long dead)
{
	bool now;

	spin_lock_bh(&peer->lock);
	now = !peer->suspect && !READ_ONCE(peer->lost) &&
	      time_after(jiffies, READ_ONCE(peer->last_rx) + dead);
	if (now)
		WRITE_ONCE(peer->suspect, true);
	spin_unlock_bh(&peer->lock);
	if (!now)
		return;
	dsm_stat_inc(DSM_STAT_NODES_SUSPECTED);
	pr_info("node %u silent for %u ms: suspected (lost once a quorum agrees)\n",
		peer->id, dsm_dead_timeout_ms());
}

/**
 * dsm_quorum_suspects() - the members this node suspects or declared lost
 *
 * Return: a node mask, bit id % 64.
 */
u64 dsm_quorum_suspects(void)
{
	u64 mask = 0;
	u32 id;

	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (dsm_quorum_member(id) && (READ_ONCE(dsm_peers[id].suspect) ||
					      READ_ONCE(dsm_peers[id].lost)))
			mask |= dsm_node_bit(id);
	return mask;
}

/**
 * dsm_quorum_judge() - declare lost every member this node suspects and a
 * quorum suspects
 *
 * Called by the heartbeat, after it has looked at every peer. Only a node
 * that suspects X itself declares it: a report may be older than X's new
 * incarnation (a node reports X until its link to the new X is up), and
 * a node that hears X has no reason to forget it.
 */
void dsm_quorum_judge(void)
{
	u64 list = dsm_net_ops->members(), prev;
	bool holdoff;
	u32 x, p;

	spin_lock_bh(&dsm_lease_lock);
	holdoff = dsm_quorum_holdoff;
	prev = dsm_quorum_prev;
	spin_unlock_bh(&dsm_lease_lock);
	for (x = 1; x <= DSM_MAX_NODES; x++) {
		u64 mask = dsm_node_bit(dsm_self_id());

		if (!dsm_quorum_member(x) || READ_ONCE(dsm_peers[x].lost) ||
		    !READ_ONCE(dsm_peers[x].suspect))
			continue;
		for (p = 1; p <= DSM_MAX_NODES; p++)
			if (p != x && dsm_quorum_member(p) &&
			    (READ_ONCE(dsm_peers[p].reported) & dsm_node_bit(x)))
				mask |= dsm_node_bit(p);
		if (dsm_quorum_of(mask, list) &&
		    (!holdoff || dsm_quorum_of(mask, prev)))
			dsm_peer_declare_lost(&dsm_peers[x], DSM_REASON_HEARTBEAT);
	}
}

/**
 * dsm_quorum_settle() - end the holdoff after a member list change once
 * every member of both lists not suspected was heard at the new epoch,
 * and a lease has run out since (called by the heartbeat)
 */
void dsm_quorum_settle(void)
{
	u64 both, epoch = dsm_net_ops->epoch();
	bool seen = true;
	u32 id;

	spin_lock_bh(&dsm_lease_lock);
	both = dsm_quorum_prev & dsm_quorum_list;
	spin_unlock_bh(&dsm_lease_lock);
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if ((both & dsm_node_bit(id)) && dsm_quorum_member(id) &&
		    !READ_ONCE(dsm_peers[id].suspect) && !READ_ONCE(dsm_peers[id].lost) &&
		    READ_ONCE(dsm_peers[id].epoch_seen) < epoch)
			seen = false;
	spin_lock_bh(&dsm_lease_lock);
	if (!dsm_quorum_holdoff || !seen)
		dsm_quorum_settled_at = 0;
	else if (!dsm_quorum_settled_at)
		dsm_quorum_settled_at = jiffies | 1;
	else if (time_after(jiffies, dsm_quorum_settled_at +
			    nsecs_to_jiffies(dsm_lease_ns())))
		dsm_quorum_holdoff = false;
	spin_unlock_bh(&dsm_lease_lock);
}

/**
 * dsm_quorum_on_ping() - a member's heartbeat
 * @peer:  its peer
 * @ping:  its ping
 * @epoch: the epoch it was sent at
 *
 * Return: whether to echo it (not to a suspect: see the top).
 */
bool dsm_quorum_on_ping(struct dsm_peer *peer, const struct dsm_wire_ping *ping,
			u64 epoch)
{
	bool echo;

	WRITE_ONCE(peer->reported, le64_to_cpu(ping->suspects));
	spin_lock_bh(&peer->lock);	/* see dsm_quorum_suspect() */
	echo = !peer->suspect && epoch == dsm_net_ops->epoch();
	spin_unlock_bh(&peer->lock);
	return echo;
}

static int dsm_stamp_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? 1 : x > y ? -1 : 0;	/* newest first */
}

/* The lease from the stamps members echoed; U64_MAX if none is needed. */
static u64 dsm_lease_compute(u64 list)
{
	u64 stamps[DSM_MAX_NODES], mask = dsm_node_bit(dsm_self_id()), t;
	u32 n = 0, id, i;

	if (!dsm_net_ops->epoch() || dsm_quorum_of(mask, list))
		return U64_MAX;
	/* stamp << 7 | id: sorted by stamp, each with its node */
	for (id = 1; id <= DSM_MAX_NODES; id++) {
		t = READ_ONCE(dsm_peers[id].lease_ns);
		if (t && dsm_quorum_member(id))
			stamps[n++] = t << 7 | id;
	}
	sort(stamps, n, sizeof(stamps[0]), dsm_stamp_cmp, NULL);
	for (i = 0; i < n; i++) {
		mask |= dsm_node_bit(stamps[i] & 127);
		if (dsm_quorum_of(mask, list))
			return (stamps[i] >> 7) + dsm_lease_ns();
	}
	return 0;
}

/**
 * dsm_net_quorum_update() - count the lease again
 * @changed: the member list just changed (this node joined, or others
 *           did): a lease held until now is kept (see the top), losses
 *           need a quorum of the old list too for a while, and every peer
 *           is pinged now, at the new epoch
 */
void dsm_net_quorum_update(bool changed)
{
	u64 until, old, list = dsm_net_ops->members(), now = ktime_get_ns();

	spin_lock_bh(&dsm_lease_lock);
	old = dsm_lease_until;
	if (!dsm_net_ops->epoch()) {		/* no cluster */
		dsm_quorum_list = 0;
		dsm_quorum_holdoff = false;
	} else if (changed) {
		if (old > now)
			dsm_lease_floor = max(dsm_lease_floor,
					      min(old, now + dsm_lease_ns()));
		if (!dsm_quorum_holdoff)
			dsm_quorum_prev = dsm_quorum_list;
		dsm_quorum_list = list;
		dsm_quorum_holdoff = true;
		dsm_quorum_settled_at = 0;
	}
	until = max(dsm_lease_compute(list), dsm_lease_floor);
	dsm_lease_until = until;
	if (old <= now)
		dsm_lease_lapsed = true;
	if (dsm_lease_stopping)
		;
	else if ((READ_ONCE(dsm_fenced) || dsm_lease_lapsed) && until > now)	/* back */
		mod_delayed_work(dsm_wq, &dsm_lease_work, 0);
	else if (until < old)				/* sooner */
		mod_delayed_work(dsm_wq, &dsm_lease_work,
				 until > now ? nsecs_to_jiffies(until - now) + 1 : 0);
	else if (until != U64_MAX)
		queue_delayed_work(dsm_wq, &dsm_lease_work,
				   nsecs_to_jiffies(until - now) + 1);
	if (changed && !dsm_lease_stopping)
		dsm_peers_ping_now();
	spin_unlock_bh(&dsm_lease_lock);
}

/**
 * dsm_quorum_on_pong() - a member echoed our ping
 * @peer:  its peer
 * @stamp: the stamp it echoed (untrusted: at most now)
 * @epoch: the epoch it echoed at: only one at ours counts (see the top)
 */
void dsm_quorum_on_pong(struct dsm_peer *peer, u64 stamp, u64 epoch)
{
	if (stamp > ktime_get_ns() || stamp <= READ_ONCE(peer->lease_ns) ||
	    epoch != dsm_net_ops->epoch())
		return;
	WRITE_ONCE(peer->lease_ns, stamp);
	dsm_net_quorum_update(false);
}

/**
 * dsm_quorum_forget() - @peer is forgotten: its suspicion, its reports
 * and the lease it gave end
 * @peer: the peer
 */
void dsm_quorum_forget(struct dsm_peer *peer)
{
	WRITE_ONCE(peer->suspect, false);
	WRITE_ONCE(peer->reported, 0);
	WRITE_ONCE(peer->lease_ns, 0);
}

/**
 * dsm_net_fenced() - may this node not map or grant cluster pages now?
 *
 * Return: true from the moment its lease ran out until it holds one again.
 */
bool dsm_net_fenced(void)
{
	if (READ_ONCE(dsm_fenced))
		return true;
	if (ktime_get_ns() < READ_ONCE(dsm_lease_until))
		return false;
	WRITE_ONCE(dsm_lease_lapsed, true);	/* what waits is served at its return */
	return true;
}

/**
 * dsm_net_fenced_ms() - for how long this node has been fenced
 *
 * Return: milliseconds, 0 if it is not.
 */
unsigned int dsm_net_fenced_ms(void)
{
	u64 at = READ_ONCE(dsm_fenced_at), now = ktime_get_ns();

	if (!READ_ONCE(dsm_fenced) || now < at)
		return 0;
	return min_t(u64, (now - at) / NSEC_PER_MSEC, UINT_MAX);
}

/**
 * dsm_net_suspecting() - is a member not declared lost silent here for
 * half the dead timeout, or suspected? Faults that wait on it then wait
 * longer (pages.c): a quorum is to decide on it first.
 *
 * Return: true if so.
 */
bool dsm_net_suspecting(void)
{
	unsigned long doubt = msecs_to_jiffies(dsm_dead_timeout_ms() / 2);
	u32 id;

	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (dsm_quorum_member(id) && !READ_ONCE(dsm_peers[id].lost) &&
		    (READ_ONCE(dsm_peers[id].suspect) ||
		     time_after(jiffies, READ_ONCE(dsm_peers[id].last_rx) + doubt)))
			return true;
	return false;
}

/* The lease ran out, or came back: fence, or end the fence. */
static void dsm_lease_fn(struct work_struct *work)
{
	u64 until = READ_ONCE(dsm_lease_until), now = ktime_get_ns();
	bool fence = now >= until;

	if (!fence && !dsm_fenced && xchg(&dsm_lease_lapsed, false)) {
		dsm_net_ops->fenced(false);	/* back before this ran: serve */
		goto rearm;
	}
	if (fence == dsm_fenced)
		goto rearm;
	if (fence) {
		WRITE_ONCE(dsm_fenced_at, now);
		dsm_stat_inc(DSM_STAT_FENCES);
		pr_warn("no quorum answered for %u ms: fenced (cluster pages are neither mapped nor granted here until a quorum answers)\n",
			(u32)(dsm_lease_ns() / NSEC_PER_MSEC));
	} else {
		pr_info("quorum back after %u ms: fence lifted\n",
			dsm_net_fenced_ms());
		WRITE_ONCE(dsm_lease_lapsed, false);
	}
	WRITE_ONCE(dsm_fenced, fence);
	dsm_net_ops->fenced(fence);
rearm:
	spin_lock_bh(&dsm_lease_lock);
	if (!fence && until != U64_MAX && !dsm_lease_stopping)
		queue_delayed_work(dsm_wq, &dsm_lease_work,
				   nsecs_to_jiffies(until - now) + 1);
	spin_unlock_bh(&dsm_lease_lock);
}

void dsm_quorum_init(void)
{
	INIT_DELAYED_WORK(&dsm_lease_work, dsm_lease_fn);
	dsm_lease_stopping = false;
}

/* At unload, once no link is left: the lease work is not queued again. */
void dsm_quorum_exit(void)
{
	spin_lock_bh(&dsm_lease_lock);
	dsm_lease_stopping = true;
	spin_unlock_bh(&dsm_lease_lock);
	cancel_delayed_work_sync(&dsm_lease_work);
	WRITE_ONCE(dsm_fenced, false);
}
