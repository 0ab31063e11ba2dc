/* What the screens and the VM commands talk to: a set of VMs with their
 * state, live statistics and operations, behind an ops table.  The local
 * backend (backend_local.c) keeps VMs in the library on disk and runs each
 * in its own VMM process; a libvirt backend can join by implementing the
 * same table, without touching the screens.
 *
 * Every operation returns 0, or BE_EUSER (the request cannot be done: an
 * unknown name, a running VM, a bad value; one sentence in ERR, exit
 * status 2 for the CLI) or BE_EFAIL (it was tried and failed).  None of
 * them blocks for long: a VMM that does not answer costs a short timeout,
 * never a hang, and a dead one is a state, not an error. */
#ifndef VMDECK_BACKEND_H
#define VMDECK_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "src/error.h"
#include "src/vmstate.h"

enum { BE_OK = 0, BE_EFAIL = -1, BE_EUSER = -2 };

#define BE_NAME_MAX 64
#define BE_MAX_VCPUS 64
#define BE_MAX_GUEST_STATS 16
#define BE_MAX_FORWARDS 16

/* A value the VMM may not report: use it only when KNOWN. */
struct be_val {
	bool known;
	double v;
};

/* One sample of a running VM's statistics.  Rates are per second over
 * the VMM's last sampling interval; CPU shares are percent of one host
 * CPU (a busy 2-vCPU guest shows 200). */
struct be_stats {
	bool valid;                       /* false: no sample (yet) */
	char state[16];                   /* the VMM's word: running, paused, shutting-down, crashed */
	char last_error[256];             /* "" when none */
	double uptime_s;
	struct be_val cpu_pct;            /* all vCPUs */
	unsigned nr_vcpus;
	struct be_val vcpu_pct[BE_MAX_VCPUS];
	/* The busiest vCPU's instructions emulated by KVM per second since the
	 * VMM started (kvm_pvm emulates all guest kernel code), and which. */
	struct be_val emulated_per_s;
	unsigned emulated_vcpu;
	uint64_t mem_assigned;            /* bytes */
	struct be_val mem_rss;            /* host memory the VMM uses */
	struct be_val balloon_target;     /* memory the guest should keep */
	struct be_val balloon_actual;     /* memory the guest has after the balloon */
	bool balloon_driver;              /* the guest's balloon driver runs */
	struct be_val guest_used;         /* guest-reported: total minus free */
	struct be_val net_rx_bps, net_tx_bps;     /* bytes per second, all cards, as the guest sees them */
	struct be_val disk_rd_bps, disk_wr_bps;   /* bytes per second, all disks */
	/* Guest-reported memory statistics (virtio-balloon), newest values. */
	unsigned nr_guest;
	struct {
		char name[32];
		uint64_t value;
	} guest[BE_MAX_GUEST_STATS];
	struct be_val guest_age_ms;       /* how old those are */
};

struct be_vm {
	char name[BE_NAME_MAX + 1];
	enum vm_state state;
	char reason[512];                 /* why stopped/crashed; "" otherwise */
	int pid;                          /* the VMM while live */
	unsigned cpus;                    /* configured */
	uint64_t mem;                     /* configured, bytes */
	struct be_stats st;
};

/* What a new VM is made of (the wizard and `vmdeck new`). */
struct be_spec {
	char name[BE_NAME_MAX + 1];
	unsigned cpus;
	uint64_t mem;
	uint64_t disk_size;               /* 0: no data disk */
	char kernel[1024], initrd[1024], cmdline[1024];
	bool net;                         /* a NAT'ed network card */
	unsigned nr_forwards;
	char forwards[BE_MAX_FORWARDS][128];  /* tcp::8080-:80 */
};

/* A disk snapshot; FULL_STATE (RAM and devices too) is for later backends
 * and kinds. */
struct be_snapshot {
	char id[32];
	char name[128];
	char disk[64];                    /* which disk holds it */
	time_t date;
	uint64_t vm_state_size;           /* bytes of saved machine state; 0: disk only */
	uint64_t disk_size;               /* virtual size of the disk when taken */
	bool full_state;
};

/* Where to reach a VM's consoles; "" when it has none. */
struct be_endpoints {
	char serial[256];                 /* a UNIX socket path */
	char vnc[256];                    /* a UNIX socket path, or HOST:PORT */
};

struct be_device {
	char kind[32];                    /* "virtio-net", "virtio-blk", "uart"... */
	char detail[160];
};

struct backend;

struct backend_ops {
	const char *kind;                 /* "local" */
	void (*destroy)(struct backend *b);

	/* Every VM with its state, and a statistics sample for the live ones
	 * (*VMS malloc'ed, sorted by name). */
	int (*list)(struct backend *b, struct be_vm **vms, size_t *n, struct error *err);
	/* One VM (no statistics: cheap). */
	int (*get)(struct backend *b, const char *name, struct be_vm *out, struct error *err);

	int (*start)(struct backend *b, const char *name, struct error *err);
	/* Presses the ACPI power button; returns at once (poll the state). */
	int (*stop)(struct backend *b, const char *name, struct error *err);
	/* Ends the VMM at once (SIGKILL for the local backend). */
	int (*kill)(struct backend *b, const char *name, struct error *err);
	int (*pause)(struct backend *b, const char *name, struct error *err);
	int (*resume)(struct backend *b, const char *name, struct error *err);

	int (*create)(struct backend *b, const struct be_spec *spec, struct error *err);
	int (*remove)(struct backend *b, const char *name, struct error *err);
	int (*clone)(struct backend *b, const char *from, const char *to, struct error *err);
	int (*rename)(struct backend *b, const char *from, const char *to, struct error *err);
	/* The definition of NAME as a spec (for showing it). */
	int (*spec)(struct backend *b, const char *name, struct be_spec *out, struct error *err);

	int (*snapshots)(struct backend *b, const char *name, struct be_snapshot **list, size_t *n,
			 struct error *err);
	int (*snapshot_take)(struct backend *b, const char *name, const char *snap, struct error *err);
	int (*snapshot_revert)(struct backend *b, const char *name, const char *snap, struct error *err);
	int (*snapshot_delete)(struct backend *b, const char *name, const char *snap, struct error *err);

	int (*endpoints)(struct backend *b, const char *name, struct be_endpoints *out, struct error *err);
	int (*devices)(struct backend *b, const char *name, struct be_device **list, size_t *n,
		       struct error *err);
	/* Port forwards: the configured ones, and live changes on a running VM
	 * (also kept in its definition). */
	int (*forwards)(struct backend *b, const char *name, char (**list)[128], size_t *n, struct error *err);
	int (*forward_add)(struct backend *b, const char *name, const char *spec, struct error *err);
	int (*forward_remove)(struct backend *b, const char *name, const char *spec, struct error *err);
	/* The memory the guest should keep, in bytes. */
	int (*balloon)(struct backend *b, const char *name, uint64_t target, struct error *err);
	/* The last NLINES lines of the VM's log (malloc'ed). */
	char *(*log_tail)(struct backend *b, const char *name, unsigned nlines);
};

struct backend {
	const struct backend_ops *ops;
};

/* The embedded backend over the VM library ($XDG_DATA_HOME/vmdeck/vms);
 * EXE is the vmdeck binary that runs VMMs (NULL: this one). */
struct backend *backend_local_new(const char *exe, struct error *err);

static inline void backend_free(struct backend *b)
{
	if (b)
		b->ops->destroy(b);
}

/* Fills a spec with the defaults of a new VM (1 vCPU, 512 MiB, NAT). */
void be_spec_defaults(struct be_spec *s);

/* Sets ERR's sentence and returns STATUS (BE_EUSER or BE_EFAIL). */
int be_error(struct error *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A port forward as [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT. */
bool be_forward_valid(const char *spec);

#endif
