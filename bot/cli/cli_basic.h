/* cli_basic.h — the subcommands every install has: run, check-config, backup, restore, demo. */
#ifndef KX_CLI_BASIC_H
#define KX_CLI_BASIC_H

int cli_run(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_version(int argc, char **argv);
int cli_demo(int argc, char **argv);

#endif
