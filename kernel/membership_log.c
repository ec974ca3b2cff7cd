// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the member list as a log of epochs that a quorum commits (see
 * membership_log.h for the theory of operation). Pure C: built into the
 * userspace simulation, selftests/unit/epoch_sim.c.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "membership_log.h"

/**
 * dsm_mlog_bit() - node @node's bit in a node set
 * @node: 1..64
 *
 * Return: the bit.
 */
u64 dsm_mlog_bit(u32 node)
{
	return 1ULL << (node % DSM_MLOG_MAX_NODES);
}

/**
 * dsm_mlog_quorum() - is @set a quorum of @list?
 * @list: the members
 * @set:  the nodes that answered
 *
 * More than half of @list, or exactly half with its lowest id among them
 * (one side of an even split, and the lower of two nodes, goes on). Any
 * two quorums of one list share a member.
 *
 * Return: true if it is one.
 */
bool dsm_mlog_quorum(u64 list, u64 set)
{
	int n = 0, in = 0;
	u32 id, lowest = 0;

	for (id = 1; id <= DSM_MLOG_MAX_NODES; id++) {
		if (!(list & dsm_mlog_bit(id)))
			continue;
		if (!lowest)
			lowest = id;
		n++;
		in += !!(set & dsm_mlog_bit(id));
	}
	return 2 * in > n || (in && 2 * in == n && (set & dsm_mlog_bit(lowest)));
}

/**
 * dsm_mlog_apply() - make a change to a list
 * @list: the list
 * @c:    the change (a node that joins again changes its incarnation)
 */
void dsm_mlog_apply(struct dsm_mlog_list *list, const struct dsm_mlog_change *c)
{
	if (!c->node || c->node > DSM_MLOG_MAX_NODES)
		return;
	if (c->op == DSM_MLOG_JOIN) {
		list->members |= dsm_mlog_bit(c->node);
		list->inc[c->node] = c->inc;
	} else if (c->op == DSM_MLOG_LEAVE) {
		list->members &= ~dsm_mlog_bit(c->node);
		list->inc[c->node] = 0;
	}
}

/**
 * dsm_mlog_names() - does @list name node @node as incarnation @inc?
 * @list: the list
 * @node: a node id
 * @inc:  its incarnation
 *
 * Return: true if so.
 */
bool dsm_mlog_names(const struct dsm_mlog_list *list, u32 node, u64 inc)
{
	return node && node <= DSM_MLOG_MAX_NODES &&
	       (list->members & dsm_mlog_bit(node)) && list->inc[node] == inc;
}

/**
 * dsm_mlog_init() - a node that is no member yet
 * @log:  its log
 * @self: its id
 * @inc:  its incarnation
 */
void dsm_mlog_init(struct dsm_mlog *log, u32 self, u64 inc)
{
	memset(log, 0, sizeof(*log));
	log->self = self;
	log->inc = inc;
}

static void dsm_mlog_send(struct dsm_mlog *log, struct dsm_mlog_env *env,
			  u32 to, u8 type, u64 epoch, u64 term)
{
	struct dsm_mlog_msg m = {
		.type = type,
		.from = log->self,
		.epoch = epoch,
		.term = term,
	};

	switch (type) {
	case DSM_MLOG_PROMISE:
		m.acc_term = log->acc_term;
		m.change = log->acc;
		break;
	case DSM_MLOG_ACCEPT:
		m.change = log->value;
		break;
	case DSM_MLOG_NACK:
		m.epoch = log->epoch;
		m.term = log->promised;
		break;
	case DSM_MLOG_COMMIT:	/* (also the last list of a node that left) */
		m.epoch = log->floor;
		m.list = log->list;
		m.change = log->last;
		break;
	}
	env->send(env, to, &m);
}

/* Send to every node of @set. */
static void dsm_mlog_send_all(struct dsm_mlog *log, struct dsm_mlog_env *env,
			      u64 set, u8 type, u64 epoch, u64 term)
{
	u32 id;

	for (id = 1; id <= DSM_MLOG_MAX_NODES; id++)
		if (set & dsm_mlog_bit(id))
			dsm_mlog_send(log, env, id, type, epoch, term);
}

static bool dsm_mlog_same(const struct dsm_mlog_change *a,
			  const struct dsm_mlog_change *b)
{
	return a->op == b->op && a->node == b->node && a->inc == b->inc &&
	       a->addr == b->addr && a->port == b->port;
}

/*
 * Epoch @epoch's list is @list, by @change: this node's now. Return:
 * what the caller is told.
 */
static int dsm_mlog_adopt(struct dsm_mlog *log, u64 epoch,
			  const struct dsm_mlog_list *list,
			  const struct dsm_mlog_change *change)
{
	int ret = DSM_MLOG_APPLIED;

	if (log->phase != DSM_MLOG_IDLE) {
		log->phase = DSM_MLOG_IDLE;
		ret |= dsm_mlog_same(change, &log->want) &&
		       epoch == log->epoch + 1 ? DSM_MLOG_DONE : DSM_MLOG_GAVE_UP;
	}
	log->epoch = epoch;
	if (epoch > log->floor)
		log->floor = epoch;
	log->list = *list;
	log->last = *change;
	log->promised = 0;	/* a new instance */
	log->acc_term = 0;
	if (!dsm_mlog_names(list, log->self, log->inc))
		log->epoch = 0;	/* removed: no member any more */
	return ret;
}

/**
 * dsm_mlog_form() - make a cluster of this node alone: epoch 1
 * @log: its log, of an incarnation that was never a member
 *
 * Return: 0, or -EALREADY if this incarnation was a member once.
 */
int dsm_mlog_form(struct dsm_mlog *log)
{
	struct dsm_mlog_change self = {
		.op = DSM_MLOG_JOIN,
		.node = log->self,
		.inc = log->inc,
	};
	struct dsm_mlog_list list = { 0 };

	if (log->floor)
		return -EALREADY;	/* a list of this incarnation's may still come */
	dsm_mlog_apply(&list, &self);
	dsm_mlog_adopt(log, 1, &list, &self);
	return 0;
}

/**
 * dsm_mlog_propose() - start to make a change
 * @log:  this node's log
 * @env:  the caller
 * @want: the change
 *
 * Return: 0 (the outcome comes with dsm_mlog_receive(): DSM_MLOG_DONE or
 * DSM_MLOG_GAVE_UP), -ENOTCONN if this node is no member, -EBUSY while a
 * proposal of its own is open, -EINVAL for a node id out of 1..64,
 * -EALREADY for a change that changes nothing (a leave of a node that is
 * no member).
 */
int dsm_mlog_propose(struct dsm_mlog *log, struct dsm_mlog_env *env,
		     const struct dsm_mlog_change *want)
{
	u64 top;

	if (!log->epoch)
		return -ENOTCONN;
	if (log->phase != DSM_MLOG_IDLE)
		return -EBUSY;
	if (!want->node || want->node > DSM_MLOG_MAX_NODES)
		return -EINVAL;
	if (want->op == DSM_MLOG_LEAVE && !(log->list.members & dsm_mlog_bit(want->node)))
		return -EALREADY;
	top = log->seen > log->promised ? log->seen : log->promised;
	log->term = (((top >> DSM_MLOG_TERM_SHIFT) + 1) << DSM_MLOG_TERM_SHIFT) |
		    log->self;
	log->seen = log->term;
	log->want = *want;
	log->value = *want;
	log->best_term = 0;
	log->answered = 0;
	log->phase = DSM_MLOG_PREPARING;
	dsm_mlog_send_all(log, env, log->list.members, DSM_MLOG_PREPARE,
			  log->epoch + 1, log->term);
	return 0;
}

/*
 * A member's vote for epoch @m->epoch: PREPARE (@accept false) or ACCEPT.
 * Return: 0.
 */
static int dsm_mlog_vote(struct dsm_mlog *log, struct dsm_mlog_env *env,
			 const struct dsm_mlog_msg *m, bool accept)
{
	if (m->epoch <= log->epoch) {	/* the proposer is behind */
		dsm_mlog_send(log, env, m->from, DSM_MLOG_COMMIT, 0, 0);
		return 0;
	}
	if (m->epoch != log->epoch + 1 || m->term < log->promised) {
		dsm_mlog_send(log, env, m->from, DSM_MLOG_NACK, 0, 0);
		return 0;
	}
	log->promised = m->term;
	if (accept) {
		log->acc_term = m->term;
		log->acc = m->change;
	}
	dsm_mlog_send(log, env, m->from, accept ? DSM_MLOG_ACCEPTED : DSM_MLOG_PROMISE,
		      m->epoch, m->term);
	return 0;
}

/*
 * A quorum accepted this node's proposal: the change is the next epoch's.
 * COMMIT to the members of both lists, this node applies it.
 */
static int dsm_mlog_commit(struct dsm_mlog *log, struct dsm_mlog_env *env)
{
	struct dsm_mlog_change change = log->value;
	struct dsm_mlog_list next = log->list;
	u64 old = log->list.members;
	int ret;

	dsm_mlog_apply(&next, &change);
	ret = dsm_mlog_adopt(log, log->epoch + 1, &next, &change);
	/* (also if this node left: the list and epoch stay its last) */
	dsm_mlog_send_all(log, env, (old | next.members) & ~dsm_mlog_bit(log->self),
			  DSM_MLOG_COMMIT, 0, 0);
	return ret;
}

/* An answer to this node's proposal: PROMISE or ACCEPTED. */
static int dsm_mlog_tally(struct dsm_mlog *log, struct dsm_mlog_env *env,
			  const struct dsm_mlog_msg *m)
{
	u8 phase = m->type == DSM_MLOG_PROMISE ? DSM_MLOG_PREPARING : DSM_MLOG_ACCEPTING;

	if (log->phase != phase || m->term != log->term ||
	    m->epoch != log->epoch + 1 || !(log->list.members & dsm_mlog_bit(m->from)))
		return 0;	/* late, duplicate or not a voter */
	log->answered |= dsm_mlog_bit(m->from);
	if (phase == DSM_MLOG_PREPARING && m->acc_term > log->best_term) {
		log->best_term = m->acc_term;	/* maybe chosen: propose it again */
		log->value = m->change;
	}
	if (!dsm_mlog_quorum(log->list.members, log->answered))
		return 0;
	log->answered = 0;
	if (phase == DSM_MLOG_PREPARING) {
		log->phase = DSM_MLOG_ACCEPTING;
		dsm_mlog_send_all(log, env, log->list.members, DSM_MLOG_ACCEPT,
				  log->epoch + 1, log->term);
		return 0;
	}
	return dsm_mlog_commit(log, env);
}

/**
 * dsm_mlog_receive() - a message of the log
 * @log: this node's log
 * @env: the caller
 * @m:   the message (its sender is the caller's to vouch for)
 *
 * Return: a mask of DSM_MLOG_APPLIED (a newer list is this node's: the
 * caller applies @log->list at @log->epoch; epoch 0 if this node is
 * no member any more), DSM_MLOG_DONE and DSM_MLOG_GAVE_UP (this node's
 * proposal ended with or without its change), or 0.
 */
int dsm_mlog_receive(struct dsm_mlog *log, struct dsm_mlog_env *env,
		     const struct dsm_mlog_msg *m)
{
	if (!m->from || m->from > DSM_MLOG_MAX_NODES)
		return 0;
	if (m->term > log->seen && m->type != DSM_MLOG_COMMIT)
		log->seen = m->term;
	switch (m->type) {
	case DSM_MLOG_PREPARE:
	case DSM_MLOG_ACCEPT:
		if (!log->epoch) {	/* no member: no vote, but its last list */
			dsm_mlog_catch_up(log, env, m->from);
			return 0;
		}
		return dsm_mlog_vote(log, env, m, m->type == DSM_MLOG_ACCEPT);
	case DSM_MLOG_PROMISE:
	case DSM_MLOG_ACCEPTED:
		return dsm_mlog_tally(log, env, m);
	case DSM_MLOG_COMMIT:
		/*
		 * Any newer list: one that does not name this incarnation
		 * keeps it no member (dsm_mlog_adopt), and raises @floor.
		 */
		if (m->epoch <= log->floor)
			return 0;
		return dsm_mlog_adopt(log, m->epoch, &m->list, &m->change);
	case DSM_MLOG_NACK:
		if (!log->epoch)
			return 0;
		if (m->epoch && m->epoch < log->epoch) {
			/* a member behind: its list, then this proposal again */
			dsm_mlog_catch_up(log, env, m->from);
			if (log->phase != DSM_MLOG_IDLE && m->epoch + 1 == log->epoch)
				dsm_mlog_send(log, env, m->from,
					      log->phase == DSM_MLOG_PREPARING ?
					      DSM_MLOG_PREPARE : DSM_MLOG_ACCEPT,
					      log->epoch + 1, log->term);
			return 0;
		}
		if (m->epoch == log->epoch && m->term > log->term)
			return dsm_mlog_abandon(log);	/* outbid: later, higher */
		return 0;
	}
	return 0;
}

/**
 * dsm_mlog_abandon() - give up this node's proposal (it took too long: a
 * lost proposer's, or a partition); the caller may propose again
 * @log: this node's log
 *
 * Return: DSM_MLOG_GAVE_UP if one was open, else 0.
 */
int dsm_mlog_abandon(struct dsm_mlog *log)
{
	if (log->phase == DSM_MLOG_IDLE)
		return 0;
	log->phase = DSM_MLOG_IDLE;
	return DSM_MLOG_GAVE_UP;
}

/**
 * dsm_mlog_catch_up() - send node @to the newest list this node applied
 * (its committed list, or the last one of a node that left)
 * @log: this node's log
 * @env: the caller
 * @to:  a node that may be behind (the caller's link to it came up, or
 *       it asked from an older epoch)
 */
void dsm_mlog_catch_up(struct dsm_mlog *log, struct dsm_mlog_env *env, u32 to)
{
	if (log->floor)
		dsm_mlog_send(log, env, to, DSM_MLOG_COMMIT, 0, 0);
}
