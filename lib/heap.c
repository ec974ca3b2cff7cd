// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libdsm: a shared heap - malloc and free over a region, from any node.
 *
 * The heap's header sits at the start of the region: a magic, the size, a
 * dsm_lock and the offset of the first free block. Blocks are 64-byte
 * aligned, each with a 64-byte header (size; the next free block's offset,
 * or a "used" mark). The free list is kept in address order, first fit,
 * with splitting and coalescing of neighbours. Everything is an offset from
 * the region's start, so the heap works whether or not the region is mapped
 * at the same address everywhere (pointers handed out are valid on every
 * node with dsm_map_fixed()).
 *
 * Every operation holds the heap's lock, so the heap is correct under the
 * protocol from any number of nodes; it is not meant to be fast under
 * contention (the header's page moves to whoever allocates).
 */
#include <errno.h>
#include <stdint.h>

#include "libdsm.h"

#define DSM_EXPORT __attribute__((visibility("default")))
#define DSM_HEAP_MAGIC	0x7061656873736d64ULL	/* "dsmsheap" */
#define DSM_HEAP_USED	0x64657375ULL		/* "used" */
#define DSM_HEAP_ALIGN	64
#define DSM_HEAP_SPLIT	(2 * DSM_HEAP_ALIGN)	/* smallest free remainder */

struct dsm_heap_head {
	uint64_t magic;
	uint64_t size;
	uint64_t free_head;
	uint64_t pad[5];
	struct dsm_lock lock;
};

struct dsm_heap_block {
	uint64_t size;		/* header included */
	uint64_t next;		/* next free block, or DSM_HEAP_USED */
	uint64_t pad[6];
};

_Static_assert(sizeof(struct dsm_heap_head) == 2 * DSM_HEAP_ALIGN, "head");
_Static_assert(sizeof(struct dsm_heap_block) == DSM_HEAP_ALIGN, "block");

#define BLOCK(base, off)	((struct dsm_heap_block *)((char *)(base) + (off)))

/**
 * dsm_heap_init() - make a heap of a (mapped) region; once, on one node
 * @base: the region's start, 64-byte aligned
 * @size: bytes to manage, at least 4096
 *
 * Return: 0 or -EINVAL.
 */
DSM_EXPORT int dsm_heap_init(void *base, size_t size)
{
	struct dsm_heap_head *h = base;
	uint64_t first = sizeof(*h);

	if (!base || (uintptr_t)base % DSM_HEAP_ALIGN || size < 4096)
		return -EINVAL;
	size -= size % DSM_HEAP_ALIGN;
	dsm_lock_init(&h->lock);
	h->size = size;
	h->free_head = first;
	BLOCK(base, first)->size = size - first;
	BLOCK(base, first)->next = 0;
	__atomic_store_n(&h->magic, DSM_HEAP_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

static struct dsm_heap_head *dsm_heap_head(void *base)
{
	struct dsm_heap_head *h = base;

	if (!base || __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != DSM_HEAP_MAGIC)
		return NULL;
	return h;
}

/**
 * dsm_heap_alloc() - allocate from a heap
 * @base: the heap's region start (as given to dsm_heap_init on some node)
 * @size: bytes wanted, at least 1
 * @out:  the memory, 64-byte aligned, on success
 *
 * Return: 0, -ENOMEM if no free block is large enough, -EINVAL for a bad
 * size or a region that holds no heap.
 */
DSM_EXPORT int dsm_heap_alloc(void *base, size_t size, void **out)
{
	struct dsm_heap_head *h = dsm_heap_head(base);
	uint64_t need, off, *link;
	int err = -ENOMEM;

	if (!h || !size || size > h->size)
		return -EINVAL;
	need = (size + DSM_HEAP_ALIGN - 1) / DSM_HEAP_ALIGN * DSM_HEAP_ALIGN +
	       sizeof(struct dsm_heap_block);
	dsm_lock_acquire(&h->lock);
	for (link = &h->free_head; (off = *link); link = &BLOCK(base, off)->next) {
		struct dsm_heap_block *b = BLOCK(base, off);

		if (b->size < need)
			continue;
		if (b->size - need >= DSM_HEAP_SPLIT) {
			struct dsm_heap_block *rest = BLOCK(base, off + need);

			rest->size = b->size - need;
			rest->next = b->next;
			b->size = need;
			*link = off + need;
		} else {
			*link = b->next;
		}
		b->next = DSM_HEAP_USED;
		*out = b + 1;
		err = 0;
		break;
	}
	dsm_lock_release(&h->lock);
	return err;
}

/**
 * dsm_heap_free() - give memory back to a heap
 * @base: the heap's region start
 * @ptr:  memory from dsm_heap_alloc() on any node, not yet freed
 *
 * Return: 0, or -EINVAL for a pointer that is not an allocated block of this
 * heap (checked, so a double free is refused, not corrupting).
 */
DSM_EXPORT int dsm_heap_free(void *base, void *ptr)
{
	struct dsm_heap_head *h = dsm_heap_head(base);
	uint64_t off, prev = 0, next, *link;
	struct dsm_heap_block *b;
	int err = 0;

	if (!h || (char *)ptr < (char *)base + sizeof(*h) + sizeof(*b))
		return -EINVAL;
	off = (uint64_t)((char *)ptr - (char *)base) - sizeof(*b);
	if (off % DSM_HEAP_ALIGN || off >= h->size)
		return -EINVAL;
	b = BLOCK(base, off);
	dsm_lock_acquire(&h->lock);
	if (b->next != DSM_HEAP_USED || b->size > h->size - off) {
		err = -EINVAL;
		goto out;
	}
	/* insert in address order, then merge with the neighbours */
	for (link = &h->free_head; (next = *link) && next < off;
	     link = &BLOCK(base, next)->next)
		prev = next;
	b->next = next;
	*link = off;
	if (next && off + b->size == next) {
		b->size += BLOCK(base, next)->size;
		b->next = BLOCK(base, next)->next;
	}
	if (prev && prev + BLOCK(base, prev)->size == off) {
		BLOCK(base, prev)->size += b->size;
		BLOCK(base, prev)->next = b->next;
	}
out:
	dsm_lock_release(&h->lock);
	return err;
}
