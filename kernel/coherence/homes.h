/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: which node is a page's home - the mapping table.
 *
 * A page's home is named by a table, not by address bits: a page hashes to
 * one of DSM_HOME_SLOTS slots and the table maps each slot to a node, so a
 * home can move by rewriting one entry. The table is derived from the
 * member list by rendezvous hashing: slot s goes to the member with the
 * highest weight(s, node). Every node computes the same table from the same
 * list, with no messages, and a change of membership moves only the slots
 * that must move: a leaving node's slots spread over the others, and a
 * joining node takes about 1/(members) of the slots, from everyone.
 *
 * Pure C, like protocol.c: compiled into the module and unit-tested in
 * userspace (selftests/unit/homes_test.c). Each cluster region builds its
 * table from its home set, fixed at creation (kernel/region.c).
 */
#ifndef _DSM_COHERENCE_HOMES_H
#define _DSM_COHERENCE_HOMES_H

#ifdef __KERNEL__
#include <linux/types.h>
#endif	/* userspace builds force-include selftests/unit/kernel_types.h */

#define DSM_HOME_SLOTS		4096
#define DSM_HOME_MAX_NODES	64

/**
 * struct dsm_homes - the mapping table of one membership epoch
 * @slot: node id owning each slot; 0 while there are no members (4 KiB:
 *        with 4096 slots every node's share stays within 40% of an even
 *        share for clusters of up to 16 nodes, as the unit test checks)
 */
struct dsm_homes {
	u8 slot[DSM_HOME_SLOTS];
};

void dsm_homes_build(struct dsm_homes *h, u64 members);
u32 dsm_homes_slot(u64 key, u64 index);
u32 dsm_homes_node(const struct dsm_homes *h, u64 key, u64 index);
u32 dsm_homes_node_of(u64 members, u64 key, u64 index);
u32 dsm_homes_pick(u64 members, u64 key);

#endif /* _DSM_COHERENCE_HOMES_H */
