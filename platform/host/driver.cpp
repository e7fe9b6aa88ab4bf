#include "platform/host/driver.h"

#include <algorithm>
#include <cerrno>
#include <vector>

#include <fmt/format.h>

#include "abi/aax_boot.h"
#include "abi/aax_encode.h"
#include "abi/aax_errno.h"
#include "abi/aax_mmu.h"
#include "abi/aax_regs.h"
#include "abi/aax_sriov.h"
#include "platform/iss/elf_loader.h"
#include "tlm/core/log.h"
#include "tlm/core/data_dir.h"
#include "tlm/core/timeline.h"
#include "tlm/core/trace.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {
const char* kName = "host.driver";
// A SystemC process name from a driver instance name (no dots).
std::string vf_thread_name(std::string n) {
    for (char& ch : n)
        if (ch == '.') ch = '_';
    return n;
}
}

std::string error_record::describe() const {
    const bool has_addr = code == AAX_ERR_BAD_ADDRESS || code == AAX_ERR_BUS || code == AAX_ERR_ECC_UE || addr != 0;
    const std::string where = opcode == AAX_ERR_OPCODE_JOB
                                  ? "in the job itself"
                                  : fmt::format("at packet offset {} (opcode {})", offset, aax_opcode_name(opcode));
    return fmt::format("{} on ring {} job {} {}{}", aax_status_name(code), ring, job_id, where,
                       has_addr ? fmt::format(", address 0x{:x}", addr) : "");
}

std::string driver::params::default_firmware() { return default_firmware_path(); }

const param_table<driver::params>& driver::params::table() {
    static const auto t =
        param_table<params>()
            .integer("ring_log2", &params::ring_log2, 1, 16, "log2 of submission ring entries")
            .integer("cq_log2", &params::cq_log2, 1, 16, "log2 of completion queue entries")
            .integer("rings", &params::rings, 1, AAX_MAX_RINGS, "rings the driver sets up (at most the device's)")
            .string("firmware", &params::firmware,
                    "control-core firmware ELF loaded at probe (devices with a control core)")
            .real("boot_timeout_us", &params::boot_timeout_us, 1, 1e9, "how long probe waits for the firmware's READY",
                  "us")
            .real("heartbeat_timeout_us", &params::heartbeat_timeout_us, 0, 1e9,
                  "with jobs in flight, a firmware HEARTBEAT that does not move for this long is a crash: the driver "
                  "resets the device (0: do not watch; the firmware beats every 1000 us)",
                  "us")
            .integer("reset_resubmits", &params::reset_resubmits, 0, 100,
                     "times a job in flight at a device reset is resubmitted before it completes as ABORTED")
            .real("ioctl_ns", &params::ioctl_ns, 0, 1e6,
                  "host CPU time of one submit ioctl (system call entry and exit, the driver's checks, its job and "
                  "fence), charged to the submitting thread before the descriptor is written; 0: not modelled (user "
                  "queues submit without it: docs/virtualization.md)",
                  "ns");
    return t;
}

void driver::declare(param_schema& s) { params::table().declare(s, "host.driver"); }

driver::function_view driver::pf_view(host_system& host) {
    function_view f;
    f.bar0 = host.bar0();
    f.bar2 = host.bar2();
    f.msi = &host.msi;
    f.msi_addr = host.msi_addr();
    f.host_base = host.mem_base();
    f.host_size = host.mem_size();
    return f;
}

driver::driver(host_system& host, const config& c, std::string name)
    : driver(host, c, std::move(name), params::table().load(c, "host.driver"), pf_view(host)) {}

driver::driver(host_system& host, const config& c, std::string name, const function_view& fn)
    : driver(host, c, std::move(name), params::table().load(c, "host.driver"), fn) {
    vf_ = true;
}

driver::driver(host_system& host, const config& c, std::string name, const params& p, const function_view& fn)
    : name_(std::move(name)), host_(host), fn_(fn), bar0_(fn.bar0), bar2_(fn.bar2), ring_log2_(p.ring_log2), cq_log2_(p.cq_log2), max_rings_(p.rings),
      firmware_path_(p.firmware), boot_timeout_us_(p.boot_timeout_us),
      core_freq_mhz_(static_cast<uint32_t>(c.get(keys::cpu::freq_mhz))),
      timer_mhz_(static_cast<uint32_t>(c.get(keys::cpu::timer_mhz))), heartbeat_timeout_us_(p.heartbeat_timeout_us),
      max_resubmits_(p.reset_resubmits) {
    ioctl_ns_ = p.ioctl_ns;
    stats_.add({&submits_, &completions_, &irqs_, &errors_stat_, &aborted_, &wait_timeouts_, &latency_us_});
    // Host memory for pinned buffers: all of DRAM (the host OS is not modelled), or the VM's.
    hostmem_ = std::make_unique<range_allocator>(fn.host_base, fn.host_size);
    const bool pf = fn.msi == &host.msi;  // the PF keeps its thread names; a VF's are named after its instance
    sc_core::sc_spawn([this] { irq_thread(); }, pf ? "driver_irq_thread" : (vf_thread_name(name_) + "_irq_thread").c_str());
    sc_core::sc_spawn([this] { reset_thread(); }, pf ? "driver_reset_thread" : (vf_thread_name(name_) + "_reset_thread").c_str());
    if (heartbeat_timeout_us_ > 0) {
        stats_.add(device_resets_);
        stats_.add(resubmitted_);
        sc_core::sc_spawn([this] { health_thread(); }, "driver_health_thread");
    }
}

driver::~driver() = default;  // stats_ unregisters the stats

uint32_t driver::rd(uint32_t off) {
    uint32_t v = 0xFFFFFFFFu;  // what a read from a dead device returns on PCIe
    host_.cpu.mmio_read32(reg(off), v);
    return v;
}

void driver::wr(uint32_t off, uint32_t v) { host_.cpu.mmio_write32(reg(off), v); }

int driver::perf_control(uint32_t bits) {
    if (!probed_ || ((rd(AAX_REG_PERF_INFO) >> 16) & 0xFF) != AAX_PERF_CLASSES) return -ENODEV;
    wr(AAX_REG_PERF_CTRL, bits);
    return 0;
}

int driver::perf_read(perf_snapshot& out, uint32_t also) {
    if (!probed_) return -ENODEV;
    const uint32_t info = rd(AAX_REG_PERF_INFO);
    if (((info >> 16) & 0xFF) != AAX_PERF_CLASSES) return -ENODEV;
    wr(AAX_REG_PERF_CTRL, AAX_PERF_CTRL_SNAPSHOT | also);
    out.time_ns = rd(AAX_REG_PERF_SNAP_TIME_LO) | uint64_t{rd(AAX_REG_PERF_SNAP_TIME_HI)} << 32;
    out.running = rd(AAX_REG_PERF_STATUS) & AAX_PERF_STATUS_RUNNING;
    out.counters.assign(info & 0xFFFF, perf_counter{});
    // Which counter is which: the class table (first counter, events per unit, units).
    for (uint32_t c = 0; c < AAX_PERF_CLASSES; ++c) {
        const uint32_t k = rd(AAX_PERF_CLASS_INFO(c)), first = k & 0xFFFF, events = (k >> 16) & 0xFF, units = k >> 24;
        for (uint32_t i = 0; events && i < units * events && first + i < out.counters.size(); ++i) {
            perf_counter& pc = out.counters[first + i];
            pc.cls = static_cast<uint8_t>(c);
            pc.unit = static_cast<uint16_t>(i / events);
            pc.event = static_cast<uint8_t>(i % events);
        }
    }
    wr(AAX_REG_PERF_SEL, 0);
    for (perf_counter& pc : out.counters) {  // reading DATA_HI advances PERF_SEL
        const uint32_t lo = rd(AAX_REG_PERF_DATA_LO);
        pc.value = lo | uint64_t{rd(AAX_REG_PERF_DATA_HI)} << 32;
    }
    return 0;
}

// A ring and its CQ as probe sets them up (also after a device reset): the CQ zeroed in host
// memory, its registers, then the ring's, enabled last.
void driver::program_ring(const ring_ctx& R) {
    const unsigned r = R.index;
    // Zeroed only if it is not zero already: host memory starts zeroed, and writing 256 KiB of
    // zeros into every chip's host (16 CQs of 512 records) faulted in memory no run needs --
    // 10 % of a 1024-chip run's time and a quarter of a GiB. After a reset the CQ holds records.
    // (Checked a piece at a time: a heap buffer per ring cost more to free than the check.)
    const uint64_t cq_bytes = static_cast<uint64_t>(R.cq_entries) * AAX_CQ_ENTRY_SIZE;
    uint8_t piece[1024];
    bool dirty = false;
    for (uint64_t off = 0; off < cq_bytes && !dirty; off += sizeof(piece)) {
        const uint64_t n = std::min<uint64_t>(sizeof(piece), cq_bytes - off);
        host_.cpu.mem_read(R.cq_host + off, piece, n);
        dirty = std::any_of(piece, piece + n, [](uint8_t b) { return b != 0; });
    }
    if (dirty) {
        std::fill(std::begin(piece), std::end(piece), 0);
        for (uint64_t off = 0; off < cq_bytes; off += sizeof(piece))
            host_.cpu.mem_write(R.cq_host + off, piece, std::min<uint64_t>(sizeof(piece), cq_bytes - off));
    }
    const uint64_t cq_dev = host_to_device_addr(R.cq_host);
    wr(AAX_CQ_BASE(r) + AAX_CQ_BASE_HI, static_cast<uint32_t>(cq_dev >> 32));
    wr(AAX_CQ_BASE(r) + AAX_CQ_BASE_LO, static_cast<uint32_t>(cq_dev));
    wr(AAX_CQ_BASE(r) + AAX_CQ_SIZE_LOG2, cq_log2_);
    wr(AAX_CQ_BASE(r) + AAX_CQ_HEAD, 0);
    wr(AAX_CQ_BASE(r) + AAX_CQ_CTRL, AAX_CQ_CTRL_EN | AAX_CQ_CTRL_IRQ_EN);
    wr(AAX_RING_BASE(r) + AAX_RING_BASE_HI, static_cast<uint32_t>(R.ring_addr >> 32));
    wr(AAX_RING_BASE(r) + AAX_RING_BASE_LO, static_cast<uint32_t>(R.ring_addr));
    wr(AAX_RING_BASE(r) + AAX_RING_SIZE_LOG2, ring_log2_);
    wr(AAX_RING_BASE(r) + AAX_RING_ASID, 0);
    wr(AAX_RING_BASE(r) + AAX_RING_CTRL, AAX_RING_CTRL_EN | (r << AAX_RING_CTRL_CQ_SHIFT));
}

// MSI-X: every vector writes its number to the function's MSI page.
void driver::program_msix() {
    for (uint32_t v = 0; v < info_.msix_vectors; ++v) {
        wr(AAX_MSIX_ENTRY(v) + AAX_MSIX_ADDR_LO, static_cast<uint32_t>(fn_.msi_addr));
        wr(AAX_MSIX_ENTRY(v) + AAX_MSIX_ADDR_HI, static_cast<uint32_t>(fn_.msi_addr >> 32));
        wr(AAX_MSIX_ENTRY(v) + AAX_MSIX_DATA, v);
        wr(AAX_MSIX_ENTRY(v) + AAX_MSIX_CTRL, 0);
    }
}

int driver::probe() {
    const uint32_t id = rd(AAX_REG_ID);
    if (id != AAX_ID_MAGIC) {
        AVP_LOG(error, kName, "probe: ID register reads 0x{:08x}, expected 0x{:08x}: no AAX device", id, AAX_ID_MAGIC);
        return -ENODEV;
    }
    info_.abi_version = rd(AAX_REG_VERSION);
    if ((info_.abi_version >> 16) != AAX_ABI_MAJOR) {
        AVP_LOG(error, kName, "probe: device ABI {}.{}, driver supports {}.x", info_.abi_version >> 16,
                info_.abi_version & 0xFFFF, AAX_ABI_MAJOR);
        return -EPROTO;
    }
    wr(AAX_REG_SCRATCH, 0x5A5AA5A5u);
    if (rd(AAX_REG_SCRATCH) != 0x5A5AA5A5u) return -EIO;
    const uint32_t caps0 = rd(AAX_REG_CAPS0), caps1 = rd(AAX_REG_CAPS1);
    info_.rings = caps0 & 0xFF;
    info_.cqs = (caps0 >> 8) & 0xFF;
    info_.dma_engines = (caps0 >> 16) & 0xFF;
    info_.msix_vectors = (caps0 >> 24) & 0xFF;
    info_.semaphores = caps1 & 0xFFFF;
    info_.devmem_size = rd(AAX_REG_DEVMEM_SIZE_LO) | static_cast<uint64_t>(rd(AAX_REG_DEVMEM_SIZE_HI)) << 32;
    info_.host_window = rd(AAX_REG_HOST_WIN_LO) | static_cast<uint64_t>(rd(AAX_REG_HOST_WIN_HI)) << 32;
    info_.devmem_base = rd(AAX_REG_DEVMEM_BASE_LO) | static_cast<uint64_t>(rd(AAX_REG_DEVMEM_BASE_HI)) << 32;
    const bool has_core = caps1 & AAX_CAPS1_CONTROL_CORE;
    // With a control core the first AAX_FW_REGION_SIZE bytes belong to the firmware.
    const uint64_t reserved = has_core ? std::min<uint64_t>(AAX_FW_REGION_SIZE, info_.devmem_size) : 0;
    devmem_ = std::make_unique<range_allocator>(info_.devmem_base + reserved, info_.devmem_size - reserved);

    program_msix();

    const unsigned n = std::min({max_rings_, info_.rings, info_.cqs, info_.msix_vectors - 2});
    uint32_t mask = 0xFFFFFFFFu & ~AAX_IRQ_ERROR & ~(has_core ? AAX_IRQ_EVENT : 0u);  // EVENT: mailbox replies
    rings_.resize(n);
    for (unsigned r = 0; r < n; ++r) {
        ring_ctx& R = rings_[r];
        R.index = r;
        R.entries = 1u << ring_log2_;
        R.cq_entries = 1u << cq_log2_;
        auto ring = alloc_device(static_cast<uint64_t>(R.entries) * AAX_JOB_DESC_SIZE);
        auto cq = alloc_host(static_cast<uint64_t>(R.cq_entries) * AAX_CQ_ENTRY_SIZE);
        if (!ring || !cq) return -ENOMEM;
        R.ring_addr = *ring;
        R.cq_host = *cq;
        program_ring(R);
        mask &= ~AAX_IRQ_CQ(r);
    }
    if ((caps1 & AAX_CAPS1_MMU) && rd(AAX_REG_MMU_ID) == AAX_MMU_ID_MAGIC) {
        vm_ = std::make_unique<vm_manager>(*this, std::min<uint32_t>(rd(AAX_REG_MMU_CAPS) & 0xFF, AAX_MMU_MAX_CONTEXTS));
        mask &= ~AAX_IRQ_MMU;
    }
    wr(AAX_REG_IRQ_MASK, mask);
    irq_mask_ = mask;
    has_core_ = has_core;
    if (has_core) {
        if (int rc = boot_firmware()) return rc;
    }
    probed_ = true;
    AVP_LOG(info, kName, "probed AAX device: ABI {}.{}, {} rings, {} MiB device memory", info_.abi_version >> 16,
            info_.abi_version & 0xFFFF, n, info_.devmem_size >> 20);
    return 0;
}

std::optional<uint64_t> driver::alloc_device(uint64_t size, uint64_t align) {
    return devmem_ ? devmem_->alloc(size, align) : std::nullopt;
}
bool driver::free_device(uint64_t addr) { return devmem_ && devmem_->free(addr); }
std::optional<uint64_t> driver::alloc_host(uint64_t size, uint64_t align) { return hostmem_->alloc(size, align); }
bool driver::free_host(uint64_t addr) { return hostmem_->free(addr); }

int driver::boot_firmware() {
    if (firmware_path_.empty()) {
        AVP_LOG(error, kName, "the device has a control core but no firmware is configured (host.driver.firmware)");
        return -ENOENT;
    }
    elf_image img;
    try {
        img = load_elf(firmware_path_);
    } catch (const config_error& e) {
        AVP_LOG(error, kName, "firmware: {}", e.what());
        return -ENOEXEC;
    }
    // Load the segments through BAR2 where the core sees them (the device-memory window).
    for (const auto& seg : img.segments) {
        const uint64_t off = static_cast<uint64_t>(seg.addr) - AAX_CORE_DEVMEM_WINDOW;
        if (seg.addr < AAX_CORE_DEVMEM_WINDOW || off + seg.mem_size > AAX_FW_REGION_SIZE - 0x20000) {
            AVP_LOG(error, kName, "firmware segment at 0x{:x} (+{}) is outside the firmware region", seg.addr, seg.mem_size);
            return -ENOEXEC;
        }
        host_.cpu.mmio_write(host_.bar2() + off, seg.data.data(), seg.data.size());
        if (seg.mem_size > seg.data.size()) {
            std::vector<uint8_t> zero(seg.mem_size - seg.data.size(), 0);
            host_.cpu.mmio_write(host_.bar2() + off + seg.data.size(), zero.data(), zero.size());
        }
    }
    // Boot parameters and the log ring at the top of the firmware region.
    const uint64_t params_addr = info_.devmem_base + AAX_FW_REGION_SIZE - 0x20000;
    fw_log_addr_ = info_.devmem_base + AAX_FW_REGION_SIZE - 0x10000;
    aax_boot_params p{};
    p.magic = AAX_BOOT_MAGIC;
    p.abi_version = AAX_ABI_VERSION;
    p.core_freq_mhz = core_freq_mhz_;
    p.timer_mhz = timer_mhz_;
    p.n_rings = static_cast<uint32_t>(rings_.size());
    p.devmem_base = info_.devmem_base;
    p.host_window = info_.host_window;
    p.log_addr = fw_log_addr_;
    p.log_size = 0x10000;
    for (const auto& R : rings_) {
        p.rings[R.index] = aax_boot_ring{R.ring_addr, host_to_device_addr(R.cq_host), ring_log2_, cq_log2_,
                                         AAX_MSIX_VEC_CQ(R.index), 0};
    }
    host_.cpu.mmio_write(device_to_bar2(params_addr), &p, sizeof(p));
    wr(AAX_REG_BOOT_PARAMS_HI, static_cast<uint32_t>(params_addr >> 32));
    wr(AAX_REG_BOOT_PARAMS_LO, static_cast<uint32_t>(params_addr));
    wr(AAX_REG_CORE_ENTRY, img.entry);
    wr(AAX_REG_CORE_CTRL, AAX_CORE_RUN);

    // Wait for READY (or FAIL), polling: the boot interrupt may be masked this early.
    const sc_core::sc_time deadline = sc_core::sc_time_stamp() + sc_core::sc_time(boot_timeout_us_, sc_core::SC_US);
    uint32_t status = rd(AAX_REG_BOOT_STATUS);
    while (status != AAX_BOOT_READY && status != AAX_BOOT_FAIL && sc_core::sc_time_stamp() < deadline) {
        sc_core::wait(std::min(sc_core::sc_time(10, sc_core::SC_US), deadline - sc_core::sc_time_stamp()));
        status = rd(AAX_REG_BOOT_STATUS);
    }
    if (status == AAX_BOOT_FAIL) {
        AVP_LOG(error, kName, "firmware boot failed: BOOT_ERR = 0x{:x}", rd(AAX_REG_BOOT_ERR));
        return -EIO;
    }
    if (status != AAX_BOOT_READY) {
        AVP_LOG(error, kName, "firmware did not report READY within host.driver.boot_timeout_us = {} us (BOOT_STATUS = {})",
                boot_timeout_us_, status);
        return -ETIMEDOUT;
    }
    fw_version_ = rd(AAX_REG_FW_VERSION);
    AVP_LOG(info, kName, "firmware {}.{}.{} ready", fw_version_ >> 24, (fw_version_ >> 16) & 0xFF, fw_version_ & 0xFFFF);
    return 0;
}

std::string driver::firmware_log() {
    if (!fw_log_addr_) return "";
    aax_fw_log h{};
    if (!host_.cpu.peek(device_to_bar2(fw_log_addr_), &h, sizeof(h)) || h.magic != AAX_FW_LOG_MAGIC || h.capacity == 0 ||
        h.capacity > 0x10000 - sizeof(h))
        return "";
    std::string text(h.capacity, '\0');
    host_.cpu.peek(device_to_bar2(fw_log_addr_ + sizeof(h)), text.data(), text.size());
    const uint32_t n = std::min(h.write_pos, h.capacity);
    const uint32_t start = h.write_pos - n;  // oldest byte still in the ring
    std::string out;
    for (uint32_t i = 0; i < n; ++i) out += text[(start + i) % h.capacity];
    return out;
}

int driver::submit(unsigned ring, uint64_t cmdbuf, uint32_t size, uint32_t flags, uint32_t timeout_us, uint32_t& seq,
                   uint16_t asid) {
    if (!probed_) return -ENODEV;
    if (ring >= rings_.size() || (asid && !(vm_ && vm_->exists(asid)))) return -EINVAL;
    ring_ctx& R = rings_[ring];
    // A ring being recovered from an error accepts work once it has been reset, as a
    // DRM scheduler resumes after a reset.
    while (R.stopped || resetting_) sc_core::wait(recovered_ev_);
    if (dead_) return -EIO;
    // Bounded by the ring and by the CQ, so no completion record can ever be dropped.
    if (R.inflight.size() + 1 >= std::min(R.entries, R.cq_entries)) return -EBUSY;
    // The kernel pins the ring to the job's context (RING_ASID): the device then refuses a
    // descriptor of any other context on it (BAD_ASID). A ring changes context only when
    // it has nothing in flight; 0 (the kernel's physical jobs) is not a pin. Jobs of the
    // context the ring already serves pay nothing.
    while (R.asid != asid) {
        if (R.inflight.empty() && !R.stopped) {
            R.asid = asid;  // claimed before the write, which lets other threads run
            wr(AAX_RING_BASE(ring) + AAX_RING_ASID, asid);
            break;
        }
        sc_core::wait(ring_idle_ev_ | recovered_ev_);
    }
    if (R.inflight.size() + 1 >= std::min(R.entries, R.cq_entries)) return -EBUSY;
    seq = next_seq_++;
    aax_job_desc d{};
    d.cmdbuf_addr = cmdbuf;
    d.cmdbuf_size = size;
    d.job_id = seq;
    d.flags = flags | AAX_JOB_IRQ | AAX_JOB_TIMESTAMP;
    d.timeout_us = timeout_us;
    d.asid = asid;
    auto f = std::make_unique<fence>();
    f->seq = seq;
    f->ring = ring;
    f->cmdbuf = cmdbuf;
    f->size = size;
    f->flags = d.flags;
    f->timeout_us = timeout_us;
    f->asid = asid;
    fences_[seq] = std::move(f);
    submit_time_ps_[seq] = sc_core::sc_time_stamp().value();
    uint64_t gen = reset_gen_;
    const uint64_t trace_t0 = sc_core::sc_time_stamp().value();
    // (The flow exists before the doorbell: the device may take the job before we go on.)
    const uint64_t trace_flow = tracer::instance().enabled() ? tracer::instance().flow_id(flow_key(R, seq), true) : 0;
    const uint32_t slot = R.tail;
    R.tail = (R.tail + 1) % R.entries;
    host_.cpu.mmio_write(device_to_bar2(R.ring_addr) + static_cast<uint64_t>(slot) * AAX_JOB_DESC_SIZE, &d, sizeof(d));
    wr(AAX_DOORBELL(ring), R.tail);
    // A device reset that ran while the descriptor or the doorbell was on its way rebuilt the
    // ring without this job: write it again at the rebuilt ring's tail.
    while (gen != reset_gen_) {
        while (resetting_) sc_core::wait(recovered_ev_);
        gen = reset_gen_;
        if (dead_) {
            fence_result res;
            res.status = AAX_ERR_ABORTED;
            ++aborted_;
            signal(seq, res);
            ++submits_;
            return 0;
        }
        const uint32_t again = R.tail;
        R.tail = (R.tail + 1) % R.entries;
        host_.cpu.mmio_write(device_to_bar2(R.ring_addr) + static_cast<uint64_t>(again) * AAX_JOB_DESC_SIZE, &d,
                             sizeof(d));
        wr(AAX_DOORBELL(ring), R.tail);
    }
    if (tracer::instance().enabled()) {  // the host's submit: where the job's flow arrow starts
        const uint64_t now = std::max<uint64_t>(sc_core::sc_time_stamp().value(), trace_t0 + 1000);
        const int track = tracer::instance().track(fmt::format("{}.ring{}", name_, ring));
        tracer::instance().slice(track, fmt::format("submit job {}", seq), ps(trace_t0), ps(now - trace_t0), "host",
                                 fmt::format(R"({{"ring":{},"job":{},"cmdbuf":"0x{:x}","size":{}}})", ring, seq, cmdbuf,
                                             size));
        tracer::instance().flow_event('s', track, trace_flow, ps(trace_t0 + (now - trace_t0) / 2));
    }
    // In flight only once the doorbell has landed: an error recovery that ran while the
    // descriptor was being written reset the ring before this job existed for the device.
    R.inflight.push_back(seq);
    ++submits_;
    return 0;
}

int driver::mailbox(uint32_t msg, uint32_t& reply, const sc_core::sc_time& timeout) {
    if (!probed_ || !has_core_) return -ENODEV;
    const sc_core::sc_time deadline = sc_core::sc_time_stamp() + timeout;
    wr(AAX_REG_MBOX_H2F, msg);
    for (;;) {
        reply = rd(AAX_REG_MBOX_F2H);
        if (reply & AAX_MBOX_REPLY) return 0;
        if (sc_core::sc_time_stamp() >= deadline) return -ETIMEDOUT;
        sc_core::wait(deadline - sc_core::sc_time_stamp(), mbox_ev_);
    }
}

void driver::signal(uint32_t seq, const fence_result& res) {
    auto it = fences_.find(seq);
    if (it == fences_.end() || it->second->done) return;
    fence& f = *it->second;
    f.done = true;
    f.result = res;
    auto& q = rings_[f.ring].inflight;
    for (auto i = q.begin(); i != q.end(); ++i)
        if (*i == seq) {
            q.erase(i);
            break;
        }
    if (q.empty()) ring_idle_ev_.notify(sc_core::SC_ZERO_TIME);
    latency_us_.sample(static_cast<double>(sc_core::sc_time_stamp().value() - submit_time_ps_[seq]) / 1e6);
    submit_time_ps_.erase(seq);
    f.ev.notify(sc_core::SC_ZERO_TIME);
    // Keep the fence table bounded on long runs: forget the oldest completed fences.
    for (auto it = fences_.begin(); fences_.size() > max_fences && it != fences_.end();)
        it = (it->second->done && it->second->waiters == 0) ? fences_.erase(it) : std::next(it);
}

bool driver::is_signaled(uint32_t seq) const {
    auto it = fences_.find(seq);
    return it != fences_.end() && it->second->done;
}

bool driver::is_pending(uint32_t seq) const {
    auto it = fences_.find(seq);
    return it != fences_.end() && !it->second->done;
}

int driver::errno_of(uint8_t status) { return aax_status_to_errno(status); }

int driver::wait(uint32_t seq, const sc_core::sc_time& timeout, fence_result* out) {
    auto it = fences_.find(seq);
    if (it == fences_.end()) return -EINVAL;
    fence& f = *it->second;
    const sc_core::sc_time deadline = sc_core::sc_time_stamp() + timeout;
    ++f.waiters;
    while (!f.done && sc_core::sc_time_stamp() < deadline) sc_core::wait(deadline - sc_core::sc_time_stamp(), f.ev);
    --f.waiters;
    if (!f.done) {
        ++wait_timeouts_;
        return -ETIMEDOUT;
    }
    if (out) *out = f.result;
    return errno_of(f.result.status);
}

std::string driver::flow_key(const ring_ctx& R, uint32_t job_id) const {
    // Matches queue_manager::flow_key: the board (the host's name without ".host"), the ring's
    // device address, the job id.
    std::string scope = host_.name();
    if (const size_t dot = scope.rfind('.'); dot != std::string::npos) scope.resize(dot);
    return fmt::format("{}/{:x}/{}", scope, R.ring_addr, job_id);
}

void driver::next_cq_slot(ring_ctx& R) {
    if (++R.cq_head == R.cq_entries) {
        R.cq_head = 0;
        R.cq_phase = !R.cq_phase;  // the next lap's records carry the other PHASE
    }
}

void driver::drain_cq(ring_ctx& R) {
    bool consumed = false;
    for (;;) {
        aax_cq_entry e{};
        host_.cpu.mem_read(R.cq_host + static_cast<uint64_t>(R.cq_head) * AAX_CQ_ENTRY_SIZE, &e, sizeof(e));
        if (((e.flags & AAX_CQE_PHASE) != 0) != R.cq_phase) break;
        // A record must name a job pending on this ring. One that does not is either memory a
        // job overwrote (a physical job may DMA anywhere in host memory) or the device's own
        // record for a job the driver no longer waits for. The device's producer index tells
        // them apart: a slot it has not written yet is left in place (taking it would move the
        // head past the slot the device writes next, and that job's record would never be
        // seen: its wait would hang); a slot it has written is read again (the device's record
        // may have landed over the forged one after the first read) and, if it still names no
        // pending job, consumed without signalling.
        const auto pending = [&](uint32_t job_id) {
            auto it = job_id ? fences_.find(job_id) : fences_.end();
            return it != fences_.end() && !it->second->done && it->second->ring == R.index ? it : fences_.end();
        };
        auto f = pending(e.job_id);
        bool device_wrote = true;
        if (f == fences_.end()) {
            const uint32_t tail = rd(AAX_CQ_BASE(R.index) + AAX_CQ_TAIL);
            device_wrote = (tail + R.cq_entries - R.cq_head) % R.cq_entries != 0;
            if (device_wrote) {
                host_.cpu.mem_read(R.cq_host + static_cast<uint64_t>(R.cq_head) * AAX_CQ_ENTRY_SIZE, &e, sizeof(e));
                f = pending(e.job_id);
            }
        }
        if (f == fences_.end()) {
            if (++bogus_records_ == 1 || bogus_records_ % 1024 == 0)
                AVP_LOG(warn, kName, "ring {}: CQ slot {} holds a record for job {}, which is not pending on the ring "
                        "({}): ignored ({} so far)", R.index, R.cq_head, e.job_id,
                        device_wrote ? "the device's, consumed" : "not the device's, left in place", bogus_records_);
            if (!device_wrote) break;
            next_cq_slot(R);
            consumed = true;
            continue;
        }
        fence_result res;
        res.status = e.status;
        res.ts_start_ns = e.ts_start;
        res.ts_end_ns = e.ts_end;
        res.err_offset = e.err_offset;
        res.err_opcode = static_cast<uint8_t>(e.err_info & 0xFF);
        if (e.status != AAX_OK) R.stopped = true;  // until handle_error() has reset it
        ++completions_;
        if (tracer::instance().enabled()) {  // the host takes the record: the job's flow arrow ends here
            const uint64_t now = sc_core::sc_time_stamp().value();
            const int track = tracer::instance().track(name_ + ".irq");
            tracer::instance().slice(track, fmt::format("complete job {}", e.job_id), ps(now), ps(1000), "host",
                                     fmt::format(R"({{"ring":{},"job":{},"status":"{}"}})", R.index, e.job_id,
                                                 aax_status_name(e.status)));
            const std::string key = flow_key(R, e.job_id);
            tracer::instance().flow_event('f', track, tracer::instance().flow_id(key, false), ps(now + 500));
            tracer::instance().end_flow(key);
        }
        signal(e.job_id, res);
        next_cq_slot(R);
        consumed = true;
    }
    if (consumed) wr(AAX_CQ_BASE(R.index) + AAX_CQ_HEAD, R.cq_head);
}

void driver::handle_error() {
    std::optional<error_record> fresh;  // the record read by this call, if any
    const uint32_t st = rd(AAX_REG_ERR_STATUS);
    if (st & AAX_ERR_STATUS_VALID) {
        error_record e;
        e.code = st & 0xFF;
        e.ring = (st >> 8) & 0xFF;
        e.opcode = (st >> 16) & 0xFF;
        e.job_id = rd(AAX_REG_ERR_JOB_ID);
        e.offset = rd(AAX_REG_ERR_OFFSET);
        e.addr = rd(AAX_REG_ERR_ADDR_LO) | static_cast<uint64_t>(rd(AAX_REG_ERR_ADDR_HI)) << 32;
        e.time_ns = sc_core::sc_time_stamp().value() / 1000;
        // Whose error: a user queue's owner, or the context of the kernel-ring job.
        if (auto u = uqs_.find(e.ring); u != uqs_.end()) {
            e.asid = u->second.info.asid;
            e.user_queue = true;
        } else if (auto f = fences_.find(e.job_id); f != fences_.end() && f->second->ring == e.ring) {
            e.asid = f->second->asid;
        }
        wr(AAX_REG_ERR_STATUS, AAX_ERR_STATUS_VALID);
        AVP_LOG(warn, kName, "device error: {}", e.describe());
        if (errors_.size() >= 2 * max_error_records)  // bounded: drop the oldest half
            errors_.erase(errors_.begin(), errors_.begin() + static_cast<std::ptrdiff_t>(max_error_records));
        errors_.push_back(e);
        ++errors_total_;
        fresh = e;
        ++errors_stat_;
    }
    // Recover every stopped ring: consume its records, complete what is left as
    // aborted, reset it so the next submission runs.
    std::vector<bool> failed(rings_.size());
    bool any_failed = false;
    for (auto& R : rings_) {
        failed[R.index] = rd(AAX_RING_BASE(R.index) + AAX_RING_STATUS) & AAX_RING_STATUS_ERROR;
        if (failed[R.index]) R.stopped = true;
        any_failed |= failed[R.index];
    }
    // A stopped user queue stays stopped (its owner sees the record in its CQ, or the stop):
    // only the kernel's rings are recovered here.
    std::vector<unsigned> user_rings;  // (the register reads let other threads run: look each up again)
    for (const auto& [r, U] : uqs_) user_rings.push_back(r);
    for (unsigned r : user_rings) {
        auto u = uqs_.find(r);
        if (u == uqs_.end() || u->second.revoked || u->second.stopped) continue;
        const bool err = rd(AAX_RING_BASE(r) + AAX_RING_STATUS) & AAX_RING_STATUS_ERROR;
        u = uqs_.find(r);
        if (!err || u == uqs_.end()) continue;
        u->second.stopped = true;
        u->second.ev->notify(sc_core::SC_ZERO_TIME);
        any_failed = true;
    }
    // No ring error behind the error line: the firmware's fatal trap raises it too.
    if (!fresh && !any_failed && has_core_ && rd(AAX_REG_BOOT_STATUS) == AAX_BOOT_FAIL) {
        request_reset(fmt::format("the firmware trapped (BOOT_ERR = 0x{:x})", rd(AAX_REG_BOOT_ERR)));
        return;
    }
    for (auto& R : rings_) {
        if (!failed[R.index]) continue;
        drain_cq(R);
        // The job at the device's head failed without a record we could match (its
        // descriptor was unreadable, or the record was lost): it gets the error record's
        // status; the jobs queued behind it are aborted.
        const std::deque<uint32_t> left = R.inflight;
        bool first = true;
        for (uint32_t seq : left) {
            fence_result res;
            res.status = AAX_ERR_ABORTED;
            if (first && fresh && fresh->ring == R.index && !is_signaled(fresh->job_id))
                res.status = fresh->code;
            else
                ++aborted_;
            first = false;
            signal(seq, res);
        }
        wr(AAX_RING_BASE(R.index) + AAX_RING_CTRL,
           AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET | (R.index << AAX_RING_CTRL_CQ_SHIFT));
        R.stopped = false;
        recovered_ev_.notify(sc_core::SC_ZERO_TIME);
    }
}

void driver::irq_thread() {
    for (;;) {
        while (!fn_.msi->any()) sc_core::wait(fn_.msi->event());
        const uint64_t vectors = fn_.msi->take();
        (void)vectors;  // one handler for all vectors: the status register says why
        ++irqs_;
        if (!probed_ || resetting_) continue;  // a device reset restores and drains everything
        const uint32_t status = rd(AAX_REG_IRQ_STATUS);
        if (status) wr(AAX_REG_IRQ_STATUS, status);  // ack first, so new events re-raise
        // Errors first: a failed ring is marked stopped before any of its fences is
        // signalled, so no new job slips in before the reset drops the queue.
        if ((status & AAX_IRQ_MMU) && vm_) vm_->handle_fault();  // the ring's own error follows on ERROR
        if (status & AAX_IRQ_ERROR) handle_error();
        if (status & AAX_IRQ_EVENT) mbox_ev_.notify(sc_core::SC_ZERO_TIME);
        for (auto& R : rings_) drain_cq(R);
        for (auto& [r, U] : uqs_)  // a user queue's owner reads its own CQ
            if (status & AAX_IRQ_CQ(r)) U.ev->notify(sc_core::SC_ZERO_TIME);
    }
}

// ---- recovery from a firmware crash ----------------------------------------------------

void driver::request_reset(const std::string& why) {
    if (resetting_ || reset_requested_ || dead_) return;
    reset_requested_ = true;
    reset_reason_ = why;
    reset_ev_.notify(sc_core::SC_ZERO_TIME);
}

void driver::reset_thread() {
    for (;;) {
        sc_core::wait(reset_ev_);
        if (!reset_requested_) continue;
        reset_requested_ = false;
        reset_device(reset_reason_);
    }
}

// Heartbeat watch: only while jobs are in flight (an idle device costs no MMIO).
void driver::health_thread() {
    const sc_core::sc_time period(heartbeat_timeout_us_, sc_core::SC_US);
    uint32_t last = 0;
    bool armed = false;
    for (;;) {
        sc_core::wait(period);
        bool busy = false;
        for (const auto& R : rings_) busy |= !R.inflight.empty();
        if (!probed_ || !has_core_ || resetting_ || dead_ || !busy) {
            armed = false;
            continue;
        }
        const uint32_t hb = rd(AAX_REG_HEARTBEAT);
        if (armed && hb == last) {
            request_reset(fmt::format("the firmware heartbeat stayed at {} for {} us", hb, heartbeat_timeout_us_));
            armed = false;
            continue;
        }
        last = hb;
        armed = true;
    }
}

void driver::reset_device(const std::string& why) {
    resetting_ = true;
    ++reset_gen_;
    if (heartbeat_timeout_us_ <= 0 && device_resets_.get() == 0) {  // stats appear once there is something to say
        stats_.add(device_resets_);
        stats_.add(resubmitted_);
    }
    ++device_resets_;
    AVP_LOG(warn, kName, "{}: resetting the device and re-booting the firmware", why);
    uq_revoke_all();  // the soft reset below disables their rings: their owners must destroy them
    // 1. Stop the core, then take the records the firmware completed before it died.
    wr(AAX_REG_CORE_CTRL, 0);
    for (auto& R : rings_) drain_cq(R);
    // 2. Soft reset: rings, CQs, error record, semaphores, MMU contexts back to reset values;
    //    engine queues abort their buffers. Posted writes still in flight land meanwhile.
    wr(AAX_REG_RESET, AAX_RESET_SOFT);
    sc_core::wait(sc_core::sc_time(2, sc_core::SC_US));
    // 3. Restore what probe programmed.
    for (auto& R : rings_) {
        program_ring(R);
        R.tail = 0;
        R.cq_head = 0;
        R.cq_phase = true;
        R.stopped = false;
    }
    if (vm_) {
        for (uint16_t a = 1; a < AAX_MMU_MAX_CONTEXTS; ++a) {
            const page_table_editor* pt = vm_->exists(a) ? vm_->space(a) : nullptr;
            if (!pt) continue;
            wr(AAX_MMU_CTX(a) + AAX_MMU_CTX_PT_BASE_HI, static_cast<uint32_t>(pt->root() >> 32));
            wr(AAX_MMU_CTX(a) + AAX_MMU_CTX_PT_BASE_LO, static_cast<uint32_t>(pt->root()));
            wr(AAX_MMU_CTX(a) + AAX_MMU_CTX_CTRL, AAX_MMU_CTX_EN);
        }
    }
    wr(AAX_REG_IRQ_MASK, irq_mask_);
    // 4. Re-boot the firmware (the image is loaded again: fresh data and bss).
    wr(AAX_REG_BOOT_STATUS, AAX_BOOT_RESET);
    const int rc = boot_firmware();
    // 5. Resubmit what was in flight, in order, or complete it as ABORTED.
    for (auto& R : rings_) {
        const std::deque<uint32_t> left = R.inflight;
        R.inflight.clear();
        for (uint32_t seq : left) {
            auto it = fences_.find(seq);
            if (it == fences_.end() || it->second->done) continue;
            fence& f = *it->second;
            if (rc != 0 || f.resubmits >= max_resubmits_) {
                fence_result res;
                res.status = AAX_ERR_ABORTED;
                ++aborted_;
                signal(seq, res);
                continue;
            }
            ++f.resubmits;
            aax_job_desc d{};
            d.cmdbuf_addr = f.cmdbuf;
            d.cmdbuf_size = f.size;
            d.job_id = seq;
            d.flags = f.flags;
            d.timeout_us = f.timeout_us;
            d.asid = f.asid;
            host_.cpu.mmio_write(device_to_bar2(R.ring_addr) + static_cast<uint64_t>(R.tail) * AAX_JOB_DESC_SIZE, &d,
                                 sizeof(d));
            R.tail = (R.tail + 1) % R.entries;
            R.inflight.push_back(seq);
            ++resubmitted_;
        }
        if (!R.inflight.empty()) wr(AAX_DOORBELL(R.index), R.tail);
    }
    if (rc != 0) {
        dead_ = true;
        AVP_LOG(error, kName, "the firmware did not come back after the reset: the device is dead");
    }
    resetting_ = false;
    recovered_ev_.notify(sc_core::SC_ZERO_TIME);
    // Records of resubmitted jobs that completed while we were still resetting.
    for (auto& R : rings_) drain_cq(R);
}

// ---- SR-IOV -------------------------------------------------------------------------------

int driver::sriov_enable(const std::vector<vf_setup>& vfs) {
    if (!probed_ || !has_core_ || !vm_) return -ENODEV;
    if (vfs.size() > (rd(AAX_REG_SRIOV_CAPS) & 0xFF)) return -EINVAL;
    uint32_t mask = irq_mask_;
    for (unsigned v = 0; v < vfs.size(); ++v) {
        const vf_setup& S = vfs[v];
        if (S.first_ring < rings_.size() || S.first_ring + S.rings > info_.rings || S.share == 0 || S.share > 255)
            return -EINVAL;
        // The partition leaves the PF's allocator for good: only the VF uses it.
        if (!devmem_->reserve(S.mem_base, S.mem_size)) return -ENOMEM;
        uint16_t asid = 0;
        if (int rc = vm_->create(asid)) return rc;
        const uint64_t perms = AAX_PTE_READ | AAX_PTE_WRITE;
        if (int rc = vm_->bind(asid, S.mem_base, S.mem_base, S.mem_size, perms)) return rc;
        // Its VM's memory where the VF sees it (AAX_VF_HOST_WINDOW + VM address) onto the host window.
        const uint64_t host_dev = host_to_device_addr(S.host_base);
        if (int rc = vm_->bind(asid, AAX_VF_HOST_WINDOW + S.host_base, host_dev, S.host_size, perms)) return rc;
        for (const auto& [b, n] : S.extra)
            if (int rc = vm_->bind(asid, b, b, n, perms)) return rc;
        const uint32_t b = AAX_SRIOV_VF(v);
        wr(b + AAX_SRIOV_VF_CTRL, 0);
        wr(b + AAX_SRIOV_VF_RING_FIRST, S.first_ring);
        wr(b + AAX_SRIOV_VF_RING_COUNT, S.rings);
        wr(b + AAX_SRIOV_VF_MEM_BASE_LO, static_cast<uint32_t>(S.mem_base));
        wr(b + AAX_SRIOV_VF_MEM_BASE_HI, static_cast<uint32_t>(S.mem_base >> 32));
        wr(b + AAX_SRIOV_VF_MEM_SIZE_LO, static_cast<uint32_t>(S.mem_size));
        wr(b + AAX_SRIOV_VF_MEM_SIZE_HI, static_cast<uint32_t>(S.mem_size >> 32));
        wr(b + AAX_SRIOV_VF_HOST_BASE_LO, static_cast<uint32_t>(host_dev));
        wr(b + AAX_SRIOV_VF_HOST_BASE_HI, static_cast<uint32_t>(host_dev >> 32));
        wr(b + AAX_SRIOV_VF_HOST_SIZE_LO, static_cast<uint32_t>(S.host_size));
        wr(b + AAX_SRIOV_VF_HOST_SIZE_HI, static_cast<uint32_t>(S.host_size >> 32));
        wr(b + AAX_SRIOV_VF_SHARE, S.share);
        wr(b + AAX_SRIOV_VF_ASID, asid);
        for (unsigned r = S.first_ring; r < S.first_ring + S.rings; ++r) {
            if (uqs_.count(r)) return -EBUSY;  // a user queue has it
            vf_rings_ |= 1u << r;
            wr(AAX_RING_BASE(r) + AAX_RING_ASID, asid);  // pinned: the VF cannot change it
            mask &= ~AAX_IRQ_CQ(r);
        }
        wr(b + AAX_SRIOV_VF_CTRL, AAX_SRIOV_VF_CTRL_EN);
    }
    wr(AAX_REG_IRQ_MASK, mask);
    irq_mask_ = mask;
    // What every VF's context shares (the cluster SRAMs): the firmware scrubs it between VFs
    // with this command buffer of DMA fills (abi/aax_sriov.h aax_sriov_scrub).
    std::vector<std::pair<uint64_t, uint64_t>> shared;
    for (const vf_setup& S : vfs)
        for (const auto& r : S.extra)
            if (std::find(shared.begin(), shared.end(), r) == shared.end()) shared.push_back(r);
    aax_sriov_scrub scrub{};
    scrub.magic = AAX_SRIOV_SCRUB_MAGIC;
    if (!shared.empty()) {
        std::vector<uint8_t> fills;
        for (const auto& [b, n] : shared) {
            const aax_pkt_dma f = aax_make_fill(b, n, 1, 0, 0);
            const auto* p = reinterpret_cast<const uint8_t*>(&f);
            fills.insert(fills.end(), p, p + sizeof(f));
        }
        auto at = alloc_device(fills.size());
        if (!at) return -ENOMEM;
        host_.cpu.mmio_write(device_to_bar2(*at), fills.data(), fills.size());
        scrub.cmdbuf = *at;
        scrub.cmdbuf_size = static_cast<uint32_t>(fills.size());
    }
    const uint64_t params_addr = info_.devmem_base + AAX_FW_REGION_SIZE - 0x20000;
    host_.cpu.mmio_write(device_to_bar2(params_addr + AAX_SRIOV_SCRUB_OFFSET), &scrub, sizeof(scrub));
    uint32_t reply = 0;
    if (int rc = mailbox(AAX_MBOX_MSG(AAX_MBOX_SRIOV, vfs.size()), reply, sc_core::sc_time(1, sc_core::SC_MS))) return rc;
    if ((reply & AAX_MBOX_ARG_MASK) != vfs.size() || (reply >> AAX_MBOX_ST_SHIFT & 0x7F)) return -EIO;
    AVP_LOG(info, name_, "SR-IOV: {} VFs configured", vfs.size());
    return 0;
}

int driver::function_reset() {
    if (!probed_) return -ENODEV;
    wr(AAX_REG_RESET, AAX_RESET_SOFT);
    // Everything in flight is gone with the reset.
    for (auto& R : rings_) {
        const std::deque<uint32_t> left = R.inflight;
        for (uint32_t seq : left) {
            fence_result res;
            res.status = AAX_ERR_ABORTED;
            ++aborted_;
            signal(seq, res);
        }
        R.tail = 0;
        R.cq_head = 0;
        R.cq_phase = true;
        R.stopped = false;
    }
    program_msix();
    wr(AAX_REG_IRQ_MASK, irq_mask_);
    // A job the firmware was running is dropped at its next packet boundary: wait for that
    // before the rings are set up again (a reset completes when the ring is idle).
    for (auto& R : rings_)
        for (int i = 0; i < 10000 && !(rd(AAX_RING_BASE(R.index) + AAX_RING_STATUS) & AAX_RING_STATUS_IDLE); ++i)
            sc_core::wait(1, sc_core::SC_US);
    for (auto& R : rings_) {
        // A moved ring starts again at 0: write a null base first so the rewrite is a move.
        wr(AAX_RING_BASE(R.index) + AAX_RING_BASE_LO, 0);
        wr(AAX_CQ_BASE(R.index) + AAX_CQ_BASE_LO, 0);
        program_ring(R);
    }
    recovered_ev_.notify(sc_core::SC_ZERO_TIME);
    return 0;
}

// ---- user queues --------------------------------------------------------------------------

int driver::uq_create(uint16_t asid, uint32_t entries_log2, user_queue_info& out) {
    if (!probed_ || !vm_ || dead_ || resetting_) return -ENODEV;
    if (rd(AAX_REG_UQ_ID) != AAX_UQ_ID_MAGIC) return -ENODEV;
    if (asid == 0 || !vm_->exists(asid)) return -EINVAL;
    if (entries_log2 == 0) entries_log2 = ring_log2_;
    if (entries_log2 < 1 || entries_log2 > 16) return -EINVAL;
    // A free ring: not the driver's own, not a VF's, not another user queue's, with a CQ and an
    // MSI-X vector of the same index.
    const unsigned n = std::min({info_.rings, info_.cqs, info_.msix_vectors > 2 ? info_.msix_vectors - 2 : 0u});
    unsigned r = static_cast<unsigned>(rings_.size());
    while (r < n && (uqs_.count(r) || (vf_rings_ >> r & 1))) ++r;
    if (r >= n) return -ENOSPC;
    user_queue_info q;
    q.ring = r;
    q.asid = asid;
    q.entries = q.cq_entries = 1u << entries_log2;
    q.mem_size = (AAX_UQ_HEADER_SIZE + uint64_t{q.entries} * AAX_JOB_DESC_SIZE + 4095) & ~uint64_t{4095};
    q.cq_size = (uint64_t{q.cq_entries} * AAX_CQ_ENTRY_SIZE + 4095) & ~uint64_t{4095};
    auto mem = alloc_device(q.mem_size);
    auto cq = alloc_host(q.cq_size);
    if (!mem || !cq) {
        if (mem) free_device(*mem);
        if (cq) free_host(*cq);
        return -ENOMEM;
    }
    q.mem = *mem;
    q.cq_host = *cq;
    uq_ctx& U = uqs_[r];  // claimed before the writes, which let other threads run
    U.info = q;
    // Zeroed header, slots and CQ (pages that may have held another owner's data).
    std::vector<uint8_t> zero(static_cast<size_t>(std::max(q.mem_size, q.cq_size)), 0);
    host_.cpu.mmio_write(device_to_bar2(q.mem), zero.data(), q.mem_size);
    host_.cpu.mem_write(q.cq_host, zero.data(), q.cq_size);
    const uint64_t cq_dev = host_to_device_addr(q.cq_host), ring = q.mem + AAX_UQ_HEADER_SIZE;
    wr(AAX_CQ_BASE(r) + AAX_CQ_BASE_HI, static_cast<uint32_t>(cq_dev >> 32));
    wr(AAX_CQ_BASE(r) + AAX_CQ_BASE_LO, static_cast<uint32_t>(cq_dev));
    wr(AAX_CQ_BASE(r) + AAX_CQ_SIZE_LOG2, entries_log2);
    wr(AAX_CQ_BASE(r) + AAX_CQ_HEAD, 0);
    wr(AAX_CQ_BASE(r) + AAX_CQ_CTRL, AAX_CQ_CTRL_EN | AAX_CQ_CTRL_IRQ_EN);
    wr(AAX_RING_BASE(r) + AAX_RING_BASE_LO, 0);  // a move: HEAD = TAIL = 0
    wr(AAX_RING_BASE(r) + AAX_RING_BASE_HI, static_cast<uint32_t>(ring >> 32));
    wr(AAX_RING_BASE(r) + AAX_RING_BASE_LO, static_cast<uint32_t>(ring));
    wr(AAX_RING_BASE(r) + AAX_RING_SIZE_LOG2, entries_log2);
    wr(AAX_RING_BASE(r) + AAX_RING_UQ_HDR_HI, static_cast<uint32_t>(q.mem >> 32));
    wr(AAX_RING_BASE(r) + AAX_RING_UQ_HDR_LO, static_cast<uint32_t>(q.mem));
    wr(AAX_RING_BASE(r) + AAX_RING_ASID, AAX_RING_ASID_USER | asid);
    wr(AAX_RING_BASE(r) + AAX_RING_CTRL, AAX_RING_CTRL_EN | (r << AAX_RING_CTRL_CQ_SHIFT));
    irq_mask_ &= ~AAX_IRQ_CQ(r);
    wr(AAX_REG_IRQ_MASK, irq_mask_);
    out = q;
    AVP_LOG(info, name_, "user queue on ring {} for context {} ({} slots)", r, asid, q.entries);
    return 0;
}

int driver::uq_destroy(unsigned r) {
    auto it = uqs_.find(r);
    if (it == uqs_.end()) return -ENOENT;
    uq_ctx& U = it->second;  // stays valid: only this call erases it, once (destroying)
    if (U.destroying) return -ENOENT;
    U.destroying = true;
    const bool was_revoked = U.revoked;
    U.revoked = true;
    U.ev->notify(sc_core::SC_ZERO_TIME);
    if (!was_revoked && !resetting_ && !dead_) {
        // Disable and reset: a running job is dropped at its next packet boundary, the queued
        // ones are never started; no record is written once the ring is idle.
        wr(AAX_RING_BASE(r) + AAX_RING_CTRL, AAX_RING_CTRL_RESET | (r << AAX_RING_CTRL_CQ_SHIFT));
        for (int i = 0; i < 10000 && !(rd(AAX_RING_BASE(r) + AAX_RING_STATUS) & AAX_RING_STATUS_IDLE); ++i)
            sc_core::wait(1, sc_core::SC_US);
    }
    if (!resetting_ && !dead_) {
        wr(AAX_CQ_BASE(r) + AAX_CQ_CTRL, 0);
        wr(AAX_RING_BASE(r) + AAX_RING_ASID, 0);
        wr(AAX_RING_BASE(r) + AAX_RING_UQ_HDR_LO, 0);
        wr(AAX_RING_BASE(r) + AAX_RING_UQ_HDR_HI, 0);
        irq_mask_ |= AAX_IRQ_CQ(r);
        wr(AAX_REG_IRQ_MASK, irq_mask_);
    }
    free_device(U.info.mem);
    free_host(U.info.cq_host);
    uqs_.erase(r);
    return 0;
}

void driver::uq_revoke_all() {
    for (auto& [r, U] : uqs_) {
        U.revoked = true;
        irq_mask_ |= AAX_IRQ_CQ(r);
        U.ev->notify(sc_core::SC_ZERO_TIME);
    }
}

bool driver::uq_revoked(unsigned r) const {
    auto it = uqs_.find(r);
    return it == uqs_.end() || it->second.revoked;
}

bool driver::uq_stopped(unsigned r) const {
    auto it = uqs_.find(r);
    return it != uqs_.end() && it->second.stopped;
}

const sc_core::sc_event* driver::uq_event(unsigned r) const {
    auto it = uqs_.find(r);
    return it == uqs_.end() ? nullptr : it->second.ev.get();
}

} // namespace accelvp
