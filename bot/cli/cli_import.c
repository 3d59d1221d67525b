/*
 * cli_import.c — `klaxon import pagerduty --from FILE_OR_DIR [--out FILE]`: reads a vendor's
 * export (capped at IMP_MAX_INPUT_BYTES in all), maps it with commands/import/, prints on stderr
 * one line per thing not carried over and every difference between the vendor's final schedule
 * and the generated rota, checks the YAML with the config loader and only then writes it
 * (--out: a temporary file renamed into place, so a refusal leaves nothing behind).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/config/config_load.h"
#include "commands/import/import.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

/* The whole file, NUL-terminated, when it is a regular file of at most *budget bytes (the budget
 * shrinks by what was read). NULL with a sentence on stderr otherwise. */
static char *read_capped(const char *path, size_t *budget, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    fprintf(stderr, "klaxon import: cannot read %s (%s)\n", path,
            fd < 0 ? strerror(errno) : "not a file");
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  if ((size_t)st.st_size > *budget) {
    fprintf(stderr,
            "klaxon import: refused: %s is too large (the export may hold %u MiB in all); "
            "nothing written\n",
            path, IMP_MAX_INPUT_BYTES >> 20);
    close(fd);
    return NULL;
  }
  char *data = malloc(*budget + 1);
  size_t n = 0;
  while (data && n <= *budget) {
    ssize_t got = read(fd, data + n, *budget + 1 - n);
    if (got <= 0)
      break;
    n += (size_t)got;
  }
  close(fd);
  if (!data || n > *budget) {
    fprintf(stderr, "klaxon import: refused: %s is too large; nothing written\n", path);
    free(data);
    return NULL;
  }
  data[n] = '\0';
  *budget -= n;
  *len = n;
  return data;
}

static cJSON *parse_file(const char *path, size_t *budget)
{
  size_t len = 0;
  char *text = read_capped(path, budget, &len);
  if (!text)
    return NULL;
  cJSON *j =
      cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1); /* the NUL included: cJSON checks it */
  free(text);
  if (!j)
    fprintf(stderr, "klaxon import: refused: %s is not JSON; nothing written\n", path);
  return j;
}

/* A directory: users.json, schedules.json, escalation_policies.json, services.json, each the
 * list response ({"users": [...]}); their lists become one object. */
static cJSON *read_dir(const char *dir,
                       const char *const *files,
                       const char *list_key,
                       size_t *budget)
{
  cJSON *root = cJSON_CreateObject();
  int found = 0;
  for (int i = 0; root && files[i]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", dir, files[i]);
    if (access(path, F_OK) != 0)
      continue;
    /* schedule.json: one GET /schedules/{id} response ({"schedule": {...}}, with final_schedule) */
    const char *key = strcmp(files[i], "schedule") == 0 ? "schedule" : "";
    /* Opsgenie's list responses hold their list under "data" */
    const char *want = key[0] ? key : list_key ? list_key : files[i];
    cJSON *j = parse_file(path, budget);
    if (!j)
      return cJSON_Delete(root), NULL;
    cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(j, want);
    cJSON_Delete(j);
    if (key[0] ? !cJSON_IsObject(list) : !cJSON_IsArray(list)) {
      fprintf(stderr,
              "klaxon import: refused: %s holds no \"%s\" list (the API's list response); "
              "nothing written\n",
              path, files[i]);
      cJSON_Delete(list);
      return cJSON_Delete(root), NULL;
    }
    cJSON_AddItemToObject(root, files[i], list);
    found++;
  }
  if (root && !found) {
    fprintf(stderr,
            "klaxon import: refused: %s holds none of %s.json, %s.json, %s.json, %s.json; "
            "nothing written\n",
            dir, files[0], files[1], files[2], files[3]);
    return cJSON_Delete(root), NULL;
  }
  return root;
}

static void print_compare(const struct imp_rota *o)
{
  struct imp_diff *d = NULL;
  size_t n = 0;
  int64_t from = 0, to = 0;
  int rc = imp_compare(o, &d, &n, &from, &to);
  if (rc == KX_ENOTFOUND)
    return;
  char a[40], b[40];
  if (rc) {
    fprintf(stderr, "compare: rota %s: could not compare (%s)\n", o->name, kx_strerror(rc));
    return;
  }
  fprintf(stderr, "compare: rota %s (schedule %s), %s to %s: %zu difference%s\n", o->name,
          o->vendor_id, time_format_zone(from, o->timezone, a, sizeof a),
          time_format_zone(to, o->timezone, b, sizeof b), n, n == 1 ? "" : "s");
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, "compare: rota %s: %s to %s: theirs %s, ours %s\n", o->name,
            time_format_zone(d[i].from_ms, o->timezone, a, sizeof a),
            time_format_zone(d[i].to_ms, o->timezone, b, sizeof b),
            d[i].theirs ? d[i].theirs : "nobody", d[i].ours ? d[i].ours : "nobody");
  free(d);
}

/* The YAML must load: a config the importer writes and check-config refuses is our bug. */
static int verify(const struct buf *yaml)
{
  struct config_problems pr = {0};
  struct config *c = config_load_string(yaml->data, yaml->len, "imported", &pr);
  for (size_t i = 0; i < pr.n; i++)
    fprintf(stderr, "klaxon import: the generated config has a problem (line %d): %s\n",
            pr.items[i].line, pr.items[i].message);
  int ok = c != NULL;
  config_free(c);
  config_problems_free(&pr);
  return ok ? 0 : KX_ECONFIG;
}

static int write_out(const char *out, const struct buf *yaml)
{
  if (!out)
    return fwrite(yaml->data, 1, yaml->len, stdout) == yaml->len ? 0 : KX_EIO;
  char *tmp = kx_asprintf("%s.tmp-import", out);
  if (!tmp)
    return KX_ENOMEM;
  FILE *f = fopen(tmp, "wx");
  int rc = f ? 0 : KX_EIO;
  if (f && fwrite(yaml->data, 1, yaml->len, f) != yaml->len)
    rc = KX_EIO;
  if (f && fclose(f) != 0)
    rc = KX_EIO;
  if (rc == 0 && rename(tmp, out) != 0)
    rc = KX_EIO;
  if (rc && f)
    unlink(tmp);
  if (rc)
    fprintf(stderr, "klaxon import: cannot write %s (%s)\n", out, strerror(errno));
  free(tmp);
  return rc;
}

int cli_import(int argc, char **argv)
{
  const struct cli_cmd *cmd = NULL;
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, "import") == 0)
      cmd = c;
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  const char *from = cli_option(&o, "--from"), *out = cli_option(&o, "--out");
  if (o.argc != 1 || !from ||
      (strcmp(o.argv[0], "pagerduty") != 0 && strcmp(o.argv[0], "opsgenie") != 0)) {
    cli_usage(stderr, cmd);
    cli_opts_free(&o);
    return 2;
  }
  const char *vendor = o.argv[0];
  static const char *const pd_files[] = {"users",    "schedules", "escalation_policies",
                                         "services", "schedule",  NULL};
  static const char *const og_files[] = {"users", "schedules", "escalations", "teams", NULL, NULL};
  int is_pd = strcmp(vendor, "pagerduty") == 0;
  size_t budget = IMP_MAX_INPUT_BYTES;
  struct stat st;
  cJSON *root = stat(from, &st) == 0 && S_ISDIR(st.st_mode)
                    ? read_dir(from, is_pd ? pd_files : og_files, is_pd ? NULL : "data", &budget)
                    : parse_file(from, &budget);
  struct imp_result r = {0};
  struct buf yaml;
  buf_init(&yaml, IMP_MAX_YAML_BYTES);
  rc = root ? (is_pd ? imp_pagerduty(root, &r) : imp_opsgenie(root, &r)) : KX_EINVAL;
  for (const char *l = r.report.data; l && *l;) {
    const char *nl = strchr(l, '\n');
    int len = nl ? (int)(nl - l) : (int)strlen(l);
    fprintf(stderr, "not carried over: %.*s\n", len, l);
    l += len + (nl ? 1 : 0);
  }
  if (root && rc)
    fprintf(stderr, "klaxon import: refused: %s; nothing written\n",
            r.error ? r.error : kx_strerror(rc));
  if (rc == 0) {
    for (size_t i = 0; i < r.n_rotas; i++)
      print_compare(&r.rotas[i]);
    rc = imp_yaml(&r, is_pd ? "PagerDuty" : "Opsgenie", &yaml);
    if (rc == 0)
      rc = verify(&yaml);
    if (rc == 0)
      rc = write_out(out, &yaml);
    if (rc == 0)
      fprintf(stderr,
              "klaxon import: %zu people, %zu rotas, %zu escalation policies, %zu routes%s%s\n",
              r.n_people, r.n_rotas, r.n_policies, r.n_routes, out ? " written to " : "",
              out ? out : "");
  }
  buf_free(&yaml);
  imp_result_free(&r);
  cJSON_Delete(root);
  cli_opts_free(&o);
  return rc ? 1 : 0;
}
