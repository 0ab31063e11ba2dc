/* The control commands that act on the VM as a whole: status, stats,
 * pause, resume, powerdown, reset, quit, balloon.  The rows call a
 * struct ctl_vm_ops, which the VMM implements (vmm/vmm_ctl.c) and tests
 * fake.
 *
 * Device families add their own rows the same way, each table with its own
 * context (ctl_server_register): hostfwd-add, hostfwd-remove,
 * capture-start and capture-stop come with the network device, screendump
 * with the display. */
#ifndef VMDECK_CTL_VM_H
#define VMDECK_CTL_VM_H

#include <json-c/json.h>
#include <stdint.h>

#include "src/ctl_proto.h"
#include "src/error.h"

struct ctl_vm_ops {
	/* Fill OUT (an object) with the VM's status / its statistics. */
	void (*status)(void *vmm, json_object *out);
	void (*stats)(void *vmm, json_object *out);
	/* Each returns CTL_OK or an error status with ERR set; OUT gets
	 * whatever the reply should say. */
	enum ctl_status (*pause)(void *vmm, json_object *out, struct error *err);
	enum ctl_status (*resume)(void *vmm, json_object *out, struct error *err);
	enum ctl_status (*powerdown)(void *vmm, json_object *out, struct error *err);
	enum ctl_status (*reset)(void *vmm, json_object *out, struct error *err);
	enum ctl_status (*quit)(void *vmm, json_object *out, struct error *err);
	/* TARGET: the memory the guest should keep, in bytes. */
	enum ctl_status (*balloon)(void *vmm, uint64_t target, json_object *out, struct error *err);
};

struct ctl_vm {
	const struct ctl_vm_ops *ops;
	void *vmm;
};

/* Rows to register with a struct ctl_vm as context. */
extern const struct ctl_command ctl_vm_commands[];

#endif
