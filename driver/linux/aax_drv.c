// SPDX-License-Identifier: GPL-2.0
/*
 * aax: Linux driver for the accelvp virtual accelerator (abi/, docs/linux-driver.md).
 *
 * A DRM driver: an accel device (DRIVER_COMPUTE_ACCEL, /dev/accel/accelN) on kernels
 * with the accel subsystem (6.2+), a render node (/dev/dri/renderDN) before. Probe maps
 * BAR0 (registers) and BAR2 (device memory window), loads the control-core firmware ELF
 * with request_firmware() through BAR2, runs the boot handshake, sets up one submission
 * ring per device queue (in device memory) with its completion queue (coherent host
 * memory), and serves BOs, VMs (MMU contexts), submit and wait.
 *
 * Completion: every job is a dma_fence on its ring's timeline (seqno per ring). Fences are
 * signalled by the completion work, which the INTx handler queues when INTx arrives and a
 * poll timer queues otherwise (QEMU's proxy under TCG delivers no INTx: docs/linux-driver.md).
 * A failed job's ring is reset before its fence is signalled, so the next job runs.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/elf.h>
#include <linux/file.h>
#include <linux/firmware.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/sync_file.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_mm.h>
#include <drm/drm_syncobj.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#include <drm/drm_accel.h>
#endif

#include "abi/aax_boot.h"
#include "abi/aax_drm.h"
#include "abi/aax_errno.h"
#include "abi/aax_mmu.h"
#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "abi/aax_sriov.h"

/* The largest page order alloc_pages() takes (4 MiB on x86): MAX_ORDER was exclusive before
 * 6.4, inclusive from 6.4, and renamed MAX_PAGE_ORDER in 6.8. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define AAX_MAX_PAGE_ORDER MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define AAX_MAX_PAGE_ORDER MAX_ORDER
#else
#define AAX_MAX_PAGE_ORDER (MAX_ORDER - 1)
#endif

#define AAX_RING_LOG2    8
#define AAX_CQ_LOG2      9
#define AAX_FENCES       1024  /* fences kept per ring, by seqno % AAX_FENCES */
#define AAX_HOST_BO_MAX  (4u << 20) /* physically contiguous: dma_alloc_coherent, no CMA in the guest */
#define AAX_PARAMS_OFF   (AAX_FW_REGION_SIZE - 0x20000)
#define AAX_LOG_OFF      (AAX_FW_REGION_SIZE - 0x10000)
#define AAX_LOG_SIZE     0x10000

static unsigned int boot_timeout_ms = 20000;
module_param(boot_timeout_ms, uint, 0444);
MODULE_PARM_DESC(boot_timeout_ms, "wall time probe waits for the firmware's READY");
static unsigned int max_rings = AAX_MAX_RINGS;
module_param(max_rings, uint, 0444);
MODULE_PARM_DESC(max_rings, "submission rings to set up (at most the device's rings, CQs and MSI-X vectors - 2)");
static unsigned int poll_us = 1000;
module_param(poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us, "completion poll period while jobs are in flight (INTx does not reach a TCG guest)");
static unsigned int host_bo_max_mb = 256;
module_param(host_bo_max_mb, uint, 0444);
MODULE_PARM_DESC(host_bo_max_mb, "largest host BO in MiB (above 4 MiB: scattered chunks, used through a VM)");
static unsigned int vf_host_mb;
module_param(vf_host_mb, uint, 0644);
MODULE_PARM_DESC(vf_host_mb, "sriov_configure: host memory (MiB from physical 0) each VF's context maps at AAX_VF_HOST_WINDOW (0: none)");
static unsigned int heartbeat_ms = 10000;
module_param(heartbeat_ms, uint, 0644);
MODULE_PARM_DESC(heartbeat_ms, "with jobs in flight, a firmware HEARTBEAT that stays still this long is a crash: reset (0: off)");

struct aax_device;

struct aax_job {
	struct dma_fence base;      /* first: dma_fence_free() frees the job */
	u8 status;
	bool failed;                /* a CQ record with an error status arrived */
	u32 err_offset, err_opcode;
	u64 ts_start, ts_end;
	const void *owner;          /* the drm_file that submitted it (compared, never dereferenced) */
	/* The command buffer, held until the job is signalled: the device reads it by bus address,
	 * so a BO freed with its job in flight would let the device read (and run in this job's
	 * context) whatever the allocator places there next. Put by put_done_cmdbufs(). */
	struct drm_gem_object *cmdbuf;
};

struct aax_ring {
	u32 index;
	u64 ring_dev;               /* device bus address */
	u32 entries, tail, inflight;
	struct aax_cq_entry *cq;
	dma_addr_t cq_dma;
	u32 cq_entries, cq_head;
	bool cq_phase;
	u64 fence_ctx;
	u32 next_seq;               /* seqno of the next job (starts at 1) */
	u32 put_seq;                /* jobs before it have dropped their command buffer */
	char timeline[16];
	struct aax_job *jobs[AAX_FENCES]; /* a reference each */
	u16 asid;                   /* what RING_ASID holds: the context the ring is pinned to (0: physical) */
	u64 submits, completions, aborted, resets, asid_switches;
	u64 bogus_records;          /* CQ records naming no pending job (drain_ring) */
};

struct aax_pt {                 /* one 4 KiB page table: device copy + shadow */
	struct drm_mm_node node;
	u64 dev;                    /* device bus address */
	u64 ent[AAX_MMU_PTES];
	struct aax_pt *child[AAX_MMU_PTES];
};

struct aax_vm {
	u16 asid;
	struct drm_file *file;
	struct aax_pt *root;
	struct drm_mm va;           /* mapped ranges */
	struct list_head maps;
	struct dma_fence *last[AAX_MAX_RINGS]; /* its last job per ring */
	u64 binds, pages_4k, pages_2m;
};

struct aax_mapping {
	struct drm_mm_node node;
	struct drm_gem_object *obj;
	struct list_head link;
};

struct aax_bo;

/* A user queue (UQ_CREATE, docs/virtualization.md "User queues"): a hardware ring above the
 * kernel's, pinned by the kernel to one of the owner's MMU contexts as a user ring, driven by
 * the owner through three mappings: its header and slots (device memory, BAR2), its CQ (host
 * memory) and the doorbell page (BAR0 0xE000). */
struct aax_uq {
	u32 ring;                   /* the hardware ring (= its CQ) */
	u16 asid;
	u32 entries_log2;
	struct drm_file *file;      /* the owner (compared, and for drm_vma_node_revoke) */
	struct aax_bo *mem, *cq, *db; /* a reference each; mmap'able by the owner only */
	bool revoked;               /* a device reset took its ring: mappings zapped, registers gone */
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

	struct mutex lock;          /* submission, ring recovery (the completion work) */
	struct mutex vm_lock;       /* VMs and their page tables */
	struct mutex mm_lock;       /* device-memory allocator */
	spinlock_t fence_lock;      /* the fences (dma_fence lock), ring job tables */
	struct drm_mm mm;           /* device memory above the firmware region */
	u64 mm_used;

	u32 nrings;
	struct aax_ring rings[AAX_MAX_RINGS];

	struct work_struct done_work;
	struct hrtimer poll_timer;
	atomic_t irq_pending;       /* IRQ_STATUS bits the hard IRQ handler acked */
	u32 poll_ticks;
	bool dying;

	u32 mmu_contexts;
	struct aax_vm *vms[AAX_MMU_MAX_CONTEXTS];
	u64 ctx_root[AAX_MMU_MAX_CONTEXTS]; /* enabled contexts' root tables (0: off), restored after a reset; a->lock */
	/* Jobs of a destroyed VM that did not finish: its ASID is not reused until they have. vm_lock */
	struct dma_fence *retired[AAX_MMU_MAX_CONTEXTS][AAX_MAX_RINGS];

	u32 irq_mask;               /* IRQ_MASK as probe set it (restored after a reset) */
	bool dead;                  /* the firmware did not come back after a reset: submit is EIO */
	u32 hb_last;                /* heartbeat watch (completion work, a->lock) */
	unsigned long hb_since, hb_checked;
	bool hb_armed, hb_valid;

	/* User queues: rings [nrings, uq_end) (above the kernel's; uq_end == nrings: none). Set
	 * under vm_lock and lock both, so either lock alone reads them. */
	u32 uq_end;
	u32 hw_rings;               /* rings the chip has for this driver: min(CAPS0 rings, CQs, MSI-X vectors - 2) */
	u32 vf_rings;               /* rings given to SR-IOV VFs (sriov_configure): no user queue there */
	u32 nvfs;                   /* VFs sriov_configure set up */
	struct aax_vm *vf_vm[AAX_MAX_VFS];     /* each VF's MMU context (a kernel VM: file NULL) */
	struct drm_mm_node vf_mem[AAX_MAX_VFS]; /* each VF's device-memory partition */
	struct aax_uq *uqs[AAX_MAX_RINGS];
	u64 uq_created, uq_destroyed, uq_revoked;

	struct aax_drm_error last_error;
	u64 submits, completions, irqs, polls, works, errors, aborted, mmu_faults, fence_fds;
	u64 device_resets, reset_aborted, phys_denied;
	bool irq_ok;
};

/* Per open file: whether its opener was privileged (CAP_SYS_ADMIN at open). */
struct aax_file {
	bool priv;
};

struct aax_bo {
	struct drm_gem_object base;
	bool host;
	void *vaddr;                /* contiguous host BO */
	dma_addr_t dma;
	u32 nchunks;                /* scattered host BO: chunks of 2^order pages */
	struct aax_chunk {
		struct page *page;
		unsigned int order;
		dma_addr_t dma;
	} *chunks;
	struct drm_mm_node node;    /* device BO */
	u64 device_va;              /* 0 for a scattered host BO */
	bool doorbell;              /* a user queue's doorbell page: BAR0 AAX_UQ_WINDOW_BASE, uncached */
};

/* The interrupt side channel (docs/linux-driver.md): QEMU 7.2's proxy wires INTx only as a
 * KVM irqfd, so under TCG `accelvp qemu` also signals MSI-X vector 0 of an ivshmem-doorbell
 * device (1af4:1110) with every INTx assertion; aax binds that device too and hands its
 * interrupt to the aax device's INTx handler. One aax device per guest. */
static struct aax_device *aax_side_target;
static int aax_side_irq_nr;

#define to_aax(d) container_of(d, struct aax_device, drm)
#define to_bo(o) container_of(o, struct aax_bo, base)
#define to_job(f) container_of(f, struct aax_job, base)

static u32 rd(struct aax_device *a, u32 off) { return readl(a->regs + off); }
static void wr(struct aax_device *a, u32 off, u32 v) { writel(v, a->regs + off); }
static int aax_boot(struct aax_device *a);
static void program_ring(struct aax_device *a, u32 i);

/* ---- fences ------------------------------------------------------------------------- */

static const char *aax_fence_driver_name(struct dma_fence *f) { return "aax"; }
static const char *aax_fence_timeline_name(struct dma_fence *f)
{
	struct aax_device *a = container_of(f->lock, struct aax_device, fence_lock);
	u32 i;

	for (i = 0; i < a->nrings; i++)
		if (a->rings[i].fence_ctx == f->context)
			return a->rings[i].timeline;
	return "aax";
}

static const struct dma_fence_ops aax_fence_ops = {
	.get_driver_name = aax_fence_driver_name,
	.get_timeline_name = aax_fence_timeline_name,
};

static int aax_errno(u8 status)
{
	return aax_status_to_errno(status);
}

/* Signals a job with its status. fence_lock held. */
static void job_signal(struct aax_device *a, struct aax_ring *r, struct aax_job *j, u8 status)
{
	if (dma_fence_is_signaled_locked(&j->base))
		return;
	j->status = status;
	if (status != AAX_OK)
		dma_fence_set_error(&j->base, aax_errno(status));
	dma_fence_signal_locked(&j->base);
	if (r->inflight)
		r->inflight--;
	a->completions++;
	r->completions++;
}

static struct aax_job *ring_job(struct aax_ring *r, u32 seq)
{
	struct aax_job *j = r->jobs[seq % AAX_FENCES];

	return j && j->base.seqno == seq ? j : NULL;
}

/* Drops the command buffers of signalled jobs, in ring order (a ring completes in order; a job
 * still in flight keeps those behind it held a little longer). Process context, no driver
 * mutex held: the last put frees the BO (mm_lock). */
static void put_done_cmdbufs(struct aax_device *a)
{
	struct drm_gem_object *batch[32];
	unsigned long flags;
	u32 i, n;

	do {
		n = 0;
		spin_lock_irqsave(&a->fence_lock, flags);
		for (i = 0; i < a->nrings && n < ARRAY_SIZE(batch); i++) {
			struct aax_ring *r = &a->rings[i];

			while (n < ARRAY_SIZE(batch) && r->put_seq != r->next_seq) {
				struct aax_job *j = ring_job(r, r->put_seq);

				if (j && !dma_fence_is_signaled_locked(&j->base))
					break;
				if (j && j->cmdbuf) {
					batch[n++] = j->cmdbuf;
					j->cmdbuf = NULL;
				}
				r->put_seq++;
			}
		}
		spin_unlock_irqrestore(&a->fence_lock, flags);
		for (i = 0; i < n; i++)
			drm_gem_object_put(batch[i]);
	} while (n == ARRAY_SIZE(batch));
}

/* ---- completion work: CQs, error record, MMU fault, ring recovery ------------------ */

/* The job `seq` if it is pending on the ring (submitted, not yet signalled), else NULL. */
static struct aax_job *pending_job(struct aax_ring *r, u32 seq)
{
	struct aax_job *j = ring_job(r, seq);

	return j && !dma_fence_is_signaled_locked(&j->base) ? j : NULL;
}

/* Consumes ring r's CQ: OK records signal their fence; a failed one waits for the ring's
 * recovery (the ring is reset first). fence_lock held. Returns true if any record. */
static bool drain_ring(struct aax_device *a, struct aax_ring *r, bool *failed)
{
	bool any = false;

	for (;;) {
		struct aax_cq_entry e;
		struct aax_job *j;
		bool device_wrote = true;

		if (!!(READ_ONCE(r->cq[r->cq_head].flags) & AAX_CQE_PHASE) != r->cq_phase)
			break;
		dma_rmb();
		e = r->cq[r->cq_head];
		j = pending_job(r, e.job_id);
		if (!j) {
			/* A record that names no job pending on this ring: host memory a physical job
			 * overwrote, or the device's own record for a job no longer waited for (aborted
			 * in a reset). The device's producer index tells them apart: a slot it has not
			 * written yet is left in place (taking it would move the head past the slot the
			 * device writes next, and that job's wait would hang); one it has written is read
			 * again (the device's record may have landed over the forged one since the first
			 * read) and, if it still names no pending job, consumed, signalling nothing. As the
			 * simulator's driver model (docs/security.md, finding 3). */
			u32 tail = rd(a, AAX_CQ_BASE(r->index) + AAX_CQ_TAIL);

			device_wrote = (tail + r->cq_entries - r->cq_head) % r->cq_entries != 0;
			if (device_wrote) {
				dma_rmb();
				e = r->cq[r->cq_head];
				j = pending_job(r, e.job_id);
			}
		}
		if (!j) {
			r->bogus_records++;
			dev_warn_ratelimited(&a->pdev->dev,
					     "ring %u: CQ slot %u holds a record for job %u, which is not pending (%s)\n",
					     r->index, r->cq_head, e.job_id,
					     device_wrote ? "the device's, consumed" : "not the device's, left in place");
			if (!device_wrote)
				break;
		} else {
			j->ts_start = e.ts_start;
			j->ts_end = e.ts_end;
			j->err_offset = e.err_offset;
			j->err_opcode = e.err_info & 0xFF;
			if (e.status == AAX_OK) {
				job_signal(a, r, j, AAX_OK);
			} else {
				j->status = e.status;
				j->failed = true;
				*failed = true;
			}
		}
		if (++r->cq_head == r->cq_entries) {
			r->cq_head = 0;
			r->cq_phase = !r->cq_phase;
		}
		any = true;
	}
	return any;
}

static void read_mmu_fault(struct aax_device *a)
{
	u32 st = rd(a, AAX_REG_MMU_FAULT_STATUS);

	if (!(st & AAX_MMU_FAULT_VALID))
		return;
	a->last_error.mmu_fault_status = st;
	a->last_error.mmu_fault_asid = rd(a, AAX_REG_MMU_FAULT_ASID);
	a->last_error.mmu_fault_va = rd(a, AAX_REG_MMU_FAULT_VA_LO) | (u64)rd(a, AAX_REG_MMU_FAULT_VA_HI) << 32;
	a->last_error.mmu_faults = ++a->mmu_faults;
	wr(a, AAX_REG_MMU_FAULT_STATUS, AAX_MMU_FAULT_VALID);
	dev_warn(&a->pdev->dev, "MMU fault %s (%s) asid %u va 0x%llx level %u port %u\n",
		 aax_mmu_fault_name(st & AAX_MMU_FAULT_TYPE_MASK), (st >> AAX_MMU_FAULT_ACC_SHIFT) & 3 ? "write" : "read",
		 a->last_error.mmu_fault_asid, a->last_error.mmu_fault_va, (st >> AAX_MMU_FAULT_LEVEL_SHIFT) & 3,
		 (st & AAX_MMU_FAULT_PORT_MASK) >> AAX_MMU_FAULT_PORT_SHIFT);
}

/* A queue stopped on an error: read the error record, then for every ring whose STATUS
 * says ERROR: reset it (HEAD = TAIL, the device drops what was queued), give the failed
 * job its status and abort the jobs behind it. a->lock held. Returns false when there was
 * neither an error record nor a stopped ring (the firmware's fatal trap raises ERROR too). */
static bool recover(struct aax_device *a)
{
	u32 st = rd(a, AAX_REG_ERR_STATUS), i;
	bool fresh = false, found = false;
	unsigned long flags;

	if (st & AAX_ERR_STATUS_VALID) {
		spin_lock_irqsave(&a->fence_lock, flags);
		a->last_error.code = st & 0xFF;
		a->last_error.ring = (st >> 8) & 0xFF;
		a->last_error.opcode = (st >> 16) & 0xFF;
		spin_unlock_irqrestore(&a->fence_lock, flags);
		a->last_error.job_id = rd(a, AAX_REG_ERR_JOB_ID);
		a->last_error.offset = rd(a, AAX_REG_ERR_OFFSET);
		a->last_error.addr = rd(a, AAX_REG_ERR_ADDR_LO) | (u64)rd(a, AAX_REG_ERR_ADDR_HI) << 32;
		a->last_error.count = ++a->errors;
		wr(a, AAX_REG_ERR_STATUS, AAX_ERR_STATUS_VALID);
		fresh = true;
		dev_warn(&a->pdev->dev, "device error %s on ring %u job %u at offset %u (opcode %s), address 0x%llx\n",
			 aax_status_name(a->last_error.code), a->last_error.ring, a->last_error.job_id,
			 a->last_error.offset, aax_opcode_name(a->last_error.opcode), a->last_error.addr);
	}
	for (i = 0; i < a->nrings; i++) {
		struct aax_ring *r = &a->rings[i];
		u32 s, first = 0;
		bool any_failed = false;

		spin_lock_irqsave(&a->fence_lock, flags);
		for (s = r->next_seq - r->inflight; s != r->next_seq; s++) {
			struct aax_job *j = ring_job(r, s);

			if (j && j->failed && !dma_fence_is_signaled_locked(&j->base))
				any_failed = true;
		}
		spin_unlock_irqrestore(&a->fence_lock, flags);
		if (!any_failed && !(rd(a, AAX_RING_BASE(i) + AAX_RING_STATUS) & AAX_RING_STATUS_ERROR))
			continue;
		found = true;
		/* Reset first: once the failed job's fence is signalled, its waiter may submit. */
		wr(a, AAX_RING_BASE(i) + AAX_RING_CTRL, AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET | (i << AAX_RING_CTRL_CQ_SHIFT));
		(void)rd(a, AAX_RING_BASE(i) + AAX_RING_STATUS); /* the reset is done when this read returns */
		r->resets++;
		spin_lock_irqsave(&a->fence_lock, flags);
		drain_ring(a, r, &any_failed);
		for (s = r->next_seq - r->inflight; s != r->next_seq; s++) {
			struct aax_job *j = ring_job(r, s);

			if (!j || dma_fence_is_signaled_locked(&j->base))
				continue;
			if (j->failed) {
				job_signal(a, r, j, j->status);
			} else if (!first++ && fresh && a->last_error.ring == i && a->last_error.job_id == s) {
				/* failed without a record we could read (e.g. its descriptor) */
				j->err_offset = a->last_error.offset;
				j->err_opcode = a->last_error.opcode;
				job_signal(a, r, j, a->last_error.code);
			} else {
				job_signal(a, r, j, AAX_ERR_ABORTED);
				a->aborted++;
				r->aborted++;
			}
			first = 1;
		}
		r->inflight = 0;
		spin_unlock_irqrestore(&a->fence_lock, flags);
	}
	return fresh || found;
}

/* ---- user queues: revocation ---------------------------------------------------- */

/* Removes every CPU mapping of a user queue's memory, CQ and doorbell page, in every process
 * that has one: a later access faults (SIGBUS: there is no fault handler). */
static void uq_zap(struct aax_device *a, struct aax_uq *q)
{
	struct address_space *m = a->drm.anon_inode->i_mapping;

	drm_vma_node_unmap(&q->mem->base.vma_node, m);
	drm_vma_node_unmap(&q->cq->base.vma_node, m);
	drm_vma_node_unmap(&q->db->base.vma_node, m);
}

/* A device reset (or the device going away) takes every user ring: its registers are back at
 * reset values (disabled), so revoke the queues: zap their mappings; they stay claimed until
 * their owners destroy them (UQ_DESTROY or close). a->lock held. */
static void uq_revoke_all(struct aax_device *a, const char *why)
{
	u32 r;

	for (r = a->nrings; r < a->uq_end; r++) {
		struct aax_uq *q = a->uqs[r];

		if (!q || q->revoked)
			continue;
		q->revoked = true;
		a->uq_revoked++;
		uq_zap(a, q);
		dev_warn(&a->pdev->dev, "user queue on ring %u (context %u) revoked: %s\n", r, q->asid, why);
	}
}

/* ---- firmware crash: reset the device, re-boot the firmware, fail what was in flight ---- */

/* The in-process driver model's recovery (platform/host/driver.cpp, reset_device) step for
 * step, except that the jobs in flight are failed (ABORTED, -EIO), not replayed: the
 * kernel cannot know whether a job may run twice; user space resubmits. On an SR-IOV VF (no
 * control core) RESET is its function-level reset (driver::function_reset in-process): the
 * firmware drops the VF's running job at its next packet boundary; the driver waits for its
 * rings to go idle and sets them up again; there is no firmware to re-boot. a->lock held. */
static void reset_device(struct aax_device *a, const char *why)
{
	ktime_t t0 = ktime_get();
	unsigned long flags;
	bool dummy = false;
	u32 i, s, n = 0;
	int ret;

	a->device_resets++;
	a->hb_armed = false;
	if (a->has_core)
		dev_warn(&a->pdev->dev, "%s: resetting the device and re-booting the firmware\n", why);
	else
		dev_warn(&a->pdev->dev, "%s: function-level reset\n", why);
	/* 1. Stop the core; take the records the firmware wrote before it died. */
	if (a->has_core)
		wr(a, AAX_REG_CORE_CTRL, 0);
	spin_lock_irqsave(&a->fence_lock, flags);
	for (i = 0; i < a->nrings; i++)
		drain_ring(a, &a->rings[i], &dummy);
	spin_unlock_irqrestore(&a->fence_lock, flags);
	/* 2. Soft reset: rings, CQs, error record, semaphores, MMU contexts, interrupt mask. */
	wr(a, AAX_REG_RESET, AAX_RESET_SOFT);
	(void)rd(a, AAX_REG_ID);
	usleep_range(50, 100);
	/* The user rings are gone with it (disabled, unpinned): revoke their queues. */
	uq_revoke_all(a, "device reset");
	/* A VF: the firmware drops its running job at the next packet boundary; wait for that. */
	for (i = 0; !a->has_core && i < a->nrings; i++) {
		for (s = 0; s < 2000 && !(rd(a, AAX_RING_BASE(i) + AAX_RING_STATUS) & AAX_RING_STATUS_IDLE); s++)
			usleep_range(50, 100);
		if (s == 2000)
			dev_warn(&a->pdev->dev, "ring %u not idle after the reset\n", i);
	}
	if (!a->has_core) { /* records of jobs that completed before the reset took effect */
		spin_lock_irqsave(&a->fence_lock, flags);
		for (i = 0; i < a->nrings; i++)
			drain_ring(a, &a->rings[i], &dummy);
		spin_unlock_irqrestore(&a->fence_lock, flags);
	}
	/* 3. Restore what probe and VM_CREATE programmed. */
	for (i = 0; i < a->nrings; i++) {
		struct aax_ring *r = &a->rings[i];

		memset(r->cq, 0, r->cq_entries * AAX_CQ_ENTRY_SIZE);
		r->tail = 0;
		r->cq_head = 0;
		r->cq_phase = true;
		r->asid = 0;
		program_ring(a, i);
	}
	for (i = 1; i < a->mmu_contexts; i++) {
		if (!a->ctx_root[i])
			continue;
		wr(a, AAX_MMU_CTX(i) + AAX_MMU_CTX_PT_BASE_HI, upper_32_bits(a->ctx_root[i]));
		wr(a, AAX_MMU_CTX(i) + AAX_MMU_CTX_PT_BASE_LO, lower_32_bits(a->ctx_root[i]));
		wr(a, AAX_MMU_CTX(i) + AAX_MMU_CTX_CTRL, AAX_MMU_CTX_EN);
	}
	wr(a, AAX_REG_IRQ_MASK, a->irq_mask);
	/* 4. Re-load and re-boot the firmware. */
	ret = 0;
	if (a->has_core) {
		wr(a, AAX_REG_BOOT_STATUS, AAX_BOOT_RESET);
		ret = aax_boot(a);
	}
	/* 5. Fail what was in flight: its fence gets ABORTED (-EIO). */
	for (i = 0; i < a->nrings; i++) {
		struct aax_ring *r = &a->rings[i];

		spin_lock_irqsave(&a->fence_lock, flags);
		for (s = r->next_seq - r->inflight; s != r->next_seq; s++) {
			struct aax_job *j = ring_job(r, s);

			if (!j || dma_fence_is_signaled_locked(&j->base))
				continue;
			job_signal(a, r, j, j->failed ? j->status : AAX_ERR_ABORTED);
			a->reset_aborted++;
			r->aborted++;
			n++;
		}
		r->inflight = 0;
		spin_unlock_irqrestore(&a->fence_lock, flags);
	}
	if (ret) {
		a->dead = true;
		dev_err(&a->pdev->dev, "the firmware did not come back after the reset (%d): the device is dead\n", ret);
	}
	dev_warn(&a->pdev->dev, "device reset %llu done in %lld us: %u jobs in flight failed (ABORTED)\n",
		 a->device_resets, ktime_us_delta(ktime_get(), t0), n);
}

/* Firmware health while jobs are in flight: the fatal trap handler sets BOOT_STATUS = FAIL;
 * a hung core stops its HEARTBEAT (the firmware beats every 1 ms of device time). a->lock held. */
static void check_firmware(struct aax_device *a)
{
	u32 hb, i, busy = 0;

	for (i = 0; i < a->nrings; i++)
		busy += READ_ONCE(a->rings[i].inflight);
	if (!a->has_core || a->dead || !heartbeat_ms || !busy) {
		a->hb_armed = false;
		return;
	}
	/* One look per heartbeat_ms / 8, the first that long into a busy period: each is a BAR0
	 * read, which shares the link with the jobs (short jobs see none). */
	if (!a->hb_armed) {
		a->hb_armed = true;
		a->hb_valid = false;
		a->hb_checked = jiffies;
		return;
	}
	if (!time_after(jiffies, a->hb_checked + msecs_to_jiffies(max(heartbeat_ms / 8, 1u))))
		return;
	a->hb_checked = jiffies;
	hb = rd(a, AAX_REG_HEARTBEAT);
	if (!a->hb_valid || hb != a->hb_last) {
		a->hb_last = hb;
		a->hb_since = jiffies;
		a->hb_valid = true;
		return;
	}
	if (rd(a, AAX_REG_BOOT_STATUS) == AAX_BOOT_FAIL)
		reset_device(a, "the firmware trapped");
	else if (time_after(jiffies, a->hb_since + msecs_to_jiffies(heartbeat_ms)))
		reset_device(a, "the firmware heartbeat stopped");
}

static void aax_done_work(struct work_struct *w)
{
	struct aax_device *a = container_of(w, struct aax_device, done_work);
	bool failed = false, any = false;
	unsigned long flags;
	u32 st, i;

	mutex_lock(&a->lock);
	a->works++;
	st = rd(a, AAX_REG_IRQ_STATUS);
	if (st == 0xFFFFFFFFu)
		st = 0;
	if (st)
		wr(a, AAX_REG_IRQ_STATUS, st);
	st |= atomic_xchg(&a->irq_pending, 0);
	if (st & AAX_IRQ_MMU)
		read_mmu_fault(a);
	spin_lock_irqsave(&a->fence_lock, flags);
	for (i = 0; i < a->nrings; i++)
		any |= drain_ring(a, &a->rings[i], &failed);
	spin_unlock_irqrestore(&a->fence_lock, flags);
	for (i = 0; any && i < a->nrings; i++)
		wr(a, AAX_CQ_BASE(i) + AAX_CQ_HEAD, a->rings[i].cq_head);
	if (failed || (st & AAX_IRQ_ERROR)) {
		if (!(st & AAX_IRQ_MMU))
			read_mmu_fault(a);
		/* No error record and no stopped ring behind the error line: the firmware's fatal trap. */
		if (!recover(a) && a->has_core && !a->dead && rd(a, AAX_REG_BOOT_STATUS) == AAX_BOOT_FAIL)
			reset_device(a, "the firmware trapped");
		for (i = 0; i < a->nrings; i++)
			wr(a, AAX_CQ_BASE(i) + AAX_CQ_HEAD, a->rings[i].cq_head);
	}
	check_firmware(a);
	mutex_unlock(&a->lock);
	put_done_cmdbufs(a);
}

static irqreturn_t aax_irq(int irq, void *arg)
{
	struct aax_device *a = arg;
	u32 st = rd(a, AAX_REG_IRQ_STATUS);

	if (!st || st == 0xFFFFFFFFu)
		return IRQ_NONE;
	wr(a, AAX_REG_IRQ_STATUS, st); /* level INTx: deasserts once the status is clear */
	atomic_or(st, &a->irq_pending);
	a->irqs++;
	queue_work(system_highpri_wq, &a->done_work);
	return IRQ_HANDLED;
}

static u32 total_inflight(struct aax_device *a)
{
	u32 i, n = 0;

	for (i = 0; i < a->nrings; i++)
		n += READ_ONCE(a->rings[i].inflight);
	return n;
}

/* The poll: while jobs are in flight, look at the CQs in host memory (no MMIO) every
 * poll_us and queue the completion work when a record is there; every 16th tick queue it
 * anyway (it reads IRQ_STATUS: an error whose record could not be written shows only there). */
static enum hrtimer_restart aax_poll(struct hrtimer *t)
{
	struct aax_device *a = container_of(t, struct aax_device, poll_timer);
	bool kick = false;
	u32 i;

	if (a->dying || !total_inflight(a))
		return HRTIMER_NORESTART;
	a->polls++;
	for (i = 0; i < a->nrings && !kick; i++) {
		struct aax_ring *r = &a->rings[i];

		kick = !!(READ_ONCE(r->cq[r->cq_head].flags) & AAX_CQE_PHASE) == r->cq_phase;
	}
	if (kick || !(++a->poll_ticks % 16))
		queue_work(system_highpri_wq, &a->done_work);
	/* Once interrupts arrive the poll is only a safety net: 16 x slower. */
	hrtimer_forward_now(t, ns_to_ktime((u64)max(poll_us, 50u) * NSEC_PER_USEC * (READ_ONCE(a->irqs) ? 16 : 1)));
	return HRTIMER_RESTART;
}

/* ---- buffer objects ---------------------------------------------------------- */

static void aax_bo_free(struct drm_gem_object *obj)
{
	struct aax_device *a = to_aax(obj->dev);
	struct aax_bo *bo = to_bo(obj);
	u32 i;

	if (bo->host && bo->vaddr) {
		dma_free_coherent(&a->pdev->dev, obj->size, bo->vaddr, bo->dma);
	} else if (bo->host && bo->chunks) {
		for (i = 0; i < bo->nchunks; i++) {
			dma_unmap_page(&a->pdev->dev, bo->chunks[i].dma, PAGE_SIZE << bo->chunks[i].order, DMA_BIDIRECTIONAL);
			__free_pages(bo->chunks[i].page, bo->chunks[i].order);
		}
		kvfree(bo->chunks);
	} else if (!bo->host && drm_mm_node_allocated(&bo->node)) {
		mutex_lock(&a->mm_lock);
		a->mm_used -= bo->node.size;
		drm_mm_remove_node(&bo->node);
		mutex_unlock(&a->mm_lock);
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
	int ret = 0;

	vma->vm_pgoff -= drm_vma_node_start(&obj->vma_node);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
#endif
	if (bo->doorbell) {
		/* The doorbell page alone (not the rest of BAR0), uncached: each write is one doorbell. */
		if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE) {
			ret = -EINVAL;
		} else {
			vma->vm_page_prot = pgprot_noncached(vm_get_page_prot(vma->vm_flags));
			ret = io_remap_pfn_range(vma, vma->vm_start,
						 (pci_resource_start(a->pdev, AAX_PCI_BAR_REGS) + AAX_UQ_WINDOW_BASE) >> PAGE_SHIFT,
						 PAGE_SIZE, vma->vm_page_prot);
		}
	} else if (bo->host && bo->vaddr) {
		ret = dma_mmap_coherent(&a->pdev->dev, vma, bo->vaddr, bo->dma, obj->size);
	} else if (bo->host) {
		/* Scattered: each chunk's pages where they fall in the mapping (x86: DMA is coherent). */
		u64 want = (u64)vma->vm_pgoff << PAGE_SHIFT, len = vma->vm_end - vma->vm_start, pos = 0;
		u32 i;

		if (want + len > obj->size) {
			ret = -EINVAL;
		} else {
			for (i = 0; i < bo->nchunks && !ret; i++) {
				u64 csz = min_t(u64, PAGE_SIZE << bo->chunks[i].order, obj->size - pos);
				u64 lo = max(pos, want), hi = min(pos + csz, want + len);

				if (lo < hi)
					ret = remap_pfn_range(vma, vma->vm_start + (lo - want),
							      page_to_pfn(bo->chunks[i].page) + ((lo - pos) >> PAGE_SHIFT),
							      hi - lo, vma->vm_page_prot);
				pos += csz;
			}
		}
	} else {
		/* Device memory through the BAR2 window, where the window reaches. */
		u64 off = bo->device_va - a->devmem_base;

		if (off + obj->size > a->bar2_size) {
			ret = -ENXIO;
		} else {
			vma->vm_page_prot = pgprot_writecombine(vm_get_page_prot(vma->vm_flags));
			ret = io_remap_pfn_range(vma, vma->vm_start,
						 (pci_resource_start(a->pdev, AAX_PCI_BAR_DEVMEM) + off) >> PAGE_SHIFT,
						 vma->vm_end - vma->vm_start, vma->vm_page_prot);
		}
	}
	vma->vm_pgoff += drm_vma_node_start(&obj->vma_node);
	return ret;
}

static const struct drm_gem_object_funcs aax_bo_funcs = {
	.free = aax_bo_free,
	.mmap = aax_bo_mmap,
	.vm_ops = &aax_vm_ops,
};

/* A host BO above AAX_HOST_BO_MAX: chunks of up to 4 MiB (AAX_MAX_PAGE_ORDER), naturally
 * aligned, so a VM can map them with 2 MiB pages. */
static int alloc_sg(struct aax_device *a, struct aax_bo *bo, u64 size)
{
	u64 pos = 0;
	u32 cap = DIV_ROUND_UP(size, PAGE_SIZE) + 1;

	bo->chunks = kvcalloc(cap, sizeof(*bo->chunks), GFP_KERNEL);
	if (!bo->chunks)
		return -ENOMEM;
	while (pos < size) {
		unsigned int order = min_t(unsigned int, get_order(size - pos), AAX_MAX_PAGE_ORDER);
		struct page *pg = NULL;

		for (;; order--) {
			pg = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN | (order ? __GFP_NORETRY : 0), order);
			if (pg || !order)
				break;
		}
		if (!pg)
			return -ENOMEM;
		bo->chunks[bo->nchunks].page = pg;
		bo->chunks[bo->nchunks].order = order;
		bo->chunks[bo->nchunks].dma = dma_map_page(&a->pdev->dev, pg, 0, PAGE_SIZE << order, DMA_BIDIRECTIONAL);
		if (dma_mapping_error(&a->pdev->dev, bo->chunks[bo->nchunks].dma)) {
			__free_pages(pg, order);
			return -ENOMEM;
		}
		bo->nchunks++;
		pos += PAGE_SIZE << order;
	}
	return 0;
}

static int aax_ioctl_bo_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_bo_create *args = data;
	struct aax_bo *bo;
	u64 size = PAGE_ALIGN(args->size);
	int ret;

	if (!args->size || args->size > a->devmem_size || (args->flags & ~AAX_BO_FLAGS_VALID))
		return -EINVAL;
	if ((args->flags & AAX_BO_HOST) && size > (u64)host_bo_max_mb << 20)
		return -E2BIG;
	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return -ENOMEM;
	bo->base.funcs = &aax_bo_funcs;
	bo->host = args->flags & AAX_BO_HOST;
	drm_gem_private_object_init(drm, &bo->base, size);
	if (bo->host && size <= AAX_HOST_BO_MAX) {
		bo->vaddr = dma_alloc_coherent(&a->pdev->dev, size, &bo->dma, GFP_KERNEL);
		if (!bo->vaddr) {
			ret = -ENOMEM;
			goto err;
		}
		bo->device_va = a->host_window + bo->dma;
	} else if (bo->host) {
		ret = alloc_sg(a, bo, size);
		if (ret)
			goto err;
		bo->device_va = 0; /* not contiguous: bind it in a VM */
	} else {
		mutex_lock(&a->mm_lock);
		ret = drm_mm_insert_node_generic(&a->mm, &bo->node, size,
						 (args->flags & AAX_BO_ALIGN_2M) ? SZ_2M : PAGE_SIZE, 0, DRM_MM_INSERT_BEST);
		if (!ret)
			a->mm_used += size;
		mutex_unlock(&a->mm_lock);
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

/* ---- VMs: MMU contexts with 4-level page tables in device memory ------------------- */

static void pt_set(struct aax_device *a, struct aax_pt *t, unsigned int i, u64 pte)
{
	t->ent[i] = pte;
	writeq(pte, a->bar2 + (t->dev - a->devmem_base) + i * 8);
}

/* A zeroed table in device memory within the BAR2 window (the driver writes it there). */
static struct aax_pt *pt_new(struct aax_device *a)
{
	struct aax_pt *t = kzalloc(sizeof(*t), GFP_KERNEL);
	unsigned int i;
	int ret;

	if (!t)
		return NULL;
	mutex_lock(&a->mm_lock);
	ret = drm_mm_insert_node_in_range(&a->mm, &t->node, AAX_MMU_TABLE_SIZE, AAX_MMU_TABLE_SIZE, 0, 0,
					  min_t(u64, a->bar2_size, a->devmem_size), DRM_MM_INSERT_LOW);
	if (!ret)
		a->mm_used += AAX_MMU_TABLE_SIZE;
	mutex_unlock(&a->mm_lock);
	if (ret) {
		kfree(t);
		return NULL;
	}
	t->dev = a->devmem_base + t->node.start;
	for (i = 0; i < AAX_MMU_PTES; i++)
		writeq(0, a->bar2 + t->node.start + i * 8);
	return t;
}

static void pt_free(struct aax_device *a, struct aax_pt *t)
{
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < AAX_MMU_PTES; i++)
		pt_free(a, t->child[i]);
	mutex_lock(&a->mm_lock);
	a->mm_used -= AAX_MMU_TABLE_SIZE;
	drm_mm_remove_node(&t->node);
	mutex_unlock(&a->mm_lock);
	kfree(t);
}

/* The table of `level` on va's path, created on the way. */
static struct aax_pt *pt_walk(struct aax_device *a, struct aax_vm *vm, u64 va, unsigned int level)
{
	struct aax_pt *t = vm->root;
	unsigned int l;

	for (l = 0; l < level; l++) {
		unsigned int i = AAX_MMU_INDEX(va, l);

		if (!t->child[i]) {
			if (t->ent[i] & AAX_PTE_LEAF)
				return NULL; /* a 2 MiB leaf is there */
			t->child[i] = pt_new(a);
			if (!t->child[i])
				return NULL;
			pt_set(a, t, i, t->child[i]->dev | AAX_PTE_VALID);
		}
		t = t->child[i];
	}
	return t;
}

static int vm_map(struct aax_device *a, struct aax_vm *vm, u64 va, u64 pa, u64 size, u64 perms, bool allow_2m)
{
	while (size) {
		struct aax_pt *t;

		if (allow_2m && !(va & (AAX_PAGE_2M - 1)) && !(pa & (AAX_PAGE_2M - 1)) && size >= AAX_PAGE_2M) {
			t = pt_walk(a, vm, va, 2);
			if (t && !t->child[AAX_MMU_INDEX(va, 2)]) {
				pt_set(a, t, AAX_MMU_INDEX(va, 2), pa | AAX_PTE_VALID | AAX_PTE_LEAF | perms);
				vm->pages_2m++;
				va += AAX_PAGE_2M;
				pa += AAX_PAGE_2M;
				size -= AAX_PAGE_2M;
				continue;
			}
		}
		t = pt_walk(a, vm, va, 3);
		if (!t)
			return -ENOMEM;
		pt_set(a, t, AAX_MMU_INDEX(va, 3), pa | AAX_PTE_VALID | AAX_PTE_LEAF | perms);
		vm->pages_4k++;
		va += AAX_PAGE_4K;
		pa += AAX_PAGE_4K;
		size -= AAX_PAGE_4K;
	}
	return 0;
}

static void vm_unmap(struct aax_device *a, struct aax_vm *vm, u64 va, u64 size)
{
	u64 end = va + size;

	while (va < end) {
		struct aax_pt *t = vm->root;
		unsigned int l;

		for (l = 0; l < 2 && t; l++)
			t = t->child[AAX_MMU_INDEX(va, l)];
		if (!t) {
			va = (va | (AAX_PAGE_2M - 1)) + 1;
			continue;
		}
		if (t->ent[AAX_MMU_INDEX(va, 2)] & AAX_PTE_LEAF) {
			pt_set(a, t, AAX_MMU_INDEX(va, 2), 0);
			va += AAX_PAGE_2M;
			continue;
		}
		t = t->child[AAX_MMU_INDEX(va, 2)];
		if (t && t->ent[AAX_MMU_INDEX(va, 3)])
			pt_set(a, t, AAX_MMU_INDEX(va, 3), 0);
		va += AAX_PAGE_4K;
	}
}

static void tlb_invalidate(struct aax_device *a, u16 asid)
{
	wr(a, AAX_REG_MMU_TLB_INV, asid | (AAX_MMU_INV_ASID << AAX_MMU_INV_OP_SHIFT));
	(void)rd(a, AAX_REG_MMU_ID); /* complete when the write has completed */
}

static struct aax_vm *vm_lookup(struct aax_device *a, struct drm_file *file, u32 id)
{
	if (!id || id >= a->mmu_contexts || !a->vms[id] || a->vms[id]->file != file)
		return NULL;
	return a->vms[id];
}

static void uq_teardown(struct aax_device *a, struct aax_uq *q);

/* Waits for the VM's jobs, disables the context, frees the tables; returns the BOs to put
 * (list) for the caller to drop outside vm_lock. Its user queues go first (their ring is
 * pinned to its ASID, which another file may get next). vm_lock held. */
static void vm_destroy(struct aax_device *a, struct aax_vm *vm, struct list_head *put)
{
	u32 i;

	for (i = a->nrings; i < a->uq_end; i++)
		if (a->uqs[i] && a->uqs[i]->asid == vm->asid)
			uq_teardown(a, a->uqs[i]);

	for (i = 0; i < AAX_MAX_RINGS; i++) {
		if (!vm->last[i])
			continue;
		if (dma_fence_wait_timeout(vm->last[i], false, msecs_to_jiffies(10000)) <= 0) {
			/* Its context goes (the job faults from now on); the ASID is not reused until it ends. */
			dev_warn(&a->pdev->dev, "VM %u: a job on ring %u still runs; its context goes away\n", vm->asid, i);
			dma_fence_put(a->retired[vm->asid][i]);
			a->retired[vm->asid][i] = vm->last[i];
		} else {
			dma_fence_put(vm->last[i]);
		}
	}
	mutex_lock(&a->lock);
	a->ctx_root[vm->asid] = 0;
	wr(a, AAX_MMU_CTX(vm->asid) + AAX_MMU_CTX_CTRL, 0);
	mutex_unlock(&a->lock);
	tlb_invalidate(a, vm->asid);
	a->vms[vm->asid] = NULL;
	list_splice_init(&vm->maps, put);
	pt_free(a, vm->root);
	drm_mm_takedown(&vm->va);
	kfree(vm);
}

/* An ASID whose destroyed VM still has a job running. vm_lock held. */
static bool asid_retired(struct aax_device *a, u32 id)
{
	bool busy = false;
	u32 i;

	for (i = 0; i < AAX_MAX_RINGS; i++) {
		if (!a->retired[id][i])
			continue;
		if (dma_fence_is_signaled(a->retired[id][i])) {
			dma_fence_put(a->retired[id][i]);
			a->retired[id][i] = NULL;
		} else {
			busy = true;
		}
	}
	return busy;
}

static void put_mappings(struct list_head *put)
{
	struct aax_mapping *m, *n;

	list_for_each_entry_safe(m, n, put, link) {
		list_del(&m->link);
		if (drm_mm_node_allocated(&m->node))
			drm_mm_remove_node(&m->node);
		drm_gem_object_put(m->obj);
		kfree(m);
	}
}

static int aax_ioctl_vm_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_vm_create *args = data;
	struct aax_vm *vm;
	u32 id;

	if (!a->mmu_contexts)
		return -ENODEV;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;
	mutex_lock(&a->vm_lock);
	for (id = 1; id < a->mmu_contexts && (a->vms[id] || asid_retired(a, id)); id++)
		;
	if (id >= a->mmu_contexts) {
		mutex_unlock(&a->vm_lock);
		kfree(vm);
		return -ENOSPC;
	}
	vm->root = pt_new(a);
	if (!vm->root) {
		mutex_unlock(&a->vm_lock);
		kfree(vm);
		return -ENOMEM;
	}
	vm->asid = id;
	vm->file = file;
	INIT_LIST_HEAD(&vm->maps);
	drm_mm_init(&vm->va, AAX_VM_VA_MIN, (1ull << AAX_MMU_VA_BITS) - AAX_VM_VA_MIN);
	a->vms[id] = vm;
	mutex_lock(&a->lock); /* a device reset restores the contexts from ctx_root */
	a->ctx_root[id] = vm->root->dev;
	wr(a, AAX_MMU_CTX(id) + AAX_MMU_CTX_PT_BASE_HI, upper_32_bits(vm->root->dev));
	wr(a, AAX_MMU_CTX(id) + AAX_MMU_CTX_PT_BASE_LO, lower_32_bits(vm->root->dev));
	tlb_invalidate(a, id);
	wr(a, AAX_MMU_CTX(id) + AAX_MMU_CTX_CTRL, AAX_MMU_CTX_EN);
	mutex_unlock(&a->lock);
	mutex_unlock(&a->vm_lock);
	args->vm_id = id;
	return 0;
}

static int aax_ioctl_vm_destroy(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_vm_destroy *args = data;
	struct aax_vm *vm;
	LIST_HEAD(put);

	mutex_lock(&a->vm_lock);
	vm = vm_lookup(a, file, args->vm_id);
	if (vm)
		vm_destroy(a, vm, &put);
	mutex_unlock(&a->vm_lock);
	put_mappings(&put);
	return vm ? 0 : -ENOENT;
}

static int aax_ioctl_vm_bind(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_vm_bind *args = data;
	u64 perms = ((args->flags & AAX_VM_READ) ? AAX_PTE_READ : 0) | ((args->flags & AAX_VM_WRITE) ? AAX_PTE_WRITE : 0);
	bool allow_2m = !(args->flags & AAX_VM_4K_ONLY);
	struct drm_gem_object *obj;
	struct aax_mapping *m;
	struct aax_vm *vm;
	struct aax_bo *bo;
	int ret;

	if ((args->flags & ~AAX_VM_FLAGS_VALID) || !perms || !args->size || ((args->va | args->size | args->bo_offset) & (AAX_PAGE_4K - 1)) ||
	    args->va < AAX_VM_VA_MIN || args->va + args->size > (1ull << AAX_MMU_VA_BITS) || args->va + args->size < args->va)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	bo = to_bo(obj);
	if (args->bo_offset + args->size > obj->size || args->bo_offset + args->size < args->size) {
		drm_gem_object_put(obj);
		return -EINVAL;
	}
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m) {
		drm_gem_object_put(obj);
		return -ENOMEM;
	}
	m->obj = obj; /* the mapping keeps the BO */
	mutex_lock(&a->vm_lock);
	vm = vm_lookup(a, file, args->vm_id);
	if (!vm) {
		ret = -ENOENT;
		goto out;
	}
	m->node.start = args->va;
	m->node.size = args->size;
	ret = drm_mm_reserve_node(&vm->va, &m->node);
	if (ret) {
		ret = -EEXIST;
		goto out;
	}
	if (bo->host && bo->chunks) {
		u64 pos = 0, off = args->bo_offset, end = args->bo_offset + args->size;
		u32 i;

		for (i = 0; i < bo->nchunks && !ret; i++) {
			u64 csz = PAGE_SIZE << bo->chunks[i].order;
			u64 lo = max(pos, off), hi = min(pos + csz, end);

			if (lo < hi)
				ret = vm_map(a, vm, args->va + (lo - off), a->host_window + bo->chunks[i].dma + (lo - pos), hi - lo,
					     perms, allow_2m);
			pos += csz;
		}
	} else {
		ret = vm_map(a, vm, args->va, bo->device_va + args->bo_offset, args->size, perms, allow_2m);
	}
	if (ret) {
		vm_unmap(a, vm, args->va, args->size);
		tlb_invalidate(a, vm->asid);
		drm_mm_remove_node(&m->node);
		goto out;
	}
	list_add_tail(&m->link, &vm->maps);
	vm->binds++;
	m = NULL;
out:
	mutex_unlock(&a->vm_lock);
	if (m) {
		drm_gem_object_put(obj);
		kfree(m);
	}
	return ret;
}

static int aax_ioctl_vm_unbind(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_vm_unbind *args = data;
	struct aax_mapping *m, *found = NULL;
	struct aax_vm *vm;
	LIST_HEAD(put);

	mutex_lock(&a->vm_lock);
	vm = vm_lookup(a, file, args->vm_id);
	if (vm) {
		list_for_each_entry(m, &vm->maps, link)
			if (m->node.start == args->va && m->node.size == args->size) {
				found = m;
				break;
			}
	}
	if (found) {
		vm_unmap(a, vm, found->node.start, found->node.size);
		tlb_invalidate(a, vm->asid);
		list_move(&found->link, &put);
		drm_mm_remove_node(&found->node);
	}
	mutex_unlock(&a->vm_lock);
	put_mappings(&put);
	return found ? 0 : -ENOENT;
}

/* ---- user queues ------------------------------------------------------------------- */

enum { AAX_UQ_MEM, AAX_UQ_CQ, AAX_UQ_DB };

/* One of a user queue's three objects: GEM objects with an mmap offset only its owner may map
 * (no handle: the owner cannot free, bind or submit them). The memory is zeroed: it may hold an
 * earlier owner's data. */
static struct aax_bo *uq_obj_new(struct aax_device *a, struct drm_file *file, int kind, u64 size)
{
	struct aax_bo *bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	u64 off;
	int ret = 0;

	if (!bo)
		return ERR_PTR(-ENOMEM);
	bo->base.funcs = &aax_bo_funcs;
	drm_gem_private_object_init(&a->drm, &bo->base, size);
	if (kind == AAX_UQ_CQ) {
		bo->host = true;
		bo->vaddr = dma_alloc_coherent(&a->pdev->dev, size, &bo->dma, GFP_KERNEL);
		if (!bo->vaddr) {
			ret = -ENOMEM;
			goto err;
		}
		memset(bo->vaddr, 0, size);
		bo->device_va = a->host_window + bo->dma;
	} else if (kind == AAX_UQ_MEM) {
		/* Inside the BAR2 window: the owner writes it through BAR2, as the kernel its rings. */
		mutex_lock(&a->mm_lock);
		ret = drm_mm_insert_node_in_range(&a->mm, &bo->node, size, PAGE_SIZE, 0, 0,
						  min_t(u64, a->bar2_size, a->devmem_size), DRM_MM_INSERT_LOW);
		if (!ret)
			a->mm_used += size;
		mutex_unlock(&a->mm_lock);
		if (ret)
			goto err;
		bo->device_va = a->devmem_base + bo->node.start;
		for (off = 0; off < size; off += 8)
			writeq(0, a->bar2 + bo->node.start + off);
	} else {
		bo->doorbell = true;
	}
	ret = drm_gem_create_mmap_offset(&bo->base);
	if (!ret)
		ret = drm_vma_node_allow(&bo->base.vma_node, file);
	if (ret)
		goto err;
	return bo;
err:
	drm_gem_object_put(&bo->base);
	return ERR_PTR(ret);
}

static void uq_objs_put(struct aax_uq *q)
{
	struct aax_bo *o[3] = { q->mem, q->cq, q->db };
	int i;

	for (i = 0; i < 3; i++) {
		if (IS_ERR_OR_NULL(o[i]))
			continue;
		drm_vma_node_revoke(&o[i]->base.vma_node, q->file);
		drm_gem_object_put(&o[i]->base);
	}
}

/* Revokes and frees a user queue: the ring is reset and disabled (a running job is dropped at
 * its next packet boundary, queued ones never start, no record is written once it is idle),
 * unpinned, its CQ off; every mapping of it is zapped. Its memory goes when the last mapping
 * does (a mapping holds its object). vm_lock held. */
static void uq_teardown(struct aax_device *a, struct aax_uq *q)
{
	u32 r = q->ring, i;

	mutex_lock(&a->lock);
	a->uqs[r] = NULL;
	if (!q->revoked && !a->dead) {
		wr(a, AAX_RING_BASE(r) + AAX_RING_CTRL, AAX_RING_CTRL_RESET | (r << AAX_RING_CTRL_CQ_SHIFT));
		for (i = 0; i < 20000 && !(rd(a, AAX_RING_BASE(r) + AAX_RING_STATUS) & AAX_RING_STATUS_IDLE); i++)
			usleep_range(50, 100);
		if (i == 20000)
			dev_warn(&a->pdev->dev, "user queue on ring %u: not idle after its reset\n", r);
		wr(a, AAX_CQ_BASE(r) + AAX_CQ_CTRL, 0);
		wr(a, AAX_RING_BASE(r) + AAX_RING_ASID, 0);
		wr(a, AAX_RING_BASE(r) + AAX_RING_UQ_HDR_LO, 0);
		wr(a, AAX_RING_BASE(r) + AAX_RING_UQ_HDR_HI, 0);
		(void)rd(a, AAX_RING_BASE(r) + AAX_RING_STATUS); /* the writes have landed */
	}
	a->uq_destroyed++;
	mutex_unlock(&a->lock);
	uq_zap(a, q);
	uq_objs_put(q);
	kfree(q);
}

/* UQ_CREATE: the in-process driver's uq_create (platform/host/driver.cpp) with the file checks
 * of uapi::device::uq_create: a free ring above the kernel's, pinned by the kernel to one of
 * this file's VMs (AAX_RING_ASID_USER | asid: the device runs only that context's descriptors
 * there, without descriptor fences, fetching through the context). */
static int aax_ioctl_uq_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_uq_create *args = data;
	u32 log2 = args->entries_log2 ? args->entries_log2 : AAX_RING_LOG2, r;
	u64 mem_size, cq_size, cq_dev, ring_dev;
	struct aax_vm *vm;
	struct aax_uq *q;
	int ret = 0;

	if (args->flags)
		return -EINVAL;
	if (a->uq_end <= a->nrings || a->dead)
		return -ENODEV;
	mutex_lock(&a->vm_lock);
	vm = vm_lookup(a, file, args->vm_id);
	mutex_unlock(&a->vm_lock);
	if (!vm)
		return -ENOENT;
	if (log2 < 1 || log2 > 16)
		return -EINVAL;
	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	q->file = file;
	q->entries_log2 = log2;
	mem_size = PAGE_ALIGN(AAX_UQ_HEADER_SIZE + ((u64)AAX_JOB_DESC_SIZE << log2));
	cq_size = PAGE_ALIGN((u64)AAX_CQ_ENTRY_SIZE << log2);
	q->mem = uq_obj_new(a, file, AAX_UQ_MEM, mem_size);
	if (!IS_ERR(q->mem))
		q->cq = uq_obj_new(a, file, AAX_UQ_CQ, cq_size);
	if (!IS_ERR_OR_NULL(q->cq))
		q->db = uq_obj_new(a, file, AAX_UQ_DB, PAGE_SIZE);
	ret = IS_ERR(q->mem) ? PTR_ERR(q->mem) : IS_ERR(q->cq) ? PTR_ERR(q->cq) : IS_ERR(q->db) ? PTR_ERR(q->db) : 0;
	if (ret)
		goto err;
	mutex_lock(&a->vm_lock);
	vm = vm_lookup(a, file, args->vm_id); /* again: it may have gone meanwhile */
	for (r = a->nrings; r < a->uq_end && (a->uqs[r] || (a->vf_rings >> r & 1)); r++)
		;
	ret = !vm ? -ENOENT : r >= a->uq_end ? -ENOSPC : 0;
	if (ret) {
		mutex_unlock(&a->vm_lock);
		goto err;
	}
	mutex_lock(&a->lock);
	if (a->dead) {
		mutex_unlock(&a->lock);
		mutex_unlock(&a->vm_lock);
		ret = -ENODEV;
		goto err;
	}
	q->ring = r;
	q->asid = vm->asid;
	cq_dev = q->cq->device_va;
	ring_dev = q->mem->device_va + AAX_UQ_HEADER_SIZE;
	wr(a, AAX_CQ_BASE(r) + AAX_CQ_BASE_HI, upper_32_bits(cq_dev));
	wr(a, AAX_CQ_BASE(r) + AAX_CQ_BASE_LO, lower_32_bits(cq_dev));
	wr(a, AAX_CQ_BASE(r) + AAX_CQ_SIZE_LOG2, log2);
	wr(a, AAX_CQ_BASE(r) + AAX_CQ_HEAD, 0);
	/* The owner polls its CQ: no CQ interrupt (its line stays masked). */
	wr(a, AAX_CQ_BASE(r) + AAX_CQ_CTRL, AAX_CQ_CTRL_EN);
	wr(a, AAX_RING_BASE(r) + AAX_RING_BASE_LO, 0); /* a move: HEAD = TAIL = 0 */
	wr(a, AAX_RING_BASE(r) + AAX_RING_BASE_HI, upper_32_bits(ring_dev));
	wr(a, AAX_RING_BASE(r) + AAX_RING_BASE_LO, lower_32_bits(ring_dev));
	wr(a, AAX_RING_BASE(r) + AAX_RING_SIZE_LOG2, log2);
	wr(a, AAX_RING_BASE(r) + AAX_RING_UQ_HDR_HI, upper_32_bits(q->mem->device_va));
	wr(a, AAX_RING_BASE(r) + AAX_RING_UQ_HDR_LO, lower_32_bits(q->mem->device_va));
	wr(a, AAX_RING_BASE(r) + AAX_RING_ASID, AAX_RING_ASID_USER | q->asid);
	wr(a, AAX_RING_BASE(r) + AAX_RING_CTRL, AAX_RING_CTRL_EN | (r << AAX_RING_CTRL_CQ_SHIFT));
	a->uqs[r] = q;
	a->uq_created++;
	mutex_unlock(&a->lock);
	mutex_unlock(&a->vm_lock);
	args->queue_id = r;
	args->entries = 1u << log2;
	args->cq_entries = 1u << log2;
	args->ring_mmap_offset = drm_vma_node_offset_addr(&q->mem->base.vma_node);
	args->ring_size = mem_size;
	args->cq_mmap_offset = drm_vma_node_offset_addr(&q->cq->base.vma_node);
	args->cq_size = cq_size;
	args->db_mmap_offset = drm_vma_node_offset_addr(&q->db->base.vma_node);
	return 0;
err:
	uq_objs_put(q);
	kfree(q);
	return ret;
}

static int aax_ioctl_uq_destroy(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_uq_destroy *args = data;
	struct aax_uq *q = NULL;

	if (args->reserved)
		return -EINVAL;
	mutex_lock(&a->vm_lock);
	if (args->queue_id >= a->nrings && args->queue_id < a->uq_end && a->uqs[args->queue_id] &&
	    a->uqs[args->queue_id]->file == file)
		q = a->uqs[args->queue_id];
	if (q)
		uq_teardown(a, q);
	mutex_unlock(&a->vm_lock);
	return q ? 0 : -ENOENT;
}

/* Privilege is decided at open, from the opener's credentials (as the file is the
 * capability: a privileged process may hand the fd on): CAP_SYS_ADMIN may submit physical
 * jobs (vm_id 0) on a device with an MMU; every other file only jobs in its own VMs. */
static int aax_open(struct drm_device *drm, struct drm_file *file)
{
	struct aax_file *af = kzalloc(sizeof(*af), GFP_KERNEL);

	if (!af)
		return -ENOMEM;
	af->priv = capable(CAP_SYS_ADMIN);
	file->driver_priv = af;
	return 0;
}

static void aax_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	LIST_HEAD(put);
	u32 i;

	mutex_lock(&a->vm_lock);
	/* Its user queues first (the file is released only once no mapping of them is left). */
	for (i = a->nrings; i < a->uq_end; i++)
		if (a->uqs[i] && a->uqs[i]->file == file)
			uq_teardown(a, a->uqs[i]);
	for (i = 1; i < a->mmu_contexts; i++)
		if (a->vms[i] && a->vms[i]->file == file)
			vm_destroy(a, a->vms[i], &put);
	mutex_unlock(&a->vm_lock);
	put_mappings(&put);
	kfree(file->driver_priv);
	file->driver_priv = NULL;
}

/* ---- submit and wait ---------------------------------------------------------- */

static int aax_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_file *af = file->driver_priv;
	struct aax_drm_submit *args = data;
	struct drm_gem_object *obj;
	struct aax_job_desc d = {};
	struct aax_vm *vm = NULL;
	struct aax_ring *r;
	struct aax_job *j, *old;
	struct drm_gem_object *old_cmdbuf = NULL;
	struct sync_file *sf = NULL;
	struct drm_syncobj *so = NULL;
	unsigned long flags;
	int fd = -1, ret = 0, tries = 0;
	u32 slot, seq;
	u16 asid;

	args->fence_fd = -1;
	if (args->queue >= a->nrings || (args->flags & ~(AAX_JOB_NULL | AAX_SUBMIT_FENCE_FD)))
		return -EINVAL;
	if (args->cmdbuf_size < 8 || args->cmdbuf_size > AAX_MAX_CMDBUF_SIZE || (args->cmdbuf_size & 7) ||
	    (args->cmdbuf_offset & 7))
		return -EINVAL;
	/* Physical jobs (bus addresses, no translation) on a device with an MMU: privileged files only. */
	if (!args->vm_id && a->mmu_contexts && !af->priv) {
		a->phys_denied++;
		return -EPERM;
	}
	r = &a->rings[args->queue];
	if (args->out_syncobj) {
		so = drm_syncobj_find(file, args->out_syncobj);
		if (!so)
			return -ENOENT;
	}
	obj = drm_gem_object_lookup(file, args->cmdbuf_handle);
	if (!obj) {
		ret = -ENOENT;
		goto out_so;
	}
	if ((u64)args->cmdbuf_offset + args->cmdbuf_size > obj->size || !to_bo(obj)->device_va) {
		ret = -EINVAL; /* past the BO, or a scattered host BO (command buffers are bus addresses) */
		goto out_obj;
	}
	j = kzalloc(sizeof(*j), GFP_KERNEL);
	if (!j) {
		ret = -ENOMEM;
		goto out_obj;
	}
	if (args->flags & AAX_SUBMIT_FENCE_FD) {
		fd = get_unused_fd_flags(O_CLOEXEC);
		if (fd < 0) {
			ret = fd;
			kfree(j);
			goto out_obj;
		}
	}
again:
	mutex_lock(&a->vm_lock);
	if (args->vm_id) {
		vm = vm_lookup(a, file, args->vm_id);
		if (!vm) {
			ret = -ENOENT;
			goto out_vm;
		}
	}
	mutex_lock(&a->lock);
	if (a->dead) {
		ret = -EIO;
		goto out_lock;
	}
	/* The kernel pins the ring to the job's context (RING_ASID, never a user value): the
	 * device then runs only descriptors of that context on it (BAD_ASID otherwise). A ring
	 * changes context when nothing is in flight on it: wait for its last job, then retry. */
	asid = vm ? vm->asid : 0;
	if (a->mmu_contexts && r->asid != asid) {
		struct dma_fence *busy = NULL;

		spin_lock_irqsave(&a->fence_lock, flags);
		if (r->inflight && ring_job(r, r->next_seq - 1))
			busy = dma_fence_get(&ring_job(r, r->next_seq - 1)->base);
		spin_unlock_irqrestore(&a->fence_lock, flags);
		if (busy) {
			mutex_unlock(&a->lock);
			mutex_unlock(&a->vm_lock);
			vm = NULL;
			ret = dma_fence_wait(busy, true);
			dma_fence_put(busy);
			if (!ret && ++tries > 1000)
				ret = -EBUSY;
			if (ret)
				goto out_fd;
			goto again;
		}
		wr(a, AAX_RING_BASE(args->queue) + AAX_RING_ASID, asid);
		r->asid = asid;
		r->asid_switches++;
	}
	spin_lock_irqsave(&a->fence_lock, flags);
	if (r->inflight + 1 >= min(r->entries, r->cq_entries)) {
		spin_unlock_irqrestore(&a->fence_lock, flags);
		ret = -EBUSY;
		goto out_lock;
	}
	seq = r->next_seq++;
	dma_fence_init(&j->base, &aax_fence_ops, &a->fence_lock, r->fence_ctx, seq);
	j->owner = file;
	j->cmdbuf = obj;
	drm_gem_object_get(obj);
	old = r->jobs[seq % AAX_FENCES];
	r->jobs[seq % AAX_FENCES] = j;
	r->inflight++;
	if (old) { /* long signalled: inflight < ring entries < AAX_FENCES */
		old_cmdbuf = old->cmdbuf;
		old->cmdbuf = NULL;
	}
	spin_unlock_irqrestore(&a->fence_lock, flags);
	if (old)
		dma_fence_put(&old->base);

	d.cmdbuf_addr = to_bo(obj)->device_va + args->cmdbuf_offset;
	d.cmdbuf_size = args->cmdbuf_size;
	d.job_id = seq;
	d.flags = (args->flags & AAX_JOB_NULL) | AAX_JOB_IRQ | AAX_JOB_TIMESTAMP;
	d.timeout_us = args->timeout_us;
	d.asid = asid; /* the file's VM, looked up by the kernel */
	slot = r->tail;
	r->tail = (r->tail + 1) % r->entries;
	/* Eight 8-byte writes: memcpy_toio() may split the descriptor into byte writes, each a BAR
	 * access of its own (under QEMU's proxy, a message: 8.0 us more device time from submit to
	 * start, docs/virtualization.md "User queues in the Linux driver"). */
	{
		const u64 *q = (const u64 *)&d;
		u32 k;

		for (k = 0; k < sizeof(d) / 8; k++)
			writeq(q[k], a->bar2 + (r->ring_dev - a->devmem_base) + (u64)slot * AAX_JOB_DESC_SIZE + k * 8);
	}
	wmb();
	wr(a, AAX_DOORBELL(args->queue), r->tail);
	a->submits++;
	r->submits++;
	args->seq = seq;
	if (vm) {
		dma_fence_put(vm->last[args->queue]);
		vm->last[args->queue] = dma_fence_get(&j->base);
	}
	if (so)
		drm_syncobj_replace_fence(so, &j->base); /* the syncobj now holds the job's fence */
	if (fd >= 0) {
		sf = sync_file_create(&j->base);
		if (sf) {
			fd_install(fd, sf->file);
			args->fence_fd = fd;
			a->fence_fds++;
			fd = -1;
		}
	}
	/* Not queued: stopped, or its callback is ending without a restart (then this restarts it). */
	if (!hrtimer_is_queued(&a->poll_timer))
		hrtimer_start(&a->poll_timer, ns_to_ktime((u64)max(poll_us, 50u) * NSEC_PER_USEC * (a->irqs ? 16 : 1)),
			      HRTIMER_MODE_REL);
	j = NULL;
out_lock:
	mutex_unlock(&a->lock);
out_vm:
	mutex_unlock(&a->vm_lock);
out_fd:
	if (j && !j->base.ops)
		kfree(j);
	if (fd >= 0)
		put_unused_fd(fd);
out_obj:
	drm_gem_object_put(obj);
	if (old_cmdbuf)
		drm_gem_object_put(old_cmdbuf);
out_so:
	if (so)
		drm_syncobj_put(so);
	return ret;
}

static int aax_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_wait *args = data;
	struct aax_job *j = NULL;
	struct aax_ring *r;
	unsigned long flags;
	long t, jif;
	int ret;

	if (args->queue >= a->nrings || args->reserved)
		return -EINVAL;
	r = &a->rings[args->queue];
	spin_lock_irqsave(&a->fence_lock, flags);
	if (args->seq && args->seq < r->next_seq)
		j = ring_job(r, args->seq);
	if (j && j->owner != file)
		j = NULL; /* another file's job: its status and timestamps are not this file's to see */
	if (j)
		dma_fence_get(&j->base);
	spin_unlock_irqrestore(&a->fence_lock, flags);
	if (!j)
		return -EINVAL;
	jif = args->timeout_ns > 0 ? (long)min_t(u64, nsecs_to_jiffies64(args->timeout_ns), MAX_SCHEDULE_TIMEOUT - 1) : 0;
	if (args->timeout_ns > 0 && !jif)
		jif = 1;
	t = dma_fence_is_signaled(&j->base) ? 1 : (jif ? dma_fence_wait_timeout(&j->base, true, jif) : 0);
	if (t < 0) {
		ret = t; /* -ERESTARTSYS */
	} else if (t == 0 && !dma_fence_is_signaled(&j->base)) {
		ret = -ETIME;
	} else {
		args->status = j->status;
		args->ts_start_ns = j->ts_start;
		args->ts_end_ns = j->ts_end;
		args->err_offset = j->err_offset;
		args->err_opcode = j->err_opcode;
		ret = aax_errno(j->status);
	}
	dma_fence_put(&j->base);
	return ret;
}

static int aax_ioctl_get_info(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_info *i = data;

	memset(i, 0, sizeof(*i));
	i->abi_version = a->abi_version;
	i->fw_version = a->fw_version;
	i->queues = a->nrings;
	i->semaphores = a->caps1 & 0xFFFF;
	i->dma_engines = (a->caps0 >> 16) & 0xFF;
	i->flags = (a->has_core ? AAX_INFO_CONTROL_CORE : 0) | (a->mmu_contexts ? AAX_INFO_MMU : 0) |
		   (((struct aax_file *)file->driver_priv)->priv ? AAX_INFO_PRIVILEGED : 0);
	i->devmem_size = a->devmem_size;
	i->devmem_free = a->devmem_size - AAX_FW_REGION_SIZE - a->mm_used;
	i->host_bo_max = AAX_HOST_BO_MAX;
	i->host_bo_sg_max = (u64)host_bo_max_mb << 20;
	i->mmu_contexts = a->mmu_contexts;
	return 0;
}

/* The device's last error record and MMU fault record, each only if it is this file's: the
 * failed job was submitted by it, the faulting ASID is one of its VMs (another tenant's
 * addresses and offsets are not its to see). The counts are device-wide. ENOENT: neither. */
static int aax_ioctl_last_error(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct aax_device *a = to_aax(drm);
	struct aax_drm_error *e = data;
	bool own_err = false, own_fault = false;
	unsigned long flags;

	if (!a->errors && !a->mmu_faults)
		return -ENOENT;
	mutex_lock(&a->lock);
	*e = a->last_error;
	mutex_unlock(&a->lock);
	if (a->errors && e->ring < a->nrings) {
		struct aax_job *j;

		spin_lock_irqsave(&a->fence_lock, flags);
		j = ring_job(&a->rings[e->ring], e->job_id);
		own_err = j && j->owner == file;
		spin_unlock_irqrestore(&a->fence_lock, flags);
	} else if (a->errors && e->ring < a->uq_end) {
		/* A user queue's error: its owner's (by ring; the queue is stopped until destroyed). */
		mutex_lock(&a->vm_lock);
		own_err = a->uqs[e->ring] && a->uqs[e->ring]->file == file;
		mutex_unlock(&a->vm_lock);
	}
	if (a->mmu_faults && e->mmu_fault_asid && e->mmu_fault_asid < a->mmu_contexts) {
		mutex_lock(&a->vm_lock);
		own_fault = a->vms[e->mmu_fault_asid] && a->vms[e->mmu_fault_asid]->file == file;
		mutex_unlock(&a->vm_lock);
	}
	if (!own_err) {
		e->code = e->ring = e->job_id = e->offset = e->opcode = 0;
		e->addr = 0;
	}
	if (!own_fault) {
		e->mmu_fault_status = e->mmu_fault_asid = 0;
		e->mmu_fault_va = 0;
	}
	return own_err || own_fault ? 0 : -ENOENT;
}

static const struct drm_ioctl_desc aax_ioctls[] = {
	DRM_IOCTL_DEF_DRV(AAX_GET_INFO, aax_ioctl_get_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_BO_CREATE, aax_ioctl_bo_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_SUBMIT, aax_ioctl_submit, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_WAIT, aax_ioctl_wait, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_LAST_ERROR, aax_ioctl_last_error, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_VM_CREATE, aax_ioctl_vm_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_VM_DESTROY, aax_ioctl_vm_destroy, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_VM_BIND, aax_ioctl_vm_bind, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_VM_UNBIND, aax_ioctl_vm_unbind, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_UQ_CREATE, aax_ioctl_uq_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(AAX_UQ_DESTROY, aax_ioctl_uq_destroy, DRM_RENDER_ALLOW),
};

/* ---- debugfs ----------------------------------------------------------------------- */

static int aax_rings_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;
	u32 r;

	for (r = 0; r < a->nrings; r++) {
		struct aax_ring *R = &a->rings[r];

		seq_printf(m, "ring %u: base 0x%llx entries %u head %u tail %u (driver %u) status 0x%x jobs_done %u inflight %u "
			   "seqno %u submits %llu resets %llu aborted %llu asid %u switches %llu\n",
			   r, R->ring_dev, R->entries, rd(a, AAX_RING_BASE(r) + AAX_RING_HEAD),
			   rd(a, AAX_RING_BASE(r) + AAX_RING_TAIL), R->tail, rd(a, AAX_RING_BASE(r) + AAX_RING_STATUS),
			   rd(a, AAX_RING_BASE(r) + AAX_RING_JOBS_DONE), R->inflight, R->next_seq - 1, R->submits, R->resets,
			   R->aborted, rd(a, AAX_RING_BASE(r) + AAX_RING_ASID), R->asid_switches);
		seq_printf(m, "cq %u: entries %u head %u tail %u overflows %u bogus %llu phase %u base 0x%llx\n", r,
			   R->cq_entries, R->cq_head, rd(a, AAX_CQ_BASE(r) + AAX_CQ_TAIL),
			   rd(a, AAX_CQ_BASE(r) + AAX_CQ_OVERFLOWS), R->bogus_records, R->cq_phase,
			   rd(a, AAX_CQ_BASE(r) + AAX_CQ_BASE_LO) | (u64)rd(a, AAX_CQ_BASE(r) + AAX_CQ_BASE_HI) << 32);
	}
	return 0;
}

static int aax_counters_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;

	seq_printf(m, "submits %llu\ncompletions %llu\nirqs %llu\npolls %llu\nworks %llu\nerrors %llu\naborted %llu\n"
		   "mmu_faults %llu\nfence_fds %llu\ndevice_resets %llu\nreset_aborted %llu\nphys_denied %llu\ndead %u\n",
		   a->submits, a->completions, a->irqs, a->polls, a->works, a->errors, a->aborted, a->mmu_faults, a->fence_fds,
		   a->device_resets, a->reset_aborted, a->phys_denied, a->dead);
	return 0;
}

static int aax_uqs_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;
	u32 r;

	seq_printf(m, "rings %u-%u created %llu destroyed %llu revoked %llu\n", a->nrings, a->uq_end ? a->uq_end - 1 : 0,
		   a->uq_created, a->uq_destroyed, a->uq_revoked);
	mutex_lock(&a->vm_lock);
	for (r = a->nrings; r < a->uq_end; r++) {
		struct aax_uq *q = a->uqs[r];

		seq_printf(m, "uq ring %u: %s asid %u entries %u revoked %u ring_asid 0x%x ctrl 0x%x head %u tail %u status 0x%x jobs_done %u\n",
			   r, q ? "owned" : "free", q ? q->asid : 0, q ? 1u << q->entries_log2 : 0, q ? q->revoked : 0,
			   rd(a, AAX_RING_BASE(r) + AAX_RING_ASID), rd(a, AAX_RING_BASE(r) + AAX_RING_CTRL),
			   rd(a, AAX_RING_BASE(r) + AAX_RING_HEAD), rd(a, AAX_RING_BASE(r) + AAX_RING_TAIL),
			   rd(a, AAX_RING_BASE(r) + AAX_RING_STATUS), rd(a, AAX_RING_BASE(r) + AAX_RING_JOBS_DONE));
	}
	mutex_unlock(&a->vm_lock);
	return 0;
}

static int aax_errors_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;

	if (!a->errors)
		seq_puts(m, "none\n");
	else
		seq_printf(m, "count %u\nlast %s ring %u job %u offset %u opcode %s addr 0x%llx\n", a->last_error.count,
			   aax_status_name(a->last_error.code), a->last_error.ring, a->last_error.job_id, a->last_error.offset,
			   aax_opcode_name(a->last_error.opcode), a->last_error.addr);
	if (a->mmu_faults)
		seq_printf(m, "mmu_faults %u\nmmu_last %s asid %u va 0x%llx\n", a->last_error.mmu_faults,
			   aax_mmu_fault_name(a->last_error.mmu_fault_status & AAX_MMU_FAULT_TYPE_MASK),
			   a->last_error.mmu_fault_asid, a->last_error.mmu_fault_va);
	return 0;
}

static int aax_vms_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;
	u32 i;

	seq_printf(m, "contexts %u\n", a->mmu_contexts);
	mutex_lock(&a->vm_lock);
	for (i = 1; i < a->mmu_contexts; i++)
		if (a->vms[i])
			seq_printf(m, "vm %u: root 0x%llx binds %llu pages_4k %llu pages_2m %llu\n", i, a->vms[i]->root->dev,
				   a->vms[i]->binds, a->vms[i]->pages_4k, a->vms[i]->pages_2m);
	mutex_unlock(&a->vm_lock);
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

/* The device's TIMESTAMP (ns) when the read arrives in the chip: a user-space probe of device
 * time for latency measurements (aax-run uq-latency). */
static int aax_timestamp_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;
	u32 lo = rd(a, AAX_REG_TIMESTAMP_LO);

	seq_printf(m, "%llu\n", (u64)rd(a, AAX_REG_TIMESTAMP_HI) << 32 | lo);
	return 0;
}

/* Writing to `reset` resets the device as after a firmware crash (a VF: its function-level
 * reset): the jobs in flight fail (ABORTED), user queues are revoked, the rings come back. */
static ssize_t aax_reset_write(struct file *file, const char __user *ubuf, size_t len, loff_t *pos)
{
	struct aax_device *a = file->private_data;

	mutex_lock(&a->lock);
	reset_device(a, "reset requested through debugfs");
	mutex_unlock(&a->lock);
	return len;
}

static const struct file_operations aax_reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = aax_reset_write,
	.llseek = noop_llseek,
};

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

/* Hardware performance counters (BAR0 0xB000, docs/profiling.md): reading `perf` takes a
 * SNAPSHOT and prints one line per counter, "class unit event value"; writing "start",
 * "stop", "clear" or "clear start" controls them (AAX_PERF_CTRL_*). */
static const char *const aax_perf_classes[AAX_PERF_CLASSES] = { "device", "mxu", "vpu", "dma",
								 "dram", "link", "ring", "pcie" };
static const char *const aax_perf_events[AAX_PERF_CLASSES][8] = {
	{ "elapsed_ps", "packets" },
	{ "packets", "busy_cycles", "macs", "stall_cycles", "queue_wait_ps", "errors" },
	{ "packets", "busy_cycles", "elements", "stall_cycles", "queue_wait_ps", "errors" },
	{ "commands", "bytes", "bursts", "busy_ps", "read_wait_ps", "errors" },
	{ "reads", "writes", "row_hits", "row_misses", "row_conflicts", "refreshes" },
	{ "bytes", "packets", "credit_stall_ps", "retransmits", "busy_ps" },
	{ "jobs", "packets", "doorbells", "queue_depth_sum", "queue_depth_max" },
	{ "bytes_h2d", "bytes_d2h", "tlps", "msi_sent", "busy_h2d_ps", "busy_d2h_ps" },
};

static DEFINE_MUTEX(aax_perf_lock); /* one reader of PERF_SEL / PERF_DATA at a time */

static int aax_perf_show(struct seq_file *m, void *unused)
{
	struct aax_device *a = m->private;
	u32 info = rd(a, AAX_REG_PERF_INFO), n = info & 0xFFFF, c, i;
	u64 t;

	if (((info >> 16) & 0xFF) != AAX_PERF_CLASSES)
		return -ENODEV;
	mutex_lock(&aax_perf_lock);
	wr(a, AAX_REG_PERF_CTRL, AAX_PERF_CTRL_SNAPSHOT);
	t = rd(a, AAX_REG_PERF_SNAP_TIME_LO) | (u64)rd(a, AAX_REG_PERF_SNAP_TIME_HI) << 32;
	seq_printf(m, "time_ns %llu running %u counters %u\n", t, rd(a, AAX_REG_PERF_STATUS) & AAX_PERF_STATUS_RUNNING, n);
	for (c = 0; c < AAX_PERF_CLASSES; c++) {
		u32 k = rd(a, AAX_PERF_CLASS_INFO(c)), first = k & 0xFFFF, events = (k >> 16) & 0xFF, units = k >> 24;

		if (!events || !units)
			continue;
		wr(a, AAX_REG_PERF_SEL, first);
		for (i = 0; i < units * events && first + i < n; i++) {
			u32 lo = rd(a, AAX_REG_PERF_DATA_LO), ev = i % events;
			u64 v = lo | (u64)rd(a, AAX_REG_PERF_DATA_HI) << 32; /* advances PERF_SEL */

			seq_printf(m, "%s %u %s %llu\n", aax_perf_classes[c], i / events,
				   ev < 8 && aax_perf_events[c][ev] ? aax_perf_events[c][ev] : "?", v);
		}
	}
	mutex_unlock(&aax_perf_lock);
	return 0;
}

static int aax_perf_open(struct inode *inode, struct file *file)
{
	return single_open(file, aax_perf_show, inode->i_private);
}

static ssize_t aax_perf_write(struct file *file, const char __user *ubuf, size_t len, loff_t *pos)
{
	struct aax_device *a = ((struct seq_file *)file->private_data)->private;
	char buf[32];
	u32 bits = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (strstr(buf, "stop"))
		bits |= AAX_PERF_CTRL_STOP;
	if (strstr(buf, "clear"))
		bits |= AAX_PERF_CTRL_CLEAR;
	if (strstr(buf, "start"))
		bits |= AAX_PERF_CTRL_START;
	if (!bits)
		return -EINVAL;
	wr(a, AAX_REG_PERF_CTRL, bits);
	return len;
}

static const struct file_operations aax_perf_fops = {
	.owner = THIS_MODULE,
	.open = aax_perf_open,
	.read = seq_read,
	.write = aax_perf_write,
	.llseek = seq_lseek,
	.release = single_release,
};

DEFINE_SHOW_ATTRIBUTE(aax_mmio_rate);
DEFINE_SHOW_ATTRIBUTE(aax_rings);
DEFINE_SHOW_ATTRIBUTE(aax_counters);
DEFINE_SHOW_ATTRIBUTE(aax_errors);
DEFINE_SHOW_ATTRIBUTE(aax_fw_log);
DEFINE_SHOW_ATTRIBUTE(aax_vms);
DEFINE_SHOW_ATTRIBUTE(aax_uqs);
DEFINE_SHOW_ATTRIBUTE(aax_timestamp);

static void aax_debugfs_init(struct drm_minor *minor)
{
	struct aax_device *a = to_aax(minor->dev);

	debugfs_create_file("rings", 0444, minor->debugfs_root, a, &aax_rings_fops);
	debugfs_create_file("counters", 0444, minor->debugfs_root, a, &aax_counters_fops);
	debugfs_create_file("errors", 0444, minor->debugfs_root, a, &aax_errors_fops);
	debugfs_create_file("fw_log", 0444, minor->debugfs_root, a, &aax_fw_log_fops);
	debugfs_create_file("mmio_rate", 0444, minor->debugfs_root, a, &aax_mmio_rate_fops);
	debugfs_create_file("vms", 0444, minor->debugfs_root, a, &aax_vms_fops);
	debugfs_create_file("uqs", 0444, minor->debugfs_root, a, &aax_uqs_fops);
	debugfs_create_file("timestamp", 0444, minor->debugfs_root, a, &aax_timestamp_fops);
	debugfs_create_file("reset", 0200, minor->debugfs_root, a, &aax_reset_fops);
	debugfs_create_file("perf", 0644, minor->debugfs_root, a, &aax_perf_fops);
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
	return sysfs_emit(buf, "%u\n", dev_aax(dev)->nrings);
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
	.driver_features = DRIVER_GEM | DRIVER_SYNCOBJ | DRIVER_COMPUTE_ACCEL,
#else
	.driver_features = DRIVER_GEM | DRIVER_SYNCOBJ | DRIVER_RENDER,
#endif
	.open = aax_open,
	.postclose = aax_postclose,
	.fops = &aax_fops,
	.ioctls = aax_ioctls,
	.num_ioctls = ARRAY_SIZE(aax_ioctls),
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	.debugfs_init = aax_debugfs_init,  /* accel: created after registration (below) */
#endif
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
	u32 entry = 0, st, i;
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
	p.n_rings = a->nrings;
	p.devmem_base = a->devmem_base;
	p.host_window = a->host_window;
	p.log_addr = a->devmem_base + AAX_LOG_OFF;
	p.log_size = AAX_LOG_SIZE;
	for (i = 0; i < a->nrings; i++) {
		p.rings[i].ring_addr = a->rings[i].ring_dev;
		p.rings[i].cq_addr = a->host_window + a->rings[i].cq_dma;
		p.rings[i].ring_log2 = AAX_RING_LOG2;
		p.rings[i].cq_log2 = AAX_CQ_LOG2;
		p.rings[i].msix_vector = AAX_MSIX_VEC_CQ(i);
	}
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

/* A ring and its CQ as probe sets them up (also after a device reset); the ring is enabled
 * last. RING_ASID 0: physical jobs only, until submit pins it to a context. */
static void program_ring(struct aax_device *a, u32 i)
{
	struct aax_ring *r = &a->rings[i];
	u64 cq_dev = a->host_window + r->cq_dma;

	wr(a, AAX_CQ_BASE(i) + AAX_CQ_BASE_HI, upper_32_bits(cq_dev));
	wr(a, AAX_CQ_BASE(i) + AAX_CQ_BASE_LO, lower_32_bits(cq_dev));
	wr(a, AAX_CQ_BASE(i) + AAX_CQ_SIZE_LOG2, AAX_CQ_LOG2);
	wr(a, AAX_CQ_BASE(i) + AAX_CQ_HEAD, 0);
	wr(a, AAX_CQ_BASE(i) + AAX_CQ_CTRL, AAX_CQ_CTRL_EN | AAX_CQ_CTRL_IRQ_EN);
	wr(a, AAX_RING_BASE(i) + AAX_RING_BASE_HI, upper_32_bits(r->ring_dev));
	wr(a, AAX_RING_BASE(i) + AAX_RING_BASE_LO, lower_32_bits(r->ring_dev));
	wr(a, AAX_RING_BASE(i) + AAX_RING_SIZE_LOG2, AAX_RING_LOG2);
	wr(a, AAX_RING_BASE(i) + AAX_RING_ASID, 0);
	wr(a, AAX_RING_BASE(i) + AAX_RING_CTRL, AAX_RING_CTRL_EN | (i << AAX_RING_CTRL_CQ_SHIFT));
}

static void rings_off(struct aax_device *a)
{
	u32 i;

	for (i = 0; i < a->nrings; i++) {
		wr(a, AAX_RING_BASE(i) + AAX_RING_CTRL, 0);
		wr(a, AAX_CQ_BASE(i) + AAX_CQ_CTRL, 0);
	}
}

/* Completes what is left (the device is going away) and drops the fences. */
static void fences_fini(struct aax_device *a)
{
	unsigned long flags;
	u32 i, k;

	for (i = 0; i < a->nrings; i++) {
		struct aax_ring *r = &a->rings[i];

		spin_lock_irqsave(&a->fence_lock, flags);
		for (k = 0; k < AAX_FENCES; k++)
			if (r->jobs[k])
				job_signal(a, r, r->jobs[k], AAX_ERR_ABORTED);
		spin_unlock_irqrestore(&a->fence_lock, flags);
		for (k = 0; k < AAX_FENCES; k++) {
			if (r->jobs[k] && r->jobs[k]->cmdbuf)
				drm_gem_object_put(r->jobs[k]->cmdbuf);
			if (r->jobs[k])
				dma_fence_put(&r->jobs[k]->base);
			r->jobs[k] = NULL;
		}
	}
}

static int aax_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct aax_device *a;
	u64 reserved, fence_ctx;
	ktime_t t0 = ktime_get();
	u32 mask, i, n, msix;
	int ret;

	a = devm_drm_dev_alloc(&pdev->dev, &aax_drm_driver, struct aax_device, drm);
	if (IS_ERR(a))
		return PTR_ERR(a);
	a->pdev = pdev;
	pci_set_drvdata(pdev, &a->drm);
	mutex_init(&a->lock);
	mutex_init(&a->vm_lock);
	mutex_init(&a->mm_lock);
	spin_lock_init(&a->fence_lock);
	INIT_WORK(&a->done_work, aax_done_work);
	hrtimer_init(&a->poll_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	a->poll_timer.function = aax_poll;

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
	if ((a->caps1 & AAX_CAPS1_MMU) && rd(a, AAX_REG_MMU_ID) == AAX_MMU_ID_MAGIC)
		a->mmu_contexts = min_t(u32, rd(a, AAX_REG_MMU_CAPS) & 0xFF, AAX_MMU_MAX_CONTEXTS);
	if (a->bar2_size < AAX_FW_REGION_SIZE + SZ_1M || a->devmem_size < AAX_FW_REGION_SIZE + SZ_1M) {
		dev_err(&pdev->dev, "BAR2 (%llu bytes) or device memory too small\n", (u64)a->bar2_size);
		return -ENODEV;
	}
	/* Rings: one per device queue, as the in-process driver model sets up (each with its
	 * own CQ and MSI-X vector 2 + r: every vector maps to INTA here). */
	msix = (a->caps0 >> 24) & 0xFF;
	n = min3(max_rings, a->caps0 & 0xFF, (a->caps0 >> 8) & 0xFF);
	n = min3(n, msix > 2 ? msix - 2 : 1, (u32)AAX_MAX_RINGS);
	a->nrings = max(n, 1u);
	/* User queues: the rings above the kernel's (max_rings), on a chip with the doorbell page,
	 * an MMU (a user ring runs in a context) and a control core (its firmware checks them). */
	n = min3(a->caps0 & 0xFF, (a->caps0 >> 8) & 0xFF, msix > 2 ? msix - 2 : 1);
	n = min_t(u32, n, AAX_MAX_RINGS);
	a->hw_rings = max(n, a->nrings);
	a->uq_end = a->nrings;
	if (a->has_core && a->mmu_contexts && n > a->nrings && rd(a, AAX_REG_UQ_ID) == AAX_UQ_ID_MAGIC)
		a->uq_end = n;
	/* Device memory: the firmware region, then the rings, then BOs and page tables. */
	reserved = AAX_FW_REGION_SIZE;
	fence_ctx = dma_fence_context_alloc(a->nrings);
	for (i = 0; i < a->nrings; i++) {
		struct aax_ring *r = &a->rings[i];

		r->index = i;
		r->entries = 1u << AAX_RING_LOG2;
		r->ring_dev = a->devmem_base + reserved;
		reserved += PAGE_ALIGN(r->entries * AAX_JOB_DESC_SIZE);
		r->cq_entries = 1u << AAX_CQ_LOG2;
		r->cq = dmam_alloc_coherent(&pdev->dev, r->cq_entries * AAX_CQ_ENTRY_SIZE, &r->cq_dma, GFP_KERNEL);
		if (!r->cq)
			return -ENOMEM;
		r->cq_phase = true;
		r->next_seq = 1;
		r->put_seq = 1;
		r->fence_ctx = fence_ctx + i;
		snprintf(r->timeline, sizeof(r->timeline), "ring%u", i);
	}
	drm_mm_init(&a->mm, reserved, a->devmem_size - reserved);
	a->mm_used = reserved - AAX_FW_REGION_SIZE;
	for (i = 0; i < a->nrings; i++)
		program_ring(a, i);

	/* Legacy INTx: QEMU's proxy forwards no MSI-X; every vector maps to INTA and the
	 * handler finds the cause in IRQ_STATUS. */
	ret = request_irq(pdev->irq, aax_irq, IRQF_SHARED, "aax", a);
	a->irq_ok = !ret;
	if (ret)
		dev_warn(&pdev->dev, "no INTx (%d): completions by polling only\n", ret);
	mask = 0xFFFFFFFFu & ~AAX_IRQ_ERROR & ~(a->mmu_contexts ? AAX_IRQ_MMU : 0);
	for (i = 0; i < a->nrings; i++)
		mask &= ~AAX_IRQ_CQ(i);
	a->irq_mask = mask;
	wr(a, AAX_REG_IRQ_MASK, mask);

	if (a->has_core) {
		ret = aax_boot(a);
		if (ret)
			goto err_irq;
	}
	ret = drm_dev_register(&a->drm, 0);
	if (ret)
		goto err_core;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	/* Newer accel cores no longer call .debugfs_init (6.12 does not): the files go into the
	 * accel minor's directory, /sys/kernel/debug/accel/<minor or PCI name>/, on every 6.2+. */
	if (a->drm.accel && a->drm.accel->debugfs_root)
		aax_debugfs_init(a->drm.accel);
#endif
	WRITE_ONCE(aax_side_target, a);
	if (pdev->device == AAX_PCI_DEVICE_ID && !pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_SRIOV))
		dev_info(&pdev->dev, "SR-IOV: no SR-IOV capability in config space (%d bytes): no sriov_numvfs\n",
			 pdev->cfg_size);
	dev_info(&pdev->dev, "AAX ABI %u.%u, %llu MiB device memory, BAR2 %llu MiB, %u rings, %u MMU contexts, %u user-queue rings, probe %lld us\n",
		 a->abi_version >> 16, a->abi_version & 0xFFFF, a->devmem_size >> 20, (u64)a->bar2_size >> 20, a->nrings,
		 a->mmu_contexts, a->uq_end - a->nrings, ktime_us_delta(ktime_get(), t0));
	return 0;
err_core:
	if (a->has_core)
		wr(a, AAX_REG_CORE_CTRL, 0);
err_irq:
	wr(a, AAX_REG_IRQ_MASK, 0xFFFFFFFFu);
	rings_off(a);
	if (a->irq_ok)
		free_irq(pdev->irq, a);
	drm_mm_takedown(&a->mm);
	return ret;
}

static void aax_remove(struct pci_dev *pdev)
{
	struct drm_device *drm = pci_get_drvdata(pdev);
	struct aax_device *a = to_aax(drm);
	u32 i, k;

	if (pci_num_vf(pdev))
		pci_disable_sriov(pdev); /* sriov_configure's VFs go before their PF */
	if (READ_ONCE(aax_side_target) == a) {
		WRITE_ONCE(aax_side_target, NULL);
		synchronize_irq(READ_ONCE(aax_side_irq_nr) > 0 ? aax_side_irq_nr : pdev->irq);
	}
	drm_dev_unplug(drm);
	a->dying = true;
	hrtimer_cancel(&a->poll_timer);
	wr(a, AAX_REG_IRQ_MASK, 0xFFFFFFFFu);
	(void)rd(a, AAX_REG_ID); /* flush the posted writes */
	if (a->irq_ok)
		free_irq(pdev->irq, a);
	cancel_work_sync(&a->done_work);
	mutex_lock(&a->vm_lock);
	mutex_lock(&a->lock);
	for (i = a->nrings; i < a->uq_end; i++) {
		if (!a->uqs[i] || a->uqs[i]->revoked)
			continue;
		wr(a, AAX_RING_BASE(i) + AAX_RING_CTRL, 0);
		wr(a, AAX_CQ_BASE(i) + AAX_CQ_CTRL, 0);
	}
	uq_revoke_all(a, "the device is going away");
	mutex_unlock(&a->lock);
	mutex_unlock(&a->vm_lock);
	rings_off(a);
	if (a->has_core)
		wr(a, AAX_REG_CORE_CTRL, 0);
	(void)rd(a, AAX_REG_ID);
	fences_fini(a);
	for (i = 0; i < AAX_MMU_MAX_CONTEXTS; i++)
		for (k = 0; k < AAX_MAX_RINGS; k++)
			dma_fence_put(a->retired[i][k]);
	drm_mm_takedown(&a->mm);
}

/* ---- SR-IOV: the PF's sriov_configure ------------------------------------------------- */

/* Tears down what aax_sriov_setup made (VFs disabled first). vm_lock and lock held. */
static void aax_sriov_teardown(struct aax_device *a, struct list_head *put)
{
	u32 v, r;

	for (v = 0; v < AAX_MAX_VFS; v++) {
		wr(a, AAX_SRIOV_VF(v) + AAX_SRIOV_VF_CTRL, 0);
		if (drm_mm_node_allocated(&a->vf_mem[v])) {
			mutex_lock(&a->mm_lock);
			a->mm_used -= a->vf_mem[v].size;
			drm_mm_remove_node(&a->vf_mem[v]);
			mutex_unlock(&a->mm_lock);
		}
		if (a->vf_vm[v]) {
			struct aax_vm *vm = a->vf_vm[v];

			a->ctx_root[vm->asid] = 0;
			wr(a, AAX_MMU_CTX(vm->asid) + AAX_MMU_CTX_CTRL, 0);
			tlb_invalidate(a, vm->asid);
			a->vms[vm->asid] = NULL;
			list_splice_init(&vm->maps, put);
			pt_free(a, vm->root);
			drm_mm_takedown(&vm->va);
			kfree(vm);
			a->vf_vm[v] = NULL;
		}
	}
	for (r = 0; r < AAX_MAX_RINGS; r++) {
		if (!(a->vf_rings >> r & 1))
			continue;
		wr(a, AAX_RING_BASE(r) + AAX_RING_ASID, 0);
		a->irq_mask |= AAX_IRQ_CQ(r);
	}
	wr(a, AAX_REG_IRQ_MASK, a->irq_mask);
	a->vf_rings = 0;
	a->nvfs = 0;
}

/* The in-process driver::sriov_enable (platform/host/driver.cpp) for num_vfs VFs: VF k gets
 * one ring from the top of the chip's (not the kernel's, not a user queue's), the k-th
 * partition of VF-BAR2 size from the top of device memory (taken out of the allocator), share
 * 1, and an MMU context mapping exactly its partition (at its own addresses) and, at
 * AAX_VF_HOST_WINDOW, vf_host_mb of host memory (the VM's memory a hypervisor would name; here
 * the host's own, for VFs this kernel binds). Then the SR-IOV block, the rings pinned, their CQ
 * lines unmasked, and AAX_MBOX_SRIOV to the firmware (its SR-IOV build). vm_lock and lock held. */
static int aax_sriov_setup(struct aax_device *a, int num_vfs)
{
	/* The VF BAR2 resource spans TotalVFs apertures of one VF's size. */
	const int total = pci_sriov_get_totalvfs(a->pdev);
	const u64 vf_size = total > 0 ? pci_resource_len(a->pdev, PCI_IOV_RESOURCES + AAX_PCI_BAR_DEVMEM) / total : 0;
	const u64 host_size = (u64)vf_host_mb << 20;
	unsigned long deadline;
	u32 v, reply = 0;
	int ret;

	if (num_vfs > (int)(rd(a, AAX_REG_SRIOV_CAPS) & 0xFF) || num_vfs > AAX_MAX_VFS)
		return -EINVAL;
	if (!vf_size || (u64)num_vfs * vf_size > a->devmem_size - AAX_FW_REGION_SIZE)
		return -ENOSPC;
	if (a->hw_rings < a->nrings + num_vfs)
		return -ENOSPC;
	for (v = 0; v < num_vfs; v++) {
		const u32 r = a->hw_rings - num_vfs + v, b = AAX_SRIOV_VF(v);
		const u64 mem = a->devmem_size - (u64)(v + 1) * vf_size; /* offset in device memory */
		struct aax_vm *vm;
		u32 id;

		if (r < a->uq_end && a->uqs[r])
			return -EBUSY; /* a user queue has it */
		a->vf_mem[v].start = mem;
		a->vf_mem[v].size = vf_size;
		mutex_lock(&a->mm_lock);
		ret = drm_mm_reserve_node(&a->mm, &a->vf_mem[v]);
		if (!ret)
			a->mm_used += vf_size;
		mutex_unlock(&a->mm_lock);
		if (ret)
			return -EBUSY; /* device memory in use there */
		for (id = 1; id < a->mmu_contexts && (a->vms[id] || asid_retired(a, id)); id++)
			;
		if (id >= a->mmu_contexts)
			return -ENOSPC;
		vm = kzalloc(sizeof(*vm), GFP_KERNEL);
		if (!vm)
			return -ENOMEM;
		vm->root = pt_new(a);
		if (!vm->root) {
			kfree(vm);
			return -ENOMEM;
		}
		vm->asid = id;
		INIT_LIST_HEAD(&vm->maps);
		drm_mm_init(&vm->va, AAX_VM_VA_MIN, (1ull << AAX_MMU_VA_BITS) - AAX_VM_VA_MIN);
		a->vms[id] = vm;
		a->vf_vm[v] = vm;
		ret = vm_map(a, vm, a->devmem_base + mem, a->devmem_base + mem, vf_size, AAX_PTE_READ | AAX_PTE_WRITE, true);
		if (!ret && host_size)
			ret = vm_map(a, vm, AAX_VF_HOST_WINDOW, a->host_window, host_size, AAX_PTE_READ | AAX_PTE_WRITE, true);
		if (ret)
			return ret;
		a->ctx_root[id] = vm->root->dev;
		wr(a, AAX_MMU_CTX(id) + AAX_MMU_CTX_PT_BASE_HI, upper_32_bits(vm->root->dev));
		wr(a, AAX_MMU_CTX(id) + AAX_MMU_CTX_PT_BASE_LO, lower_32_bits(vm->root->dev));
		tlb_invalidate(a, id);
		wr(a, AAX_MMU_CTX(id) + AAX_MMU_CTX_CTRL, AAX_MMU_CTX_EN);
		wr(a, b + AAX_SRIOV_VF_CTRL, 0);
		wr(a, b + AAX_SRIOV_VF_RING_FIRST, r);
		wr(a, b + AAX_SRIOV_VF_RING_COUNT, 1);
		wr(a, b + AAX_SRIOV_VF_MEM_BASE_LO, lower_32_bits(a->devmem_base + mem));
		wr(a, b + AAX_SRIOV_VF_MEM_BASE_HI, upper_32_bits(a->devmem_base + mem));
		wr(a, b + AAX_SRIOV_VF_MEM_SIZE_LO, lower_32_bits(vf_size));
		wr(a, b + AAX_SRIOV_VF_MEM_SIZE_HI, upper_32_bits(vf_size));
		wr(a, b + AAX_SRIOV_VF_HOST_BASE_LO, lower_32_bits(a->host_window));
		wr(a, b + AAX_SRIOV_VF_HOST_BASE_HI, upper_32_bits(a->host_window));
		wr(a, b + AAX_SRIOV_VF_HOST_SIZE_LO, lower_32_bits(host_size));
		wr(a, b + AAX_SRIOV_VF_HOST_SIZE_HI, upper_32_bits(host_size));
		wr(a, b + AAX_SRIOV_VF_SHARE, 1);
		wr(a, b + AAX_SRIOV_VF_ASID, id);
		a->vf_rings |= 1u << r;
		wr(a, AAX_RING_BASE(r) + AAX_RING_ASID, id); /* pinned: the VF cannot change it */
		a->irq_mask &= ~AAX_IRQ_CQ(r);
		wr(a, b + AAX_SRIOV_VF_CTRL, AAX_SRIOV_VF_CTRL_EN);
	}
	wr(a, AAX_REG_IRQ_MASK, a->irq_mask);
	/* No cluster-SRAM scrub record: this driver does not know the SRAM windows, so the VFs'
	 * contexts do not map them (a VF's GEMM faults) and there is nothing to scrub. */
	wr(a, AAX_REG_MBOX_H2F, AAX_MBOX_MSG(AAX_MBOX_SRIOV, num_vfs));
	deadline = jiffies + msecs_to_jiffies(1000);
	while (!((reply = rd(a, AAX_REG_MBOX_F2H)) & AAX_MBOX_REPLY) && time_before(jiffies, deadline))
		usleep_range(100, 200);
	if (!(reply & AAX_MBOX_REPLY))
		return -ETIMEDOUT;
	if ((reply & AAX_MBOX_ARG_MASK) != (u32)num_vfs || ((reply >> AAX_MBOX_ST_SHIFT) & 0x7F)) {
		dev_err(&a->pdev->dev, "SR-IOV: the firmware refused %d VFs (reply 0x%x): is it the SR-IOV build?\n", num_vfs,
			reply);
		return -EIO;
	}
	a->nvfs = num_vfs;
	return 0;
}

/* sysfs sriov_numvfs. The PCI core offers that file only for a function with the SR-IOV
 * capability: through QEMU 7.2's x-pci-proxy-dev (256 bytes of config space) there is none, and
 * the PF's SR-IOV is accelvp's in-process driver (`accelvp qemu --vfs N`, docs/virtualization.md);
 * checked again here so that any other caller gets a clear message, not a half-configured chip. */
static int aax_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	struct drm_device *drm = pci_get_drvdata(pdev);
	struct aax_device *a = drm ? to_aax(drm) : NULL;
	LIST_HEAD(put);
	int ret;

	if (!a)
		return -ENODEV;
	if (!pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_SRIOV)) {
		dev_err(&pdev->dev, "SR-IOV: %d VFs requested, but config space shows no SR-IOV capability "
			"(QEMU 7.2's x-pci-proxy-dev exposes 256 bytes; the PF's SR-IOV runs in accelvp: accelvp qemu --vfs N)\n",
			num_vfs);
		return -ENODEV;
	}
	if (num_vfs && (!a->has_core || !a->mmu_contexts)) {
		dev_err(&pdev->dev, "SR-IOV: needs the control core and the MMU (CAPS1 0x%x)\n", a->caps1);
		return -ENODEV;
	}
	if (num_vfs && pci_num_vf(pdev))
		return -EBUSY; /* set 0 first */
	mutex_lock(&a->vm_lock);
	mutex_lock(&a->lock);
	if (!num_vfs) {
		mutex_unlock(&a->lock);
		mutex_unlock(&a->vm_lock);
		pci_disable_sriov(pdev); /* the VFs' drivers unbind first */
		mutex_lock(&a->vm_lock);
		mutex_lock(&a->lock);
		aax_sriov_teardown(a, &put);
		ret = 0;
	} else {
		ret = aax_sriov_setup(a, num_vfs);
		if (ret)
			aax_sriov_teardown(a, &put);
	}
	mutex_unlock(&a->lock);
	mutex_unlock(&a->vm_lock);
	put_mappings(&put);
	if (!num_vfs || ret) {
		if (ret)
			dev_err(&pdev->dev, "SR-IOV: setting up %d VFs failed (%d)\n", num_vfs, ret);
		return ret;
	}
	ret = pci_enable_sriov(pdev, num_vfs); /* NumVFs, VF BARs, VF Enable + MSE; the VFs probe */
	if (ret) {
		dev_err(&pdev->dev, "SR-IOV: pci_enable_sriov(%d) failed (%d)\n", num_vfs, ret);
		mutex_lock(&a->vm_lock);
		mutex_lock(&a->lock);
		aax_sriov_teardown(a, &put);
		mutex_unlock(&a->lock);
		mutex_unlock(&a->vm_lock);
		put_mappings(&put);
		return ret;
	}
	dev_info(&pdev->dev, "SR-IOV: %d VFs enabled\n", num_vfs);
	return num_vfs;
}

/* The PF, and an SR-IOV virtual function handed to this kernel (a VM's): the same driver. A VF
 * has no control core and no MMU of its own (CAPS1 = 0): no firmware boot, physical jobs in its
 * own view (its partition, its VM's memory at HOST_WIN), which the PF's MMU context confines. */
static const struct pci_device_id aax_ids[] = {
	{ PCI_DEVICE(AAX_PCI_VENDOR_ID, AAX_PCI_DEVICE_ID) },
	{ PCI_DEVICE(AAX_PCI_VENDOR_ID, AAX_PCI_VF_DEVICE_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, aax_ids);

static struct pci_driver aax_pci_driver = {
	.name = "aax",
	.id_table = aax_ids,
	.probe = aax_probe,
	.remove = aax_remove,
	.sriov_configure = aax_sriov_configure,
	.dev_groups = aax_groups,
};

/* ---- interrupt side channel: the ivshmem-doorbell's MSI-X vector 0 ------------------ */

static irqreturn_t aax_side_irq(int irq, void *arg)
{
	struct aax_device *a = READ_ONCE(aax_side_target);

	return a ? aax_irq(irq, a) : IRQ_NONE;
}

static int aax_side_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret = pcim_enable_device(pdev);

	if (ret)
		return ret;
	pci_set_master(pdev); /* an MSI-X message is a bus-master write: QEMU drops it otherwise */
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;
	ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, 0), aax_side_irq, 0, "aax-side", NULL);
	if (ret) {
		pci_free_irq_vectors(pdev);
		return ret;
	}
	WRITE_ONCE(aax_side_irq_nr, pci_irq_vector(pdev, 0));
	dev_info(&pdev->dev, "aax interrupt side channel: MSI-X vector 0 (irq %d)\n", aax_side_irq_nr);
	return 0;
}

static void aax_side_remove(struct pci_dev *pdev)
{
	WRITE_ONCE(aax_side_irq_nr, 0);
	devm_free_irq(&pdev->dev, pci_irq_vector(pdev, 0), NULL);
	pci_free_irq_vectors(pdev);
}

static const struct pci_device_id aax_side_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) }, /* QEMU ivshmem (doorbell) */
	{}
};

static struct pci_driver aax_side_driver = {
	.name = "aax-side",
	.id_table = aax_side_ids,
	.probe = aax_side_probe,
	.remove = aax_side_remove,
};

static int __init aax_init(void)
{
	int ret = pci_register_driver(&aax_side_driver);

	if (ret)
		return ret;
	ret = pci_register_driver(&aax_pci_driver);
	if (ret)
		pci_unregister_driver(&aax_side_driver);
	return ret;
}

static void __exit aax_exit(void)
{
	pci_unregister_driver(&aax_pci_driver);
	pci_unregister_driver(&aax_side_driver);
}
module_init(aax_init);
module_exit(aax_exit);

MODULE_FIRMWARE(AAX_FIRMWARE_NAME);
MODULE_DESCRIPTION("accelvp virtual accelerator (AAX) DRM driver");
MODULE_LICENSE("GPL");
