/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsmctl hot: ranking pages by how much they move between nodes, from the
 * kernel's per-page counts (DSM_CMD_HOT_GET). Pure functions, unit-tested.
 */
#ifndef DSMCTL_HOT_H
#define DSMCTL_HOT_H

#include <stddef.h>
#include <stdint.h>

/* One page's counts (DSM_HOT_A_*): totals, or over an interval. */
struct hot_page {
	uint64_t key, index, nodes;
	uint32_t home, faults, lost, moves;
};

/* The pages of one dump, in any order. */
struct hot_list {
	struct hot_page *v;
	size_t n, cap;
};

int hot_add(struct hot_list *l, const struct hot_page *p);
void hot_rank(struct hot_list *after, struct hot_list *before);
uint64_t hot_score(const struct hot_page *p);
void hot_free(struct hot_list *l);

#endif
