// SPDX-License-Identifier: GPL-2.0
/*
 * aax: Linux driver for the accelvp virtual accelerator (abi/, docs/linux-driver.md).
 *
 * A DRM driver: an accel device (DRIVER_COMPUTE_ACCEL, /dev/accel/accelN) on kernels
 * with the accel subsystem (6.2+), a render node (/dev/dri/renderDN) before. Probe maps
 * BAR0 (registers) and BAR2 (device memory window), loads the control-core firmware ELF
 * with request_firmware() through BAR2, runs the boot handshake, sets up ring 0 (in device
 * memory) and its completion queue (coherent host memory), and serves BO create/mmap,
 * submit and wait. Completions are found from the CQ in host memory: by the INTx handler
 * when the platform delivers INTx, and by polling in wait (QEMU's proxy under TCG
 * delivers none).
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/elf.h>
#include <linux/firmware.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/version.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_mm.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#include <drm/drm_accel.h>
#endif

#include "abi/aax_boot.h"
#include "abi/aax_drm.h"
#include "abi/aax_queue.h"
#include "abi/aax_regs.h"

#define AAX_RING_LOG2    8
#define AAX_CQ_LOG2      9
#define AAX_FENCES       1024  /* results kept per seq % AAX_FENCES */
#define AAX_HOST_BO_MAX  (4u << 20)
#define AAX_PARAMS_OFF   (AAX_FW_REGION_SIZE - 0x20000)
#define AAX_LOG_OFF      (AAX_FW_REGION_SIZE - 0x10000)
#define AAX_LOG_SIZE     0x10000

static unsigned int boot_timeout_ms = 20000;
module_param(boot_timeout_ms, uint, 0444);
MODULE_PARM_DESC(boot_timeout_ms, "wall time probe waits for the firmware's READY");

struct aax_fence {
	u32 seq;
	bool done;
	u8 status;
	u32 err_offset, err_opcode;
	u64 ts_start, ts_end;
};

struct aax_device {
	struct drm_device drm;
	struct pci_dev *pdev;
	void __iomem *regs;
	void __iomem *bar2;
	resource_size_t bar2_size;
	u32 abi_version, fw_version, caps0, caps1;
	u64 devmem_size, devmem_base, host_window;
	bool has_core;

	struct mutex lock;          /* submission, device-memory allocator */
	spinlock_t cq_lock;         /* CQ consumer, fences, errors */
	struct drm_mm mm;           /* device memory above the firmware region */
	u64 mm_used;

	u64 ring_dev;               /* ring 0 in device memory (bus address) */
	u32 ring_entries, tail, inflight;
	struct aax_cq_entry *cq;
	dma_addr_t cq_dma;
	u32 cq_entries, cq_head;
	bool cq_phase;
	u32 next_seq;
	struct aax_fence fences[AAX_FENCES];
	wait_queue_head_t wq;

	struct aax_drm_error last_error;
	u64 submits, completions, irqs, polls, errors, aborted;
	bool irq_ok;
};

struct aax_bo {
	struct drm_gem_object base;
	bool host;
	void *vaddr;
	dma_addr_t dma;
	struct drm_mm_node node;
	u64 device_va;
};

#define to_aax(d) container_of(d, struct aax_device, drm)
#define to_bo(o) container_of(o, struct aax_bo, base)

static u32 rd(struct aax_device *a, u32 off) { return readl(a->regs + off); }
static void wr(struct aax_device *a, u32 off, u32 v) { writel(v, a->regs + off); }

/* ---- completions and errors ------------------------------------------------- */

static struct aax_fence *fence_of(struct aax_device *a, u32 seq) { return &a->fences[seq % AAX_FENCES]; }

static void complete_seq(struct aax_device *a, u32 seq, u8 status, const struct aax_cq_entry *e)
{
	struct aax_fence *f = fence_of(a, seq);

	if (f->seq != seq || f->done)
		return;
	f->done = true;
	f->status = status;
	if (e) {
		f->ts_start = e->ts_start;
		f->ts_end = e->ts_end;
		f->err_offset = e->err_offset;
		f->err_opcode = e->err_info & 0xFF;
	}
	if (a->inflight)
		a->inflight--;
	a->completions++;
}

/* Reads the error record, clears it, resets the stopped ring; the jobs behind the failed
 * one are aborted. Called with cq_lock held. */
static void handle_error(struct aax_device *a, u32 failed_seq)
{
	u32 st = rd(a, AAX_REG_ERR_STATUS), s;

	if (st & AAX_ERR_STATUS_VALID) {
		a->last_error.code = st & 0xFF;
		a->last_error.ring = (st >> 8) & 0xFF;
		a->last_error.opcode = (st >> 16) & 0xFF;
		a->last_error.job_id = rd(a, AAX_REG_ERR_JOB_ID);
		a->last_error.offset = rd(a, AAX_REG_ERR_OFFSET);
		a->last_error.addr = rd(a, AAX_REG_ERR_ADDR_LO) | (u64)rd(a, AAX_REG_ERR_ADDR_HI) << 32;
		a->last_error.count = ++a->errors;
		wr(a, AAX_REG_ERR_STATUS, AAX_ERR_STATUS_VALID);
		dev_warn(&a->pdev->dev, "device error %s on ring %u job %u at offset %u (opcode %s), address 0x%llx\n",
			 aax_status_name(a->last_error.code), a->last_error.ring, a->last_error.job_id,
			 a->last_error.offset, aax_opcode_name(a->last_error.opcode), a->last_error.addr);
	}
	if (rd(a, AAX_RING_BASE(0) + AAX_RING_STATUS) & AAX_RING_STATUS_ERROR) {
		for (s = failed_seq + 1; s != a->next_seq; s++) {
			if (!fence_of(a, s)->done && fence_of(a, s)->seq == s) {
				complete_seq(a, s, AAX_ERR_ABORTED, NULL);
				a->aborted++;
			}
		}
		wr(a, AAX_RING_BASE(0) + AAX_RING_CTRL, AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET);
	}
}

/* Consumes the completion queue (host memory: no MMIO unless records were found). */
static bool drain_cq(struct aax_device *a)
{
	bool any = false;
	unsigned long flags;

	spin_lock_irqsave(&a->cq_lock, flags);
	for (;;) {
		struct aax_cq_entry e;

		if (!!(READ_ONCE(a->cq[a->cq_head].flags) & AAX_CQE_PHASE) != a->cq_phase)
			break;
		dma_rmb();
		e = a->cq[a->cq_head];
		complete_seq(a, e.job_id, e.status, &e);
		if (e.status != AAX_OK)
			handle_error(a, e.job_id);
		if (++a->cq_head == a->cq_entries) {
			a->cq_head = 0;
			a->cq_phase = !a->cq_phase;
		}
		any = true;
	}
	if (any)
		wr(a, AAX_CQ_BASE(0) + AAX_CQ_HEAD, a->cq_head);
	spin_unlock_irqrestore(&a->cq_lock, flags);
	if (any)
		wake_up_all(&a->wq);
	return any;
}

static irqreturn_t aax_irq(int irq, void *arg)
{
	struct aax_device *a = arg;
	u32 st = rd(a, AAX_REG_IRQ_STATUS);

	if (!st || st == 0xFFFFFFFFu)
		return IRQ_NONE;
	wr(a, AAX_REG_IRQ_STATUS, st);
	a->irqs++;
	drain_cq(a);
	if (st & AAX_IRQ_ERROR) {
		unsigned long flags;

		spin_lock_irqsave(&a->cq_lock, flags);
		handle_error(a, a->next_seq - 1);
		spin_unlock_irqrestore(&a->cq_lock, flags);
		wake_up_all(&a->wq);
	}
	return IRQ_HANDLED;
}

/* ---- buffer objects ---------------------------------------------------------- */

static void aax_bo_free(struct drm_gem_object *obj)
{
	struct aax_device *a = to_aax(obj->dev);
	struct aax_bo *bo = to_bo(obj);

	if (bo->host && bo->vaddr) {
		dma_free_coherent(&a->pdev->dev, obj->size, bo->vaddr, bo->dma);
	} else if (!bo->host && drm_mm_node_allocated(&bo->node)) {
		mutex_lock(&a->lock);
		a->mm_used -= bo->node.size;
		drm_mm_remove_node(&bo->node);
		mutex_unlock(&a->lock);
	}
	drm_gem_object_release(obj);
	kfree(bo);
}

static const struct vm_operations_struct aax_vm_ops = {
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

static int aax_bo_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	struct aax_device *a = to_aax(obj->dev);
	struct aax_bo *bo = to_bo(obj);
	int ret;

	vma->vm_pgoff -= drm_vma_node_start(&obj->vma_node);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
#endif
	if (bo->host) {
		ret = dma_mmap_coherent(&a->pdev->dev, vma, bo->vaddr, bo->dma, obj->size);
	} else {
		/* Device memory through the BAR2 window, where the window reaches. */
		u64 off = bo->device_va - a->devmem_base;

		if (off + obj->size > a->bar2_size)
			return -ENXIO;
		vma->vm_page_prot = pgprot_writecombine(vm_get_page_prot(vma->vm_flags));
		ret = io_remap_pfn_range(vma, vma->vm_start,
					 (pci_resource_start(a->pdev, AAX_PCI_BAR_DEVMEM) + off) >> PAGE_SHIFT,
					 vma->vm_end - vma->vm_start, vma->vm_page_prot);
	}
	vma->vm_pgoff += drm_vma_node_start(&obj->vma_node);
	return ret;
}

static const struct drm_gem_object_funcs aax_bo_funcs = {
	.free = aax_bo_free,
	.mmap = aax_bo_mmap,
	.vm_ops = &aax_vm_ops,
};

static int aax_ioctl_bo_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_bo_create *args = data;
	struct aax_bo *bo;
	u64 size = PAGE_ALIGN(args->size);
	int ret;

	if (!args->size || args->size > a->devmem_size || (args->flags & ~AAX_BO_FLAGS_VALID))
		return -EINVAL;
	if ((args->flags & AAX_BO_HOST) && size > AAX_HOST_BO_MAX)
		return -E2BIG;
	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return -ENOMEM;
	bo->base.funcs = &aax_bo_funcs;
	bo->host = args->flags & AAX_BO_HOST;
	drm_gem_private_object_init(drm, &bo->base, size);
	if (bo->host) {
		bo->vaddr = dma_alloc_coherent(&a->pdev->dev, size, &bo->dma, GFP_KERNEL);
		if (!bo->vaddr) {
			ret = -ENOMEM;
			goto err;
		}
		bo->device_va = a->host_window + bo->dma;
	} else {
		mutex_lock(&a->lock);
		ret = drm_mm_insert_node_generic(&a->mm, &bo->node, size,
						 (args->flags & AAX_BO_ALIGN_2M) ? SZ_2M : PAGE_SIZE, 0, DRM_MM_INSERT_BEST);
		if (!ret)
			a->mm_used += size;
		mutex_unlock(&a->lock);
		if (ret)
			goto err;
		bo->device_va = a->devmem_base + bo->node.start;
	}
	ret = drm_gem_create_mmap_offset(&bo->base);
	if (ret)
		goto err;
	ret = drm_gem_handle_create(file, &bo->base, &args->handle);
	if (ret)
		goto err;
	args->device_va = bo->device_va;
	args->mmap_offset = drm_vma_node_offset_addr(&bo->base.vma_node);
	drm_gem_object_put(&bo->base);
	return 0;
err:
	drm_gem_object_put(&bo->base);
	return ret;
}

/* ---- submit and wait ---------------------------------------------------------- */

static int aax_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_submit *args = data;
	struct drm_gem_object *obj;
	struct aax_job_desc d = {};
	struct aax_fence *f;
	unsigned long flags;
	u32 slot;
	int ret = 0;

	if (args->queue != 0 || (args->flags & ~AAX_JOB_NULL) || args->pad)
		return -EINVAL;
	if (args->cmdbuf_size < 8 || args->cmdbuf_size > AAX_MAX_CMDBUF_SIZE || (args->cmdbuf_size & 7) ||
	    (args->cmdbuf_offset & 7))
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->cmdbuf_handle);
	if (!obj)
		return -ENOENT;
	if ((u64)args->cmdbuf_offset + args->cmdbuf_size > obj->size) {
		ret = -EINVAL;
		goto out;
	}
	drain_cq(a);
	mutex_lock(&a->lock);
	spin_lock_irqsave(&a->cq_lock, flags);
	if (a->inflight + 1 >= min(a->ring_entries, a->cq_entries)) {
		spin_unlock_irqrestore(&a->cq_lock, flags);
		mutex_unlock(&a->lock);
		ret = -EBUSY;
		goto out;
	}
	args->seq = a->next_seq++;
	f = fence_of(a, args->seq);
	memset(f, 0, sizeof(*f));
	f->seq = args->seq;
	a->inflight++;
	spin_unlock_irqrestore(&a->cq_lock, flags);

	d.cmdbuf_addr = to_bo(obj)->device_va + args->cmdbuf_offset;
	d.cmdbuf_size = args->cmdbuf_size;
	d.job_id = args->seq;
	d.flags = args->flags | AAX_JOB_IRQ | AAX_JOB_TIMESTAMP;
	d.timeout_us = args->timeout_us;
	slot = a->tail;
	a->tail = (a->tail + 1) % a->ring_entries;
	memcpy_toio(a->bar2 + (a->ring_dev - a->devmem_base) + (u64)slot * AAX_JOB_DESC_SIZE, &d, sizeof(d));
	wmb();
	wr(a, AAX_DOORBELL(0), a->tail);
	a->submits++;
	mutex_unlock(&a->lock);
out:
	drm_gem_object_put(obj);
	return ret;
}

static int aax_errno(u8 status)
{
	switch (status) {
	case AAX_OK: return 0;
	case AAX_ERR_TIMEOUT:
	case AAX_ERR_SEM_TIMEOUT: return -ETIMEDOUT;
	case AAX_ERR_ABORTED:
	case AAX_ERR_BUS: return -EIO;
	case AAX_ERR_BAD_ADDRESS:
	case AAX_ERR_MMU_FAULT: return -EFAULT;
	case AAX_ERR_PRIV:
	case AAX_ERR_BAD_ASID: return -EPERM;
	default: return -EINVAL;
	}
}

static int aax_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_wait *args = data;
	struct aax_fence *f = fence_of(a, args->seq);
	ktime_t deadline = ktime_add_ns(ktime_get(), args->timeout_ns > 0 ? args->timeout_ns : 0);
	unsigned int sleep_us = 20;

	if (f->seq != args->seq || args->seq == 0 || args->seq >= a->next_seq)
		return -EINVAL;
	for (;;) {
		if (READ_ONCE(f->done))
			break;
		a->polls++;
		if (drain_cq(a))
			continue;
		/* An error whose record could not be written (e.g. a bad CQ address) shows only in
		 * IRQ_STATUS: the interrupt handler's work, done here when INTx does not arrive. */
		aax_irq(0, a);
		if (ktime_after(ktime_get(), deadline))
			return -ETIMEDOUT;
		if (signal_pending(current))
			return -ERESTARTSYS;
		/* Poll the CQ in host memory: INTx may not reach the guest (docs/linux-driver.md). */
		wait_event_interruptible_timeout(a->wq, READ_ONCE(f->done), usecs_to_jiffies(sleep_us));
		sleep_us = min(sleep_us * 2, 2000u);
	}
	if (f->seq != args->seq)
		return -EINVAL;
	args->status = f->status;
	args->ts_start_ns = f->ts_start;
	args->ts_end_ns = f->ts_end;
	args->err_offset = f->err_offset;
	args->err_opcode = f->err_opcode;
	return aax_errno(f->status);
}

static int aax_ioctl_get_info(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_info *i = data;

	memset(i, 0, sizeof(*i));
	i->abi_version = a->abi_version;
	i->fw_version = a->fw_version;
	i->queues = 1;
	i->semaphores = a->caps1 & 0xFFFF;
	i->dma_engines = (a->caps0 >> 16) & 0xFF;
	i->flags = (a->has_core ? AAX_INFO_CONTROL_CORE : 0) | ((a->caps1 & AAX_CAPS1_MMU) ? AAX_INFO_MMU : 0);
	i->devmem_size = a->devmem_size;
	i->devmem_free = a->devmem_size - AAX_FW_REGION_SIZE - a->mm_used;
	i->host_bo_max = AAX_HOST_BO_MAX;
	return 0;
}

static int aax_ioctl_last_error(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	unsigned long flags;

	if (!a->errors)
		return -ENOENT;
	spin_lock_irqsave(&a->cq_lock, flags);
	*(struct aax_drm_error *)data = a->last_error;
	spin_unlock_irqrestore(&a->cq_lock, flags);
	return 0;
}

static const struct drm_ioctl_desc aax_ioctls[] = {
	DRM_IOCTL_DEF_DRV(AAX_GET_INFO, aax_ioctl_get_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_BO_CREATE, aax_ioctl_bo_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_SUBMIT, aax_ioctl_submit, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_WAIT, aax_ioctl_wait, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_LAST_ERROR, aax_ioctl_last_error, DRM_RENDER_ALLOW),
};

/* ---- debugfs ----------------------------------------------------------------------- */

static int aax_rings_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;
	u32 r = 0;

	seq_printf(m, "ring %u: base 0x%llx entries %u head %u tail %u (driver %u) status 0x%x jobs_done %u inflight %u\n",
		   r, a->ring_dev, a->ring_entries, rd(a, AAX_RING_BASE(r) + AAX_RING_HEAD),
		   rd(a, AAX_RING_BASE(r) + AAX_RING_TAIL), a->tail, rd(a, AAX_RING_BASE(r) + AAX_RING_STATUS),
		   rd(a, AAX_RING_BASE(r) + AAX_RING_JOBS_DONE), a->inflight);
	seq_printf(m, "cq %u: entries %u head %u tail %u overflows %u\n", r, a->cq_entries, a->cq_head,
		   rd(a, AAX_CQ_BASE(r) + AAX_CQ_TAIL), rd(a, AAX_CQ_BASE(r) + AAX_CQ_OVERFLOWS));
	return 0;
}

static int aax_counters_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;

	seq_printf(m, "submits %llu\ncompletions %llu\nirqs %llu\npolls %llu\nerrors %llu\naborted %llu\n",
		   a->submits, a->completions, a->irqs, a->polls, a->errors, a->aborted);
	return 0;
}

static int aax_errors_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;

	if (!a->errors) {
		seq_puts(m, "none\n");
		return 0;
	}
	seq_printf(m, "count %u\nlast %s ring %u job %u offset %u opcode %s addr 0x%llx\n", a->last_error.count,
		   aax_status_name(a->last_error.code), a->last_error.ring, a->last_error.job_id, a->last_error.offset,
		   aax_opcode_name(a->last_error.opcode), a->last_error.addr);
	return 0;
}

static int aax_fw_log_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;
	struct aax_fw_log h;
	u32 n, start, i;
	char *text;

	if (!a->has_core)
		return 0;
	memcpy_fromio(&h, a->bar2 + AAX_LOG_OFF, sizeof(h));
	if (h.magic != AAX_FW_LOG_MAGIC || !h.capacity || h.capacity > AAX_LOG_SIZE - sizeof(h))
		return 0;
	text = kvmalloc(h.capacity, GFP_KERNEL);
	if (!text)
		return -ENOMEM;
	memcpy_fromio(text, a->bar2 + AAX_LOG_OFF + sizeof(h), h.capacity);
	n = min(h.write_pos, h.capacity);
	start = h.write_pos - n;
	for (i = 0; i < n; i++)
		seq_putc(m, text[(start + i) % h.capacity]);
	kvfree(text);
	return 0;
}

/* MMIO round trips per second of guest time: 2000 reads of SCRATCH. */
static int aax_mmio_rate_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;
	const unsigned int n = 2000;
	ktime_t t0 = ktime_get();
	unsigned int i;
	s64 ns;

	for (i = 0; i < n; i++)
		(void)rd(a, AAX_REG_SCRATCH);
	ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	seq_printf(m, "reads %u ns %lld per_s %lld\n", n, ns, ns ? (s64)n * NSEC_PER_SEC / ns : 0);
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(aax_mmio_rate);
DEFINE_SHOW_ATTRIBUTE(aax_rings);
DEFINE_SHOW_ATTRIBUTE(aax_counters);
DEFINE_SHOW_ATTRIBUTE(aax_errors);
DEFINE_SHOW_ATTRIBUTE(aax_fw_log);

static void aax_debugfs_init(struct drm_minor *minor)
{
	struct aax_device *a = to_aax(minor->dev);

	debugfs_create_file("rings", 0444, minor->debugfs_root, a, &aax_rings_fops);
	debugfs_create_file("counters", 0444, minor->debugfs_root, a, &aax_counters_fops);
	debugfs_create_file("errors", 0444, minor->debugfs_root, a, &aax_errors_fops);
	debugfs_create_file("fw_log", 0444, minor->debugfs_root, a, &aax_fw_log_fops);
	debugfs_create_file("mmio_rate", 0444, minor->debugfs_root, a, &aax_mmio_rate_fops);
}

/* ---- sysfs --------------------------------------------------------------------------- */

static struct aax_device *dev_aax(struct device *dev)
{
	struct drm_device *drm = pci_get_drvdata(to_pci_dev(dev));

	return drm ? to_aax(drm) : NULL;
}

static ssize_t fw_version_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	u32 v = dev_aax(dev)->fw_version;

	return sysfs_emit(buf, "%u.%u.%u\n", v >> 24, (v >> 16) & 0xFF, v & 0xFFFF);
}
static ssize_t devmem_size_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", dev_aax(dev)->devmem_size);
}
static ssize_t devmem_used_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", dev_aax(dev)->mm_used + AAX_FW_REGION_SIZE);
}
static ssize_t dma_engines_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", (dev_aax(dev)->caps0 >> 16) & 0xFF);
}
static ssize_t rings_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", dev_aax(dev)->caps0 & 0xFF);
}
static ssize_t abi_version_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	u32 v = dev_aax(dev)->abi_version;

	return sysfs_emit(buf, "%u.%u\n", v >> 16, v & 0xFFFF);
}
static DEVICE_ATTR_RO(fw_version);
static DEVICE_ATTR_RO(devmem_size);
static DEVICE_ATTR_RO(devmem_used);
static DEVICE_ATTR_RO(dma_engines);
static DEVICE_ATTR_RO(rings);
static DEVICE_ATTR_RO(abi_version);
static struct attribute *aax_attrs[] = {
	&dev_attr_fw_version.attr, &dev_attr_devmem_size.attr, &dev_attr_devmem_used.attr,
	&dev_attr_dma_engines.attr, &dev_attr_rings.attr,    &dev_attr_abi_version.attr, NULL,
};
ATTRIBUTE_GROUPS(aax);

/* ---- probe ----------------------------------------------------------------------------- */

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
DEFINE_DRM_ACCEL_FOPS(aax_fops);
#else
DEFINE_DRM_GEM_FOPS(aax_fops);
#endif

static const struct drm_driver aax_drm_driver = {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	.driver_features = DRIVER_GEM | DRIVER_COMPUTE_ACCEL,
#else
	.driver_features = DRIVER_GEM | DRIVER_RENDER,
#endif
	.fops = &aax_fops,
	.ioctls = aax_ioctls,
	.num_ioctls = ARRAY_SIZE(aax_ioctls),
	.debugfs_init = aax_debugfs_init,
	.name = "aax",
	.desc = "accelvp virtual accelerator",
	.date = "20261206",
	.major = AAX_ABI_MAJOR,
	.minor = AAX_ABI_MINOR,
};

/* Loads the firmware ELF's PT_LOAD segments through BAR2 where the core sees them. */
static int aax_load_firmware(struct aax_device *a, u32 *entry)
{
	const struct firmware *fw;
	const struct elf32_hdr *eh;
	int ret, i;

	ret = request_firmware(&fw, AAX_FIRMWARE_NAME, &a->pdev->dev);
	if (ret)
		return ret;
	eh = (const struct elf32_hdr *)fw->data;
	ret = -ENOEXEC;
	if (fw->size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS32 ||
	    eh->e_phentsize != sizeof(struct elf32_phdr) ||
	    eh->e_phoff + (u64)eh->e_phnum * sizeof(struct elf32_phdr) > fw->size)
		goto out;
	for (i = 0; i < eh->e_phnum; i++) {
		const struct elf32_phdr *ph = (const void *)(fw->data + eh->e_phoff) + i * sizeof(*ph);
		u64 off;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		off = (u64)ph->p_paddr - AAX_CORE_DEVMEM_WINDOW;
		if (ph->p_paddr < AAX_CORE_DEVMEM_WINDOW || off + ph->p_memsz > AAX_PARAMS_OFF ||
		    ph->p_filesz > ph->p_memsz || (u64)ph->p_offset + ph->p_filesz > fw->size) {
			dev_err(&a->pdev->dev, "firmware segment at 0x%x (+%u) outside the firmware region\n", ph->p_paddr,
				ph->p_memsz);
			goto out;
		}
		memcpy_toio(a->bar2 + off, fw->data + ph->p_offset, ph->p_filesz);
		memset_io(a->bar2 + off + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	*entry = eh->e_entry;
	ret = 0;
out:
	release_firmware(fw);
	return ret;
}

static int aax_boot(struct aax_device *a)
{
	struct aax_boot_params p = {};
	u64 params = a->devmem_base + AAX_PARAMS_OFF;
	unsigned long deadline;
	u32 entry = 0, st;
	ktime_t t0 = ktime_get();
	int ret;

	ret = aax_load_firmware(a, &entry);
	if (ret) {
		dev_err(&a->pdev->dev, "firmware %s: error %d\n", AAX_FIRMWARE_NAME, ret);
		return ret;
	}
	p.magic = AAX_BOOT_MAGIC;
	p.abi_version = AAX_ABI_VERSION;
	p.core_freq_mhz = 1000;
	p.timer_mhz = 10;
	p.n_rings = 1;
	p.devmem_base = a->devmem_base;
	p.host_window = a->host_window;
	p.log_addr = a->devmem_base + AAX_LOG_OFF;
	p.log_size = AAX_LOG_SIZE;
	p.rings[0].ring_addr = a->ring_dev;
	p.rings[0].cq_addr = a->host_window + a->cq_dma;
	p.rings[0].ring_log2 = AAX_RING_LOG2;
	p.rings[0].cq_log2 = AAX_CQ_LOG2;
	p.rings[0].msix_vector = AAX_MSIX_VEC_CQ(0);
	memcpy_toio(a->bar2 + AAX_PARAMS_OFF, &p, sizeof(p));
	wr(a, AAX_REG_BOOT_PARAMS_HI, upper_32_bits(params));
	wr(a, AAX_REG_BOOT_PARAMS_LO, lower_32_bits(params));
	wr(a, AAX_REG_CORE_ENTRY, entry);
	wr(a, AAX_REG_CORE_CTRL, AAX_CORE_RUN);
	deadline = jiffies + msecs_to_jiffies(boot_timeout_ms);
	for (;;) {
		st = rd(a, AAX_REG_BOOT_STATUS);
		if (st == AAX_BOOT_READY || st == AAX_BOOT_FAIL || time_after(jiffies, deadline))
			break;
		usleep_range(200, 400);
	}
	if (st == AAX_BOOT_FAIL) {
		dev_err(&a->pdev->dev, "firmware boot failed: BOOT_ERR 0x%x\n", rd(a, AAX_REG_BOOT_ERR));
		return -EIO;
	}
	if (st != AAX_BOOT_READY) {
		dev_err(&a->pdev->dev, "firmware not READY within %u ms (BOOT_STATUS %u)\n", boot_timeout_ms, st);
		return -ETIMEDOUT;
	}
	a->fw_version = rd(a, AAX_REG_FW_VERSION);
	dev_info(&a->pdev->dev, "firmware %u.%u.%u ready in %lld us\n", a->fw_version >> 24,
		 (a->fw_version >> 16) & 0xFF, a->fw_version & 0xFFFF, ktime_us_delta(ktime_get(), t0));
	return 0;
}

static int aax_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct aax_device *a;
	u64 cq_dev, reserved;
	ktime_t t0 = ktime_get();
	u32 mask;
	int ret;

	a = devm_drm_dev_alloc(&pdev->dev, &aax_drm_driver, struct aax_device, drm);
	if (IS_ERR(a))
		return PTR_ERR(a);
	a->pdev = pdev;
	pci_set_drvdata(pdev, &a->drm);
	mutex_init(&a->lock);
	spin_lock_init(&a->cq_lock);
	init_waitqueue_head(&a->wq);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(AAX_PCI_BAR_REGS) | BIT(AAX_PCI_BAR_DEVMEM), "aax");
	if (ret)
		return ret;
	a->regs = pcim_iomap_table(pdev)[AAX_PCI_BAR_REGS];
	a->bar2 = pcim_iomap_table(pdev)[AAX_PCI_BAR_DEVMEM];
	a->bar2_size = pci_resource_len(pdev, AAX_PCI_BAR_DEVMEM);

	if (rd(a, AAX_REG_ID) != AAX_ID_MAGIC) {
		dev_err(&pdev->dev, "ID register reads 0x%08x: no AAX device\n", rd(a, AAX_REG_ID));
		return -ENODEV;
	}
	a->abi_version = rd(a, AAX_REG_VERSION);
	if ((a->abi_version >> 16) != AAX_ABI_MAJOR) {
		dev_err(&pdev->dev, "device ABI %u.%u, driver supports %u.x\n", a->abi_version >> 16,
			a->abi_version & 0xFFFF, AAX_ABI_MAJOR);
		return -EPROTO;
	}
	wr(a, AAX_REG_SCRATCH, 0x5A5AA5A5u);
	if (rd(a, AAX_REG_SCRATCH) != 0x5A5AA5A5u)
		return -EIO;
	a->caps0 = rd(a, AAX_REG_CAPS0);
	a->caps1 = rd(a, AAX_REG_CAPS1);
	a->devmem_size = rd(a, AAX_REG_DEVMEM_SIZE_LO) | (u64)rd(a, AAX_REG_DEVMEM_SIZE_HI) << 32;
	a->host_window = rd(a, AAX_REG_HOST_WIN_LO) | (u64)rd(a, AAX_REG_HOST_WIN_HI) << 32;
	a->devmem_base = rd(a, AAX_REG_DEVMEM_BASE_LO) | (u64)rd(a, AAX_REG_DEVMEM_BASE_HI) << 32;
	a->has_core = a->caps1 & AAX_CAPS1_CONTROL_CORE;
	if (a->bar2_size < AAX_FW_REGION_SIZE + SZ_1M || a->devmem_size < AAX_FW_REGION_SIZE + SZ_1M) {
		dev_err(&pdev->dev, "BAR2 (%llu bytes) or device memory too small\n", (u64)a->bar2_size);
		return -ENODEV;
	}
	/* Device memory: the firmware region, then ring 0, then BOs. */
	reserved = AAX_FW_REGION_SIZE;
	a->ring_entries = 1u << AAX_RING_LOG2;
	a->ring_dev = a->devmem_base + reserved;
	reserved += PAGE_ALIGN(a->ring_entries * AAX_JOB_DESC_SIZE);
	drm_mm_init(&a->mm, reserved, a->devmem_size - reserved);
	a->mm_used = reserved - AAX_FW_REGION_SIZE;

	a->cq_entries = 1u << AAX_CQ_LOG2;
	a->cq = dmam_alloc_coherent(&pdev->dev, a->cq_entries * AAX_CQ_ENTRY_SIZE, &a->cq_dma, GFP_KERNEL);
	if (!a->cq) {
		ret = -ENOMEM;
		goto err_mm;
	}
	a->cq_phase = true;
	a->next_seq = 1;
	cq_dev = a->host_window + a->cq_dma;
	wr(a, AAX_CQ_BASE(0) + AAX_CQ_BASE_HI, upper_32_bits(cq_dev));
	wr(a, AAX_CQ_BASE(0) + AAX_CQ_BASE_LO, lower_32_bits(cq_dev));
	wr(a, AAX_CQ_BASE(0) + AAX_CQ_SIZE_LOG2, AAX_CQ_LOG2);
	wr(a, AAX_CQ_BASE(0) + AAX_CQ_HEAD, 0);
	wr(a, AAX_CQ_BASE(0) + AAX_CQ_CTRL, AAX_CQ_CTRL_EN | AAX_CQ_CTRL_IRQ_EN);
	wr(a, AAX_RING_BASE(0) + AAX_RING_BASE_HI, upper_32_bits(a->ring_dev));
	wr(a, AAX_RING_BASE(0) + AAX_RING_BASE_LO, lower_32_bits(a->ring_dev));
	wr(a, AAX_RING_BASE(0) + AAX_RING_SIZE_LOG2, AAX_RING_LOG2);
	wr(a, AAX_RING_BASE(0) + AAX_RING_ASID, 0);
	wr(a, AAX_RING_BASE(0) + AAX_RING_CTRL, AAX_RING_CTRL_EN);

	/* Legacy INTx: QEMU's proxy forwards no MSI-X; every interrupt source maps to INTA. */
	ret = request_irq(pdev->irq, aax_irq, IRQF_SHARED, "aax", a);
	a->irq_ok = !ret;
	if (ret)
		dev_warn(&pdev->dev, "no INTx (%d): completions by polling only\n", ret);
	mask = 0xFFFFFFFFu & ~AAX_IRQ_ERROR & ~AAX_IRQ_CQ(0);
	wr(a, AAX_REG_IRQ_MASK, mask);

	if (a->has_core) {
		ret = aax_boot(a);
		if (ret)
			goto err_irq;
	}
	ret = drm_dev_register(&a->drm, 0);
	if (ret)
		goto err_core;
	dev_info(&pdev->dev, "AAX ABI %u.%u, %llu MiB device memory, BAR2 %llu MiB, probe %lld us\n",
		 a->abi_version >> 16, a->abi_version & 0xFFFF, a->devmem_size >> 20, (u64)a->bar2_size >> 20,
		 ktime_us_delta(ktime_get(), t0));
	return 0;
err_core:
	if (a->has_core)
		wr(a, AAX_REG_CORE_CTRL, 0);
err_irq:
	wr(a, AAX_REG_IRQ_MASK, 0xFFFFFFFFu);
	wr(a, AAX_RING_BASE(0) + AAX_RING_CTRL, 0);
	wr(a, AAX_CQ_BASE(0) + AAX_CQ_CTRL, 0);
	if (a->irq_ok)
		free_irq(pdev->irq, a);
err_mm:
	drm_mm_takedown(&a->mm);
	return ret;
}

static void aax_remove(struct pci_dev *pdev)
{
	struct drm_device *drm = pci_get_drvdata(pdev);
	struct aax_device *a = to_aax(drm);

	drm_dev_unplug(drm);
	wr(a, AAX_REG_IRQ_MASK, 0xFFFFFFFFu);
	wr(a, AAX_RING_BASE(0) + AAX_RING_CTRL, 0);
	wr(a, AAX_CQ_BASE(0) + AAX_CQ_CTRL, 0);
	if (a->has_core)
		wr(a, AAX_REG_CORE_CTRL, 0);
	(void)rd(a, AAX_REG_ID); /* flush the posted writes */
	if (a->irq_ok)
		free_irq(pdev->irq, a);
	drm_mm_takedown(&a->mm);
}

static const struct pci_device_id aax_ids[] = {
	{ PCI_DEVICE(AAX_PCI_VENDOR_ID, AAX_PCI_DEVICE_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, aax_ids);

static struct pci_driver aax_pci_driver = {
	.name = "aax",
	.id_table = aax_ids,
	.probe = aax_probe,
	.remove = aax_remove,
	.dev_groups = aax_groups,
};
module_pci_driver(aax_pci_driver);

MODULE_FIRMWARE(AAX_FIRMWARE_NAME);
MODULE_DESCRIPTION("accelvp virtual accelerator (AAX) DRM driver");
MODULE_LICENSE("GPL");
