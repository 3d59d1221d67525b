#include "bot/modules.h"

#include <stddef.h>

#include "bot/absences/absences_feed.h"
#include "bot/push/push.h"
#include "bot/slack/slack.h"
#include "bot/teams/teams.h"
#include "bot/twilio/twilio.h"
#include "bot/web/alerts_http.h"
#include "bot/web/calendar_http.h"
#include "bot/web/health_http.h"
#include "bot/web/incident_http.h"
#include "bot/web/pager_http.h"
#include "bot/web/pagerduty_http.h"
#include "bot/web/report_http.h"
#include "bot/web/status_http.h"
#include "bot/web/tracker_http.h"

const struct module app_modules[] = {
    /* the operator's: GET /healthz (liveness, readiness) and GET /metrics */
    {"health", health_http_init, NULL, NULL, NULL, NULL, NULL},
    /* alerts (issue 5) */
    {"alerts", alerts_http_init, NULL, NULL, NULL, NULL, NULL},
    /* PagerDuty Events API v2 in (issue 14) */
    {"pagerduty", pagerduty_http_init, NULL, NULL, NULL, pagerduty_http_close, NULL},
    /* the trackers' webhooks: GitHub and Jira issues closed (issue 14) */
    {"trackers", tracker_http_init, NULL, NULL, NULL, NULL, NULL},
    /* rotas: the iCalendar feeds (issue 4) */
    {"calendar", calendar_http_init, NULL, NULL, NULL, NULL, NULL},
    /* incidents (issue 3): GET /incidents/ID/postmortem.md */
    {"incidents", incident_http_init, NULL, NULL, NULL, NULL, NULL},
    /* the monthly report (issue 16): GET /reports/YYYY-MM.html */
    {"reports", report_http_init, NULL, NULL, NULL, NULL, NULL},
    /* the status page, checks and heartbeats (issue 13) */
    {"status", status_http_init, status_http_start, NULL, status_http_halt, status_http_close,
     NULL},
    /* Teams (issue 6) */
    {"teams", teams_init, teams_start, NULL, NULL, teams_close, NULL},
    /* Twilio: the "twilio" outbox sender, SMS and calls (issue 11) */
    {"twilio", twilio_init, twilio_start, NULL, NULL, twilio_close, NULL},
    /* push: the "push" outbox sender, ntfy and webhooks (issue 11) */
    {"push", push_init, push_start, NULL, NULL, NULL, NULL},
    /* the HR calendar's absences (issue 14) */
    {"absences", absences_feed_init, absences_feed_start, absences_feed_stop, absences_feed_halt,
     absences_feed_close, NULL},
    /* pages answered: Twilio's webhooks and the acknowledge links (issue 11) */
    {"pager", pager_http_init, NULL, NULL, NULL, NULL, NULL},
    /* Slack: Socket Mode, acks, auth.test (issue 1). Last: it starts taking requests only once
     * everything else has started (a module that fails to start stops the bot before). */
    {"slack", slack_init, slack_start, slack_stop, slack_halt, slack_close, slack_status},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};
