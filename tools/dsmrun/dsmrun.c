// SPDX-License-Identifier: GPL-2.0
/*
 * dsmrun: host, on this node, the programs started on another node under
 * libdsm's dsm_threads_run(), so that such a program is started once.
 *
 *   dsmrun host [-n RUNS]
 *
 * For each run a main node starts, dsmrun starts the same program (path
 * and arguments) here as that run's thread server and waits for it; after
 * RUNS runs it exits (default: never). The program must be installed at
 * the same path on every node, the same build. Exit status: 0, 1 usage
 * error, 2 an error (printed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libdsm.h"

static int usage(FILE *f, int status)
{
	fputs("Usage: dsmrun host [-n RUNS]\n"
	      "Start here, as their thread servers, the programs that other nodes start\n"
	      "under dsm_threads_run(3); exit after RUNS of them (default: never).\n", f);
	return status;
}

int main(int argc, char **argv)
{
	unsigned long runs = 0;
	char *end;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout, 0);
	if (argc < 2 || strcmp(argv[1], "host"))
		return usage(stderr, 1);
	if (argc == 4 && !strcmp(argv[2], "-n")) {
		errno = 0;
		runs = strtoul(argv[3], &end, 10);
		if (errno || *end || !*argv[3] || argv[3][0] == '-' || runs > 1000000)
			return usage(stderr, 1);
	} else if (argc != 2) {
		return usage(stderr, 1);
	}
	err = dsm_threads_host(runs);
	if (err) {
		fprintf(stderr, "dsmrun: %s\n", strerror(-err));
		return 2;
	}
	return 0;
}
