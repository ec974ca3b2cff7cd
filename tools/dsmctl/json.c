// SPDX-License-Identifier: GPL-2.0
/* dsmctl: text and JSON output from one print path. */
#include <stdarg.h>
#include <string.h>

#include "json.h"

#define MAX_DEPTH 16

static FILE *out;
static enum out_mode mode;
static int depth;
static int first[MAX_DEPTH];	/* no member printed yet at this depth */

void out_init(FILE *f, enum out_mode m)
{
	out = f;
	mode = m;
	depth = 0;
	first[0] = 1;
}

int out_is_json(void)
{
	return mode != OUT_TEXT;
}

static void json_escaped(const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Separator, indentation and key before a JSON member or element. */
static void json_member(const char *key)
{
	if (depth > 0) {
		if (!first[depth])
			fputc(',', out);
		if (mode == OUT_PRETTY)
			fprintf(out, "\n%*s", 4 * depth, "");
	}
	first[depth] = 0;
	if (key) {
		json_escaped(key);
		fputs(mode == OUT_PRETTY ? ": " : ":", out);
	}
}

void out_open(const char *key, const char *fmt)
{
	if (!out_is_json()) {
		if (fmt)
			fputs(fmt, out);
		return;
	}
	json_member(depth ? key : NULL);
	fputc('{', out);
	if (depth < MAX_DEPTH - 1)
		first[++depth] = 1;
}

/* A top-level JSON array of documents (dsmctl peers -j). */
void out_array_open(void)
{
	if (!out_is_json())
		return;
	json_member(NULL);
	fputc('[', out);
	if (depth < MAX_DEPTH - 1)
		first[++depth] = 1;
}

void out_array_close(void)
{
	if (!out_is_json() || !depth)
		return;
	depth--;
	if (mode == OUT_PRETTY && !first[depth + 1])
		fprintf(out, "\n%*s", 4 * depth, "");
	fputc(']', out);
}

void out_close(void)
{
	if (!out_is_json() || !depth)
		return;
	depth--;
	if (mode == OUT_PRETTY && !first[depth + 1])
		fprintf(out, "\n%*s", 4 * depth, "");
	fputc('}', out);
}

void out_u64(const char *key, const char *fmt, uint64_t v)
{
	if (out_is_json()) {
		json_member(key);
		fprintf(out, "%llu", (unsigned long long)v);
	} else if (fmt) {
		fprintf(out, fmt, (unsigned long long)v);
	}
}

void out_str(const char *key, const char *fmt, const char *v)
{
	if (out_is_json()) {
		json_member(key);
		json_escaped(v);
	} else if (fmt) {
		fprintf(out, fmt, v);
	}
}

void out_bool(const char *key, const char *fmt, int v)
{
	if (out_is_json()) {
		json_member(key);
		fputs(v ? "true" : "false", out);
	} else if (fmt) {
		fprintf(out, fmt, v ? "yes" : "no");
	}
}

/* Text-only decoration (labels, newlines); JSON output ignores it. */
void out_text(const char *fmt, ...)
{
	va_list ap;

	if (out_is_json())
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

/* End of one top-level document. */
void out_end(void)
{
	while (out_is_json() && depth)
		out_close();
	if (out_is_json())
		fputc('\n', out);
	fflush(out);
	first[0] = 1;
}
