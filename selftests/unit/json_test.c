// SPDX-License-Identifier: GPL-2.0
/* Unit tests (host) for dsmctl's text/JSON print path. */
#include <stdlib.h>

#include "json.h"
#include "kselftest_harness.h"

/* Run one document through the print path and return what it printed. */
static char *render(enum out_mode mode, void (*doc)(void))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	out_init(f, mode);
	doc();
	out_end();
	fclose(f);
	return buf;
}

static void sample(void)
{
	out_open(NULL, NULL);
	out_str("name", "name %s\n", "a\"b\\c\n\x01");
	out_open("inner", "inner:\n");
	out_u64("x", "  x %llu\n", 18446744073709551615ULL);
	out_bool("up", "  up %s\n", 1);
	out_close();
	out_open("empty", NULL);
	out_close();
	out_text("plain text only\n");
	out_u64("last", "last %llu\n", 0);
	out_close();
}

TEST(json_compact)
{
	char *s = render(OUT_JSON, sample);

	EXPECT_STREQ("{\"name\":\"a\\\"b\\\\c\\n\\u0001\",\"inner\":{\"x\":18446744073709551615,"
		     "\"up\":true},\"empty\":{},\"last\":0}\n", s);
	free(s);
}

TEST(json_pretty)
{
	char *s = render(OUT_PRETTY, sample);

	EXPECT_STREQ("{\n    \"name\": \"a\\\"b\\\\c\\n\\u0001\",\n    \"inner\": {\n"
		     "        \"x\": 18446744073709551615,\n        \"up\": true\n    },\n"
		     "    \"empty\": {},\n    \"last\": 0\n}\n", s);
	free(s);
}

TEST(text)
{
	char *s = render(OUT_TEXT, sample);

	EXPECT_STREQ("name a\"b\\c\n\x01\ninner:\n  x 18446744073709551615\n  up yes\n"
		     "plain text only\nlast 0\n", s);
	free(s);
}

static void unclosed(void)
{
	out_open(NULL, NULL);
	out_open("a", NULL);
	out_u64("b", NULL, 1);
}

TEST(out_end_closes_open_objects)
{
	char *s = render(OUT_JSON, unclosed);

	EXPECT_STREQ("{\"a\":{\"b\":1}}\n", s);
	free(s);
}

TEST_HARNESS_MAIN
