/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: the member list as a log of epochs that a quorum commits - the
 * rules, as a pure state machine.
 *
 * No sockets, no locks, no allocation: the caller owns the state,
 * serialises calls and carries messages (any order, any loss, duplicates
 * too). The same code is built into the userspace simulation
 * (selftests/unit/epoch_sim.c), which checks its invariants under random
 * delays, losses, partitions and crashes.
 *
 * Theory of operation. Epoch e + 1's list is decided once, by a quorum of
 * epoch e's list: one instance of single-decree Paxos per epoch, its
 * value a change (a node joins, as an incarnation, or leaves).
 *
 *  - Each node keeps its committed epoch and list (epoch 0: no member, it
 *    takes no part), and for the next epoch's instance the highest term it
 *    promised and the proposal it accepted (term and change), if any.
 *  - A term is (round << 7) | proposer id: unique per proposer, ordered.
 *  - A member at epoch e proposes a change: PREPARE(e + 1, term) to the
 *    members of its list. A member at epoch e that promised no higher term
 *    promises this one and answers PROMISE with what it accepted for e + 1.
 *    Once the PROMISEs are a quorum of the list, the proposer asks them to
 *    accept (ACCEPT) the change of the highest term among what they
 *    accepted, or its own if none did. A member at epoch e that promised no
 *    higher term accepts it (ACCEPTED). Once the ACCEPTEDs are a quorum,
 *    the change is epoch e + 1's: the proposer applies it and sends COMMIT
 *    (epoch, list, change) to both lists' members.
 *  - A member applies a COMMIT newer than its epoch (a member that missed
 *    some catches up at once: only committed lists travel). A member that
 *    is not in the list it applies is no member any more (epoch 0).
 *  - A member ahead of a proposer answers with its list (COMMIT): the
 *    proposer adopts it and gives up its proposal. Anything else is
 *    answered NACK (the member's epoch and promise): a proposer ahead
 *    sends the laggard its list and then its proposal again (links are
 *    FIFO: it votes, as a member of the list now), one outbid gives up
 *    (the caller proposes again later, with a higher term).
 *  - A list names each member's incarnation. A node at epoch 0 (one that
 *    left, or a new incarnation that forgot everything) is a member again
 *    only by a list that names it as this incarnation, of an epoch newer
 *    than any it had: it never promises or accepts in an instance that a
 *    previous incarnation may have voted in. A member whose id a list
 *    names with another incarnation is no member (it was declared lost,
 *    and its id joined again). A node that left keeps its last list and
 *    answers a PREPARE or ACCEPT with it (it may be the only one that
 *    knows it: its own leave's COMMIT can be lost). The module does not
 *    yet: a node that left forgets its list (membership.c leaves alone).
 *
 * Why one list per epoch: by induction, all members at epoch e hold the
 * same list, so instance e + 1 has one set of acceptors; two quorums of a
 * list share a member (dsm_mlog_quorum); once a change was accepted by a
 * quorum, every later proposal's PROMISE quorum includes a member that
 * accepted it, and proposes it again (Paxos). A member that crashed and
 * came back only as a new incarnation answers nothing of the old
 * instances, which is a member that stays silent: still safe.
 */
#ifndef _DSM_MEMBERSHIP_LOG_H
#define _DSM_MEMBERSHIP_LOG_H

#ifdef __KERNEL__
#include <linux/types.h>
#endif	/* userspace builds force-include selftests/unit/kernel_types.h */

/* Node ids are 1..64; a node set is a u64 with bit (id % 64) per id. */
#define DSM_MLOG_MAX_NODES	64
#define DSM_MLOG_TERM_SHIFT	7	/* a term's low bits: its proposer */

enum dsm_mlog_msg_type {
	DSM_MLOG_PREPARE = 1,	/* proposer -> members */
	DSM_MLOG_PROMISE,	/* member -> proposer */
	DSM_MLOG_ACCEPT,	/* proposer -> members */
	DSM_MLOG_ACCEPTED,	/* member -> proposer */
	DSM_MLOG_COMMIT,	/* anyone who knows a committed list -> others */
	DSM_MLOG_NACK,		/* member -> proposer */
};

enum dsm_mlog_op {
	DSM_MLOG_JOIN = 1,	/* @node (incarnation @inc) is a member */
	DSM_MLOG_LEAVE,		/* @node is no member */
};

/**
 * struct dsm_mlog_change - what one epoch changes in the list
 * @op:   enum dsm_mlog_op; 0 in epoch 1 (the node that formed the cluster)
 * @node: the node joining or leaving
 * @inc:  the joiner's incarnation (a node that joins again is a new one)
 * @addr, @port: where a joiner listens (carried, not read: the caller's)
 */
struct dsm_mlog_change {
	u8 op;
	u32 node;
	u64 inc;
	u32 addr;
	u16 port;
};

/**
 * struct dsm_mlog_list - a member list
 * @members: the node set
 * @inc:     each member's incarnation, by id (0 for no member)
 */
struct dsm_mlog_list {
	u64 members;
	u64 inc[DSM_MLOG_MAX_NODES + 1];
};

/**
 * struct dsm_mlog_msg - one message of the log
 * @type:     enum dsm_mlog_msg_type
 * @from:     sender
 * @epoch:    PREPARE, PROMISE, ACCEPT, ACCEPTED: the instance (the epoch
 *            decided); COMMIT, NACK: the sender's committed epoch
 * @term:     PREPARE..ACCEPTED: the proposal's; NACK: the sender's promise
 * @acc_term: PROMISE: the term of the proposal the sender accepted, 0 none
 * @change:   PROMISE: the change accepted; ACCEPT: the one proposed;
 *            COMMIT: its epoch's
 * @list:     COMMIT: the committed list
 */
struct dsm_mlog_msg {
	u8 type;
	u32 from;
	u64 epoch;
	u64 term;
	u64 acc_term;
	struct dsm_mlog_change change;
	struct dsm_mlog_list list;
};

enum dsm_mlog_phase {
	DSM_MLOG_IDLE,
	DSM_MLOG_PREPARING,
	DSM_MLOG_ACCEPTING,
};

/**
 * struct dsm_mlog - one node's log
 * @self:      this node's id
 * @inc:       this node's incarnation
 * @epoch:     the committed epoch, 0 while no member
 * @list:      its list
 * @last:      its change
 * @promised:  the highest term promised for epoch + 1
 * @acc_term:  the term of the proposal accepted for epoch + 1, 0 none
 * @acc:       its change
 * @phase:     enum dsm_mlog_phase of this node's own proposal
 * @term:      its term
 * @want:      the change it was asked to make
 * @value:     the change it proposes (@want, or one accepted before)
 * @best_term: the highest @acc_term among the PROMISEs so far
 * @answered:  the node set that answered this phase
 * @seen:      the highest term seen (the next proposal's goes above it)
 * @floor:     the highest epoch this incarnation applied: it never adopts
 *             one as old again (after it left: its join's COMMIT again)
 */
struct dsm_mlog {
	u32 self;
	u64 inc;
	u64 epoch;
	struct dsm_mlog_list list;
	struct dsm_mlog_change last;
	u64 promised;
	u64 acc_term;
	struct dsm_mlog_change acc;
	u8 phase;
	u64 term;
	struct dsm_mlog_change want;
	struct dsm_mlog_change value;
	u64 best_term;
	u64 answered;
	u64 seen;
	u64 floor;
};

/**
 * struct dsm_mlog_env - the caller
 * @send: carry @m to node @to (may be this node; may lose it)
 * @ctx:  the caller's
 */
struct dsm_mlog_env {
	void (*send)(struct dsm_mlog_env *env, u32 to, const struct dsm_mlog_msg *m);
	void *ctx;
};

/* What dsm_mlog_receive() did, for the caller (a mask). */
#define DSM_MLOG_APPLIED	1	/* a newer list is committed here */
#define DSM_MLOG_DONE		2	/* this node's change is committed */
#define DSM_MLOG_GAVE_UP	4	/* its proposal ended without it */

u64 dsm_mlog_bit(u32 node);
bool dsm_mlog_quorum(u64 list, u64 set);
void dsm_mlog_apply(struct dsm_mlog_list *list, const struct dsm_mlog_change *c);
bool dsm_mlog_names(const struct dsm_mlog_list *list, u32 node, u64 inc);
void dsm_mlog_init(struct dsm_mlog *log, u32 self, u64 inc);
int dsm_mlog_form(struct dsm_mlog *log);
int dsm_mlog_propose(struct dsm_mlog *log, struct dsm_mlog_env *env,
		     const struct dsm_mlog_change *want);
int dsm_mlog_receive(struct dsm_mlog *log, struct dsm_mlog_env *env,
		     const struct dsm_mlog_msg *m);
int dsm_mlog_abandon(struct dsm_mlog *log);
void dsm_mlog_catch_up(struct dsm_mlog *log, struct dsm_mlog_env *env, u32 to);

#endif
