/*
 * home.h — the team's view (issue 16): the Slack App Home tab, the forms (modals) that stand in
 * for typed syntax, the message shortcuts and incident link unfurls. Everything here reaches
 * Slack through the outbox (views.publish, views.open, chat.unfurl rows) like any other answer.
 *
 * The Home is drawn from the database and the config at ctx->now_ms; it is written again only
 * when what it shows changed (a fingerprint per user in storage/home_views.h): on opening the
 * tab, after a button on it, and by the refresh job (CMD_JOB_HOME_REFRESH) that looks every
 * HOME_REFRESH_MS for changes made anywhere else (a page, an incident, an override).
 */
#ifndef KX_HOME_H
#define KX_HOME_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "commands/core/command.h"
#include "commands/core/msg.h"

#define HOME_REFRESH_MS (60LL * 1000) /* how stale a Home may get after a change elsewhere */
#define HOME_USERS_MAX 500            /* Homes kept fresh by the refresh job */
#define HOME_LIST_MAX 10              /* pages, incidents, items, shifts shown in each part */

/* The Home view ({"type": "home", "blocks": […]}) for a Slack user; NULL when out of memory. */
cJSON *home_view_build(struct cmd_ctx *ctx, const char *user);
/* Write a views.publish row for `user` when the view differs from the last one written (or
 * always, with force). 0 or KX_E*. */
int home_publish(struct cmd_ctx *ctx, const char *user, bool force);

/* Rows of commands/registry.c. */
int home_ev_opened(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);
int home_job_refresh(struct cmd_ctx *ctx, const struct job *job);
int home_startup(struct cmd_ctx *ctx);
int home_btn_page_ack(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);
int home_btn_declare(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);
int home_btn_form(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);

/* Forms (home_forms.c): `/oncall override` (and away, swap, page) without words open a form
 * on Slack; with words they run the typed command unchanged. */
int home_cmd_override(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply);
int home_cmd_away(struct cmd_ctx *ctx,
                  const struct cmd_request *req,
                  const struct cmd_args *args,
                  struct cmd_reply *reply);
int home_cmd_swap(struct cmd_ctx *ctx,
                  const struct cmd_request *req,
                  const struct cmd_args *args,
                  struct cmd_reply *reply);
int home_cmd_page(struct cmd_ctx *ctx,
                  const struct cmd_request *req,
                  const struct cmd_args *args,
                  struct cmd_reply *reply);
/* Open the form named by a CMD_VIEW_* callback id with req->trigger_id. */
int home_form_open(struct cmd_ctx *ctx, const struct cmd_request *req, const char *callback);
int home_view_submit(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);

/* The typed /oncall command a form stands for, from its fields (Slack: the view's state;
 * Teams: the card's data, people named by config id). A field's problem goes into
 * reply->view_response ({"response_action": "errors", "errors": {field: sentence}}) and
 * leaves `text` empty. */
void home_form_text(struct cmd_ctx *ctx,
                    const char *callback,
                    const cJSON *src,
                    bool teams,
                    struct cmd_reply *reply,
                    struct buf *text);
void home_field_error(struct cmd_reply *reply, const char *field, const char *sentence);
/* Run `/GROUP TEXT` for the requester (no form is opened from it); its answer in reply. */
int home_run_typed(struct cmd_ctx *ctx,
                   const struct cmd_request *req,
                   const char *group,
                   const char *text,
                   struct cmd_reply *reply);
/* A DM from the app to `user` with `markup` ("Done." when empty): a form's answer. */
int home_tell(struct cmd_ctx *ctx, const char *user, const struct buf *markup);
/* The Home as a struct msg for a user of either platform (caller frees with msg_free). */
struct msg *home_msg(struct cmd_ctx *ctx, enum cmd_platform platform, const char *user);

/* Teams (home_teams.c): the Home card on `/oncall` in a 1:1 chat, the forms as Adaptive Cards
 * answered in place (the Action.Execute invoke response). */
int home_cmd_who(struct cmd_ctx *ctx,
                 const struct cmd_request *req,
                 const struct cmd_args *args,
                 struct cmd_reply *reply);
int home_teams_form(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const char *callback,
                    struct cmd_reply *reply);
int home_card_submit(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);
cJSON *home_teams_card(struct cmd_ctx *ctx, const char *user);

/* The action item form (home_action.c): `/incident action` without words opens it. */
int home_cmd_action(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply);
int home_view_action(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);

/* Message shortcuts (home_shortcuts.c): rows of cmd_actions named by their callback_id. */
int home_sc_timeline(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);
int home_sc_declare(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);
int home_ev_link_shared(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        struct cmd_reply *reply);
int home_view_timeline(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);

#endif
