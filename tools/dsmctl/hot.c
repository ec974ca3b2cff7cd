// SPDX-License-Identifier: GPL-2.0
/*
 * dsmctl hot: ranking pages by how much they move between nodes.
 *
 * The kernel counts, per page and since it first touched the page, the
 * faults that sent a request, the copies it lost and (as the page's home)
 * the times the page changed hands. A page's score is their sum; over an
 * interval it is the sum of their growth between two dumps. Nothing is
 * reset in the kernel, so several readers never disturb each other.
 */
#include <stdlib.h>
#include <string.h>

#include "hot.h"

/**
 * hot_add() - append a page to a list
 * @l: the list
 * @p: the page's counts
 *
 * Return: 0, or -1 out of memory.
 */
int hot_add(struct hot_list *l, const struct hot_page *p)
{
	size_t cap = l->cap ? 2 * l->cap : 64;
	struct hot_page *v;

	if (l->n == l->cap) {
		v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *p;
	return 0;
}

void hot_free(struct hot_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

uint64_t hot_score(const struct hot_page *p)
{
	return (uint64_t)p->faults + p->lost + p->moves;
}

static int by_page(const void *a, const void *b)
{
	const struct hot_page *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int by_score(const void *a, const void *b)
{
	uint64_t x = hot_score(a), y = hot_score(b);

	if (x != y)
		return x > y ? -1 : 1;
	return by_page(a, b);
}

/*
 * What @a counted since @b. A count that went down means the page was made
 * again (its region removed and created anew, or the node left and came
 * back) after @b: then all of @a is new.
 */
static void hot_sub(struct hot_page *a, const struct hot_page *b)
{
	if (a->faults < b->faults || a->lost < b->lost || a->moves < b->moves)
		return;
	a->faults -= b->faults;
	a->lost -= b->lost;
	a->moves -= b->moves;
}

/**
 * hot_rank() - rank the pages of a dump, hottest first
 * @after:  the pages' counts; on return, only pages with a score, hottest
 *          first (ties in key and page order), their counts made relative
 *          to @before
 * @before: NULL for totals, or an earlier dump (sorted by the call)
 */
void hot_rank(struct hot_list *after, struct hot_list *before)
{
	struct hot_page *b;
	size_t i, n = 0;

	if (before)
		qsort(before->v, before->n, sizeof(*before->v), by_page);
	for (i = 0; i < after->n; i++) {
		b = before && before->n ?
		    bsearch(&after->v[i], before->v, before->n, sizeof(*b), by_page) :
		    NULL;
		if (b)
			hot_sub(&after->v[i], b);
		if (hot_score(&after->v[i]))
			after->v[n++] = after->v[i];
	}
	after->n = n;
	qsort(after->v, after->n, sizeof(*after->v), by_score);
}
