/* The colour roles' curses attributes for this terminal. */
#ifndef VMDECK_UI_THEME_H
#define VMDECK_UI_THEME_H

#include <stdbool.h>

struct ui_app;

/* Starts colours (if any) and fills app->attr and app->colors. */
void ui_theme_init(struct ui_app *app, bool force_16);

#endif
