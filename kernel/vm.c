// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the VMA side - mapping a region and serving its page faults.
 *
 * Only shared mappings are allowed: a private (copy-on-write) mapping would
 * silently stop seeing other writers. A fault hands the region's page to the
 * core MM (vmf->page with a reference), which maps it; the page is not in any
 * page cache and is never written back.
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

	page = dsm_region_page(r, vmf->pgoff);
	if (IS_ERR(page))
		return VM_FAULT_OOM;

	get_page(page);
	vmf->page = page;
	dsm_stat_inc(DSM_STAT_FAULTS);
	return 0;
}

static const struct vm_operations_struct dsm_vm_ops = {
	.open = dsm_vm_open,
	.close = dsm_vm_close,
	.fault = dsm_vm_fault,
};

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

	/* No growing by mremap; no dumping remote memory into core files. */
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &dsm_vm_ops;
	vma->vm_private_data = r;
	return 0;
}
