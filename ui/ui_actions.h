/* What the screens do to a VM, with the confirmations and error panes
 * around each backend operation; shared by the main and detail screens. */
#ifndef VMDECK_UI_ACTIONS_H
#define VMDECK_UI_ACTIONS_H

#include "ui/ui.h"

void ui_act_start(struct ui_app *app, const char *vm);
void ui_act_stop(struct ui_app *app, const char *vm);
void ui_act_kill(struct ui_app *app, const char *vm);          /* asks first */
void ui_act_pause_toggle(struct ui_app *app, const char *vm);
void ui_act_delete(struct ui_app *app, const char *vm);        /* asks first */
void ui_act_clone(struct ui_app *app, const char *vm);         /* asks for the name */
void ui_act_rename(struct ui_app *app, const char *vm);        /* asks for the name */
void ui_act_console(struct ui_app *app, const char *vm, bool serial);

/* Checks a new VM name as typed: free, valid. */
bool ui_check_new_name(struct ui_app *app, const char *value, char *why, size_t len, void *ctx);

#endif
