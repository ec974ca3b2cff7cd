// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_fill: a tool for shell tests.
 *
 *   dsm_fill fill   KEY SIZE [SEED]   create, fill with a pattern, detach
 *   dsm_fill verify KEY [SEED]        check the pattern; exit 1 on mismatch
 *   dsm_fill hold   KEY SIZE          map, close the fd, print "holding",
 *                                     then keep the mapping until killed
 *   dsm_fill remove KEY               remove the region
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libdsm.h"

static uint64_t pattern(uint64_t i, uint64_t seed)
{
	return (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "dsm_fill: %s: %s\n", what, strerror(-err));
	return 2;
}

int main(int argc, char **argv)
{
	struct dsm_region r;
	uint64_t key, size = 0, seed = 0, *p, i, bad = 0;
	const char *op = argc > 1 ? argv[1] : "";
	int verify = !strcmp(op, "verify"), err;
	int sarg = verify ? 3 : 4;

	if (argc == 3 && !strcmp(op, "remove")) {
		err = dsm_remove(strtoull(argv[2], NULL, 0));
		return err ? fail("remove", err) : 0;
	}
	if (argc < 3 || (!verify && argc < 4) ||
	    (strcmp(op, "fill") && !verify && strcmp(op, "hold"))) {
		fputs("usage: dsm_fill fill KEY SIZE [SEED] | verify KEY [SEED] | hold KEY SIZE | remove KEY\n",
		      stderr);
		return 1;
	}
	key = strtoull(argv[2], NULL, 0);
	if (!verify)
		size = strtoull(argv[3], NULL, 0);
	if (argc > sarg)
		seed = strtoull(argv[sarg], NULL, 0);

	err = dsm_attach(key, size, verify ? DSM_ATTACH_NOCREATE : 0, &r);
	if (err)
		return fail("attach", err);
	err = dsm_map(&r, (void **)&p);
	if (err)
		return fail("map", err);

	if (!strcmp(op, "hold")) {
		dsm_detach(&r);		/* the mapping alone must pin things */
		p[0] = 1;
		printf("holding\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	for (i = 0; i < r.size / 8; i++) {
		if (verify)
			bad += p[i] != pattern(i, seed);
		else
			p[i] = pattern(i, seed);
	}
	dsm_unmap(&r, p);
	dsm_detach(&r);
	if (bad) {
		fprintf(stderr, "dsm_fill: %" PRIu64 " words differ\n", bad);
		return 1;
	}
	return 0;
}
