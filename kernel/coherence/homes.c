// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the home mapping table (see homes.h).
 */
#ifdef __KERNEL__
#include <linux/string.h>
#else
#include <string.h>
#endif

#include "homes.h"

/* A 64-bit mixer (splitmix64's finaliser): cheap, well spread, portable. */
static u64 dsm_homes_mix(u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* The member that slot @s goes to: the highest weight(s, node). */
static u32 dsm_homes_best(u64 members, u32 s)
{
	u32 n, best = 0;
	u64 w, top = 0;

	for (n = 1; n <= DSM_HOME_MAX_NODES; n++) {
		if (!(members & (1ULL << (n % DSM_HOME_MAX_NODES))))
			continue;
		w = dsm_homes_mix(((u64)s << 8) ^ n ^ 0x6473d0d0ULL);
		if (!best || w > top) {
			best = n;
			top = w;
		}
	}
	return best;
}

/**
 * dsm_homes_build() - the table for a member list
 * @h:       the table to fill
 * @members: member node ids, bit (n % 64) for node n, 1..64
 */
void dsm_homes_build(struct dsm_homes *h, u64 members)
{
	u32 s;

	for (s = 0; s < DSM_HOME_SLOTS; s++)
		h->slot[s] = dsm_homes_best(members, s);
}

u32 dsm_homes_slot(u64 key, u64 index)
{
	return dsm_homes_mix(dsm_homes_mix(key) ^ index) % DSM_HOME_SLOTS;
}

/**
 * dsm_homes_node() - a page's home
 * @h:     the table
 * @key:   the region's key
 * @index: the page's index in the region
 *
 * Return: the node id, 0 if the table is empty.
 */
u32 dsm_homes_node(const struct dsm_homes *h, u64 key, u64 index)
{
	return h->slot[dsm_homes_slot(key, index)];
}

/**
 * dsm_homes_node_of() - a page's home in the table of @members, unbuilt
 * @members: node set, bit (n % 64) for node n
 * @key:     the region's key
 * @index:   the page's index in the region
 *
 * Return: what dsm_homes_node() returns for that table.
 */
u32 dsm_homes_node_of(u64 members, u64 key, u64 index)
{
	return dsm_homes_best(members, dsm_homes_slot(key, index));
}

/**
 * dsm_homes_pick() - one node for a key, by rendezvous hashing
 * @members: node set, bit (n % 64) for node n
 * @key:     what needs a node (a region's metadata)
 *
 * Return: the member with the highest weight for @key, 0 if none.
 */
u32 dsm_homes_pick(u64 members, u64 key)
{
	u32 n, best = 0;
	u64 w, top = 0;

	for (n = 1; n <= DSM_HOME_MAX_NODES; n++) {
		if (!(members & (1ULL << (n % DSM_HOME_MAX_NODES))))
			continue;
		w = dsm_homes_mix(dsm_homes_mix(key) ^ n);
		if (!best || w > top) {
			best = n;
			top = w;
		}
	}
	return best;
}
