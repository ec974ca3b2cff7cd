/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/* libdsm: what its files share and do not export. */
#ifndef LIBDSM_INTERNAL_H
#define LIBDSM_INTERNAL_H

#include <stdint.h>

/* dsm.c: the kernel's cluster barrier (DSM_IOC_BARRIER) */
int dsm_barrier_arrive(const uint32_t *word, unsigned int parties);

#endif
