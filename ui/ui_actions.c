#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/vmlib.h"
#include "ui/ui_actions.h"

static char *dup_name(const char *vm)
{
	return strdup(vm);
}

static void done(struct ui_app *app, const char *what, int r, const struct error *err)
{
	ui_refresh_now(app);
	ui_report(app, what, r, err);
}

void ui_act_start(struct ui_app *app, const char *vm)
{
	struct error err;
	ui_busy(app, "Starting %s…", vm);
	int r = app->be->ops->start(app->be, vm, &err);
	done(app, "Start", r, &err);
}

void ui_act_stop(struct ui_app *app, const char *vm)
{
	struct error err;
	int r = app->be->ops->stop(app->be, vm, &err);
	done(app, "Stop", r, &err);
}

static void kill_yes(struct ui_app *app, void *ctx)
{
	struct error err;
	ui_busy(app, "Killing %s…", (const char *)ctx);
	int r = app->be->ops->kill(app->be, ctx, &err);
	done(app, "Kill", r, &err);
}

void ui_act_kill(struct ui_app *app, const char *vm)
{
	char q[256];
	snprintf(q, sizeof(q), "Kill VM '%s' now? Its VMM ends at once, like pulling the power cord; "
		 "the guest loses whatever it did not write to disk.", vm);
	ui_confirm(app, "Kill", q, kill_yes, dup_name(vm));
}

void ui_act_pause_toggle(struct ui_app *app, const char *vm)
{
	const struct be_vm *v = ui_find_vm(app, vm);
	struct error err;
	int r;
	if (v && v->state == VM_STATE_PAUSED)
		r = app->be->ops->resume(app->be, vm, &err);
	else
		r = app->be->ops->pause(app->be, vm, &err);
	done(app, v && v->state == VM_STATE_PAUSED ? "Resume" : "Pause", r, &err);
}

static void delete_yes(struct ui_app *app, void *ctx)
{
	struct error err;
	ui_busy(app, "Deleting %s…", (const char *)ctx);
	int r = app->be->ops->remove(app->be, ctx, &err);
	done(app, "Delete", r, &err);
}

void ui_act_delete(struct ui_app *app, const char *vm)
{
	char q[256];
	snprintf(q, sizeof(q), "Delete VM '%s' with its disks and logs? There is no undo.", vm);
	ui_confirm(app, "Delete", q, delete_yes, dup_name(vm));
}

bool ui_check_new_name(struct ui_app *app, const char *value, char *why, size_t len, void *ctx)
{
	if (!*value) {
		snprintf(why, len, "a name is needed");
		return false;
	}
	if (!vmlib_name_valid(value)) {
		snprintf(why, len, "use 1 to %d letters, digits, '.', '-' or '_' (not first '.' or '-')",
			 VMLIB_NAME_MAX);
		return false;
	}
	if (ui_find_vm(app, value)) {
		snprintf(why, len, "a VM named '%s' already exists", value);
		return false;
	}
	return true;
}

static void clone_accept(struct ui_app *app, const char *value, void *ctx)
{
	struct error err;
	ui_busy(app, "Cloning %s as %s…", (const char *)ctx, value);
	int r = app->be->ops->clone(app->be, ctx, value, &err);
	done(app, "Clone", r, &err);
}

void ui_act_clone(struct ui_app *app, const char *vm)
{
	char title[128], initial[80];
	snprintf(title, sizeof(title), "Clone '%s'", vm);
	snprintf(initial, sizeof(initial), "%.60s-copy", vm);
	ui_prompt(app, title, "New name:", initial, ui_check_new_name, clone_accept, dup_name(vm));
}

static void rename_accept(struct ui_app *app, const char *value, void *ctx)
{
	struct error err;
	int r = app->be->ops->rename(app->be, ctx, value, &err);
	done(app, "Rename", r, &err);
}

void ui_act_rename(struct ui_app *app, const char *vm)
{
	char title[128];
	snprintf(title, sizeof(title), "Rename '%s'", vm);
	ui_prompt(app, title, "New name:", vm, ui_check_new_name, rename_accept, dup_name(vm));
}

void ui_act_console(struct ui_app *app, const char *vm, bool serial)
{
	const struct be_vm *v = ui_find_vm(app, vm);
	if (!v || !vm_state_live(v->state)) {
		ui_message(app, true, "Console", "VM '%s' is not running%s%s; start it first (F2 or s).", vm,
			   v && v->reason[0] ? ": " : "", v ? v->reason : "");
		return;
	}
	ui_push(app, ui_console_new(app, vm, serial));
}
