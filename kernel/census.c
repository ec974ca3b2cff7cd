// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: lost nodes - their pages move to new homes, which rebuild the pages'
 * directory entries from what the survivors hold (a census).
 *
 * Theory of operation. A node is lost when a quorum suspects it (its lease
 * had run out: net/quorum.c), or when it restarted. Its directory entries
 * died with it, but the copies the others hold did not.
 *
 *  - The walk (dsm_pages_node_lost, on every survivor): this node tells
 *    every member that stays (CENSUS BEGIN; a member that had not declared
 *    the node lost follows: dsm_net_declare_lost). Every region's mapping
 *    table is rebuilt without the lost node, as for a leave, and the region
 *    notes it in dsm_region.lost. Then, for each page here that was homed
 *    there: messages kept for the lost home's transactions are dropped; the
 *    copy here, if any, is reported (REPORT: shared or exclusive, owner or
 *    not) to the page's new home; a request in flight is sent again to the
 *    new home with the next token, so that an answer to the old one (data
 *    an owner sent on the lost home's forward) is dropped, not taken. Last,
 *    CENSUS DONE to every member that stays: its reports precede it on
 *    each link.
 *  - At a new home, the page's entry starts empty (@census set; requests
 *    wait in order) and counts the reports: an exclusive copy is the owner
 *    and the only copy; a shared one is the owner if it was, else joins the
 *    copyset. Once every member that stays said DONE (a member lost
 *    meanwhile is not waited for; its copies are forgotten as any lost
 *    node's) and no other census is open here, the entry is final: with
 *    copies but no owner, the copy here, or the lowest id's, becomes the
 *    owner (OWN tells that node); with no copy at all the page is lost for
 *    good (orphan: every request fails), since its only copy, or its
 *    directory's knowledge that it was never written, died with the home.
 *    Then the requests that waited are served.
 *  - A page homed at a lost node that this home first hears of later has
 *    no report (every report precedes its sender's DONE): it is lost
 *    (dsm_census_fresh), also on nodes that learn of the region afterwards
 *    (the wire carries dsm_region.lost). A node that has not done its own
 *    walk yet keeps the reports and requests of nodes that have (their
 *    home set no longer names the lost home) until it has.
 *  - A region whose only home was the lost node has no other: its pages
 *    fail here (every copy is dropped).
 *  - A member that left, or this node leaving, is no loss: it is only
 *    forgotten (its pages moved with the leave). A BEGIN for a node whose
 *    census this node has finished is answered with DONE (its sender may
 *    have joined since this node sent its DONEs).
 *  - Members are trusted: a BEGIN makes the receiver declare the node lost
 *    without a quorum of its own (protocol.md, threat model).
 *  - A page the lost node owned, homed at a survivor that serves no write
 *    of it, with others in its copyset (settling): the copyset names the
 *    nodes the owner sent the page to, or was to send it to when it died,
 *    and only they know which. The home's entry becomes a census entry
 *    (requests wait) that counts its own copy and asks each of them
 *    (QUERY). A node answers (REPORT, SETTLE) once its own walk of the
 *    lost node has begun, when nothing of that node's can reach it any
 *    more (a query that comes before waits in dsm_cpage.settle for the
 *    walk): its copy, or none, or that its read is in flight (PENDING, with
 *    the read's token; the home queues that read again, served once the
 *    entry is final, so the new owner answers it). The entry is final once
 *    every node asked answered or was lost, and the census is closed: as
 *    above, a copy becomes the owner's, or a replica, or the page fails
 *    (the lost owner held it exclusively: the reads in flight then fail
 *    at once, instead of waiting for data that never comes). A page
 *    whose owner died while the home served a write of it is not settled:
 *    the write fails if it was to get the data from the lost owner (an
 *    orphan then, or the home's replica: dsm_census_revive), and
 *    the home asks the nodes whose acks it waits for, itself too
 *    (dsm_census_unwedge): one whose read went to the lost owner kept the
 *    invalidation for later; it drops it and answers that it reads, which
 *    counts as the ack, and its read is queued again behind the write.
 *
 * Why the census is complete: a survivor stops taking messages of the lost
 * node before its walk (the link is closed first), so its report says what
 * it holds for good; what the lost home's transactions still had on the
 * way between survivors is the data an owner sends to a requester, which
 * the requester drops once it asked the new home (next token). An exclusive
 * copy was granted after every other copy acknowledged its invalidation,
 * so reports never show an exclusive copy next to another one (if they
 * did, the page is failed rather than served: counted and logged).
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "coherence/homes.h"
#include "net/wire.h"
#include "pages.h"

#define DSM_CENSUS_BEGIN	1
#define DSM_CENSUS_DONE		2

/*
 * A request asked again of a lost home's successor takes the next token
 * (tokens are odd): an answer with one of the few before it is late, not
 * forged (dsm_census_late_answer).
 */
#define DSM_CENSUS_TXN_STEP	2
#define DSM_CENSUS_TXN_LATE	(8 * DSM_CENSUS_TXN_STEP)

/*
 * Per lost node, while its census is open here (under dsm_census_lock):
 * @need, the members whose DONE is still awaited (known once this node's
 * walk is over, @walked, which stays set until the node is back); @done,
 * those whose DONE came before; @inc, the incarnation declared lost;
 * @started, this node's walk has begun (read locklessly: the node's
 * messages can no longer come, dsm_census_query).
 */
struct dsm_census {
	u64 need;
	u64 done;
	u64 inc;
	bool walked;
	bool started;
};

static DEFINE_MUTEX(dsm_census_lock);
static struct dsm_census dsm_census[DSM_MAX_NODES + 1];
static u64 dsm_census_open;		/* node set; read locklessly */
static unsigned long dsm_census_last;	/* jiffies of the last walk here */

/**
 * dsm_census_open_for() - is the census of lost node @home's pages open
 * here? (its reports and requests of nodes that walked first then wait)
 * @home: a node id
 */
bool dsm_census_open_for(u32 home)
{
	return READ_ONCE(dsm_census_open) & dsm_node_bit(home);
}

/**
 * dsm_census_moving() - is @home lost, with its pages not moved here yet?
 * (a fault on one waits for the walk instead of failing)
 * @home: a node id
 */
bool dsm_census_moving(u32 home)
{
	/* (a member that left, or this node evicted or out, moves nothing) */
	return dsm_members_epoch() && dsm_members_has(home) &&
	       dsm_node_lost(home) && !READ_ONCE(dsm_census[home].walked);
}

/**
 * dsm_census_settling() - is a loss being dealt with here? A member was
 * declared lost and this node has not walked it yet, or a census is open,
 * or the last walk began less than a dead timeout ago: a request that a
 * live home holds up meanwhile (its write waited for the lost node's ack)
 * is not a lost page.
 */
bool dsm_census_settling(void)
{
	unsigned long last = READ_ONCE(dsm_census_last);
	u32 id;

	if (READ_ONCE(dsm_census_open) ||
	    (last && time_before(jiffies, last + msecs_to_jiffies(dsm_dead_timeout_ms()))))
		return true;
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (dsm_census_moving(id))
			return true;
	return false;
}

/**
 * dsm_census_waits() - may a request wait longer? A census is open here,
 * begun less than three dead timeouts ago (a census that waits for a
 * second loss to be declared takes longer than one)
 */
bool dsm_census_waits(void)
{
	unsigned long last = READ_ONCE(dsm_census_last);

	return READ_ONCE(dsm_census_open) &&
	       time_before(jiffies, last + msecs_to_jiffies(3 * dsm_dead_timeout_ms()));
}

/**
 * dsm_census_late_answer() - is @txn the token of an answer to a request
 * this node asked a lost home, and has since asked its successor? Data a
 * forward of the lost home made an owner send may still come: dropped,
 * not a broken peer.
 * @cp:  the page (locked)
 * @txn: the answer's token
 *
 * Return: while the request waits, if @txn is one of the tokens it had
 * before (only the nodes on its old path know them); once it is answered,
 * if a node was lost within four dead timeouts.
 */
bool dsm_census_late_answer(const struct dsm_cpage *cp, u64 txn)
{
	unsigned long last = READ_ONCE(dsm_census_last);
	u64 d = cp->txn - txn;

	if (cp->node.pending)
		return cp->txn && d && d <= DSM_CENSUS_TXN_LATE &&
		       !(d % DSM_CENSUS_TXN_STEP);
	return last && time_before(jiffies, last +
				   msecs_to_jiffies(4 * dsm_dead_timeout_ms()));
}

/* The members that stay, besides this node and @lost. */
static u64 dsm_census_others(u32 lost)
{
	return dsm_members_live_mask() & ~dsm_node_bit(lost) &
	       ~dsm_node_bit(dsm_self_id());
}

/*
 * Send CENSUS @phase about @lost to the nodes in @to; @rx: from a receive
 * handler, which must not wait for a socket. A census waits for every
 * DONE: one is sent however long memory takes.
 */
static void dsm_census_send(u64 to, u32 lost, u8 phase, bool rx)
{
	struct dsm_wire_census c = {
		.lost = cpu_to_le32(lost),
		.phase = phase,
		.inc = cpu_to_le64(READ_ONCE(dsm_census[lost].inc)),
	};
	u32 id;

	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (to & dsm_node_bit(id))
			while (dsm_net_send(id, DSM_MSG_CENSUS, 0, &c, sizeof(c)))
				msleep(20);	/* -ENOMEM */
	if (rx)
		dsm_out_try_flush(to);
	else
		dsm_out_flush_mask(to);
}

/*
 * Open @lost's census here, if it is not, for its incarnation @inc (0:
 * the one this node knows) (dsm_census_lock held).
 */
static void dsm_census_begin(u32 lost, u64 inc)
{
	if (dsm_census_open & dsm_node_bit(lost))
		return;
	memset(&dsm_census[lost], 0, sizeof(dsm_census[lost]));
	dsm_census[lost].inc = inc ?: dsm_net_peer_incarnation(lost);
	WRITE_ONCE(dsm_census_open, dsm_census_open | dsm_node_bit(lost));
}

/* A new owner for an entry with copies and no owner: see the top. */
static void dsm_census_new_owner(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id(), id = 0, i;

	if (cp->dir.copyset & dsm_node_bit(self))
		id = self;
	for (i = 1; !id && i <= DSM_MAX_NODES; i++)
		if (cp->dir.copyset & dsm_node_bit(i))
			id = i;
	cp->dir.owner = id;
	cp->dir.copyset &= ~dsm_node_bit(id);
	if (id == self)
		cp->node.owner = true;
	else
		dsm_pages_send_type(ctx, id, DSM_PAGE_OWN, id);
}

/*
 * Count one copy in a census entry. While the census is open, @dir.waiting
 * names the node that holds the page exclusively (the entry is not busy).
 */
static void dsm_census_count(struct dsm_pages_ctx *ctx, u32 id, u8 state,
			     bool owner)
{
	struct dsm_coh_dir *dir = &ctx->cp->dir;
	u64 bit = dsm_node_bit(id);

	if (dir->waiting || (state == DSM_COH_EXCLUSIVE && (dir->owner || dir->copyset)) ||
	    (owner && dir->owner)) {
		pr_warn_ratelimited("region %#llx page %lu: census found node %u's copy next to an exclusive or owner's one: the page fails\n",
				    ctx->r->key, ctx->index, id);
		dir->orphan = true;
	}
	if (state == DSM_COH_EXCLUSIVE)
		dir->waiting = bit;
	if (owner || state == DSM_COH_EXCLUSIVE)
		dir->owner = id;
	else
		dir->copyset |= bit;
}

/*
 * Count what node @id reports: a copy (@txn: DSM_WIRE_REPORT_*), and a
 * replica of version @version. While the census is open the entry is not
 * busy, and @dir.cur names the newest replica (@from, @value) and the
 * next newest (@requester, @txn): a region has at most two copies, and
 * the newest one's holder may be lost before the census closes.
 */
static void dsm_census_count_report(struct dsm_pages_ctx *ctx, u32 id, u64 txn,
				    u64 version)
{
	struct dsm_coh_msg *best = &ctx->cp->dir.cur;

	if (txn & DSM_WIRE_REPORT_STATE)
		dsm_census_count(ctx, id, txn & DSM_WIRE_REPORT_STATE,
				 txn & DSM_WIRE_REPORT_OWNER);
	if (!(txn & DSM_WIRE_REPORT_REPLICA))
		return;
	if (version > best->value) {
		best->requester = best->from;
		best->txn = best->value;
		best->from = id;
		best->value = version;
	} else if (version > best->txn) {
		best->requester = id;
		best->txn = version;
	}
}

/* What a report says of the copy here: DSM_WIRE_REPORT_STATE and _OWNER. */
static u64 dsm_census_copy(const struct dsm_cpage *cp)
{
	return cp->node.state | (cp->node.owner ? DSM_WIRE_REPORT_OWNER : 0);
}

/* Is a read of the page in flight here, with no copy here? */
static bool dsm_census_reading(const struct dsm_cpage *cp)
{
	return cp->node.pending == DSM_COH_REQ_READ &&
	       cp->node.state == DSM_COH_INVALID && cp->txn;
}

/* REPORT to the page's home (@txn: DSM_WIRE_REPORT_*; @value: see wire.h). */
static void dsm_census_send_report(struct dsm_pages_ctx *ctx, u64 txn, u64 value)
{
	u32 self = dsm_self_id();
	struct dsm_coh_msg m = {
		.type = DSM_PAGE_REPORT,
		.from = self,
		.requester = self,
		.txn = txn,
		.value = value,
	};

	ctx->env.send(&ctx->env, self, ctx->cp->home, &m);
}

/* This node is the new home of a lost home's page: its census starts. */
static void dsm_census_home(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();
	struct dsm_kept *k, *tmp;
	u64 version = dsm_replica_version(ctx->r, ctx->index);

	dsm_coh_dir_init(&cp->dir, self);
	cp->dir.owner = 0;
	cp->census = true;
	cp->settle = 0;
	dsm_census_count_report(ctx, self, dsm_census_copy(cp) |
				(version ? DSM_WIRE_REPORT_REPLICA : 0), version);
	/* reports that came before this node's walk */
	list_for_each_entry_safe(k, tmp, &cp->queued, node) {
		if (k->m.type != DSM_PAGE_REPORT)
			continue;
		dsm_census_count_report(ctx, k->m.from, k->m.txn, k->m.value);
		list_del(&k->node);
		kfree(k);
	}
}

/*
 * The page's home @id was lost; @home is the new one. See the top: the
 * copy here is reported, a request in flight asked again.
 */
static void dsm_census_move(struct dsm_pages_ctx *ctx, u32 home)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();
	struct dsm_coh_msg m;
	u64 version;

	dsm_pages_drop_kept(cp);	/* the lost home's transactions */
	if (home != self)	/* kept for us as the new home: not us after all */
		while (dsm_pages_unkeep(&cp->queued, &m))
			dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
	dsm_cpage_set_home(cp, home);
	version = dsm_replica_version(ctx->r, ctx->index);
	if (home == self) {
		dsm_census_home(ctx);
	} else if (cp->node.state != DSM_COH_INVALID || version) {
		dsm_census_send_report(ctx, dsm_census_copy(cp) |
				       (version ? DSM_WIRE_REPORT_REPLICA : 0), version);
	}
	if (cp->node.pending) {
		if (cp->txn)		/* the next token: see the top */
			cp->txn += DSM_CENSUS_TXN_STEP;
		cp->speculative = false;
		dsm_pages_send_type(ctx, home, cp->node.pending, self);
		dsm_stat_inc(DSM_STAT_REQUESTS_RESENT);
		cp->req_time = jiffies;
		cp->wait_since = jiffies;	/* a new home: a new wait */
	}
}

/* Does a request of node @id wait in the page's queue? */
static bool dsm_census_queued(struct dsm_cpage *cp, u32 id)
{
	struct dsm_kept *k;

	list_for_each_entry(k, &cp->queued, node)
		if (k->m.requester == id && k->m.type != DSM_PAGE_REPORT)
			return true;
	return false;
}

/* Drop the requests and reports of lost node @id that wait here. */
static void dsm_census_drop_queued(struct dsm_cpage *cp, u32 id)
{
	struct dsm_kept *k, *tmp;

	list_for_each_entry_safe(k, tmp, &cp->queued, node) {
		if (k->m.requester == id) {
			list_del(&k->node);
			kfree(k);
		}
	}
}

/*
 * Queue again a read of node @id that went to a lost owner (token @txn):
 * served once the entry is settled, the new owner answers it.
 */
static void dsm_census_reread(struct dsm_cpage *cp, u32 id, u64 txn)
{
	struct dsm_coh_msg m = {
		.type = DSM_COH_REQ_READ,
		.from = id,
		.requester = id,
		.txn = txn,
	};

	if (!dsm_pages_queue(cp, &m))	/* (else it waits here already) */
		dsm_stat_inc(DSM_STAT_CENSUS_REREADS);
}

/*
 * No copy survived, a replica did: its holder becomes the owner with it,
 * exclusive (OWN with DSM_WIRE_OWN_REPLICA).
 */
static void dsm_census_restore(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id(), id = cp->dir.cur.from;
	struct dsm_coh_msg m = {
		.type = DSM_PAGE_OWN,
		.from = self,
		.requester = id,
		.txn = DSM_WIRE_OWN_REPLICA,
	};

	if (id == self) {
		if (!dsm_replica_install(ctx, true))
			return;		/* (none: the page is lost) */
	} else {
		ctx->env.send(&ctx->env, self, id, &m);
	}
	cp->dir.owner = id;
}

/* A census entry that waits for reports: lost node @id's copy is no more. */
static void dsm_census_forget(struct dsm_cpage *cp, u32 id)
{
	u64 bit = dsm_node_bit(id);

	cp->dir.copyset &= ~bit;
	cp->settle &= ~bit;		/* its answer will not come */
	if (cp->dir.owner == id)
		cp->dir.owner = 0;	/* a sharer can take over; else lost */
	cp->dir.waiting &= ~bit;
	if (cp->dir.cur.requester == id) {	/* its replica too */
		cp->dir.cur.requester = 0;
		cp->dir.cur.txn = 0;
	}
	if (cp->dir.cur.from == id) {
		cp->dir.cur.from = cp->dir.cur.requester;
		cp->dir.cur.value = cp->dir.cur.txn;
		cp->dir.cur.requester = 0;
		cp->dir.cur.txn = 0;
	}
}

/**
 * dsm_census_revive() - the page's owner died with its data and no other
 * node holds a copy (struct dsm_coh_env @revive): in a replicated region
 * this home holds the newest version pushed (replica.c); its copy, if it
 * holds one, else that replica becomes the owner's. Its own read that
 * went to the dead owner ends (the copy here answers it; one still
 * queued here is declined when served, dsm_pages_dir_drain).
 * @env:       the page's (in a struct dsm_pages_ctx)
 * @exclusive: no write takes the page from here at once
 *
 * Return: true if this node's copy is the owner's now.
 */
bool dsm_census_revive(struct dsm_coh_env *env, bool exclusive)
{
	struct dsm_pages_ctx *ctx = env->ctx;
	struct dsm_cpage *cp = ctx->cp;

	if (!ctx->r->copies)
		return false;
	/* a forward of this node's page to the dead owner is on its way here */
	if (cp->node.owner && cp->dir.owner != dsm_self_id())
		return false;
	if (cp->node.state != DSM_COH_INVALID)
		cp->node.owner = true;	/* a copy as new as the owner's */
	else if (!dsm_replica_install(ctx, exclusive))
		return false;
	if (cp->node.pending == DSM_COH_REQ_READ && !dsm_census_queued(cp, dsm_self_id()))
		dsm_pages_end_request(cp, false);
	return true;
}

/*
 * Drop the invalidation of the page's home that a read in flight here
 * kept for later (see dsm_census_answer). Return: true if there was one.
 */
static bool dsm_census_drop_inv(struct dsm_cpage *cp)
{
	struct dsm_kept *k, *tmp;
	bool dropped = false;

	list_for_each_entry_safe(k, tmp, &cp->kept, node) {
		if (k->m.type == DSM_COH_INV && k->m.from == cp->home) {
			list_del(&k->node);
			kfree(k);
			dropped = true;
		}
	}
	return dropped;
}

/*
 * Answer the page's home's QUERY: the copy here, or none, or a read in
 * flight (its token), as this node holds them for good (see the top). A
 * read in flight kept the invalidation of a write since: it is dropped,
 * and the answer says so (ACKED): the home counts it as the ack
 * (dsm_census_unwedge).
 */
static void dsm_census_answer(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;
	bool reading = dsm_census_reading(cp);
	u64 txn = DSM_WIRE_REPORT_SETTLE;

	if (!reading)
		txn |= dsm_census_copy(cp);
	else
		txn |= DSM_WIRE_REPORT_PENDING |
		       (dsm_census_drop_inv(cp) ? DSM_WIRE_REPORT_ACKED : 0);
	dsm_census_send_report(ctx, txn, reading ? cp->txn : 0);
}

/* Ask @nodes what they hold of a page whose owner @id died (QUERY). */
static void dsm_census_ask(struct dsm_pages_ctx *ctx, u32 id, u64 nodes)
{
	u32 self = dsm_self_id(), i;
	struct dsm_coh_msg m = {
		.type = DSM_PAGE_QUERY,
		.from = self,
		.requester = self,
		.txn = id,
	};

	for (i = 1; i <= DSM_MAX_NODES; i++)
		if (nodes & dsm_node_bit(i))
			ctx->env.send(&ctx->env, self, i, &m);
	ctx->cp->settle = nodes;
	dsm_stat_inc(DSM_STAT_CENSUS_SETTLES);
}

/*
 * This node is the home of a page whose owner @id died while nodes in its
 * copyset (maybe this one) shared it: see the top. Return: true if the
 * entry is settled by a census of those nodes (it was not busy).
 */
static bool dsm_census_settle(struct dsm_pages_ctx *ctx, u32 id, u64 gone)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id();
	u64 sharers = cp->dir.copyset & ~gone;

	/* (a query of a loss before is still unanswered: not settled) */
	if (cp->dir.busy || cp->dir.owner != id || !sharers || cp->settle)
		return false;
	/* this node's own read that went to @id is asked again (served after) */
	if (dsm_census_reading(cp) && (sharers & dsm_node_bit(self)))
		dsm_census_reread(cp, self, cp->txn);
	dsm_census_home(ctx);	/* its own copy, its replica */
	dsm_census_ask(ctx, id, sharers & ~dsm_node_bit(self));
	return true;
}

/*
 * This node serves a write of a page whose owner @id died, and waits for
 * acks: a node whose read went to @id keeps the invalidation until data
 * that never comes. Ask the nodes it waits for (QUERY): one that is still
 * reading answers so, which counts as its ack (dsm_census_report); its
 * read is served again after the write. This node asks itself too: the
 * query follows the invalidation it sent itself.
 */
static void dsm_census_unwedge(struct dsm_pages_ctx *ctx, u32 id, u64 gone)
{
	struct dsm_cpage *cp = ctx->cp;
	/* (not a forwarded write's requester: its CONFIRM is no ack) */
	u64 waiting = cp->dir.waiting & ~gone & ~dsm_node_bit(cp->dir.cur.requester);

	if (cp->dir.busy && waiting && !cp->settle)
		dsm_census_ask(ctx, id, waiting);
}

struct dsm_lost {
	u32 id;
	u64 gone;			/* @id and every member lost here */
	u64 dirty;
	struct dsm_homes *table;	/* scratch */
};

/* One page here when node @lost->id is lost (page locked). */
static void dsm_census_lost_page(struct dsm_pages_ctx *ctx,
				 const struct dsm_lost *lost)
{
	struct dsm_cpage *cp = ctx->cp;
	u32 self = dsm_self_id(), id = lost->id;
	u64 home = dsm_node_bit(cp->home);

	dsm_census_drop_queued(cp, id);
	if (cp->home != self && (cp->settle & dsm_node_bit(id))) {
		cp->settle &= ~dsm_node_bit(id);
		if (!(lost->gone & home))	/* (a lost home asks nothing) */
			dsm_census_answer(ctx);
	}
	if (cp->home == self && cp->census) {
		dsm_census_forget(cp, id);
	} else if (cp->home == self) {
		bool writing = cp->dir.busy && cp->dir.owner == id;

		cp->settle &= ~dsm_node_bit(id);	/* its answer will not come */
		if (!dsm_census_settle(ctx, id, lost->gone)) {
			dsm_coh_dir_forget(&ctx->env, &cp->dir, self, id, true);
			if (writing)
				dsm_census_unwedge(ctx, id, lost->gone);
			dsm_pages_serve_queued(ctx);
		}
	} else if ((lost->gone & home) && !(READ_ONCE(ctx->r->homes) & home)) {
		dsm_census_move(ctx, dsm_homes_node(ctx->r->table, ctx->r->key,
						    ctx->index));
	} else if (cp->home == id) {
		dsm_pages_drop_copy(ctx);	/* its region's only home: see the top */
	}
}

/* Rebuild @r's mapping table without the lost nodes, then its pages. */
static void dsm_census_lost_region(struct dsm_region *r, void *arg)
{
	struct dsm_lost *lost = arg;
	u64 gone = r->homes & lost->gone, homes = r->homes & ~lost->gone;
	struct dsm_pages_ctx ctx;
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster)
		return;
	if (gone && homes) {
		dsm_replica_touch(r, gone);	/* (from the old table) */
		dsm_homes_build(lost->table, homes);
		down_write(&r->table_lock);	/* see dsm_cpage_get() */
		memcpy(r->table, lost->table, sizeof(*lost->table));
		WRITE_ONCE(r->homes, homes);
		WRITE_ONCE(r->lost, r->lost | gone);
		up_write(&r->table_lock);
	}
	xa_for_each(&r->pages, index, cp) {
		dsm_pages_ctx_init(&ctx, r, cp, index);
		lock_page(cp->page);
		dsm_census_lost_page(&ctx, lost);
		unlock_page(cp->page);
		lost->dirty |= ctx.dirty;
		cond_resched();
	}
}

/* The census entry is final: see the top (page locked). */
static void dsm_census_close_page(struct dsm_pages_ctx *ctx)
{
	struct dsm_cpage *cp = ctx->cp;

	/* a census opened since is not over: closed with it */
	if (!cp->census || READ_ONCE(dsm_census_open) || cp->settle)
		return;
	cp->census = false;
	cp->dir.waiting = 0;
	if (!cp->dir.orphan && !cp->dir.owner && cp->dir.copyset)
		dsm_census_new_owner(ctx);
	else if (!cp->dir.orphan && !cp->dir.owner && cp->dir.cur.from)
		dsm_census_restore(ctx);
	memset(&cp->dir.cur, 0, sizeof(cp->dir.cur));
	if (cp->dir.orphan || !cp->dir.owner) {
		cp->dir.orphan = true;
		cp->dir.owner = dsm_self_id();	/* (never asked: see dir_drain) */
		dsm_stat_inc(DSM_STAT_CENSUS_ORPHANS);
	} else {
		dsm_stat_inc(DSM_STAT_CENSUS_PAGES);
	}
	dsm_pages_serve_queued(ctx);
}

static void dsm_census_close_region(struct dsm_region *r, void *arg)
{
	u64 *dirty = arg;
	struct dsm_pages_ctx ctx;
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster)
		return;
	/* a page being made saw the census open, and is in r->pages now */
	down_write(&r->table_lock);
	up_write(&r->table_lock);
	xa_for_each(&r->pages, index, cp) {
		if (!READ_ONCE(cp->census))
			continue;
		dsm_pages_ctx_init(&ctx, r, cp, index);
		lock_page(cp->page);
		dsm_census_close_page(&ctx);
		unlock_page(cp->page);
		*dirty |= ctx.dirty;
		cond_resched();
	}
}

/* Close @lost's census if every DONE is in (dsm_census_lock held). */
static bool dsm_census_try_close(u32 lost)
{
	struct dsm_census *c = &dsm_census[lost];

	if (!(dsm_census_open & dsm_node_bit(lost)) || !c->walked || c->need)
		return false;
	WRITE_ONCE(dsm_census_open, dsm_census_open & ~dsm_node_bit(lost));
	if (!dsm_node_lost(lost)) {	/* back meanwhile (dsm_census_rejoined) */
		WRITE_ONCE(c->walked, false);
		WRITE_ONCE(c->started, false);
	}
	pr_info("node %u's pages: census complete\n", lost);
	return !dsm_census_open;
}

/*
 * Every census here is closed: the entries waiting for them are final.
 * @rx: from a receive handler (see dsm_census_send).
 */
static void dsm_census_close_all(bool rx)
{
	u64 dirty = 0;

	dsm_regions_for_each(dsm_census_close_region, &dirty);
	if (rx)
		dsm_out_try_flush(dirty);
	else
		dsm_out_flush_mask(dirty);
	wake_up_all(&dsm_pages_wq);
}

/* A node that left, or this node leaving: only what involved it goes. */
static void dsm_census_gone_region(struct dsm_region *r, void *arg)
{
	struct dsm_lost *lost = arg;
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster)
		return;
	xa_for_each(&r->pages, index, cp) {
		dsm_pages_ctx_init(&ctx, r, cp, index);
		lock_page(cp->page);
		if (cp->home == lost->id) {
			dsm_pages_drop_copy(&ctx);	/* nobody coordinates it now */
		} else {
			dsm_census_drop_queued(cp, lost->id);
			if (cp->home == self && cp->census) {
				dsm_census_forget(cp, lost->id);
				dsm_census_close_page(&ctx);
			} else if (cp->home == self) {
				cp->settle &= ~dsm_node_bit(lost->id);
				ctx.env.revive = NULL;	/* no loss: nothing is made again */
				dsm_coh_dir_forget(&ctx.env, &cp->dir, self, lost->id, false);
				dsm_pages_serve_queued(&ctx);
			}
		}
		unlock_page(cp->page);
		lost->dirty |= ctx.dirty;
		cond_resched();
	}
}

/*
 * @lost->id died: open the censuses, rebuild the tables, report and ask
 * again (dsm_census_lost_region), then DONE to the members that stay.
 */
static void dsm_census_walk(struct dsm_lost *lost)
{
	u32 id = lost->id, i;
	u64 opened = 0;

	/* (a walk that gave up would leave pages that wait for it) */
	while (!(lost->table = kvmalloc(sizeof(*lost->table), GFP_KERNEL)))
		msleep(20);
	/*
	 * Every member declared lost here leaves the tables now, not only
	 * @id: a table without @id alone could name another lost node as a
	 * page's new home. Their censuses open with it (their walks follow).
	 */
	lost->gone = (dsm_members_mask() & ~dsm_members_live_mask()) | dsm_node_bit(id);
	mutex_lock(&dsm_census_lock);
	for (i = 1; i <= DSM_MAX_NODES; i++)
		if ((lost->gone & dsm_node_bit(i)) && !dsm_census_open_for(i)) {
			dsm_census_begin(i, 0);
			opened |= dsm_node_bit(i);
		}
	WRITE_ONCE(dsm_census[id].started, true);	/* before any page's lock */
	WRITE_ONCE(dsm_census_last, jiffies ?: 1);
	mutex_unlock(&dsm_census_lock);
	for (i = 1; i <= DSM_MAX_NODES; i++)
		if (opened & dsm_node_bit(i))
			dsm_census_send(dsm_census_others(i), i,
					DSM_CENSUS_BEGIN, false);
	dsm_regions_left(id, true, dsm_census_lost_region, lost);
	kvfree(lost->table);
	dsm_out_flush_mask(lost->dirty);
	dsm_census_send(dsm_census_others(id), id, DSM_CENSUS_DONE, false);
}

/**
 * dsm_pages_node_lost() - a node is gone: stop counting on it, and if it
 * died, move the pages it was home of (see the top)
 * @id:   the node
 * @died: it was lost (else it left, or this node leaves)
 */
void dsm_pages_node_lost(u32 id, bool died)
{
	struct dsm_lost lost = { .id = id };
	bool close = false;
	u32 i;

	if (!id || id == dsm_self_id())
		return;
	dsm_replica_node_lost(id);
	dsm_pages_leave_forget(id);
	if (died) {
		dsm_census_walk(&lost);
	} else {
		dsm_regions_for_each(dsm_census_gone_region, &lost);
		dsm_out_flush_mask(lost.dirty);
	}
	mutex_lock(&dsm_census_lock);
	if (died) {
		WRITE_ONCE(dsm_census[id].walked, true);
		dsm_census[id].need = dsm_census_others(id) & ~dsm_census[id].done;
	}
	for (i = 1; i <= DSM_MAX_NODES; i++) {	/* @id sends no DONE (any more) */
		dsm_census[i].need &= ~dsm_node_bit(id);
		close |= dsm_census_try_close(i);
	}
	mutex_unlock(&dsm_census_lock);
	if (close)
		dsm_census_close_all(false);
	wake_up_all(&dsm_pages_wq);
}

/**
 * dsm_pages_on_census() - DSM_MSG_CENSUS: a member began or finished its
 * census walk for a lost node
 * @m: the message (m->from checked by the transport)
 *
 * Return: 0, or DSM_REASON_PROTOCOL for a malformed one.
 */
u32 dsm_pages_on_census(const struct dsm_net_msg *m)
{
	const struct dsm_wire_census *c = m->payload;
	u32 lost = le32_to_cpu(c->lost);
	u64 inc = le64_to_cpu(c->inc), cur;
	bool close = false, reply = false, declare = false, open, same;
	struct dsm_census *cs;

	if (c->pad[0] || c->pad[1] || c->pad[2] || !lost || lost > DSM_MAX_NODES ||
	    lost == m->from || (c->phase != DSM_CENSUS_BEGIN && c->phase != DSM_CENSUS_DONE))
		return DSM_REASON_PROTOCOL;
	if (lost == dsm_self_id() || !dsm_members_has(lost)) {
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);	/* late, or about us */
		return 0;
	}
	mutex_lock(&dsm_census_lock);
	cs = &dsm_census[lost];
	open = dsm_census_open & dsm_node_bit(lost);
	/* about the incarnation this node's census is (or was) about? */
	same = (open || cs->walked) && (!inc || !cs->inc || inc == cs->inc);
	cur = dsm_net_peer_incarnation(lost);
	if (c->phase == DSM_CENSUS_BEGIN && same) {
		/* done already: it may not have our DONE (it joined since) */
		reply = cs->walked && dsm_node_lost(lost);
	} else if (c->phase == DSM_CENSUS_BEGIN && !open && (!inc || !cur || inc == cur)) {
		dsm_census_begin(lost, inc);
		declare = true;		/* our walk follows */
	} else if (c->phase == DSM_CENSUS_BEGIN || !open || !same) {
		/* an older incarnation's, or no BEGIN came */
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
	} else if (!cs->walked) {
		cs->done |= dsm_node_bit(m->from);
	} else {
		cs->need &= ~dsm_node_bit(m->from);
		close = dsm_census_try_close(lost);
	}
	mutex_unlock(&dsm_census_lock);
	if (reply)
		dsm_census_send(dsm_node_bit(m->from), lost, DSM_CENSUS_DONE, true);
	if (declare)
		dsm_net_declare_lost(lost);
	if (close)
		dsm_census_close_all(true);
	return 0;
}

/**
 * dsm_census_report() - REPORT at the page's home: a survivor's copy for
 * a lost home's census, or an answer to QUERY (SETTLE: settling a lost
 * owner's page, dsm_census_settle, or the write behind it,
 * dsm_census_unwedge)
 * @ctx: the page, locked; this node is its home
 * @m:   the report (m->from == m->requester, checked)
 *
 * Return: 0, or -EPROTO for a census report no census here asked for.
 */
int dsm_census_report(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m)
{
	struct dsm_cpage *cp = ctx->cp;
	u64 bit = dsm_node_bit(m->from);

	if (!(m->txn & DSM_WIRE_REPORT_SETTLE)) {
		if (!cp->census)
			return -EPROTO;
		dsm_census_count_report(ctx, m->from, m->txn, m->value);
		return 0;
	}
	/* an answer to QUERY; its sender may have been forgotten since */
	if (!(cp->settle & bit)) {
		dsm_stat_inc(DSM_STAT_COH_MSGS_DROPPED);
		return 0;
	}
	cp->settle &= ~bit;
	if (cp->census) {	/* dsm_census_settle */
		if (m->txn & DSM_WIRE_REPORT_PENDING)
			dsm_census_reread(cp, m->from, m->value);
		dsm_census_count_report(ctx, m->from, m->txn & (DSM_WIRE_REPORT_STATE |
								DSM_WIRE_REPORT_OWNER), 0);
		dsm_census_close_page(ctx);
		return 0;
	}
	/*
	 * dsm_census_unwedge: a node that dropped the invalidation it had
	 * kept for its read in flight (ACKED) answers for the write being
	 * served (it cannot end without that ack): its read went to the lost
	 * owner. The answer is the ack; the read is served again.
	 */
	if ((m->txn & DSM_WIRE_REPORT_ACKED) && cp->dir.busy &&
	    (cp->dir.waiting & bit)) {
		struct dsm_coh_msg ack = {
			.type = DSM_COH_INV_ACK,
			.from = m->from,
			.requester = cp->dir.cur.requester,
		};

		dsm_census_reread(cp, m->from, m->value);
		if (dsm_coh_dir_receive(&ctx->env, &cp->dir, dsm_self_id(), &ack))
			return -EPROTO;
	}
	return dsm_pages_dir_drain(ctx);
}

/**
 * dsm_census_query() - QUERY: the page's home asks what this node holds of
 * a page whose owner was lost (see the top)
 * @ctx: the page, locked
 * @m:   the query (from the page's home, checked; @m->txn: the lost owner,
 *       a member id other than the sender's and this node's, checked)
 */
void dsm_census_query(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m)
{
	u32 lost = m->txn;

	/* (the home asks itself from its walk: dsm_census_unwedge) */
	if (READ_ONCE(dsm_census[lost].started) || ctx->cp->home == dsm_self_id())
		dsm_census_answer(ctx);
	else	/* its messages may still come: answered by the walk */
		ctx->cp->settle |= dsm_node_bit(lost);
}

/**
 * dsm_census_own() - OWN: the home made this node's copy the owner's, or
 * (DSM_WIRE_OWN_REPLICA) the replica kept here, as the only copy
 * @ctx: the page, locked
 * @m:   the message (from the page's home, checked)
 *
 * Return: 0, or -EPROTO if this node holds no copy (nobody takes one from
 * it without its home), or no replica, or a copy besides the replica.
 */
int dsm_census_own(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m)
{
	struct dsm_cpage *cp = ctx->cp;

	if (m->txn & DSM_WIRE_OWN_REPLICA) {
		/* a read in flight is declined or answered by the home */
		if (cp->node.state != DSM_COH_INVALID || !dsm_replica_install(ctx, true))
			return -EPROTO;
		return 0;
	}
	if (cp->node.state == DSM_COH_INVALID)
		return -EPROTO;
	cp->node.owner = true;
	return 0;
}

/**
 * dsm_census_fresh() - a page homed here gets its entry: was it homed at a
 * lost node before? Then it is no fresh zero page: it waits for the
 * census, or it is lost (see the top)
 * @r:     the region (its table lock held, or the page's lock)
 * @cp:    the page, with this node's home entry just made
 * @index: its index
 */
void dsm_census_fresh(struct dsm_region *r, struct dsm_cpage *cp, pgoff_t index)
{
	u64 lost = READ_ONCE(r->lost);
	u32 first;

	if (!lost)
		return;
	first = dsm_homes_node_of(r->homes | lost, r->key, index);
	if (!(lost & dsm_node_bit(first)))
		return;		/* never homed at a lost node */
	dsm_coh_node_init(&cp->node, false);
	cp->dir.owner = 0;
	if (READ_ONCE(dsm_census_open)) {
		cp->census = true;
	} else {
		cp->dir.orphan = true;
		cp->dir.owner = dsm_self_id();
		dsm_stat_inc(DSM_STAT_CENSUS_ORPHANS);
	}
}

/**
 * dsm_census_rejoined() - node @id is a member again: when it is lost next
 * time, faults on its pages wait for that walk (dsm_census_moving)
 * @id: the node
 */
void dsm_census_rejoined(u32 id)
{
	mutex_lock(&dsm_census_lock);
	if (!(dsm_census_open & dsm_node_bit(id))) {
		WRITE_ONCE(dsm_census[id].walked, false);
		WRITE_ONCE(dsm_census[id].started, false);
	}
	mutex_unlock(&dsm_census_lock);
}

/**
 * dsm_census_reset() - this node left the cluster: no census goes on
 */
void dsm_census_reset(void)
{
	mutex_lock(&dsm_census_lock);
	WRITE_ONCE(dsm_census_open, 0);
	memset(dsm_census, 0, sizeof(dsm_census));
	mutex_unlock(&dsm_census_lock);
}
