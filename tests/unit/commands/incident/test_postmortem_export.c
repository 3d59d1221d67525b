/* commands/incident/postmortem_export.c: the draft's Markdown as Confluence storage format
 * (issue 14) — its blocks and inline bold, and people's text never becoming markup. */
/* cmocka.h needs these before it. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "commands/incident/postmortem.h"
#include "lib/buf.h"

static char *storage(const char *md)
{
  struct buf b;
  buf_init(&b, 1 << 20);
  assert_int_equal(postmortem_storage(md, &b), 0);
  return buf_take(&b);
}

static void test_blocks(void **state)
{
  (void)state;
  char *x = storage(
      "# Postmortem: incident #1\n\n> A draft *To write*.\n\n| | |\n|---|---|\n"
      "| Incident | #1 |\n\n## Roles\n\n- Commander: **alice**\n- Scribe: —\n\n"
      "alice, bob\nline two\n");
  assert_string_equal(x,
                      "<h1>Postmortem: incident #1</h1>"
                      "<blockquote><p>A draft *To write*.</p></blockquote>"
                      "<table><tbody><tr><th></th><th></th></tr>"
                      "<tr><td>Incident</td><td>#1</td></tr></tbody></table>"
                      "<h2>Roles</h2><ul><li>Commander: <strong>alice</strong></li>"
                      "<li>Scribe: —</li></ul><p>alice, bob<br/>line two</p>");
  free(x);
}

static void test_people_text_is_escaped(void **state)
{
  (void)state;
  /* as postmortem_md_text writes what people typed: < > as entities, markup characters escaped */
  char *x = storage(
      "- **bob**: &lt;script&gt;alert(\"x\")&lt;/script&gt; \\*not bold\\* & "
      "]]&gt; <ac:structured-macro ac:name=\"html\"/> \\| a\n");
  assert_string_equal(x,
                      "<ul><li><strong>bob</strong>: &lt;script&gt;alert(&quot;x&quot;)"
                      "&lt;/script&gt; *not bold* &amp; ]]&gt; &lt;ac:structured-macro "
                      "ac:name=&quot;html&quot;/&gt; | a</li></ul>");
  free(x);
  /* an unclosed ** is closed; a table cell keeps an escaped | */
  x = storage("**open\n| a\\|b | c |\n");
  assert_string_equal(x,
                      "<p><strong>open</strong></p><table><tbody><tr><th>a|b</th><th>c</th>"
                      "</tr></tbody></table>");
  free(x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blocks),
      cmocka_unit_test(test_people_text_is_escaped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
