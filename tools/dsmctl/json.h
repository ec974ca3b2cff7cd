/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsmctl: one print path for readable text and JSON (after iproute2's
 * json_print). Each call names a JSON key and a printf format for text; in
 * text mode a NULL format prints nothing, in JSON mode the format is unused.
 */
#ifndef DSMCTL_JSON_H
#define DSMCTL_JSON_H

#include <stdint.h>
#include <stdio.h>

enum out_mode { OUT_TEXT, OUT_JSON, OUT_PRETTY };

void out_init(FILE *f, enum out_mode mode);
int out_is_json(void);
void out_open(const char *key, const char *fmt);
void out_close(void);
void out_array_open(void);
void out_array_close(void);
void out_u64(const char *key, const char *fmt, uint64_t v);
void out_str(const char *key, const char *fmt, const char *v);
void out_bool(const char *key, const char *fmt, int v);
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_end(void);

#endif
