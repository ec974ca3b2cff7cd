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
 *    lowest member id among them (the layer above decides: ops->quorum).
 *    Any two quorums share a member.
 *  - Suspicion: a member silent here for the dead timeout is suspected,
 *    for good: until it is forgotten (lost, or gone). Every ping carries
 *    the members its sender suspects or declared lost. A member that a
 *    quorum suspects, by this node's own view and the last ping of every
 *    other member, is declared lost (dsm_peer_declare_lost).
 *  - Lease: a ping carries the pinger's clock, and its pong echoes it,
 *    except from a node that suspects the pinger. This node's lease runs
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
 * The lease work runs on the high-priority workqueue: it must unmap before
 * 2/5 of the dead timeout have passed, also on a node whose CPUs are busy.
 * Faults and directories also check the lease's clock themselves.
 *
 * Not covered: leases and declarations are counted against each node's own
 * member list, and quorums of two lists need not meet, so a change of the
 * list while a member is suspected can break the argument (membership.md).
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
static bool dsm_lease_lapsed;		/* ran out, maybe back before the work ran */
static u64 dsm_fenced_at;		/* ns, when it was fenced */
static struct delayed_work dsm_lease_work;

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
	u32 x, p;

	for (x = 1; x <= DSM_MAX_NODES; x++) {
		u64 mask = dsm_node_bit(dsm_self_id());

		if (!dsm_quorum_member(x) || READ_ONCE(dsm_peers[x].lost) ||
		    !READ_ONCE(dsm_peers[x].suspect))
			continue;
		for (p = 1; p <= DSM_MAX_NODES; p++)
			if (p != x && dsm_quorum_member(p) &&
			    (READ_ONCE(dsm_peers[p].reported) & dsm_node_bit(x)))
				mask |= dsm_node_bit(p);
		if (dsm_net_ops->quorum(mask))
			dsm_peer_declare_lost(&dsm_peers[x], DSM_REASON_HEARTBEAT);
	}
}

/**
 * dsm_quorum_on_ping() - a member's heartbeat
 * @peer: its peer
 * @ping: its ping
 *
 * Return: whether to echo it (not to a suspect: see the top).
 */
bool dsm_quorum_on_ping(struct dsm_peer *peer, const struct dsm_wire_ping *ping)
{
	bool echo;

	WRITE_ONCE(peer->reported, le64_to_cpu(ping->suspects));
	spin_lock_bh(&peer->lock);	/* see dsm_quorum_suspect() */
	echo = !peer->suspect;
	spin_unlock_bh(&peer->lock);
	return echo;
}

static int dsm_stamp_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? 1 : x > y ? -1 : 0;	/* newest first */
}

/* The lease from the stamps members echoed; U64_MAX if none is needed. */
static u64 dsm_lease_compute(void)
{
	u64 stamps[DSM_MAX_NODES], mask = dsm_node_bit(dsm_self_id()), t;
	u32 n = 0, id, i;

	if (!dsm_net_ops->epoch() || dsm_net_ops->quorum(mask))
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
		if (dsm_net_ops->quorum(mask))
			return (stamps[i] >> 7) + dsm_lease_ns();
	}
	return 0;
}

/*
 * Have the lease work run when the lease runs out, or now if the fence is
 * to be put up or lifted (dsm_lease_lock held).
 */
static void dsm_lease_arm(u64 until, u64 now)
{
	bool out = now >= until;

	if (dsm_lease_stopping)
		return;
	/* high priority: it must unmap before anyone can count us lost */
	if (READ_ONCE(dsm_fenced) != out || (READ_ONCE(dsm_lease_lapsed) && !out))
		mod_delayed_work(system_highpri_wq, &dsm_lease_work, 0);
	else if (until > now && until != U64_MAX)
		mod_delayed_work(system_highpri_wq, &dsm_lease_work,
				 nsecs_to_jiffies(until - now) + 1);
}

/**
 * dsm_net_quorum_update() - count the lease again
 * @changed: the member list just changed (this node joined, or others
 *           did): a lease held until now is kept, for 3/5 of the dead
 *           timeout at most, while the new members' echoes come. This is
 *           safe: a new member suspects nobody before a dead timeout has
 *           passed, and a quorum of the new list without new members is
 *           a quorum of the old one.
 */
void dsm_net_quorum_update(bool changed)
{
	u64 until, old, now = ktime_get_ns();

	spin_lock_bh(&dsm_lease_lock);
	old = dsm_lease_until;
	if (!dsm_net_ops->epoch())
		dsm_lease_floor = 0;	/* of a cluster left, maybe of another dead timeout */
	else if (changed && old > now)
		dsm_lease_floor = max(dsm_lease_floor,
				      min(old, now + dsm_lease_ns()));
	until = max(dsm_lease_compute(), dsm_lease_floor);
	dsm_lease_until = until;
	dsm_lease_arm(until, now);
	spin_unlock_bh(&dsm_lease_lock);
}

/**
 * dsm_quorum_on_pong() - a member echoed our ping
 * @peer:  its peer
 * @stamp: the stamp it echoed (untrusted: at most now)
 */
void dsm_quorum_on_pong(struct dsm_peer *peer, u64 stamp)
{
	if (stamp > ktime_get_ns() || stamp <= READ_ONCE(peer->lease_ns))
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
	WRITE_ONCE(dsm_lease_lapsed, true);	/* see dsm_lease_fn() */
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

	/*
	 * The lease ran out and came back before this ran: what a directory
	 * refused meanwhile (dsm_pages_dir_drain) is served now.
	 */
	if (!fence && !dsm_fenced && xchg(&dsm_lease_lapsed, false)) {
		dsm_net_ops->fenced(false);
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
	}
	WRITE_ONCE(dsm_fenced, fence);
	if (!fence)
		WRITE_ONCE(dsm_lease_lapsed, false);
	dsm_net_ops->fenced(fence);
rearm:
	spin_lock_bh(&dsm_lease_lock);
	dsm_lease_arm(READ_ONCE(dsm_lease_until), ktime_get_ns());
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
