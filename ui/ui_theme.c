/* Colours: a palette for 256-colour terminals, a fallback for 8/16
 * colours, and bold/reverse/underline alone when there are none.  Pairs
 * are set up once at start; views ask ui_attr() for a role. */
#include "ui/ui.h"
#include "ui/ui_theme.h"

struct role_colors {
	short fg256, bg256, fg16, bg16;
	attr_t extra;             /* added in every mode */
	attr_t mono;              /* instead of colours when there are none */
};

/* -1: the terminal's default colour. */
static const struct role_colors roles[UI_R_NR] = {
	[UI_R_NORMAL] = { -1, -1, -1, -1, 0, 0 },
	[UI_R_DIM] = { 244, -1, COLOR_WHITE, -1, 0, A_DIM },
	[UI_R_BOLD] = { -1, -1, -1, -1, A_BOLD, A_BOLD },
	[UI_R_TITLE] = { 81, -1, COLOR_CYAN, -1, A_BOLD, A_BOLD },
	[UI_R_HEADER] = { 16, 72, COLOR_BLACK, COLOR_GREEN, 0, A_REVERSE },
	[UI_R_SELECTED] = { 16, 117, COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE | A_BOLD },
	[UI_R_SORTED] = { 16, 114, COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD },
	[UI_R_RUNNING] = { 77, -1, COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[UI_R_STOPPED] = { 246, -1, COLOR_WHITE, -1, 0, A_DIM },
	[UI_R_STARTING] = { 221, -1, COLOR_YELLOW, -1, 0, 0 },
	[UI_R_PAUSED] = { 221, -1, COLOR_YELLOW, -1, A_BOLD, A_UNDERLINE },
	[UI_R_CRASHED] = { 203, -1, COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
	[UI_R_METER_LABEL] = { 81, -1, COLOR_CYAN, -1, 0, 0 },
	[UI_R_METER_BAR] = { 77, -1, COLOR_GREEN, -1, 0, A_BOLD },
	[UI_R_METER_HIGH] = { 203, -1, COLOR_RED, -1, 0, A_BOLD },
	[UI_R_METER_TEXT] = { 250, -1, COLOR_WHITE, -1, 0, 0 },
	[UI_R_HINT_KEY] = { 255, 236, COLOR_WHITE, COLOR_BLACK, A_BOLD, A_BOLD },
	[UI_R_HINT_LABEL] = { 16, 110, COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
	[UI_R_DIALOG] = { 255, 24, COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE },
	[UI_R_DIALOG_TITLE] = { 229, 24, COLOR_YELLOW, COLOR_BLUE, A_BOLD, A_REVERSE | A_BOLD },
	[UI_R_ERROR] = { 255, 88, COLOR_WHITE, COLOR_RED, 0, A_REVERSE },
	[UI_R_ERROR_TITLE] = { 229, 88, COLOR_YELLOW, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD },
	[UI_R_FIELD] = { 16, 252, COLOR_BLACK, COLOR_WHITE, 0, A_UNDERLINE },
	[UI_R_FIELD_BAD] = { 16, 217, COLOR_BLACK, COLOR_RED, 0, A_UNDERLINE | A_BOLD },
	[UI_R_SPARK] = { 114, -1, COLOR_GREEN, -1, 0, 0 },
	[UI_R_GRAPH1] = { 77, -1, COLOR_GREEN, -1, 0, 0 },
	[UI_R_GRAPH2] = { 75, -1, COLOR_CYAN, -1, 0, A_BOLD },
	[UI_R_TAB] = { 250, 237, COLOR_WHITE, COLOR_BLACK, 0, 0 },
	[UI_R_TAB_ACTIVE] = { 16, 117, COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE },
};

void ui_theme_init(struct ui_app *app, bool force_16)
{
	app->colors = 0;
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		app->colors = COLORS >= 256 && !force_16 ? 256 : COLORS >= 16 ? 16 : 8;
	}
	for (int r = 0; r < UI_R_NR; r++) {
		const struct role_colors *c = &roles[r];
		if (!app->colors || COLOR_PAIRS <= UI_R_NR) {
			app->attr[r] = c->mono;
			continue;
		}
		short fg = app->colors == 256 ? c->fg256 : c->fg16, bg = app->colors == 256 ? c->bg256 : c->bg16;
		init_pair((short)(r + 1), fg, bg);
		app->attr[r] = COLOR_PAIR(r + 1) | c->extra;
	}
}
