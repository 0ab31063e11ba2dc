#include "ui/ui.h"
struct ui_view *ui_detail_new(struct ui_app *app, const char *vm) { return NULL; }
struct ui_view *ui_console_new(struct ui_app *app, const char *vm, bool serial_first) { return NULL; }
struct ui_view *ui_snap_new(struct ui_app *app, const char *vm) { return NULL; }
struct ui_view *ui_wizard_new(struct ui_app *app) { return NULL; }
