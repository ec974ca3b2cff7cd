/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: the write-invalidate coherence protocol, as a pure state machine.
 *
 * No sockets, no VMAs, no allocation, no locks: the caller owns the state,
 * serialises calls per page, and carries messages. The same code runs in the
 * module and in the userspace simulation (selftests/unit/coherence_sim.c),
 * which checks its invariants under random delays and interleavings.
 *
 * Theory of operation (per page; the home is a fixed node per page):
 *
 *  - Each node holds the page INVALID, SHARED (read-only) or EXCLUSIVE
 *    (writable), and may be its owner: the node whose copy is authoritative.
 *    A node has at most one request per page in flight (local faults join
 *    it).
 *  - The home keeps the directory entry: owner and copyset (nodes with a
 *    SHARED copy besides the owner), and takes one request at a time; a
 *    request that arrives while one is being served waits in order.
 *  - Read: the home sends the data itself if it owns the page; otherwise it
 *    forwards to the owner, which keeps ownership, downgrades to SHARED and
 *    sends the data to the requester. The requester joins the copyset.
 *    Messages: 2 (home owns) or 3.
 *  - Write: the home invalidates every other holder in parallel and counts
 *    their acks back. Then, if the requester still holds a valid copy, the
 *    home grants ownership without data; if the home owned the page it
 *    grants with data; else it forwards to the owner, which sends data and
 *    ownership to the requester and invalidates itself. Messages: 2 + 2k for
 *    k invalidated holders, one more when owner and home differ.
 *  - The only reordering this allows: a later transaction's message from the
 *    home (a forward, or an invalidation) reaching a requester before the
 *    data an owner sends it for its own, earlier transaction. A node that
 *    waits for data and receives such a message defers it until the data is
 *    in. Messages from the home that precede the requester's own grant are
 *    earlier transactions and are served at once.
 *  - Read-ahead: a node may ask for a copy before any access (a
 *    speculative read). The home serves it like a read, except when the
 *    owner holds the page exclusively and the caller's policy (@spare) says
 *    the owner is using it: then the home declines (DECLINE) and nothing
 *    changes; the requester is back where it was. Read-ahead never takes a
 *    page a writer is working on. Messages: 2 when declined.
 *  - Queues are the caller's: a receive function that returns DSM_COH_KEEP
 *    asks the caller to keep the message and feed it again, in arrival
 *    order - a node's once its request completed (@pending is 0 again), the
 *    home's once the directory is no longer @busy. So the per-page state
 *    stays a few bytes and the caller chooses how to store the rare queue.
 *  - A node that dies is forgotten by the home (dsm_coh_dir_forget): it
 *    leaves the copyset and its outstanding ack counts as received, so a
 *    dead reader never blocks a writer; a write it asked for is aborted,
 *    never granted. A dead owner's data is lost: a write that was to get
 *    it from the owner fails (FAIL), and so does every later request (the
 *    caller answers them); unless the caller can make the page again at
 *    the home (@revive: a replicated region's newest committed version),
 *    which then owns it and serves the write.
 *  - Where the caller can make a page again (a replicated region,
 *    @confirm), a write the home forwarded keeps the entry busy until its
 *    requester confirms it has the page (CONFIRM, after the owner's GRANT):
 *    only then is the requester the owner. So the home always knows where
 *    the data is, and no writer waits on another whose data is still to
 *    come: if the owner dies before the requester confirmed, the data died
 *    with it (@lost); if the requester dies, the data went with it
 *    (@aborted and @lost). Either way the home makes the page again, or it
 *    fails, at once.
 *  - An invalidation is acknowledged to the node that sent it, which is the
 *    home that counts the acks even where the invalidated node still names
 *    an older home (a home that handed its entries over while leaving).
 *
 * Links are assumed FIFO per ordered pair of nodes (TCP), including the
 * link from a node to itself.
 */
#ifndef _DSM_COHERENCE_PROTOCOL_H
#define _DSM_COHERENCE_PROTOCOL_H

#ifdef __KERNEL__
#include <linux/types.h>
#endif	/* userspace builds force-include selftests/unit/kernel_types.h */

/*
 * Node ids are 1..DSM_COH_MAX_NODES. A node set is a u64 with bit (id % 64)
 * per node id, so node 64 is bit 0.
 */
#define DSM_COH_MAX_NODES	64
#define DSM_COH_KEEP		1	/* keep the message, feed it again later */

enum dsm_coh_state {
	DSM_COH_INVALID,
	DSM_COH_SHARED,
	DSM_COH_EXCLUSIVE,
};

enum dsm_coh_msg_type {
	DSM_COH_REQ_READ = 1,	/* requester -> home */
	DSM_COH_REQ_WRITE,	/* requester -> home */
	DSM_COH_FWD_READ,	/* home -> owner: send requester a copy */
	DSM_COH_FWD_WRITE,	/* home -> owner: hand requester the page */
	DSM_COH_INV,		/* home -> holder: drop your copy */
	DSM_COH_INV_ACK,	/* holder -> home */
	DSM_COH_DATA,		/* home or owner -> requester: read copy */
	DSM_COH_GRANT,		/* home or owner -> requester: ownership */
	DSM_COH_DECLINE,	/* home -> requester: a read-ahead not served */
	DSM_COH_CONFIRM,	/* requester -> home: the page is here (@confirm) */
	DSM_COH_FAIL = 16,	/* home -> requester: the page's data is lost */
};

/**
 * struct dsm_coh_msg - one coherence message about one page
 * @type:      enum dsm_coh_msg_type
 * @from:      sender
 * @requester: the node the transaction is for
 * @with_data: GRANT carries the page contents
 * @speculative: REQ_READ asked ahead of any access (read-ahead): the home
 *             may decline it rather than take the page from a writer
 * @value:     the page contents (a version number in the simulation; the
 *             module carries the real page next to the message)
 * @txn:       the requester's token for the transaction (the caller sets it
 *             on the request): the home's forward and the owner's answer
 *             carry it, invalidations do not (holders are not on the
 *             path), so the requester can tell the answer of the owner its
 *             home forwarded to from a forgery
 */
struct dsm_coh_msg {
	u8 type;
	u32 from;
	u32 requester;
	bool with_data;
	bool speculative;
	u64 value;
	u64 txn;
};

/**
 * struct dsm_coh_node - one node's view of one page
 * @state:   enum dsm_coh_state
 * @owner:   this node's copy is the authoritative one
 * @pending: 0, DSM_COH_REQ_READ or DSM_COH_REQ_WRITE in flight
 * @value:   the contents while valid (the simulation's; the module keeps
 *           the real page beside this state)
 */
struct dsm_coh_node {
	u8 state;
	bool owner;
	u8 pending;
	u64 value;
};

/**
 * struct dsm_coh_dir - the home's directory entry for one page
 * @owner:   the owner's node id
 * @copyset: node set (bit id % 64) of the nodes holding SHARED copies,
 *           owner excluded
 * @busy:    a write waits for invalidation acks, or for its requester's
 *           confirmation (@confirm)
 * @waiting: node set (bit id % 64) of the nodes whose ack is still
 *           expected; the requester's bit: its confirmation
 * @aborted: the write's requester died: nothing is granted to it
 * @lost:    the owner died with the data the write was to get: it fails
 * @orphan:  the owner died with the only up-to-date copy: the caller fails
 *           every request, for good (a new incarnation of that node never
 *           had the page)
 * @cur:     the write being served
 */
struct dsm_coh_dir {
	u32 owner;
	bool busy;		/* (here: no hole after @owner) */
	bool aborted;
	bool lost;
	bool orphan;
	u64 copyset;
	u64 waiting;
	struct dsm_coh_msg cur;
};

/**
 * struct dsm_coh_env - what the state machine needs from its caller
 * @send:  carry @m from node @from to node @to (FIFO per ordered pair)
 * @spare: may be NULL; asked about a speculative read of a page whose
 *         owner holds it exclusively: true to decline it, leaving the
 *         owner's copy alone (the caller's policy, e.g. "written lately")
 * @revive: may be NULL; the owner died with the page's data and no other
 *         node holds a copy: true if the caller made the home's copy the
 *         owner's (its own copy, or a replica), @exclusive unless a write
 *         takes it from there at once; the home is then the owner
 * @confirm: a requester confirms a write forwarded to it (CONFIRM), the
 *         home waits for that (see the top): the caller can make the page
 *         again where its data died
 * @ctx:   the caller's
 */
struct dsm_coh_env {
	void (*send)(struct dsm_coh_env *env, u32 from, u32 to,
		     const struct dsm_coh_msg *m);
	bool (*spare)(struct dsm_coh_env *env, const struct dsm_coh_dir *dir,
		      const struct dsm_coh_msg *m);
	bool (*revive)(struct dsm_coh_env *env, bool exclusive);
	bool confirm;
	void *ctx;
};

void dsm_coh_dir_init(struct dsm_coh_dir *dir, u32 home);
void dsm_coh_node_init(struct dsm_coh_node *n, bool home);
bool dsm_coh_fault(struct dsm_coh_env *env, struct dsm_coh_node *n, u32 self,
		   u32 home, bool write);
bool dsm_coh_prefetch(struct dsm_coh_env *env, struct dsm_coh_node *n, u32 self,
		      u32 home);
int dsm_coh_node_receive(struct dsm_coh_env *env, struct dsm_coh_node *n,
			 u32 self, u32 home, const struct dsm_coh_msg *m);
int dsm_coh_dir_receive(struct dsm_coh_env *env, struct dsm_coh_dir *dir,
			u32 home, const struct dsm_coh_msg *m);
void dsm_coh_dir_forget(struct dsm_coh_env *env, struct dsm_coh_dir *dir,
			u32 home, u32 node, bool died);

#endif /* _DSM_COHERENCE_PROTOCOL_H */
