// SPDX-License-Identifier: GPL-2.0
/* Unit tests (host) for dsmctl hot's ranking of pages. */
#include "hot.h"
#include "kselftest_harness.h"

/* Append a page (nodes 1 and 2 asked for it); out of memory aborts. */
static void add(struct hot_list *l, uint64_t key, uint64_t index,
		uint32_t faults, uint32_t lost, uint32_t moves)
{
	struct hot_page p = { .key = key, .index = index, .faults = faults,
			      .lost = lost, .moves = moves, .nodes = 6 };

	if (hot_add(l, &p))
		abort();
}

TEST(totals_rank_hottest_first_and_drop_cold_pages)
{
	struct hot_list l = {};

	add(&l, 1, 0, 1, 0, 0);
	add(&l, 1, 7, 0, 0, 0);		/* counted nothing but who asked */
	add(&l, 2, 3, 10, 9, 20);
	add(&l, 1, 5, 10, 9, 20);	/* a tie: key, then page order */
	add(&l, 1, 9, 2, 2, 0);
	hot_rank(&l, NULL);
	ASSERT_EQ(4, l.n);
	EXPECT_EQ(1, l.v[0].key);
	EXPECT_EQ(5, l.v[0].index);
	EXPECT_EQ(2, l.v[1].key);
	EXPECT_EQ(39, hot_score(&l.v[1]));
	EXPECT_EQ(9, l.v[2].index);
	EXPECT_EQ(0, l.v[3].index);
	EXPECT_EQ(6, l.v[3].nodes);
	hot_free(&l);
}

TEST(interval_counts_only_the_growth)
{
	struct hot_list before = {}, after = {};

	add(&before, 1, 4, 100, 100, 100);	/* hot before, idle since */
	add(&before, 1, 2, 5, 5, 5);
	add(&after, 1, 2, 15, 6, 25);		/* grew by 10 + 1 + 20 */
	add(&after, 1, 4, 100, 100, 100);
	add(&after, 1, 8, 3, 0, 0);		/* new since */
	hot_rank(&after, &before);
	ASSERT_EQ(2, after.n);
	EXPECT_EQ(2, after.v[0].index);
	EXPECT_EQ(10, after.v[0].faults);
	EXPECT_EQ(1, after.v[0].lost);
	EXPECT_EQ(20, after.v[0].moves);
	EXPECT_EQ(8, after.v[1].index);
	EXPECT_EQ(3, after.v[1].faults);
	hot_free(&before);
	hot_free(&after);
}

TEST(a_page_made_again_counts_whole)
{
	struct hot_list before = {}, after = {};

	add(&before, 1, 0, 50, 50, 50);
	add(&after, 1, 0, 4, 60, 70);	/* faults went down: a new page */
	hot_rank(&after, &before);
	ASSERT_EQ(1, after.n);
	EXPECT_EQ(134, hot_score(&after.v[0]));
	hot_free(&before);
	hot_free(&after);
}

TEST(an_empty_dump_ranks_nothing)
{
	struct hot_list before = {}, after = {};

	hot_rank(&after, &before);
	EXPECT_EQ(0, after.n);
	add(&after, 1, 1, 1, 0, 0);
	hot_rank(&after, &before);
	EXPECT_EQ(1, after.n);
	hot_free(&after);
}

TEST_HARNESS_MAIN
