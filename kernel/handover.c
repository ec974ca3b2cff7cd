// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: cluster regions when nodes go - lost nodes and graceful leaves.
 *
 * Theory of operation.
 *  - A node is lost (silent past the dead timeout, or it restarted): the
 *    homes on this node forget it (dsm_coh_dir_forget: out of every
 *    copyset, an ack expected from it counts as received, a write it asked
 *    for is aborted) and drop its queued requests; a page it owned
 *    is an orphan for good (its data died with it; a new incarnation of the
 *    node must not be asked for it); the pages it was home of stop being
 *    trusted here: every copy is dropped, exclusive ones too, since their
 *    directory died with it and a new incarnation of the node starts a
 *    fresh one; requests in flight fail.
 *  - This node leaves gracefully (dsm_pages_handover, before the leave is
 *    announced): the pages it owns go to their homes (YIELD); the pages it
 *    is home of are first taken exclusively, then handed, entry and data,
 *    to the home the mapping table names without it (HANDOVER); requests
 *    that reach it meanwhile are passed on; a round trip to every member
 *    confirms all of it was processed.
 *  - Another node left gracefully (dsm_pages_node_left): every region's
 *    mapping table is rebuilt without it; only its slots move, to the
 *    nodes it handed them to.
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "coherence/homes.h"
#include "pages.h"

struct dsm_lost {
	u32 id;
	u64 dirty;
};

/* Drop the requests of lost node @id that wait for the directory. */
static void dsm_pages_drop_requests(struct dsm_cpage *cp, u32 id)
{
	struct dsm_kept *k, *tmp;

	list_for_each_entry_safe(k, tmp, &cp->queued, node) {
		if (k->m.requester == id) {
			list_del(&k->node);
			kfree(k);
		}
	}
}

static void dsm_pages_lost_region(struct dsm_region *r, void *arg)
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
		if (cp->home == self) {
			dsm_pages_drop_requests(cp, lost->id);
			dsm_coh_dir_forget(&ctx.env, &cp->dir, self, lost->id);
			if (cp->dir.owner == lost->id)
				cp->orphan = true;
			if (dsm_pages_dir_drain(&ctx))
				pr_warn_ratelimited("region %#llx page %lu: directory refused a queued request\n",
						    r->key, index);
		} else if (cp->home == lost->id) {
			if (cp->node.pending)
				cp->failed = true;
			if (cp->node.state != DSM_COH_INVALID) {
				/* nobody coordinates it any more */
				cp->node.state = DSM_COH_INVALID;
				cp->node.owner = false;
				dsm_pages_zap(r, index);
			}
		}
		unlock_page(cp->page);
		lost->dirty |= ctx.dirty;
	}
}

/**
 * dsm_pages_node_lost() - a node is gone: stop counting on it
 * @id: the node
 */
void dsm_pages_node_lost(u32 id)
{
	struct dsm_lost lost = { .id = id };

	if (!id || id == dsm_self_id())
		return;
	dsm_regions_for_each(dsm_pages_lost_region, &lost);
	dsm_out_flush_mask(lost.dirty);
	wake_up_all(&dsm_pages_wq);
}

/* Rebuild @r's mapping table without @id; pages @id was home of move. */
static void dsm_pages_left_region(struct dsm_region *r, void *arg)
{
	u32 id = *(u32 *)arg, self = dsm_self_id();
	u64 bit = dsm_node_bit(id), homes = r->homes & ~bit;
	struct dsm_homes *table;
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster || !(r->homes & bit) || !homes)
		return;
	table = kvmalloc(sizeof(*table), GFP_KERNEL);
	if (!table)
		return;		/* its pages fail like a lost node's */
	dsm_homes_build(table, homes);
	memcpy(r->table, table, sizeof(*table));	/* slots are bytes */
	kvfree(table);
	WRITE_ONCE(r->homes, homes);
	xa_for_each(&r->pages, index, cp) {
		lock_page(cp->page);
		if (cp->home == id) {
			cp->home = dsm_homes_node(r->table, r->key, index);
			if (cp->home == self) {
				/* no handover came: the old home never had it */
				dsm_coh_dir_init(&cp->dir, self);
				dsm_coh_node_init(&cp->node, true);
			}
		}
		unlock_page(cp->page);
	}
}

/**
 * dsm_pages_node_left() - a node left gracefully: its home pages moved
 * @id: the node
 *
 * Every member rebuilds each region's mapping table without it; the new
 * homes got the entries from it before it left (dsm_pages_handover).
 */
void dsm_pages_node_left(u32 id)
{
	if (id && id != dsm_self_id())
		dsm_regions_for_each(dsm_pages_left_region, &id);
}

struct dsm_regions_list {
	struct dsm_region **r;
	u32 n;
};

static void dsm_pages_collect(struct dsm_region *r, void *arg)
{
	struct dsm_regions_list *list = arg;

	if (r->cluster && list->n < DSM_MAX_REGIONS) {
		kref_get(&r->ref);
		list->r[list->n++] = r;
	}
}

/* Has this node given up what it must before leaving? (lockless peek) */
static bool dsm_pages_quiet(struct dsm_regions_list *list)
{
	u32 self = dsm_self_id(), i;
	struct dsm_cpage *cp;
	unsigned long index;

	for (i = 0; i < list->n; i++) {
		xa_for_each(&list->r[i]->pages, index, cp) {
			if (READ_ONCE(cp->home) == self ?
			    READ_ONCE(cp->node.state) != DSM_COH_EXCLUSIVE ||
			    READ_ONCE(cp->dir.busy) || READ_ONCE(cp->node.pending) :
			    READ_ONCE(cp->node.owner))
				return false;
		}
	}
	return true;
}

/* Step 1 for one page: take what we are home of, yield what we own. */
static u64 dsm_pages_gather(struct dsm_region *r, pgoff_t index,
			    struct dsm_cpage *cp)
{
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;

	dsm_pages_ctx_init(&ctx, r, cp, index);
	lock_page(cp->page);
	if (cp->home == self) {
		cp->leaving = true;
		if (cp->node.state != DSM_COH_EXCLUSIVE && !cp->node.pending) {
			dsm_coh_fault(&ctx.env, &cp->node, self, self, true);
			cp->req_time = jiffies;
		}
	} else if (cp->node.owner) {
		dsm_pages_send_type(&ctx, cp->home, DSM_PAGE_YIELD, self);
	}
	unlock_page(cp->page);
	return ctx.dirty;
}

/* Step 2 for one page we are home of: hand the entry to its new home. */
static u64 dsm_pages_hand(struct dsm_region *r, const struct dsm_homes *table,
			  pgoff_t index, struct dsm_cpage *cp)
{
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;
	struct dsm_coh_msg m;

	dsm_pages_ctx_init(&ctx, r, cp, index);
	lock_page(cp->page);
	if (cp->home == self) {
		u32 to = dsm_homes_node(table, r->key, index);

		if (cp->node.state != DSM_COH_EXCLUSIVE)
			dsm_stat_inc(DSM_STAT_FAULT_FAILURES);	/* not gathered */
		dsm_pages_send_type(&ctx, to, DSM_PAGE_HANDOVER, self);
		while (dsm_pages_unkeep(&cp->queued, &m))
			ctx.env.send(&ctx.env, self, to, &m);	/* pass on */
		cp->node.state = DSM_COH_INVALID;
		cp->node.owner = false;
		cp->home = to;
		cp->handed = true;
		cp->leaving = false;
	}
	unlock_page(cp->page);
	return ctx.dirty;
}

/**
 * dsm_pages_handover() - before leaving: give away what only we hold
 *
 * For every cluster region: the pages this node owns go to their homes
 * (YIELD: the home takes them with a write request of its own), and the
 * pages this node is home of are first taken exclusively, then handed,
 * entry and data, to the home the mapping table names once this node is
 * gone. Requests that arrive meanwhile are passed on to the new home. A
 * final round trip to every member (dsm_region_sync) makes sure all of it
 * was processed before the leave is announced.
 *
 * Return: 0, or -ETIMEDOUT if some page could not be gathered in time (it
 * is handed over anyway, possibly stale; counted in fault_failures).
 */
int dsm_pages_handover(void)
{
	u64 others = dsm_members_mask() & ~dsm_node_bit(dsm_self_id());
	unsigned long deadline = jiffies + 2 * msecs_to_jiffies(dsm_dead_timeout_ms());
	struct dsm_regions_list list = {};
	struct dsm_homes *table;
	struct dsm_cpage *cp;
	unsigned long index;
	u64 dirty = 0;
	int err = 0;
	u32 i, id;

	if (!others)
		return 0;
	list.r = kvmalloc_array(DSM_MAX_REGIONS, sizeof(*list.r), GFP_KERNEL);
	table = kvmalloc(sizeof(*table), GFP_KERNEL);
	if (!list.r || !table) {
		err = -ENOMEM;
		goto out;
	}
	dsm_regions_for_each(dsm_pages_collect, &list);
	for (i = 0; i < list.n; i++)
		xa_for_each(&list.r[i]->pages, index, cp)
			dsm_out_flush_mask(dsm_pages_gather(list.r[i], index, cp));
	while (!dsm_pages_quiet(&list)) {
		if (time_after(jiffies, deadline)) {
			err = -ETIMEDOUT;
			break;
		}
		msleep(20);
	}
	for (i = 0; i < list.n; i++) {
		struct dsm_region *r = list.r[i];

		if (!(r->homes & others))
			continue;
		dsm_homes_build(table, r->homes & others);
		xa_for_each(&r->pages, index, cp)
			dirty |= dsm_pages_hand(r, table, index, cp);
	}
	dsm_out_flush_mask(dirty);
	for (id = 1; id <= DSM_MAX_NODES; id++)
		if (others & dsm_node_bit(id))
			dsm_region_sync(id);
out:
	for (i = 0; i < list.n; i++)
		dsm_region_put(list.r[i]);
	kvfree(table);
	kvfree(list.r);
	return err;
}

