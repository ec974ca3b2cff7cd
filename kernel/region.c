// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: regions, the shared address ranges of this node.
 *
 * Theory of operation. A region is named by a 64-bit key and lives in a
 * hash table until it is removed or the module is unloaded. The table holds
 * one reference, and every file attached to the region holds another, so a
 * removed region stays alive, unmappable, until its last file is closed.
 * Mappings are counted separately (mapcount) because removal must fail with
 * EBUSY while any VMA still maps the region. A mapping pins its file and the
 * file pins the region, so the region outlives every VMA.
 *
 * Pages are allocated zeroed on first touch and kept in a per-region xarray
 * until the region is destroyed; munmap does not drop them, which is what
 * makes data persist across munmap/mmap.
 */
#include <linux/gfp.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "dsm.h"

#define DSM_REGION_HASH_BITS 8

static DEFINE_MUTEX(dsm_regions_lock);
static DEFINE_HASHTABLE(dsm_regions, DSM_REGION_HASH_BITS);
static u32 dsm_nr_regions;
static atomic64_t dsm_nr_pages = ATOMIC64_INIT(0);

static struct dsm_region *dsm_region_lookup(u64 key)
{
	struct dsm_region *r;

	lockdep_assert_held(&dsm_regions_lock);
	hash_for_each_possible(dsm_regions, r, hash, key)
		if (r->key == key)
			return r;
	return NULL;
}

static struct dsm_region *dsm_region_alloc(u64 key, u64 size)
{
	struct dsm_region *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	r->key = key;
	r->size = size;
	r->npages = size >> PAGE_SHIFT;
	kref_init(&r->ref);
	mutex_init(&r->lock);
	atomic_set(&r->mapcount, 0);
	xa_init(&r->pages);
	return r;
}

static void dsm_region_free(struct dsm_region *r)
{
	struct page *page;
	unsigned long index;
	u64 freed = 0;

	xa_for_each(&r->pages, index, page) {
		put_page(page);
		freed++;
	}
	xa_destroy(&r->pages);
	atomic64_sub(freed, &dsm_nr_pages);
	kfree(r);
}

static void dsm_region_release(struct kref *ref)
{
	struct dsm_region *r = container_of(ref, struct dsm_region, ref);

	WARN_ON_ONCE(atomic_read(&r->mapcount));
	pr_debug("region %#llx destroyed\n", r->key);
	dsm_stat_inc(DSM_STAT_REGIONS_DESTROYED);
	dsm_region_free(r);
}

/**
 * dsm_region_put() - drop a reference to a region
 * @r: the region
 */
void dsm_region_put(struct dsm_region *r)
{
	kref_put(&r->ref, dsm_region_release);
}

static int dsm_attach_check(const struct dsm_attach *req)
{
	if (req->flags & ~DSM_ATTACH_FLAGS || req->pad)
		return -EINVAL;
	if ((req->flags & DSM_ATTACH_FLAGS) == DSM_ATTACH_FLAGS)
		return -EINVAL;
	if (req->size % PAGE_SIZE || req->size > DSM_REGION_MAX_SIZE)
		return -EINVAL;
	if (!req->size && (req->flags & DSM_ATTACH_EXCL))
		return -EINVAL;
	return 0;
}

/**
 * dsm_region_attach() - find or create the region a request names
 * @req: the user's request; on success @req->size is the region's size
 * @out: the region, with a reference for the caller
 *
 * Return: 0 or a negative errno, as documented for DSM_IOC_ATTACH.
 */
int dsm_region_attach(struct dsm_attach *req, struct dsm_region **out)
{
	struct dsm_region *r, *fresh = NULL;
	bool may_create;
	int err;

	err = dsm_attach_check(req);
	if (err)
		return err;

	may_create = req->size && !(req->flags & DSM_ATTACH_NOCREATE);
	if (may_create) {
		fresh = dsm_region_alloc(req->key, req->size);
		if (!fresh)
			return -ENOMEM;
	}

	mutex_lock(&dsm_regions_lock);
	r = dsm_region_lookup(req->key);
	if (r) {
		if (req->flags & DSM_ATTACH_EXCL)
			err = -EEXIST;
		else if (req->size && req->size != r->size)
			err = -EINVAL;
		else
			kref_get(&r->ref);
	} else if (!fresh) {
		err = -ENOENT;
	} else if (dsm_nr_regions >= DSM_MAX_REGIONS) {
		err = -ENOSPC;
	} else {
		r = fresh;
		fresh = NULL;
		hash_add(dsm_regions, &r->hash, r->key);
		dsm_nr_regions++;
		kref_get(&r->ref);
		dsm_stat_inc(DSM_STAT_REGIONS_CREATED);
		pr_debug("region %#llx created (%llu bytes)\n", r->key, r->size);
	}
	mutex_unlock(&dsm_regions_lock);

	kfree(fresh);	/* never published, holds no pages */
	if (err)
		return err;
	req->size = r->size;
	*out = r;
	return 0;
}

static void dsm_region_unlink(struct dsm_region *r)
{
	lockdep_assert_held(&dsm_regions_lock);
	hash_del(&r->hash);
	dsm_nr_regions--;
}

/**
 * dsm_region_remove() - remove a region from this node
 * @key: the region's key
 *
 * Return: 0, -ENOENT if there is no such region, -EBUSY while it is mapped.
 */
int dsm_region_remove(u64 key)
{
	struct dsm_region *r;
	int err = 0;

	mutex_lock(&dsm_regions_lock);
	r = dsm_region_lookup(key);
	if (!r) {
		err = -ENOENT;
		goto out_unlock;
	}
	mutex_lock(&r->lock);
	if (atomic_read(&r->mapcount)) {
		err = -EBUSY;
	} else {
		r->removed = true;
		dsm_region_unlink(r);
	}
	mutex_unlock(&r->lock);
	if (!err)
		dsm_region_put(r);
out_unlock:
	mutex_unlock(&dsm_regions_lock);
	return err;
}

/**
 * dsm_region_map() - count a new mapping of a region
 * @r: the region
 *
 * Return: 0, or -EIDRM if the region was removed.
 */
int dsm_region_map(struct dsm_region *r)
{
	int err = 0;

	mutex_lock(&r->lock);
	if (r->removed)
		err = -EIDRM;
	else
		atomic_inc(&r->mapcount);
	mutex_unlock(&r->lock);
	return err;
}

/**
 * dsm_region_unmap() - forget a mapping counted by dsm_region_map()
 * @r: the region
 *
 * Also used for VMAs copied from a counted one (fork, split), which are
 * counted with a plain increment: the region cannot be removed meanwhile.
 */
void dsm_region_unmap(struct dsm_region *r)
{
	WARN_ON_ONCE(atomic_dec_return(&r->mapcount) < 0);
}

/**
 * dsm_region_page() - the page at an index, allocated zeroed on first touch
 * @r:     the region
 * @index: page index, below @r->npages
 *
 * The page stays owned by the region; callers that keep it take their own
 * reference.
 *
 * Return: the page or an ERR_PTR().
 */
struct page *dsm_region_page(struct dsm_region *r, pgoff_t index)
{
	struct page *page, *old;

	page = xa_load(&r->pages, index);
	if (page)
		return page;

	page = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
	if (!page)
		return ERR_PTR(-ENOMEM);
	old = xa_cmpxchg(&r->pages, index, NULL, page, GFP_KERNEL);
	if (old) {
		/* lost a race with another fault, or out of memory */
		__free_page(page);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	atomic64_inc(&dsm_nr_pages);
	dsm_stat_inc(DSM_STAT_ZERO_FILLS);
	return page;
}

/**
 * dsm_regions_count() - regions currently in the table
 *
 * Return: the number of regions.
 */
u32 dsm_regions_count(void)
{
	u32 n;

	mutex_lock(&dsm_regions_lock);
	n = dsm_nr_regions;
	mutex_unlock(&dsm_regions_lock);
	return n;
}

/**
 * dsm_pages_count() - pages held by all regions of this node
 *
 * Return: the number of pages.
 */
u64 dsm_pages_count(void)
{
	return atomic64_read(&dsm_nr_pages);
}

/**
 * dsm_regions_destroy() - drop every region at module unload
 *
 * No file can be open at this point (each holds a module reference), so the
 * table's references are the last ones.
 */
void dsm_regions_destroy(void)
{
	struct dsm_region *r;
	struct hlist_node *tmp;
	int bkt;

	mutex_lock(&dsm_regions_lock);
	hash_for_each_safe(dsm_regions, bkt, tmp, r, hash) {
		dsm_region_unlink(r);
		dsm_region_put(r);
	}
	mutex_unlock(&dsm_regions_lock);
	WARN_ON(atomic64_read(&dsm_nr_pages));
}
