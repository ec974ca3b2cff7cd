// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libdsm: a lock and a barrier that live in shared memory.
 *
 * The barrier is counted by the kernel where it can be (DSM_IOC_BARRIER:
 * a message per party to the node that counts it, and one back). The lock,
 * and the barrier elsewhere, are plain words updated with CPU atomic
 * instructions, which dsm
 * keeps atomic across nodes (a writer holds the only mapped copy of the
 * page). Waiting is done by reading: a page held read-only is read locally
 * at no network cost until a writer invalidates it, so a waiter first spins
 * briefly, then sleeps in dsm_wait() until another node's store invalidates
 * its copy, or a timeout that grows from 1 us to 1 ms (for writers on the
 * same node, whose stores wake nobody). Where dsm_wait() is refused (an
 * object outside a dsm mapping, an older module), it just sleeps that long.
 *
 * Each object takes a 64-byte line; put objects that are used together on
 * a page of their own, away from data that other nodes write.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libdsm.h"
#include "internal.h"

#define DSM_EXPORT __attribute__((visibility("default")))
#define DSM_SPINS	64
#define DSM_BACKOFF_MAX_NS	1000000

/* How one wait goes on: spin rounds, the next sleep, dsm_wait() refused. */
struct dsm_backoff {
	unsigned int round;
	long ns;
	int refused;
};

#define DSM_BACKOFF_INIT { .ns = 1000 }

/* LIBDSM_NO_WAIT set: sleep blind, to compare (read once per process). */
static int dsm_no_wait(void)
{
	static int no_wait = -1;
	int v = __atomic_load_n(&no_wait, __ATOMIC_RELAXED);

	if (v < 0) {
		v = !!getenv("LIBDSM_NO_WAIT");
		__atomic_store_n(&no_wait, v, __ATOMIC_RELAXED);
	}
	return v;
}

/* Wait a little while *word holds @seen: spin, then sleep (see above). */
static void dsm_backoff(struct dsm_backoff *b, const uint32_t *word, uint32_t seen)
{
	struct timespec ts = { 0, 0 };
	int err;

	if (++b->round < DSM_SPINS) {
		__builtin_ia32_pause();
		return;
	}
	err = b->refused || dsm_no_wait() ? -EINVAL : dsm_wait(word, seen, b->ns);
	if (err && err != -ETIMEDOUT && err != -EINTR) {
		b->refused = 1;	/* not asked again in this wait */
		ts.tv_nsec = b->ns;
		nanosleep(&ts, NULL);
	}
	b->ns = b->ns * 2 > DSM_BACKOFF_MAX_NS ? DSM_BACKOFF_MAX_NS : b->ns * 2;
}

/**
 * dsm_lock_init() - make a lock free; once, before anyone uses it
 * @lock: the lock, in shared memory
 */
DSM_EXPORT void dsm_lock_init(struct dsm_lock *lock)
{
	__atomic_store_n(&lock->held, 0, __ATOMIC_RELEASE);
}

/**
 * dsm_lock_trylock() - take a lock if it is free
 * @lock: the lock
 *
 * Return: 0 if taken, -EBUSY if held.
 */
DSM_EXPORT int dsm_lock_trylock(struct dsm_lock *lock)
{
	if (__atomic_load_n(&lock->held, __ATOMIC_RELAXED) ||
	    __atomic_exchange_n(&lock->held, 1, __ATOMIC_ACQUIRE))
		return -EBUSY;
	return 0;
}

/**
 * dsm_lock_acquire() - take a lock, waiting as long as it takes
 * @lock: the lock
 *
 * Return: 0.
 */
DSM_EXPORT int dsm_lock_acquire(struct dsm_lock *lock)
{
	struct dsm_backoff b = DSM_BACKOFF_INIT;

	while (dsm_lock_trylock(lock))
		dsm_backoff(&b, &lock->held, 1);
	return 0;
}

/**
 * dsm_lock_release() - release a lock taken by this thread
 * @lock: the lock
 */
DSM_EXPORT void dsm_lock_release(struct dsm_lock *lock)
{
	__atomic_store_n(&lock->held, 0, __ATOMIC_RELEASE);
}

/**
 * dsm_lock_release_commit() - commit the data a lock protects, then
 * release it
 * @lock: the lock, taken by this thread
 * @data: the protected data, in a mapping of a replicated region
 * @len:  its length in bytes (the pages it touches are committed)
 *
 * The lock is released in any case: a failed commit is the caller's to
 * retry, under the lock again.
 *
 * Return: 0 once every page of the range this node wrote since it last
 * committed is kept on the region's replica holders; -EIO as dsm_commit();
 * -ENOMEM for a range outside any mapping.
 */
DSM_EXPORT int dsm_lock_release_commit(struct dsm_lock *lock, void *data,
				       size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)data & ~(page - 1);
	uintptr_t end = ((uintptr_t)data + len + page - 1) & ~(page - 1);
	int err = 0;

	if (len && msync((void *)start, end - start, MS_SYNC))
		err = -errno;
	dsm_lock_release(lock);
	return err;
}

/**
 * dsm_barrier_init() - set a barrier up for @parties; once, before use
 * @barrier: the barrier, in shared memory
 * @parties: how many threads (on any nodes) meet at it
 *
 * Return: 0, or -EINVAL for 0 parties.
 */
DSM_EXPORT int dsm_barrier_init(struct dsm_barrier *barrier, unsigned int parties)
{
	if (!parties)
		return -EINVAL;
	barrier->parties = parties;
	__atomic_store_n(&barrier->count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&barrier->generation, 0, __ATOMIC_RELEASE);
	return 0;
}

/**
 * dsm_barrier_wait() - wait until all parties have arrived
 * @barrier: the barrier
 *
 * In a dsm mapping, the kernel counts the arrivals (DSM_IOC_BARRIER: one
 * message per party to the node that counts, one back to each at the
 * release); elsewhere, with a module without it, or with LIBDSM_NO_WAIT
 * set (every party must then have it), the parties count in the shared
 * words and wait for the generation to move.
 *
 * Return: 1 for the last to arrive, 0 for the others; -EINVAL if the
 * barrier was never set up; from the kernel, -ENOLINK (a node whose party
 * had arrived left or was lost), -ENOTCONN (this node left the cluster),
 * -ENOSPC or -EINTR.
 */
DSM_EXPORT int dsm_barrier_wait(struct dsm_barrier *barrier)
{
	unsigned int gen = __atomic_load_n(&barrier->generation, __ATOMIC_ACQUIRE);
	unsigned int parties = barrier->parties;
	struct dsm_backoff b = DSM_BACKOFF_INIT;
	int ret;

	if (!parties)
		return -EINVAL;
	if (!dsm_no_wait()) {
		ret = dsm_barrier_arrive(&barrier->count, parties);
		if (ret != -EINVAL && ret != -ENOTTY && ret != -ENOENT &&
		    ret != -EACCES)
			return ret;
	}
	if (__atomic_add_fetch(&barrier->count, 1, __ATOMIC_ACQ_REL) == parties) {
		__atomic_store_n(&barrier->count, 0, __ATOMIC_RELAXED);
		__atomic_add_fetch(&barrier->generation, 1, __ATOMIC_RELEASE);
		return 1;
	}
	while (__atomic_load_n(&barrier->generation, __ATOMIC_ACQUIRE) == gen)
		dsm_backoff(&b, &barrier->generation, gen);
	return 0;
}
