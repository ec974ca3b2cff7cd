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

/* Fenced: no PTE of the page is left (a fault that checked before put it). */
static void dsm_fence_unmap(struct dsm_pages_ctx *ctx)
{
	dsm_pages_zap(ctx->r, ctx->index);
}

/* The fence lifted: serve the requests that waited at this home. */
static void dsm_fence_serve(struct dsm_pages_ctx *ctx)
{
	if (!list_empty(&ctx->cp->queued))
		dsm_pages_serve_queued(ctx);
}

/**
 * dsm_pages_fence() - this node lost its lease (@on), or holds one again
 * @on: fenced
 */
void dsm_pages_fence(bool on)
{
	if (on)
		dsm_pages_walk(dsm_fence_unmap, false);
	else if (dsm_members_epoch())	/* not lifted by leaving the cluster */
		dsm_pages_walk(dsm_fence_serve, true);
	wake_up_all(&dsm_pages_wq);
}

/* Evicted: the copy is dropped, and nothing asked waits for an answer. */
static void dsm_fence_forget(struct dsm_pages_ctx *ctx)
{
	dsm_pages_drop_copy(ctx);	/* a request in flight fails */
	ctx->cp->node.pending = 0;	/* a late answer is not taken */
}

/**
 * dsm_pages_evicted() - the cluster declared this node lost: drop every
 * copy of its pages here
 */
void dsm_pages_evicted(void)
{
	dsm_pages_walk(dsm_fence_forget, false);
	wake_up_all(&dsm_pages_wq);
}
