/* SPDX-License-Identifier: GPL-2.0 */
/* dsmctl: parsing of command-line words (pure functions, unit-tested). */
#ifndef DSMCTL_PARSE_H
#define DSMCTL_PARSE_H

#include <stdint.h>

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int parse_ipv4(const char *s, uint32_t *be_addr);
int match_word(const char *arg, const char *const *words);

#endif
