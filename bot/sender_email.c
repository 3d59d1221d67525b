#include "bot/sender_email.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "commands/core/render_email.h"
#include "lib/kx.h"

struct mail_call {
  struct sender *s;
  int64_t id;
  sender_done_fn done;
};

static void on_mail(void *arg, const struct http_response *r)
{
  struct mail_call *m = arg;
  struct sender *s = m->s;
  int64_t id = m->id;
  sender_done_fn done = m->done;
  free(m);
  int err = 0;
  const char *error = NULL;
  char reason[48];
  if (r->err) {
    /* 5xx from the server is permanent; anything else (connect, 4xx) is worth a retry. */
    err = (r->status >= 500 && r->status < 600) ? KX_EPLATFORM : KX_ERETRY;
    snprintf(reason, sizeof(reason), "smtp_%ld", r->status);
    error = r->status ? reason : "smtp_transport";
  }
  done(s, id, err, error, -1, NULL);
}

int sender_email(struct http_client *http,
                 const struct smtp_config *smtp,
                 struct sender *s,
                 const struct outbox_row *row,
                 sender_done_fn done)
{
  if (!smtp->url)
    return KX_ECONFIG;
  cJSON *body = cJSON_Parse(row->body);
  const cJSON *to = cJSON_GetObjectItemCaseSensitive(body, "to");
  const cJSON *subject = cJSON_GetObjectItemCaseSensitive(body, "subject");
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(body, "text");
  if (!cJSON_IsArray(to) || !cJSON_IsString(subject) || !cJSON_IsString(text)) {
    cJSON_Delete(body);
    return KX_EINVAL;
  }
  const char *rcpts[17];
  size_t n = 0;
  const cJSON *t;
  cJSON_ArrayForEach (t, to) {
    if (cJSON_IsString(t) && n < 16)
      rcpts[n++] = t->valuestring;
  }
  rcpts[n] = NULL;
  struct email_parts parts = {
      .from = smtp->from,
      .to = rcpts,
      .n_to = n,
      .subject = subject->valuestring,
      .text = text->valuestring,
      .date_ms = clock_now_ms(),
      .message_id = (long long)row->id,
  };
  /* An attached file (out_email_attach): {"name", "type", "data"}. */
  const cJSON *att = cJSON_GetObjectItemCaseSensitive(body, "attachment");
  const cJSON *an = cJSON_GetObjectItemCaseSensitive(att, "name");
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(att, "type");
  const cJSON *ad = cJSON_GetObjectItemCaseSensitive(att, "data");
  if (cJSON_IsString(an) && cJSON_IsString(at) && cJSON_IsString(ad)) {
    parts.attachment = ad->valuestring;
    parts.attachment_name = an->valuestring;
    parts.attachment_type = at->valuestring;
  }
  char *msg = render_email(&parts);
  if (!msg) {
    cJSON_Delete(body);
    return KX_EINVAL;
  }
  struct mail_call *m = calloc(1, sizeof(*m));
  int rc = KX_ENOMEM;
  if (m) {
    m->s = s;
    m->id = row->id;
    m->done = done;
    struct smtp_message sm = {
        .url = smtp->url,
        .from = smtp->from,
        .to = rcpts,
        .username = smtp->username_env ? getenv(smtp->username_env) : NULL,
        .password = smtp->password_env ? getenv(smtp->password_env) : NULL,
        .starttls = smtp->starttls,
        .payload = msg,
    };
    rc = http_client_smtp(http, &sm, on_mail, m);
  }
  if (rc)
    free(m);
  free(msg);
  cJSON_Delete(body);
  return rc;
}
