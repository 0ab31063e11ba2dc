#include <errno.h>
#include <glib-unix.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "src/log.h"
#include "vmm/virtio_pci.h"

#define VIRTIO_PCI_VENDOR  0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define MSIX_BAR   1
#define MSIX_BAR_SIZE 0x1000
#define MSIX_PBA_OFF  0x800
#define CFG_BAR    4
#define CFG_BAR_SIZE 0x4000
#define COMMON_OFF 0x0000
#define ISR_OFF    0x1000
#define DEVICE_OFF 0x2000
#define NOTIFY_OFF 0x3000
#define NOTIFY_MULTIPLIER 4

enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4, CAP_PCI_CFG = 5 };

/* Common configuration register offsets (virtio 1.2, 4.1.4.3). */
enum {
	C_DFSELECT = 0x00, C_DF = 0x04, C_GFSELECT = 0x08, C_GF = 0x0c, C_MSIX = 0x10,
	C_NUMQ = 0x12, C_STATUS = 0x14, C_CFGGEN = 0x15, C_QSELECT = 0x16, C_QSIZE = 0x18,
	C_QMSIX = 0x1a, C_QENABLE = 0x1c, C_QNOFF = 0x1e, C_QDESC = 0x20, C_QDRIVER = 0x28,
	C_QDEVICE = 0x30, C_END = 0x38,
};

static uint64_t offered_features(const struct virtio_pci *vp)
{
	return vp->ops->features | 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_INDIRECT_DESC |
	       1ull << VIRTIO_F_EVENT_IDX;
}

bool virtio_pci_has_feature(const struct virtio_pci *vp, unsigned bit)
{
	return (vp->driver_features >> bit) & 1;
}

struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned q)
{
	return q < vp->ops->num_queues ? &vp->q[q].vq : NULL;
}

/* ---- interrupts ----------------------------------------------------------- */

static void raise_intx(struct virtio_pci *vp, uint8_t isr_bit)
{
	pthread_mutex_lock(&vp->lock);
	vp->isr |= isr_bit;
	pthread_mutex_unlock(&vp->lock);
	pci_set_intx(&vp->pci, true);
}

static void signal_vector(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(&vp->msix)) {
		if (vector != MSIX_NO_VECTOR)
			msix_notify(&vp->msix, vector);
	} else {
		raise_intx(vp, isr_bit);
	}
}

void virtio_pci_notify(struct virtio_pci *vp, unsigned queue)
{
	if (queue < vp->ops->num_queues && vq_should_notify(&vp->q[queue].vq))
		signal_vector(vp, vp->q[queue].msix_vector, 0x1);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	vp->config_generation++;
	uint16_t vector = vp->config_vector;
	pthread_mutex_unlock(&vp->lock);
	signal_vector(vp, vector, 0x2);
}

void virtio_pci_queue_error(struct virtio_pci *vp, unsigned queue)
{
	pthread_mutex_lock(&vp->lock);
	bool first = !(vp->status & VIRTIO_STATUS_NEEDS_RESET);
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	vp->bad_chains++;
	enum vq_error e = vp->q[queue].vq.last_error;
	pthread_mutex_unlock(&vp->lock);
	if (first)
		log_warn("%s: the guest's driver sent %s on queue %u; the device waits for a reset",
			 vp->ops->name, vq_error_text(e), queue);
	virtio_pci_config_changed(vp);
}

/* ---- kicks ---------------------------------------------------------------- */

static gboolean on_kick(gint fd, GIOCondition cond, gpointer data)
{
	struct virtio_queue_state *qs = data;
	struct virtio_pci *vp = qs->vp;
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return G_SOURCE_CONTINUE;
	unsigned q = (unsigned)(qs - vp->q);
	if (qs->vq.ready && !qs->vq.broken && vp->ops->kick)
		vp->ops->kick(vp, q);
	return G_SOURCE_CONTINUE;
}

/* Length 0 ("any write") puts the ioeventfd on KVM's fast MMIO bus: KVM
 * then completes the guest's write without decoding the instruction, as
 * QEMU does for virtio notifications.  Older KVMs take length 2. */
static int ioeventfd(struct virtio_pci *vp, unsigned q, unsigned len, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = vp->notify_base + NOTIFY_MULTIPLIER * q, .len = len, .fd = vp->q[q].kick_fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};
	return ioctl(vp->vm_fd, KVM_IOEVENTFD, &io);
}

static void ioeventfds(struct virtio_pci *vp, bool assign)
{
	if (vp->vm_fd < 0 || !vp->notify_base)
		return;
	for (unsigned q = 0; q < vp->ops->num_queues; q++) {
		if (!assign) {
			ioeventfd(vp, q, vp->notify_len, false);
			continue;
		}
		vp->notify_len = 0;
		if (ioeventfd(vp, q, 0, true) == 0)
			continue;
		vp->notify_len = 2;
		if (ioeventfd(vp, q, 2, true) < 0)
			log_warn("%s: no ioeventfd for queue %u (%s): kicks take the slow path", vp->ops->name,
				 q, strerror(errno));
	}
}

static void bar_moved(struct pci_device *d, unsigned bar)
{
	struct virtio_pci *vp = d->owner;
	if (bar != CFG_BAR)
		return;
	ioeventfds(vp, false);
	vp->notify_base = d->bars[bar].mapped ? d->bars[bar].mapped_at + NOTIFY_OFF : 0;
	ioeventfds(vp, true);
}

/* ---- common configuration ------------------------------------------------- */

static uint64_t common_field(struct virtio_pci *vp, unsigned off)
{
	const struct virtio_queue_state *qs =
		vp->queue_select < vp->ops->num_queues ? &vp->q[vp->queue_select] : NULL;
	switch (off) {
	case C_DFSELECT: return vp->dfselect;
	case C_DF: return vp->dfselect < 2 ? (uint32_t)(offered_features(vp) >> (32 * vp->dfselect)) : 0;
	case C_GFSELECT: return vp->gfselect;
	case C_GF: return vp->gfselect < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->gfselect)) : 0;
	case C_MSIX: return vp->config_vector;
	case C_NUMQ: return vp->ops->num_queues;
	case C_STATUS: return vp->status;
	case C_CFGGEN: return vp->config_generation;
	case C_QSELECT: return vp->queue_select;
	case C_QSIZE: return qs ? qs->size : 0;
	case C_QMSIX: return qs ? qs->msix_vector : MSIX_NO_VECTOR;
	case C_QENABLE: return qs ? qs->enabled : 0;
	case C_QNOFF: return vp->queue_select;
	case C_QDESC: return qs ? qs->desc : 0;
	case C_QDRIVER: return qs ? qs->driver : 0;
	case C_QDEVICE: return qs ? qs->device : 0;
	}
	return 0;
}

static const struct { unsigned off, size; } common_layout[] = {
	{ C_DFSELECT, 4 }, { C_DF, 4 }, { C_GFSELECT, 4 }, { C_GF, 4 }, { C_MSIX, 2 }, { C_NUMQ, 2 },
	{ C_STATUS, 1 }, { C_CFGGEN, 1 }, { C_QSELECT, 2 }, { C_QSIZE, 2 }, { C_QMSIX, 2 },
	{ C_QENABLE, 2 }, { C_QNOFF, 2 }, { C_QDESC, 8 }, { C_QDRIVER, 8 }, { C_QDEVICE, 8 },
};

static void common_read(struct virtio_pci *vp, uint64_t offset, uint8_t *out, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned o = (unsigned)offset + i;
		out[i] = 0;
		for (size_t f = 0; f < sizeof(common_layout) / sizeof(common_layout[0]); f++)
			if (o >= common_layout[f].off && o < common_layout[f].off + common_layout[f].size)
				out[i] = (uint8_t)(common_field(vp, common_layout[f].off) >>
						   (8 * (o - common_layout[f].off)));
	}
}

static uint16_t checked_vector(const struct virtio_pci *vp, uint64_t v)
{
	return v < vp->msix.nr ? (uint16_t)v : MSIX_NO_VECTOR;
}

static bool features_acceptable(const struct virtio_pci *vp)
{
	return !(vp->driver_features & ~offered_features(vp)) &&
	       (vp->driver_features & (1ull << VIRTIO_F_VERSION_1));
}

static void enable_queue(struct virtio_pci *vp, unsigned q)
{
	struct virtio_queue_state *qs = &vp->q[q];
	if (vq_enable(&qs->vq, vp->mem, qs->size, qs->desc, qs->driver, qs->device,
		      virtio_pci_has_feature(vp, VIRTIO_F_EVENT_IDX)) == 0) {
		qs->enabled = 1;
		return;
	}
	qs->vq.last_error = VQ_BAD_RING;
	qs->vq.errors++;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	vp->bad_chains++;
	log_warn("%s: the driver placed queue %u (size %u) outside guest RAM or misaligned; "
		 "the device waits for a reset", vp->ops->name, q, qs->size);
}

/* Sets queue fields; the spec forbids changing an enabled queue. */
static void write_queue_field(struct virtio_pci *vp, unsigned off, uint64_t v)
{
	if (vp->queue_select >= vp->ops->num_queues)
		return;
	struct virtio_queue_state *qs = &vp->q[vp->queue_select];
	if (off == C_QMSIX) {
		qs->msix_vector = checked_vector(vp, v);
		return;
	}
	if (qs->enabled)
		return;
	switch (off) {
	case C_QSIZE:
		if (v && v <= vp->ops->queue_max && !(v & (v - 1)))
			qs->size = (uint16_t)v;
		break;
	case C_QENABLE:
		if (v == 1)
			enable_queue(vp, vp->queue_select);
		break;
	case C_QDESC: qs->desc = v; break;
	case C_QDRIVER: qs->driver = v; break;
	case C_QDEVICE: qs->device = v; break;
	}
}

enum status_action { STATUS_NONE, STATUS_RESET, STATUS_ACTIVATE };

static enum status_action write_status(struct virtio_pci *vp, uint8_t v)
{
	if (v == 0)
		return STATUS_RESET;
	uint8_t added = (uint8_t)(v & ~vp->status);
	if ((added & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(vp))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;       /* the driver sees it did not stick */
	vp->status = (uint8_t)(v | (vp->status & VIRTIO_STATUS_NEEDS_RESET));
	/* A device that already needs a reset (a queue the driver misplaced)
	 * is not started: its model may count on every queue being usable. */
	if ((added & VIRTIO_STATUS_DRIVER_OK) && (vp->status & VIRTIO_STATUS_FEATURES_OK) &&
	    !(vp->status & VIRTIO_STATUS_NEEDS_RESET))
		return STATUS_ACTIVATE;
	return STATUS_NONE;
}

static enum status_action write_field(struct virtio_pci *vp, unsigned off, uint64_t v)
{
	switch (off) {
	case C_DFSELECT: vp->dfselect = (uint32_t)v; break;
	case C_GFSELECT: vp->gfselect = (uint32_t)v; break;
	case C_GF:
		if (vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned shift = 32 * vp->gfselect;
			vp->driver_features = (vp->driver_features & ~(0xffffffffull << shift)) |
					      (uint64_t)(uint32_t)v << shift;
		}
		break;
	case C_MSIX: vp->config_vector = checked_vector(vp, v); break;
	case C_STATUS: return write_status(vp, (uint8_t)v);
	case C_QSELECT: vp->queue_select = (uint16_t)v; break;
	case C_QSIZE: case C_QMSIX: case C_QENABLE: case C_QDESC: case C_QDRIVER: case C_QDEVICE:
		write_queue_field(vp, off, v);
		break;
	}
	return STATUS_NONE;
}

static void reset_transport(struct virtio_pci *vp)
{
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	vp->status = vp->isr = 0;
	vp->queue_select = 0;
	vp->config_vector = MSIX_NO_VECTOR;
	for (unsigned q = 0; q < vp->ops->num_queues; q++) {
		struct virtio_queue_state *qs = &vp->q[q];
		vq_disable(&qs->vq);
		qs->size = vp->ops->queue_max;
		qs->msix_vector = MSIX_NO_VECTOR;
		qs->enabled = 0;
		qs->desc = qs->driver = qs->device = 0;
	}
}

static void device_reset(struct virtio_pci *vp)
{
	if (vp->ops->reset)
		vp->ops->reset(vp);
	pthread_mutex_lock(&vp->lock);
	reset_transport(vp);
	vp->resets++;
	pthread_mutex_unlock(&vp->lock);
	pci_set_intx(&vp->pci, false);
}

static void common_write(struct virtio_pci *vp, uint64_t offset, const uint8_t *in, unsigned len)
{
	enum status_action action = STATUS_NONE;
	pthread_mutex_lock(&vp->lock);
	for (size_t f = 0; f < sizeof(common_layout) / sizeof(common_layout[0]); f++) {
		unsigned start = common_layout[f].off, size = common_layout[f].size;
		if (offset >= start + size || offset + len <= start)
			continue;
		/* Merge the written bytes into the field: drivers write 64-bit
		 * addresses as two 32-bit halves. */
		uint64_t v = common_field(vp, start);
		for (unsigned b = 0; b < size; b++) {
			uint64_t o = start + b;
			if (o >= offset && o < offset + len)
				v = (v & ~(0xffull << (8 * b))) | (uint64_t)in[o - offset] << (8 * b);
		}
		enum status_action a = write_field(vp, start, v);
		if (a != STATUS_NONE)
			action = a;
	}
	pthread_mutex_unlock(&vp->lock);
	if (action == STATUS_RESET) {
		device_reset(vp);
	} else if (action == STATUS_ACTIVATE && vp->ops->activate && vp->ops->activate(vp) < 0) {
		pthread_mutex_lock(&vp->lock);
		vp->status |= VIRTIO_STATUS_NEEDS_RESET;
		pthread_mutex_unlock(&vp->lock);
		virtio_pci_config_changed(vp);
	}
}

/* ---- BAR 4: common, ISR, device, notify --------------------------------- */

static void cfg_bar_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	uint8_t *out = data;
	memset(out, 0, len);
	if (offset < COMMON_OFF + C_END) {
		pthread_mutex_lock(&vp->lock);
		common_read(vp, offset - COMMON_OFF, out, len);
		pthread_mutex_unlock(&vp->lock);
	} else if (offset == ISR_OFF) {
		pthread_mutex_lock(&vp->lock);
		out[0] = vp->isr;
		vp->isr = 0;                         /* reading acknowledges */
		pthread_mutex_unlock(&vp->lock);
		pci_set_intx(&vp->pci, false);
	} else if (offset >= DEVICE_OFF && offset - DEVICE_OFF + len <= vp->ops->config_size) {
		if (vp->ops->config_read)
			vp->ops->config_read(vp, (unsigned)(offset - DEVICE_OFF), data, len);
	}
}

static void cfg_bar_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	if (offset < COMMON_OFF + C_END) {
		common_write(vp, offset - COMMON_OFF, data, len);
	} else if (offset >= DEVICE_OFF && offset - DEVICE_OFF + len <= vp->ops->config_size) {
		if (vp->ops->config_write)
			vp->ops->config_write(vp, (unsigned)(offset - DEVICE_OFF), data, len);
	} else if (offset >= NOTIFY_OFF) {
		/* A kick the ioeventfd did not catch (another width): same path. */
		uint64_t q = (offset - NOTIFY_OFF) / NOTIFY_MULTIPLIER, one = 1;
		if (q < vp->ops->num_queues && write(vp->q[q].kick_fd, &one, sizeof(one)) < 0)
			log_debug("%s: kick: %s", vp->ops->name, strerror(errno));
	}
}

static const struct bus_ops cfg_bar_ops = { .read = cfg_bar_read, .write = cfg_bar_write };

static void msix_bar_read_op(void *opaque, uint64_t offset, void *data, unsigned len)
{
	msix_bar_read(&((struct virtio_pci *)opaque)->msix, offset, data, len);
}

static void msix_bar_write_op(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	msix_bar_write(&((struct virtio_pci *)opaque)->msix, offset, data, len);
}

static const struct bus_ops msix_bar_ops = { .read = msix_bar_read_op, .write = msix_bar_write_op };

/* ---- capabilities --------------------------------------------------------- */

static unsigned add_vendor_cap(struct virtio_pci *vp, uint8_t type, uint32_t offset, uint32_t length,
			       unsigned extra)
{
	struct pci_device *d = &vp->pci;
	unsigned len = 16 + extra;
	unsigned c = pci_add_capability(d, PCI_CAP_ID_VNDR, len);
	d->config[c + 2] = (uint8_t)len;
	d->config[c + 3] = type;
	d->config[c + 4] = CFG_BAR;
	pci_put32(d->config + c + 8, offset);
	pci_put32(d->config + c + 12, length);
	return c;
}

/* VIRTIO_PCI_CAP_PCI_CFG: a window onto the BARs through config space. */
static void pci_cfg_access(struct virtio_pci *vp, unsigned c, bool write)
{
	struct pci_device *d = &vp->pci;
	unsigned bar = d->config[c + 4];
	uint32_t off = pci_get32(d->config + c + 8), len = pci_get32(d->config + c + 12);
	if (bar >= PCI_NUM_BARS || !d->bars[bar].ops || (len != 1 && len != 2 && len != 4) ||
	    (uint64_t)off + len > d->bars[bar].size)
		return;
	if (write)
		d->bars[bar].ops->write(d->bars[bar].opaque, off, d->config + c + 16, len);
	else
		d->bars[bar].ops->read(d->bars[bar].opaque, off, d->config + c + 16, len);
}

static void config_reading(struct pci_device *d, unsigned off, unsigned len)
{
	struct virtio_pci *vp = d->owner;
	unsigned c = vp->pci_cfg_cap;
	if (off < c + 20 && off + len > c + 16)
		pci_cfg_access(vp, c, false);
}

static void config_written(struct pci_device *d, unsigned off, unsigned len)
{
	struct virtio_pci *vp = d->owner;
	unsigned c = vp->pci_cfg_cap;
	if (off < c + 20 && off + len > c + 16)
		pci_cfg_access(vp, c, true);
	msix_config_written(&vp->msix, off, len);
}

static void add_capabilities(struct virtio_pci *vp)
{
	struct pci_device *d = &vp->pci;
	add_vendor_cap(vp, CAP_COMMON, COMMON_OFF, C_END, 0);
	add_vendor_cap(vp, CAP_ISR, ISR_OFF, 1, 0);
	add_vendor_cap(vp, CAP_DEVICE, DEVICE_OFF, vp->ops->config_size, 0);
	unsigned n = add_vendor_cap(vp, CAP_NOTIFY, NOTIFY_OFF, NOTIFY_MULTIPLIER * vp->ops->num_queues, 4);
	pci_put32(d->config + n + 16, NOTIFY_MULTIPLIER);
	unsigned c = add_vendor_cap(vp, CAP_PCI_CFG, 0, 0, 4);
	d->config[c + 4] = 0;
	/* bar, offset, length and data are the driver's to write. */
	d->wmask[c + 4] = 0xff;
	memset(d->wmask + c + 8, 0xff, 12);
	vp->pci_cfg_cap = c;
}

/* A main-loop watch on a queue's kick eventfd.  GLib takes the descriptors
 * of a non-recursive source out of its poll set while it dispatches and
 * puts them back after, and each change wakes the loop once more: with a
 * kick per guest batch that doubles the loop's turns.  on_kick never runs
 * the loop itself, so it may "recurse". */
static guint watch_kicks(struct virtio_queue_state *qs)
{
	GSource *src = g_unix_fd_source_new(qs->kick_fd, G_IO_IN);
	g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_kick, qs, NULL);
	g_source_set_can_recurse(src, TRUE);
	guint id = g_source_attach(src, NULL);
	g_source_unref(src);
	return id;
}

int virtio_pci_init(struct virtio_pci *vp, const struct virtio_ops *ops, void *dev,
		    const struct guest_mem *mem, struct irq_router *router, struct error *err)
{
	memset(vp, 0, sizeof(*vp));
	pthread_mutex_init(&vp->lock, NULL);
	vp->ops = ops;
	vp->dev = dev;
	vp->mem = mem;
	vp->vm_fd = -1;
	struct pci_device *d = &vp->pci;
	pci_device_init(d, ops->name, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id),
			ops->class_code, 1);
	pci_set_subsystem(d, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id));
	pci_set_intx_pin(d, 1);
	d->owner = vp;
	d->bar_moved = bar_moved;
	d->config_written = config_written;
	d->config_reading = config_reading;
	pci_set_bar(d, MSIX_BAR, PCI_BAR_MEM32, MSIX_BAR_SIZE, false, &msix_bar_ops, vp);
	pci_set_bar(d, CFG_BAR, PCI_BAR_MEM64, CFG_BAR_SIZE, true, &cfg_bar_ops, vp);
	add_capabilities(vp);
	/* One vector per queue and one for config changes. */
	if (msix_init(&vp->msix, d, router, ops->num_queues + 1, MSIX_BAR, 0, MSIX_PBA_OFF, err) < 0)
		return -1;
	for (unsigned q = 0; q < ops->num_queues; q++) {
		struct virtio_queue_state *qs = &vp->q[q];
		qs->vp = vp;
		vq_init(&qs->vq);
		qs->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (qs->kick_fd < 0)
			return error_errno(err, errno, "cannot create an eventfd for %s", ops->name);
		qs->watch = watch_kicks(qs);
	}
	reset_transport(vp);
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	for (unsigned q = 0; q < vp->ops->num_queues; q++) {
		struct virtio_queue_state *qs = &vp->q[q];
		if (qs->watch)
			g_source_remove(qs->watch);
		if (qs->kick_fd > 0)
			close(qs->kick_fd);
		vq_destroy(&qs->vq);
	}
	msix_destroy(&vp->msix);
	pthread_mutex_destroy(&vp->lock);
}

int virtio_pci_attach_kvm(struct virtio_pci *vp, int vm_fd, struct error *err)
{
	vp->vm_fd = vm_fd;
	if (vm_fd < 0)
		return 0;
	ioeventfds(vp, true);
	return msix_attach_kvm(&vp->msix, vm_fd, err);
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	device_reset(vp);
	msix_reset(&vp->msix);
}
