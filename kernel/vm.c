// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the VMA side - mapping a region and serving its page faults.
 *
 * Only shared mappings are allowed: a private (copy-on-write) mapping would
 * silently stop seeing other writers. A fault hands the region's page to the
 * core MM (vmf->page with a reference), which maps it; the page is not in any
 * page cache and is never written back. Faults on cluster regions go through
 * the coherence protocol (pages.c); their VMAs also have page_mkwrite, so
 * that a store to a page held read-only is seen.
 */
#include <linux/mm.h>

#include "compat.h"
#include "dsm.h"

static void dsm_vm_open(struct vm_area_struct *vma)
{
	struct dsm_region *r = vma->vm_private_data;

	atomic_inc(&r->mapcount);
}

static void dsm_vm_close(struct vm_area_struct *vma)
{
	dsm_region_unmap(vma->vm_private_data);
}

static vm_fault_t dsm_vm_fault(struct vm_fault *vmf)
{
	struct dsm_region *r = vmf->vma->vm_private_data;
	struct page *page;

	if (WARN_ON_ONCE(vmf->pgoff >= r->npages))
		return VM_FAULT_SIGBUS;
	dsm_stat_inc(DSM_STAT_FAULTS);
	if (r->cluster)
		return dsm_pages_fault(r, vmf, vmf->flags & FAULT_FLAG_WRITE, false);
	page = dsm_pages_local(r, vmf->pgoff);
	if (IS_ERR(page))
		return VM_FAULT_OOM;
	get_page(page);
	vmf->page = page;
	return 0;
}

/* A store to a page mapped read-only: only cluster regions map them so. */
static vm_fault_t dsm_vm_page_mkwrite(struct vm_fault *vmf)
{
	struct dsm_region *r = vmf->vma->vm_private_data;

	return dsm_pages_fault(r, vmf, true, true);
}

static const struct vm_operations_struct dsm_vm_ops = {
	.open = dsm_vm_open,
	.close = dsm_vm_close,
	.fault = dsm_vm_fault,
};

/* page_mkwrite makes the core map read faults read-only (write notify) */
static const struct vm_operations_struct dsm_vm_cluster_ops = {
	.open = dsm_vm_open,
	.close = dsm_vm_close,
	.fault = dsm_vm_fault,
	.page_mkwrite = dsm_vm_page_mkwrite,
};

/**
 * dsm_vm_region_at() - the region the calling process maps at @addr
 * @addr:  a user address
 * @pgoff: set to the region's page at @addr
 *
 * Return: the region, with a reference (dsm_region_put() it); -EFAULT if
 * nothing is mapped at @addr, -EINVAL if it is not a dsm mapping, -EINTR.
 */
struct dsm_region *dsm_vm_region_at(unsigned long addr, pgoff_t *pgoff)
{
	struct mm_struct *mm = current->mm;
	struct dsm_region *r = ERR_PTR(-EFAULT);
	struct vm_area_struct *vma;

	if (mmap_read_lock_killable(mm))
		return ERR_PTR(-EINTR);
	vma = vma_lookup(mm, addr);
	if (vma && vma->vm_ops != &dsm_vm_ops && vma->vm_ops != &dsm_vm_cluster_ops) {
		r = ERR_PTR(-EINVAL);
	} else if (vma) {
		r = vma->vm_private_data;
		kref_get(&r->ref);
		*pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	}
	mmap_read_unlock(mm);
	return r;
}

/**
 * dsm_vm_mmap() - set up a VMA that maps (part of) a region
 * @r:   the region attached to the file being mapped
 * @vma: the new VMA
 *
 * Return: 0, -EINVAL for a private mapping or a range beyond the region,
 * -EIDRM if the region was removed.
 */
int dsm_vm_mmap(struct dsm_region *r, struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);
	int err;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= r->npages || pages > r->npages - vma->vm_pgoff)
		return -EINVAL;

	err = dsm_region_map(r);
	if (err)
		return err;

	/*
	 * No growing by mremap; no dumping remote memory into core files.
	 * Cluster regions' faults map neighbouring pages with vm_insert_page
	 * (pages.c, fault-around), which wants VM_MIXEDMAP set here, under
	 * mmap_lock for writing; their pages are all struct pages, so it
	 * changes nothing else (the VMA is VM_SPECIAL by VM_DONTEXPAND).
	 */
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP | (r->cluster ? VM_MIXEDMAP : 0));
	vma->vm_ops = r->cluster ? &dsm_vm_cluster_ops : &dsm_vm_ops;
	vma->vm_private_data = r;
	return 0;
}
