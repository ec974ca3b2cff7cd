// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: cluster pages on a node without a quorum.
 *
 * Theory of operation. net/quorum.c decides when this node's lease runs
 * out (it is fenced) and when it holds one again; this file does what that
 * means for the pages of cluster regions:
 *  - fenced: every page is unmapped here, each under its page lock. A
 *    fault that checked the fence just before holds that lock until its
 *    PTE is in, so the unmapping waits for it and takes that PTE too; a
 *    fault after it sees the fence (dsm_net_fenced, checked under the page
 *    lock) and waits (pages.c). The homes here serve no queued request
 *    meanwhile (dsm_pages_dir_drain): this node grants nothing.
 *  - the fence lifted: the requests queued at the homes here are served,
 *    and waiting faults wake.
 *  - evicted (a quorum declared this node lost, and went on without it):
 *    every copy here is dropped, so that no access to the old cluster's
 *    pages succeeds; the regions are dropped next (membership.c).
 */
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "pages.h"

struct dsm_fence_walk {
	bool on;
	u64 dirty;
};

static void dsm_fence_region(struct dsm_region *r, void *arg)
{
	struct dsm_fence_walk *walk = arg;
	u32 self = dsm_self_id();
	struct dsm_pages_ctx ctx;
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster)
		return;
	xa_for_each(&r->pages, index, cp) {
		dsm_pages_ctx_init(&ctx, r, cp, index);
		lock_page(cp->page);
		if (walk->on)
			dsm_pages_zap(r, index);
		else if (cp->home == self && !list_empty(&cp->queued) &&
			 dsm_members_epoch() && dsm_pages_dir_drain(&ctx))
			pr_warn_ratelimited("region %#llx page %lu: directory refused a queued request\n",
					    r->key, index);
		unlock_page(cp->page);
		walk->dirty |= ctx.dirty;
		cond_resched();
	}
}

/**
 * dsm_pages_fence() - this node lost its lease (@on), or holds one again
 * @on: fenced
 */
void dsm_pages_fence(bool on)
{
	struct dsm_fence_walk walk = { .on = on };

	dsm_regions_for_each(dsm_fence_region, &walk);
	dsm_out_flush_mask(walk.dirty);
	wake_up_all(&dsm_pages_wq);
}

static void dsm_evicted_region(struct dsm_region *r, void *arg)
{
	struct dsm_cpage *cp;
	unsigned long index;

	if (!r->cluster)
		return;
	xa_for_each(&r->pages, index, cp) {
		lock_page(cp->page);
		dsm_pages_drop_kept(cp);
		if (cp->node.pending)
			cp->failed = true;
		if (cp->node.state != DSM_COH_INVALID) {
			cp->node.state = DSM_COH_INVALID;
			cp->node.owner = false;
			dsm_pages_zap(r, index);
			dsm_pages_copy_gone(r, cp);
		}
		unlock_page(cp->page);
		cond_resched();
	}
}

/**
 * dsm_pages_evicted() - the cluster declared this node lost: drop every
 * copy of its pages here
 */
void dsm_pages_evicted(void)
{
	dsm_regions_for_each(dsm_evicted_region, NULL);
	wake_up_all(&dsm_pages_wq);
}
