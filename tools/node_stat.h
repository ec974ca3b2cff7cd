/* SPDX-License-Identifier: GPL-2.0 */
/*
 * node_stat(): one of this node's dsm counters, as `dsmctl -j stats` shows
 * it, for the demo and the benchmark (static programs in the guests).
 */
#ifndef DSM_TOOLS_NODE_STAT_H
#define DSM_TOOLS_NODE_STAT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The counter @name (e.g. "pages_received"), or -1 if it cannot be read. */
static long long node_stat(const char *name)
{
	FILE *f = popen("dsmctl -j stats", "r");
	char buf[4096] = "", key[64], *p;
	long long v = -1;

	if (f) {
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);

		buf[len] = 0;
		pclose(f);
	}
	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(buf, key);
	if (p)
		v = atoll(p + strlen(key));
	return v;
}

#endif
