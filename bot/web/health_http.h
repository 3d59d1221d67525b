/*
 * health_http.h — GET /healthz and GET /metrics, the operator's two windows into a running bot.
 * /healthz?probe=live does no database work (the loop answered: that is liveness); /healthz
 * (readiness) asks the database SELECT 1 and reports the integrity check that the pool thread
 * runs beside the WAL checkpoint (PRAGMA quick_check, every APP_INTEGRITY_EVERY_MS; never on the
 * loop). /metrics renders the process's metrics and each feature's rows of cmd_metrics.
 */
#ifndef KX_HEALTH_HTTP_H
#define KX_HEALTH_HTTP_H

struct module_env;

/* Registers both routes; 0 or a KX_E* code. */
int health_http_init(const struct module_env *env, void **state);

#endif
