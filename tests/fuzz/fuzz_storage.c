/*
 * fuzz_storage.c — libFuzzer target for the postmortem's Confluence storage format
 * (postmortem_storage, commands/incident/postmortem_export.c, issue 14): any Markdown-ish bytes,
 * never a crash, a leak or undefined behaviour, and every '<' in the output starts one of the
 * tags the converter writes (people's text can never become markup). Seeds:
 * tests/fuzz/seeds/fuzz_storage/. Run with `make fuzz` (tests/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands/incident/postmortem.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int allowed(const char *p)
{
  static const char *const tags[] = {"h1>", "h2>",  "h3>", "h4>",         "h5>",     "h6>",
                                     "p>",  "br/>", "ul>", "li>",         "table>",  "tbody>",
                                     "tr>", "th>",  "td>", "blockquote>", "strong>", NULL};
  if (*p == '/')
    p++;
  for (size_t i = 0; tags[i]; i++)
    if (strncmp(p, tags[i], strlen(tags[i])) == 0)
      return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 16384)
    return 0;
  char *md = strndup((const char *)data, size);
  if (!md)
    return 0;
  struct buf out;
  buf_init(&out, POSTMORTEM_MAX * 4);
  if (postmortem_storage(md, &out) == 0 && out.data)
    for (const char *p = strchr(out.data, '<'); p; p = strchr(p + 1, '<'))
      if (!allowed(p + 1))
        __builtin_trap();
  buf_free(&out);
  free(md);
  return 0;
}
