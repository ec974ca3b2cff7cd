// SPDX-License-Identifier: GPL-2.0
/*
 * libdsm's shared-memory parts on the host, over ordinary memory: the heap
 * (allocation, alignment, splitting and coalescing, refusal of bad and
 * double frees, a random workload checked for overlaps), the lock and
 * barrier under threads, and the lock's release with a commit. In the guests they run over dsm regions
 * (dsm_coherence, the demo).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "../../lib/libdsm.h"

#define HEAP (1 << 20)

static void *arena(void)
{
	void *p = NULL;

	return posix_memalign(&p, 4096, HEAP) ? NULL : p;
}

TEST(heap_alloc_free_coalesce)
{
	void *base = arena(), *a, *b, *c, *big;

	ASSERT_NE(NULL, base);
	ASSERT_EQ(-EINVAL, dsm_heap_alloc(base, 16, &a));	/* no heap yet */
	ASSERT_EQ(0, dsm_heap_init(base, HEAP));
	ASSERT_EQ(0, dsm_heap_alloc(base, 100, &a));
	ASSERT_EQ(0, dsm_heap_alloc(base, 5000, &b));
	ASSERT_EQ(0, dsm_heap_alloc(base, 1, &c));
	EXPECT_EQ(0, (uintptr_t)a % 64);
	EXPECT_EQ(0, (uintptr_t)b % 64);
	EXPECT_TRUE((char *)b >= (char *)a + 100);
	EXPECT_EQ(-EINVAL, dsm_heap_alloc(base, HEAP + 1, &big));	/* never fits */
	EXPECT_EQ(-EINVAL, dsm_heap_alloc(base, 0, &big));
	EXPECT_EQ(-ENOMEM, dsm_heap_alloc(base, HEAP - 4096, &big));
	EXPECT_EQ(0, dsm_heap_free(base, b));
	EXPECT_EQ(-EINVAL, dsm_heap_free(base, b));		/* double free */
	EXPECT_EQ(-EINVAL, dsm_heap_free(base, (char *)a + 8));	/* not a block */
	EXPECT_EQ(0, dsm_heap_free(base, a));
	EXPECT_EQ(0, dsm_heap_free(base, c));
	/* everything coalesced: one block as large as at the start */
	EXPECT_EQ(0, dsm_heap_alloc(base, HEAP - 4096, &big));
	EXPECT_EQ(0, dsm_heap_free(base, big));
	free(base);
}

TEST(heap_random_no_overlap)
{
	void *base = arena(), *p[256] = { 0 };
	size_t sz[256];
	unsigned int seed = 7;

	ASSERT_NE(NULL, base);
	ASSERT_EQ(0, dsm_heap_init(base, HEAP));
	for (int step = 0; step < 20000; step++) {
		int i = rand_r(&seed) % 256;

		if (p[i]) {
			for (size_t k = 0; k < sz[i]; k++)
				ASSERT_EQ((unsigned char)i, ((unsigned char *)p[i])[k]);
			ASSERT_EQ(0, dsm_heap_free(base, p[i]));
			p[i] = NULL;
		} else {
			sz[i] = 1 + rand_r(&seed) % 3000;
			if (dsm_heap_alloc(base, sz[i], &p[i]))
				p[i] = NULL;
			else
				memset(p[i], i, sz[i]);
		}
	}
	for (int i = 0; i < 256; i++)
		if (p[i])
			ASSERT_EQ(0, dsm_heap_free(base, p[i]));
	EXPECT_EQ(0, dsm_heap_alloc(base, HEAP - 4096, &p[0]));
	free(base);
}

static struct dsm_lock lock;
static struct dsm_barrier barrier;
static long counter, rounds_ok;

static void *worker(void *arg)
{
	for (int r = 0; r < 200; r++) {
		for (int i = 0; i < 100; i++) {
			dsm_lock_acquire(&lock);
			counter++;		/* not atomic: the lock protects it */
			dsm_lock_release(&lock);
		}
		if (dsm_barrier_wait(&barrier) == 1)
			__atomic_add_fetch(&rounds_ok, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

TEST(lock_and_barrier_under_threads)
{
	pthread_t th[4];

	dsm_lock_init(&lock);
	ASSERT_EQ(-EINVAL, dsm_barrier_init(&barrier, 0));
	ASSERT_EQ(0, dsm_barrier_init(&barrier, 4));
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(4 * 200 * 100, counter);
	EXPECT_EQ(200, rounds_ok);	/* exactly one "last" per round */
	EXPECT_EQ(0, dsm_lock_trylock(&lock));
	EXPECT_EQ(-EBUSY, dsm_lock_trylock(&lock));
}

/*
 * The commit is msync(MS_SYNC) of the pages the range touches (on a dsm
 * mapping it pushes them to the replicas: the guests test that); the lock
 * is free afterwards, also when the commit fails.
 */
TEST(lock_release_commit)
{
	char *map = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + 2 * 4096, 4096));	/* a hole after 2 pages */
	dsm_lock_init(&lock);
	ASSERT_EQ(0, dsm_lock_trylock(&lock));
	EXPECT_EQ(0, dsm_lock_release_commit(&lock, map + 100, 4096));
	EXPECT_EQ(0, dsm_lock_trylock(&lock));
	EXPECT_EQ(0, dsm_lock_release_commit(&lock, map, 0));
	EXPECT_EQ(0, dsm_lock_trylock(&lock));
	/* the range's last page is the hole: every page it touches counts */
	EXPECT_EQ(-ENOMEM, dsm_lock_release_commit(&lock, map + 4096 + 1, 4096));
	EXPECT_EQ(0, dsm_lock_trylock(&lock));
	dsm_lock_release(&lock);
	munmap(map, 2 * 4096);
}

TEST_HARNESS_MAIN
