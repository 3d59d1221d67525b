/* basic.h — handlers shared by every command group (help) and `/oncall note`. */
#ifndef KX_BASIC_H
#define KX_BASIC_H

#include "commands/core/command.h"

int cmd_group_help(struct cmd_ctx *ctx,
                   const struct cmd_request *req,
                   const struct cmd_args *args,
                   struct cmd_reply *reply);
int cmd_oncall_note(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply);

#endif
