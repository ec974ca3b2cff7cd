/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libdsm: a thin C API over /dev/dsm.
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure; none prints. See uapi <linux/dsm.h> for what each errno means.
 */
#ifndef LIBDSM_H
#define LIBDSM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/dsm.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct dsm_region - a region attached by this process
 * @fd:   the /dev/dsm file bound to the region; closing it detaches
 * @key:  the region's key
 * @size: the region's size in bytes
 */
struct dsm_region {
	int fd;
	uint64_t key;
	size_t size;
};

int dsm_attach(uint64_t key, size_t size, unsigned int flags,
	       struct dsm_region *region);
int dsm_map(const struct dsm_region *region, void **addr);
int dsm_map_fixed(const struct dsm_region *region, void **addr);
int dsm_unmap(const struct dsm_region *region, void *addr);
int dsm_detach(struct dsm_region *region);
int dsm_remove(uint64_t key);
int dsm_commit(const struct dsm_region *region);

int dsm_info(struct dsm_info *info);
int dsm_node_id(void);
int dsm_node_count(void);
int dsm_wait(const uint32_t *word, uint32_t expected, long timeout_ns);

/**
 * struct dsm_lock - a lock in shared memory (one 64-byte line)
 * @held: 1 while taken
 */
struct dsm_lock {
	uint32_t held;
	uint32_t pad[15];
};

void dsm_lock_init(struct dsm_lock *lock);
int dsm_lock_trylock(struct dsm_lock *lock);
int dsm_lock_acquire(struct dsm_lock *lock);
void dsm_lock_release(struct dsm_lock *lock);
int dsm_lock_release_commit(struct dsm_lock *lock, void *data, size_t len);

/**
 * struct dsm_barrier - a barrier in shared memory (one 64-byte line)
 * @parties:    threads that meet at it
 * @count:      arrived in this round
 * @generation: rounds completed
 */
struct dsm_barrier {
	uint32_t parties;
	uint32_t count;
	uint32_t generation;
	uint32_t pad[13];
};

int dsm_barrier_init(struct dsm_barrier *barrier, unsigned int parties);
int dsm_barrier_wait(struct dsm_barrier *barrier);

/* Threads across nodes (see dsm_threads_run(3)) */
typedef uint64_t dsm_thread_t;

#define DSM_THREAD_ANY		0	/* dsm_thread_create(): the least loaded member */
#define DSM_THREADS_KEY		0x647374687265616bULL	/* the thread table's region */

int dsm_threads_run(int (*setup)(void), int (*main_fn)(int argc, char **argv),
		    int argc, char **argv);
int dsm_thread_create(int node, void *(*fn)(void *), void *arg,
		      dsm_thread_t *tid);
int dsm_thread_join(dsm_thread_t tid, void **ret);
dsm_thread_t dsm_thread_self(void);
int dsm_threads_host(unsigned int runs);

int dsm_heap_init(void *base, size_t size);
int dsm_heap_alloc(void *base, size_t size, void **out);
int dsm_heap_free(void *base, void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* LIBDSM_H */
