/* cli_basic.h — the subcommands every install has: run, check-config, backup, restore, demo. */
#ifndef KX_CLI_BASIC_H
#define KX_CLI_BASIC_H

int cli_run(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_version(int argc, char **argv);
int cli_demo(int argc, char **argv);
/* Take the one-bot-per-database lock (db_path + ".lock"); KX_EBUSY when another holds it. */
int cli_lock_db(const char *db_path, int *fd_out);

#endif
