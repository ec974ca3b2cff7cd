/* SPDX-License-Identifier: GPL-2.0 */
/* dsmctl: parsing of command-line words (pure functions, unit-tested). */
#ifndef DSMCTL_PARSE_H
#define DSMCTL_PARSE_H

#include <stddef.h>
#include <stdint.h>

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int parse_ipv4(const char *s, uint32_t *be_addr);
int match_word(const char *arg, const char *const *words);
int parse_addr_port(const char *s, uint32_t *be_addr, uint16_t *port);
int parse_u64(const char *s, uint64_t min, uint64_t *out);
int parse_hex_key(const char *s, uint8_t *key, size_t len);

#endif
