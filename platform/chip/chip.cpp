#include "platform/chip/chip.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "abi/aax_boot.h"
#include "abi/aax_mmu.h"
#include "abi/aax_regs.h"
#include "abi/aax_sched.h"
#include "abi/aax_sriov.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {
pcie_endpoint::params pcie_params(const config& c) {
    auto p = pcie_endpoint::from_config(c, "pcie");
    p.regs_base = c.get(keys::addr::regs_base);
    p.devmem_base = c.get(keys::addr::devmem_base);
    p.devmem_size = c.get(keys::mem::size);
    return p;
}
device_ctrl::caps ctrl_caps(const config& c) {
    device_ctrl::caps k;
    k.rings = static_cast<uint32_t>(c.get(keys::qman::rings));
    k.cqs = static_cast<uint32_t>(c.get(keys::qman::cqs));
    k.dma_engines = static_cast<uint32_t>(c.get(keys::dma::engines));
    k.msix_vectors = static_cast<uint32_t>(c.get(keys::pcie::msix_vectors));
    k.semaphores = semaphores::from_config(c, "sync").count;
    k.devmem_base = c.get(keys::addr::devmem_base);
    k.devmem_size = c.get(keys::mem::size);
    k.host_window = c.get(keys::addr::host_window_base);
    k.control_core = c.get(keys::cpu::enabled);
    k.mmu = c.get(keys::mmu::enabled);
    return k;
}
dma_engine::params dma_params(const config& c) {
    auto p = dma_engine::from_config(c, "dma");
    // Engines running at once must interleave finely, or each would see the shared memory
    // timelines already advanced by the others' whole transfers (temporal decoupling).
    if (p.sync_ns == 0 && c.get(keys::dma::engines) > 1) p.sync_ns = 64;
    return p;
}
sram::params sram_params_of(const config& c) {
    auto p = sram::from_config(c, "sram");
    if (!c.is_set(keys::sram::freq_mhz)) p.freq_mhz = c.get(keys::chip::freq_mhz);  // on the core clock by default
    return p;
}
// The DMA engines, one per dma.engines, all with the same parameters.
std::vector<std::unique_ptr<dma_engine>> make_dma_engines(const config& c) {
    std::vector<std::unique_ptr<dma_engine>> v;
    for (uint64_t i = 0; i < c.get(keys::dma::engines); ++i)
        v.push_back(std::make_unique<dma_engine>(fmt::format("dma{}", i).c_str(), dma_params(c)));
    return v;
}
// Device-memory models by mem.model: adding one is a row here (and its schema choice).
struct devmem_model {
    const char* name;
    std::unique_ptr<memory_target> (*make)(const config& c);
};
const devmem_model devmem_models[] = {
    {"simple", [](const config& c) -> std::unique_ptr<memory_target> {
         return std::make_unique<memory>("devmem", memory::from_config(c, "mem"));
     }},
    {"dram", [](const config& c) -> std::unique_ptr<memory_target> {
         auto m = std::make_unique<dram_memory>("devmem", dram_params::from_config(c, "mem"));
         // Several engines at once: the controllers must see their requests in time order.
         m->set_time_ordered(c.get(keys::dma::engines) > 1);
         return m;
     }},
};
std::unique_ptr<memory_target> make_devmem(const config& c) {
    const std::string model = c.get(keys::mem::model);
    for (const auto& m : devmem_models)
        if (model == m.name) return m.make(c);
    throw std::logic_error("chip: no device-memory model " + model);  // the schema's choices prevent it
}
queue_manager::params qman_params(const config& c) {
    auto p = queue_manager::from_config(c, "qman");
    p.firmware = c.get(keys::cpu::enabled);  // a control core schedules the rings
    p.regs_base = c.get(keys::addr::regs_base);
    return p;
}
} // namespace

const param_table<chip::params>& chip::params::table() {
    static const auto t =
        param_table<params>()
            .real(keys::chip::freq_mhz, &params::freq_mhz, 1, 10000, "core clock, used to report cycles", "MHz")
            .real(keys::chip::noc_hop_ns, &params::noc_hop_ns, 0, 1000, "interconnect hop latency", "ns")
            .integer(keys::addr::devmem_base, &params::devmem_base, 0, 1ll << 62, "chip bus address of device memory")
            .integer(keys::addr::regs_base, &params::regs_base, 0, 1ll << 62,
                     "chip bus address of the BAR0 register space")
            .integer(keys::addr::host_window_base, &params::host_window_base, 0, 1ll << 62,
                     "chip bus address at which host memory appears")
            .integer(keys::addr::host_window_size, &params::host_window_size, 4096, 1ll << 48,
                     "size of the host window", "bytes")
            .integer(keys::addr::shared_sram_base, &params::shared_sram_base, 0, 1ll << 62,
                     "chip bus address of the shared scratchpad SRAM (sram.*)")
            .integer(keys::addr::sram_base, &params::sram_base, 0, 1ll << 62,
                     "chip bus address of cluster 0's SRAM; cluster i at + i * (compute.sram_bytes rounded up to a "
                     "power of two)")
            .integer(keys::dma::engines, &params::dma_engines, 1, 16,
                     "DMA engines; ring r's DMA packets run on engine r % engines")
            .string(keys::mem::model, &params::mem_model,
                    "device memory model: simple (bandwidth + latency, mem.bandwidth_gbps/latency_ns) or dram "
                    "(mem.standard: channels, banks, timing, refresh, scheduler)",
                    {"simple", "dram"});
    return t;
}

void chip::declare(param_schema& s) {
    params::table().declare(s, "");
    interconnect::declare(s, "noc");
    sram::params sd;
    sd.size = 32ull << 20;
    sd.banks = 64;
    sd.bank_width = 64;
    sd.ports = 4;
    sram::declare(s, "sram", sd);
    memory::declare(s, "mem", memory::params{16ull << 30, 100, 100, true});
    dram_params::declare(s, "mem");
    pcie_endpoint::declare(s, "pcie");
    queue_manager::declare(s, "qman");
    dma_engine::declare(s, "dma");
    semaphores::declare(s, "sync");
    compute_params::declare(s);
    coll_engine::declare(s, "coll");
    control_core::declare(s);
    mmu::declare(s, "mmu");
    fault_params::declare(s);
}

chip::chip(sc_core::sc_module_name name, const config& c)
    : sc_module(name), noc("noc", interconnect::from_config(c, "noc", c.get(keys::chip::noc_hop_ns))), regs("regs"),
      regs_guard("regs_guard", {{AAX_SYNC_WINDOW_BASE, AAX_SYNC_WINDOW_SIZE}}),
      pcie("pcie", pcie_params(c)), ctrl("ctrl", ctrl_caps(c)),
      qman("qman", qman_params(c)), dma(make_dma_engines(c)), sram0("sram", sram_params_of(c)),
      sync("sync", semaphores::from_config(c, "sync")), compute("compute", compute_params::from_config(c)),
      coll("coll", coll_engine::from_config(c, "coll")),
      perf("perf", [this](perf_counters& p) { list_perf_units(p); }),
      freq_hz_(c.get(keys::chip::freq_mhz) * 1e6),
      host_window_(c.get(keys::addr::host_window_base)), host_mem_bw_(c.get(keys::host::mem_bandwidth_gbps) * 1e9),
      sram_base_(c.get(keys::addr::sram_base)), shared_sram_base_(c.get(keys::addr::shared_sram_base)) {
    // Chip interconnect: initiators are the PCIe inbound path, the queue manager, the DMA
    // engines (through the MMU when there is one), the collective engine and the control core.
    noc.add_initiator("pcie", pcie.to_chip);
    auto engine = [this](unsigned i) -> dma_engine& { return *dma[i]; };
    const unsigned engines = static_cast<unsigned>(dma.size());
    if (c.get(keys::mmu::enabled)) {
        // One MMU port (TLB + walker) per engine; contexts, fault record and invalidation shared.
        auto mp = mmu::from_config(c, "mmu");
        mp.ports.clear();
        for (unsigned i = 0; i < engines; ++i) mp.ports.push_back(fmt::format("dma{}", i));
        mp.ports.push_back("qman");  // the addresses jobs name in FENCE, MSG, JUMP and CALL
        mmu0 = std::make_unique<mmu>("mmu", mp);
        for (unsigned i = 0; i < engines; ++i) {
            engine(i).bus_socket.bind(mmu0->port(i).target_socket);
            noc.add_initiator(mp.ports[i], mmu0->port(i).initiator_socket);
            noc.add_initiator(mp.ports[i], mmu0->port(i).walker.socket);
        }
        qman.bus_socket.bind(mmu0->port(engines).target_socket);
        noc.add_initiator("qman", mmu0->port(engines).initiator_socket);
        noc.add_initiator("qman", mmu0->port(engines).walker.socket);
        regs.add_target("mmu", AAX_MMU_BAR_BASE, AAX_MMU_BAR_SIZE, mmu0->reg_socket);
        mmu0->irq_out.bind(ctrl.irq_in);
        qman.mmu_ctx.bind(mmu0->ctx_export);
        ctrl.reset_out.bind(mmu0->reset_in);
    } else {
        noc.add_initiator("qman", qman.bus_socket);
        for (unsigned i = 0; i < engines; ++i) noc.add_initiator(fmt::format("dma{}", i), engine(i).bus_socket);
    }
    noc.add_initiator("coll", coll.bus_socket);
    // Device memory; with a control core behind a guard that closes the firmware region
    // (AAX_FW_REGION_SIZE at its start) to all but the host's BAR2 path and the core.
    auto attach_devmem = [&](auto& socket) {
        if (c.get(keys::cpu::enabled)) {
            devmem_guard = std::make_unique<memory_guard>(
                "devmem_guard", std::vector<std::pair<uint64_t, uint64_t>>{{0, AAX_FW_REGION_SIZE}});
            noc.add_target("devmem", c.get(keys::addr::devmem_base), c.get(keys::mem::size), devmem_guard->target_socket);
            devmem_guard->initiator_socket.bind(socket);
        } else {
            noc.add_target("devmem", c.get(keys::addr::devmem_base), c.get(keys::mem::size), socket);
        }
    };
    devmem = make_devmem(c);
    devmem_bw_ = devmem->peak_bytes_per_s();
    attach_devmem(devmem->target_socket());
    noc.add_target("regs", c.get(keys::addr::regs_base), AAX_BAR0_SIZE, regs_guard.target_socket);
    regs_guard.initiator_socket.bind(regs.target_socket);
    std::vector<std::pair<uint64_t, uint64_t>> sram_windows;
    for (unsigned i = 0; i < compute.clusters.size(); ++i) {
        noc.add_target("sram" + std::to_string(i), sram_addr(i), compute.params().sram_bytes,
                       compute.clusters[i]->sram.socket);
        sram_windows.emplace_back(sram_addr(i), compute.params().sram_bytes);
    }
    qman.set_sram_windows(std::move(sram_windows));  // SR-IOV SRAM scrubbing (docs/virtualization.md)
    noc.add_target("host_window", host_window_, c.get(keys::addr::host_window_size), pcie.from_chip);
    noc.add_target("sram", shared_sram_base_, sram0.get_params().size, sram0.socket);

    // BAR0 register space, one window per block.
    regs.add_target("ctrl", AAX_CTRL_WINDOW_BASE, AAX_CTRL_WINDOW_SIZE, ctrl.reg_socket);
    regs.add_target("qman", AAX_QM_WINDOW_BASE, AAX_QM_WINDOW_SIZE, qman.reg_socket);
    regs.add_target("sync", AAX_SYNC_WINDOW_BASE, AAX_SYNC_WINDOW_SIZE, sync.reg_socket);
    regs.add_target("msix", AAX_MSIX_WINDOW_BASE, AAX_MSIX_WINDOW_SIZE, pcie.msix_socket);
    regs.add_target("sched", AAX_FW_WINDOW_BASE, AAX_FW_WINDOW_SIZE, qman.fw_reg_socket);
    regs.add_target("perf", AAX_PERF_WINDOW_BASE, AAX_PERF_WINDOW_SIZE, perf.reg_socket);
    regs.add_target("uq", AAX_UQ_WINDOW_BASE, AAX_UQ_WINDOW_SIZE, qman.uq_socket);  // user-queue doorbells
    if (c.get(keys::pcie::sriov_max_vfs))  // the PF's SR-IOV block (docs/virtualization.md)
        regs.add_target("sriov", AAX_SRIOV_WINDOW_BASE, AAX_SRIOV_WINDOW_SIZE, pcie.sriov_socket);

    if (dma.size() == 1) {
        qman.dma_socket.bind(dma[0]->cmd_socket);
    } else {
        dma_fan = std::make_unique<dma_fanout>("dma_fanout");
        qman.dma_socket.bind(dma_fan->cmd_socket);
        for (auto& e : dma) dma_fan->engine_socket.bind(e->cmd_socket);
    }
    qman.sync_socket.bind(sync.cmd_socket);
    qman.compute_socket.bind(compute.router.cmd_socket);
    qman.coll_socket.bind(coll.cmd_socket);
    qman.irq_out.bind(ctrl.irq_in);
    ctrl.msi_out.bind(pcie.msi_in);
    ctrl.reset_out.bind(qman.reset_in);
    ctrl.reset_out.bind(sync.reset_in);

    if (c.get(keys::cpu::enabled)) {
        cpu = std::make_unique<control_core>("cpu", c);
        noc.always_dmi("cpu");  // its fetches and stack stand for its local memories
        noc.add_initiator("cpu", cpu->to_regs.initiator_socket);
        noc.add_initiator("cpu", cpu->to_devmem.initiator_socket);
        noc.add_initiator("cpu", cpu->to_chip.initiator_socket);
        ctrl.core_out.bind(cpu->ctrl_in);
        qman.set_firmware_track(cpu->core.name());  // the firmware's dispatch and completion slices (trace)
        qman.fw_irq_out.bind(cpu->core.irq_in);
    }
    inject_faults(c);
}

chip::~chip() = default;  // stats_ unregisters the stats

void chip::inject_faults(const config& c) {
    faults_ = fault_params::from_config(c);
    const fault_params& f = faults_;
    const uint64_t devmem_base = c.get(keys::addr::devmem_base);
    if (f.dram_enabled()) {
        if (dram_memory* d = devmem->dram()) {
            const dram_system* sys = &d->system();
            devmem->set_ecc(std::make_unique<ecc_injector>(
                devmem->target_name(), f, devmem_base, sys->channels(),
                [sys](uint64_t a) { return sys->mapping().controller_of(sys->mapping().decode(a)); }));
        } else {
            devmem->set_ecc(std::make_unique<ecc_injector>(devmem->target_name(), f, devmem_base));
        }
    }
    if (f.dram_enabled() || f.engine_enabled()) {
        for (unsigned i = 0; i < dma.size(); ++i) dma[i]->set_faults(f, i);
    }
    if (f.fw_enabled() && cpu) {
        fw_rng_ = fault_stream(f.seed, std::string(name()) + ".fw_crash");
        stats_.add("faults", fw_crashes_);
        qman.set_eq_start_hook([this] {
            ++fw_jobs_started_;
            const bool crash = fw_jobs_started_ == faults_.fw_crash_at_job || fw_rng_.chance(faults_.fw_crash_prob);
            if (!crash) return;
            ++fw_crashes_;
            if (faults_.fw_crash_mode == "hang")
                cpu->core.request_halt();  // the core stops: no heartbeat, no scheduling
            else
                cpu->core.inject_exception(2, 0);  // illegal instruction: the firmware's fatal trap
        });
    }
}

// The performance counters' units, class by class (abi/aax_regs.h AAX_PERF_*): each event
// reads the figure its block keeps for the stats, so counters and stats agree.
void chip::list_perf_units(perf_counters& p) {
    using ev = perf_counters::event;
    auto sum = [](std::function<uint64_t()> f) { return ev{std::move(f), {}}; };
    p.add_class(AAX_PERF_CLASS_DEVICE, AAX_PERF_DEVICE_EVENTS);
    p.add_unit(AAX_PERF_CLASS_DEVICE, {sum([] { return static_cast<uint64_t>(sc_core::sc_time_stamp().value()); }),
                                       sum([this] { return qman.packets(); })});
    auto engines = [&](unsigned cls, compute_engine& (*pick)(compute_cluster&)) {
        p.add_class(cls, AAX_PERF_ENG_EVENTS);
        for (auto& cl : compute.clusters) {
            compute_engine* e = &pick(*cl);
            p.add_unit(cls, {sum([e] { return e->packets(); }), sum([e] { return e->busy_cycles(); }),
                             sum([e] { return e->work(); }), sum([e] { return e->stall_cycles(); }),
                             sum([e] { return e->queue_wait_ps(); }), sum([e] { return e->errors(); })});
        }
    };
    engines(AAX_PERF_CLASS_MXU, [](compute_cluster& c) -> compute_engine& { return c.mxu; });
    engines(AAX_PERF_CLASS_VPU, [](compute_cluster& c) -> compute_engine& { return c.vpu; });
    p.add_class(AAX_PERF_CLASS_DMA, AAX_PERF_DMA_EVENTS);
    for (auto& d : dma) {
        const dma_engine* e = d.get();
        p.add_unit(AAX_PERF_CLASS_DMA, {sum([e] { return e->commands(); }), sum([e] { return e->bytes(); }),
                                        sum([e] { return e->bursts(); }), sum([e] { return e->busy_ps(); }),
                                        sum([e] { return e->read_wait_ps(); }), sum([e] { return e->errors(); })});
    }
    p.add_class(AAX_PERF_CLASS_DRAM, AAX_PERF_DRAM_EVENTS);
    if (dram_memory* dm = devmem->dram()) {
        for (uint32_t i = 0; i < dm->system().channels(); ++i) {
            const dram_channel* ch = &dm->system().channel(i);
            p.add_unit(AAX_PERF_CLASS_DRAM, {sum([ch] { return ch->reads_done(); }), sum([ch] { return ch->writes_done(); }),
                                             sum([ch] { return ch->row_hits(); }), sum([ch] { return ch->row_misses(); }),
                                             sum([ch] { return ch->row_conflicts(); }),
                                             sum([ch] { return ch->refreshes(); })});
        }
    }
    p.add_class(AAX_PERF_CLASS_LINK, AAX_PERF_LINK_EVENTS);
    for (unsigned i = 0; i < coll.ports(); ++i) {
        const link_channel* l = coll.port_link(i);
        auto f = [l](uint64_t (link_channel::*m)() const) { return ev{[l, m] { return l ? (l->*m)() : 0; }, {}}; };
        p.add_unit(AAX_PERF_CLASS_LINK, {f(&link_channel::payload_bytes), f(&link_channel::packets),
                                         f(&link_channel::credit_stall_ps), f(&link_channel::retransmits),
                                         f(&link_channel::busy_ps)});
    }
    p.add_class(AAX_PERF_CLASS_RING, AAX_PERF_RING_EVENTS);
    for (unsigned r = 0; r < qman.get_params().rings; ++r) {
        p.add_unit(AAX_PERF_CLASS_RING, {sum([this, r] { return qman.ring_perf(r).jobs; }),
                                         sum([this, r] { return qman.ring_perf(r).packets; }),
                                         sum([this, r] { return qman.ring_perf(r).doorbells; }),
                                         sum([this, r] { return qman.ring_perf(r).depth_sum; }),
                                         ev{[this, r] { return qman.ring_perf(r).depth_max; },
                                            [this] { qman.ring_perf_restart_max(); }}});
    }
    p.add_class(AAX_PERF_CLASS_PCIE, AAX_PERF_PCIE_EVENTS);
    p.add_unit(AAX_PERF_CLASS_PCIE, {sum([this] { return pcie.bytes_h2d(); }), sum([this] { return pcie.bytes_d2h(); }),
                                     sum([this] { return pcie.tlps(); }), sum([this] { return pcie.msi_sent(); }),
                                     sum([this] { return pcie.busy_h2d_ps(); }),
                                     sum([this] { return pcie.busy_d2h_ps(); })});
}

double chip::peak_h2d() const {
    return std::min({pcie_endpoint::effective_bytes_per_s(pcie.get_params()), devmem_bw_,
                     dma[0]->peak_bytes_per_s(), host_mem_bw_});
}
double chip::peak_d2h() const { return peak_h2d(); }
// Single-queue copies (dma_copy) run on one engine.
double chip::peak_d2d() const { return std::min(devmem_bw_ / 2, dma[0]->peak_bytes_per_s()); }

} // namespace accelvp
