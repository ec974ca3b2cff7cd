/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: per-page state of cluster regions, shared by pages.c (faults and
 * messages) and handover.c (lost nodes, leaving).
 */
#ifndef _DSM_PAGES_H
#define _DSM_PAGES_H

#include <linux/wait.h>

#include "coherence/protocol.h"
#include "dsm.h"

/* Messages beside the state machine's (wire type values after DSM_COH_FAIL). */
#define DSM_PAGE_YIELD		17	/* leaving owner -> home: take the page */
#define DSM_PAGE_HANDOVER	18	/* leaving home -> new home: the entry */
#define DSM_PAGE_HANDOVER_LOST	19	/* the same for a page whose data is lost */
#define DSM_PAGE_REPORT		20	/* node -> new home of a lost home's page: my copy */
#define DSM_PAGE_OWN		21	/* home -> node: your copy is the owner's now */
#define DSM_PAGE_QUERY		22	/* home -> sharer of a lost owner's page: what is yours? */

/* OWN's txn: take the replica kept here as the owner's copy (replica.c) */
#define DSM_WIRE_OWN_REPLICA	1

/* Marks in dsm_region.pages (replica.c) */
#define DSM_PAGE_DIRTY		XA_MARK_0	/* written here since its last push */

/* A leaving home's handover, with the page or of a page that is lost. */
static inline bool dsm_pages_is_handover(u8 type)
{
	return type == DSM_PAGE_HANDOVER || type == DSM_PAGE_HANDOVER_LOST;
}

static inline bool dsm_pages_has_data(u8 type, bool with_data)
{
	return type == DSM_COH_DATA || type == DSM_PAGE_HANDOVER || with_data;
}

/**
 * struct dsm_cpage - one page of a region on this node
 * @page:     this node's copy
 * @home:     the page's home node (cluster regions)
 * @failed:   the request in flight cannot complete (its home is gone), or
 *            the home answered that the page is lost
 * @leaving:  this node, the home, is handing the page over: it serves only
 *            its own requests meanwhile
 * @handed:   this node handed the directory entry over to @home while
 *            leaving: requests that still come here are dropped
 * @req_time: jiffies when the request in flight was sent
 * @waiters:  a fault waits for the request in flight
 * @wait_since: jiffies when the first of them started waiting; a fault
 *            gets SIGBUS once the request has kept it waiting for longer
 *            than the dead timeout
 * @hold_until: ktime_get_ns() until which a page just granted to a waiting
 *            fault is kept from other nodes, so the fault can use it (0:
 *            none)
 * @hold_write: the held grant answered a write request
 * @speculative: the request in flight was sent as a read-ahead (its home
 *            may decline it)
 * @prefetched: the copy came by read-ahead and no access has used it yet
 * @census:   (home) the page's home was lost and its entry is being
 *            rebuilt from the survivors' reports: requests wait (census.c)
 * @settle:   (home) a census entry of a page whose owner was lost: the
 *            nodes whose answer to QUERY it waits for; (not the home) the
 *            lost nodes of QUERYs this node answers once it has begun
 *            their walk (census.c)
 * @changes:  times this node's copy was invalidated or taken by a writer
 *            (DSM_IOC_WAIT; dsmctl hot's "lost")
 * @faults:   faults here that sent a request for the page (dsmctl hot)
 * @moves:    (home) write requests served for a node that was not the
 *            owner: the page changed hands (dsmctl hot)
 * @askers:   (home) node set (bit id % 64) of the nodes it served
 * @written:  (home) jiffies when write access was last given to the owner
 *            (0: never): a read-ahead does not take a page written lately
 * @txn:      the token of this node's request in flight (0: none yet),
 *            random: an answer from a node other than the home must echo it
 * @node:     this node's protocol state
 * @dir:      the directory entry, if this node is @home
 * @kept:     messages the state machine asked to keep until our data
 * @queued:   requests waiting for the directory; on a node that is not
 *            the home yet, requests (and census reports) from a node that
 *            learnt of a leave or a loss first (they wait until this node
 *            is the home too)
 *
 * The fields are ordered so that the struct has no holes: 192 bytes, the
 * size of its kmalloc cache with or without the dsmctl hot counters
 * (pages.c asserts it stays there).
 */
struct dsm_cpage {
	struct page *page;
	u32 home;
	u32 changes;
	unsigned long req_time;
	unsigned long wait_since;
	unsigned long written;
	u64 hold_until;
	u64 txn;
	u32 faults;
	u32 moves;
	u64 askers;
	u8 failed;		/* 0, 1, or DSM_CPAGE_NO_MEMORY */
	bool leaving;
	bool handed;
	bool waiters;
	bool hold_write;
	bool speculative;
	bool prefetched;
	bool census;
	u64 settle;
	struct dsm_coh_node node;
	struct dsm_coh_dir dir;
	struct list_head kept;
	struct list_head queued;
};

/* cp->failed: the home was at its memory cap (dsm_pages_refuse) */
#define DSM_CPAGE_NO_MEMORY	2

struct dsm_kept {
	struct list_head node;
	struct dsm_coh_msg m;
};

/*
 * The page's home changes: a settle (census.c) waited for by this node, in
 * either role, was about the old home's entry.
 */
static inline void dsm_cpage_set_home(struct dsm_cpage *cp, u32 home)
{
	cp->home = home;
	cp->settle = 0;
}

/* What a protocol step runs with; @dirty collects the outbox destinations. */
struct dsm_pages_ctx {
	struct dsm_coh_env env;
	struct dsm_region *r;
	struct dsm_cpage *cp;
	pgoff_t index;
	u64 dirty;
	bool owned;	/* this node owned the page before the message fed now */
};

extern struct wait_queue_head dsm_pages_wq;

struct dsm_cpage *dsm_cpage_get(struct dsm_region *r, pgoff_t index);
void dsm_pages_ctx_init(struct dsm_pages_ctx *ctx, struct dsm_region *r,
			struct dsm_cpage *cp, pgoff_t index);
void dsm_pages_zap(struct dsm_region *r, pgoff_t index);
bool dsm_pages_unkeep(struct list_head *list, struct dsm_coh_msg *m);
void dsm_pages_drop_kept(struct dsm_cpage *cp);
void dsm_pages_walk(void (*step)(struct dsm_pages_ctx *ctx), bool homes_only);
void dsm_pages_serve_queued(struct dsm_pages_ctx *ctx);
void dsm_pages_drop_copy(struct dsm_pages_ctx *ctx);
void dsm_pages_send_type(struct dsm_pages_ctx *ctx, u32 to, u8 type,
			 u32 requester);
int dsm_pages_dir_drain(struct dsm_pages_ctx *ctx);
int dsm_pages_queue(struct dsm_cpage *cp, const struct dsm_coh_msg *m);
void dsm_pages_take_home(struct dsm_pages_ctx *ctx);
bool dsm_pages_leaving_page(struct dsm_pages_ctx *ctx);
bool dsm_pages_self_leaving(void);
bool dsm_pages_self_handed(void);
void dsm_pages_first_touch(struct dsm_region *r, struct dsm_cpage *cp,
			   pgoff_t index);
bool dsm_pages_behind(u64 epoch, u32 home);
bool dsm_pages_home_leaving(u32 id);
void dsm_pages_copy_gone(struct dsm_region *r, struct dsm_cpage *cp);
void dsm_pages_leave_forget(u32 id);
void dsm_pages_end_request(struct dsm_cpage *cp, bool failed);

/* census.c: the pages of lost homes */
void dsm_census_fresh(struct dsm_region *r, struct dsm_cpage *cp, pgoff_t index);
bool dsm_census_open_for(u32 home);
bool dsm_census_moving(u32 home);
bool dsm_census_waits(void);
bool dsm_census_settling(void);
bool dsm_census_late_answer(const struct dsm_cpage *cp, u64 txn);
int dsm_census_report(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m);
void dsm_census_query(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m);
int dsm_census_own(struct dsm_pages_ctx *ctx, const struct dsm_coh_msg *m);
bool dsm_census_revive(struct dsm_coh_env *env, bool exclusive);

/* replica.c: replicated regions */
void dsm_replica_written(struct dsm_region *r, pgoff_t index);
void dsm_replicas_hand_over(void);
void dsm_replica_push(struct dsm_pages_ctx *ctx, bool giving);
void dsm_replica_give(struct dsm_pages_ctx *ctx, u32 to);
u64 dsm_replica_version(struct dsm_region *r, pgoff_t index);
bool dsm_replica_install(struct dsm_pages_ctx *ctx, bool exclusive);
void dsm_replica_touch(struct dsm_region *r, u64 gone);
void dsm_replica_node_lost(u32 id);

#endif /* _DSM_PAGES_H */
