/* SPDX-License-Identifier: GPL-2.0 */
/* dsmctl region save / load: a consistent copy of a region in a file. */
#ifndef DSMCTL_SAVE_H
#define DSMCTL_SAVE_H

#include <stdint.h>

/* Return: 0, -ENODEV without /dev/dsm, or another negative errno (said). */
int region_save(uint64_t key, const char *path);
int region_load(const char *path, const uint64_t *key);

#endif
