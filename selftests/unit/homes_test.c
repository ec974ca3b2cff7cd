// SPDX-License-Identifier: GPL-2.0
/* Unit tests (host) for the home mapping table (kernel/coherence/homes.c). */
#include "../../kernel/coherence/homes.h"
#include "kselftest_harness.h"

static int count(const struct dsm_homes *h, u32 node)
{
	int n = 0;

	for (int s = 0; s < DSM_HOME_SLOTS; s++)
		n += h->slot[s] == node;
	return n;
}

static int moved(const struct dsm_homes *a, const struct dsm_homes *b)
{
	int n = 0;

	for (int s = 0; s < DSM_HOME_SLOTS; s++)
		n += a->slot[s] != b->slot[s];
	return n;
}

static u64 range(int lo, int hi)
{
	u64 m = 0;

	for (int i = lo; i <= hi; i++)
		m |= 1ULL << i;
	return m;
}

TEST(empty_and_single)
{
	struct dsm_homes h;

	dsm_homes_build(&h, 0);
	EXPECT_EQ(0, dsm_homes_node(&h, 1, 2));
	dsm_homes_build(&h, 1ULL << 7);
	EXPECT_EQ(DSM_HOME_SLOTS, count(&h, 7));
}

/* A page's home without a table is the table's (a leaver hands by it). */
TEST(node_of_matches_the_table)
{
	struct dsm_homes h;
	u64 members = range(1, 5) | 1ULL << 0;	/* node 64 too */

	dsm_homes_build(&h, members);
	for (u64 i = 0; i < 10000; i++)
		ASSERT_EQ(dsm_homes_node(&h, 0xc0de0000 + i % 7, i),
			  dsm_homes_node_of(members, 0xc0de0000 + i % 7, i));
}

TEST(only_members_and_balanced)
{
	struct dsm_homes h;

	for (int m = 2; m <= 16; m++) {
		dsm_homes_build(&h, range(1, m));
		for (int n = 1; n <= m; n++) {
			int c = count(&h, n), fair = DSM_HOME_SLOTS / m;

			/* rendezvous hashing: within +-40% of a fair share */
			EXPECT_LE(fair * 6 / 10, c);
			EXPECT_GE(fair * 14 / 10, c);
		}
		EXPECT_EQ(0, count(&h, 0));
		EXPECT_EQ(0, count(&h, m + 1));
	}
}

TEST(same_list_same_table)
{
	struct dsm_homes a, b;

	dsm_homes_build(&a, range(1, 5) | 1ULL << 40);
	dsm_homes_build(&b, range(1, 5) | 1ULL << 40);
	EXPECT_EQ(0, moved(&a, &b));
}

TEST(a_leave_moves_only_the_leavers_slots)
{
	struct dsm_homes before, after;

	dsm_homes_build(&before, range(1, 6));
	dsm_homes_build(&after, range(1, 5));
	EXPECT_EQ(count(&before, 6), moved(&before, &after));
	for (int s = 0; s < DSM_HOME_SLOTS; s++)
		if (before.slot[s] != 6)
			EXPECT_EQ(before.slot[s], after.slot[s]);
}

TEST(a_join_takes_a_fair_share_from_everyone)
{
	struct dsm_homes before, after;
	int took;

	dsm_homes_build(&before, range(1, 4));
	dsm_homes_build(&after, range(1, 5));
	took = moved(&before, &after);
	EXPECT_EQ(count(&after, 5), took);	/* every move is to the new node */
	EXPECT_LE(DSM_HOME_SLOTS / 5 * 6 / 10, took);
	EXPECT_GE(DSM_HOME_SLOTS / 5 * 14 / 10, took);
}

TEST(pages_spread_over_slots)
{
	int hits[DSM_HOME_SLOTS] = { 0 }, empty = 0;

	/* 256 MiB of one region: 65536 pages over 4096 slots, 16 each on average */
	for (u64 i = 0; i < 65536; i++)
		hits[dsm_homes_slot(0xd5d0, i)]++;
	for (int s = 0; s < DSM_HOME_SLOTS; s++)
		empty += !hits[s];
	EXPECT_EQ(0, empty);
	EXPECT_NE(dsm_homes_slot(1, 0), dsm_homes_slot(2, 0));
}

TEST_HARNESS_MAIN
