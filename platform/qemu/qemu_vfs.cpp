#include "platform/qemu/qemu_vfs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "abi/aax_sriov.h"
#include "tlm/core/extensions.h"
#include "tlm/core/keys.h"
#include "tlm/core/log.h"

namespace accelvp::qemu_dev {

vf_port::vf_port(sc_core::sc_module_name name, const config& c, unsigned k, int sock, uint64_t vf_bar0,
                 uint64_t vf_bar2, uint64_t bar2_window, unsigned vectors, uint64_t vm_host_base)
    : sc_module(name), bus("bus"),
      // The host bus (a router) adds the fabric hop already: guest RAM adds the DRAM only.
      ram("guest_ram", memory::from_config(c, "host.mem"), 0.0), msi("msi"), k_(k), sock_(sock), vf_bar0_(vf_bar0),
      vf_bar2_(vf_bar2), host_win_(AAX_VF_HOST_WINDOW + vm_host_base), cfg_(bar2_window, vectors, false),
      vectors_(vectors) {
    SC_HAS_PROCESS(vf_port);
    SC_THREAD(bar_thread);
    SC_THREAD(irq_thread);
}

vf_port::~vf_port() {
    for (int f : {irqfd_, resamplefd_, side_fd_})
        if (f >= 0) ::close(f);
}

bool vf_port::handle(mpqemu::message& m) {
    using namespace mpqemu;
    switch (m.cmd) {
    case SYNC_SYSMEM: ram.set_regions(m.data.sysmem, m.fds); return true;
    case SET_IRQFD:
        for (int f : {irqfd_, resamplefd_})
            if (f >= 0) ::close(f);
        irqfd_ = m.fds[0];
        resamplefd_ = m.fds[1];  // unused: the VF's interrupts are messages (edges), not a level
        m.fds.clear();
        return true;
    case PCI_CFGREAD: {
        uint32_t v = 0xFFFFFFFFu;
        const uint32_t off = m.data.conf.addr;
        const unsigned len = static_cast<unsigned>(m.data.conf.len);
        cfg_.read(off, len, v);
        // The VF's own identity: device and subsystem device ID AAX_PCI_VF_DEVICE_ID.
        for (uint32_t at : {0x02u, 0x2Eu})
            for (uint32_t b = 0; b < 2; ++b)
                if (at + b >= off && at + b < off + len) {
                    const unsigned sh = 8 * (at + b - off);
                    v = (v & ~(0xFFu << sh)) | (((AAX_PCI_VF_DEVICE_ID >> (8 * b)) & 0xFFu) << sh);
                }
        reply(sock_, v);
        return true;
    }
    case PCI_CFGWRITE:
        cfg_.write(m.data.conf.addr, static_cast<unsigned>(m.data.conf.len), m.data.conf.val);
        if (cfg_.command() & pci_config::cmd_memory) used_ = true;
        reply(sock_, 0);
        return true;
    case BAR_READ:
    case BAR_WRITE:
        pending_.push_back(m.data.bar);
        pending_cmd_.push_back(m.cmd);
        ev_.notify(sc_core::SC_ZERO_TIME);
        return true;
    case DEVICE_RESET: reply(sock_, 0); return !used_;
    case RET: throw protocol_error("malformed message: unexpected RET from QEMU");
    default: throw protocol_error(fmt::format("malformed message: unknown command {}", m.cmd));
    }
}

void vf_port::signal() {
    ++irq_signals_;
    const uint64_t one = 1;
    for (int f : {irqfd_, side_fd_})
        if (f >= 0 && ::write(f, &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one)))
            AVP_LOG(warn, kName, "VF {}: interrupt eventfd write failed: {}", k_, std::strerror(errno));
}

void vf_port::irq_thread() {
    for (;;) {
        sc_core::wait(msi.event());
        // One signal per vector that came (messages of one vector in one delta cycle merge,
        // as they do in the MSI page's pending bits).
        for (uint64_t v = msi.take(); v; v &= v - 1) signal();
    }
}

void vf_port::bar_thread() {
    for (;;) {
        while (pending_.empty()) sc_core::wait(ev_);
        const mpqemu::bar_access a = pending_.front();
        const int32_t cmd = pending_cmd_.front();
        pending_.pop_front();
        pending_cmd_.pop_front();
        in_flight_ = true;
        const bool is_read = cmd == mpqemu::BAR_READ;
        uint64_t val = is_read ? 0 : a.val;
        unsigned bar = 0;
        uint64_t off = 0;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        bool ok = false;
        if (a.memory && cfg_.decode(a.addr, bar, off)) {
            if (bar == 0 && off >= AAX_MSIX_ENTRY(0) && off < AAX_MSIX_PBA(0) + 0x1000) {
                // The hypervisor's: accelvp set the VF's MSI-X table up (vf_board::setup_thread).
                ++dropped_msix_;
                ok = true;
            } else {
                tlm::tlm_response_status st;
                {
                    tlm::tlm_generic_payload t;
                    init_payload(t, is_read ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND,
                                 (bar == 0 ? vf_bar0_ : vf_bar2_) + off, &val, a.size);
                    bus->b_transport(t, d);
                    st = t.get_response_status();
                }
                ok = st == tlm::TLM_OK_RESPONSE;
                if (ok && is_read && bar == 0 && a.size == 4 && off == AAX_REG_HOST_WIN_LO) val = static_cast<uint32_t>(host_win_);
                if (ok && is_read && bar == 0 && a.size == 4 && off == AAX_REG_HOST_WIN_HI) val = host_win_ >> 32;
            }
        }
        if (!ok && is_read) val = ~0ull >> (64 - 8 * a.size);
        try {
            if (is_read) {
                ++bar_reads_;
                sc_core::wait(d);
                mpqemu::reply(sock_, val);
            } else {
                ++bar_writes_;
                mpqemu::reply(sock_, 0);
                sc_core::wait(d);
            }
        } catch (const mpqemu::protocol_error& e) {
            error = e.what();
        }
        if (flr_count && msi_addr_ && flr_count() != flrs_seen_) {
            flrs_seen_ = flr_count();
            if (msi_count) msis_at_restore_ = msi_count();
            program_msix(msi_addr_);
            ++msix_restores_;
        }
        in_flight_ = false;
    }
}

void vf_port::program_msix(uint64_t msi_addr) {
    msi_addr_ = msi_addr;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    for (unsigned v = 0; v < vectors_; ++v) {
        const uint64_t e = vf_bar0_ + AAX_MSIX_ENTRY(v);
        const std::pair<uint64_t, uint32_t> w[] = {{e + AAX_MSIX_ADDR_LO, static_cast<uint32_t>(msi_addr)},
                                                   {e + AAX_MSIX_ADDR_LO + 4, static_cast<uint32_t>(msi_addr >> 32)},
                                                   {e + AAX_MSIX_DATA, v},
                                                   {e + AAX_MSIX_CTRL, 0}};
        for (auto [addr, val] : w) {
            tlm::tlm_generic_payload t;
            init_payload(t, tlm::TLM_WRITE_COMMAND, addr, &val, 4);
            bus->b_transport(t, d);
            if (t.get_response_status() != tlm::TLM_OK_RESPONSE)
                AVP_LOG(warn, kName, "VF {}: MSI-X table write at {:#x} failed", k_, addr);
        }
    }
    sc_core::wait(d);
}

vf_board::vf_board(sc_core::sc_module_name name, const config& c, const std::vector<int>& socks, uint64_t guest_mem)
    : sc_module(name), host("host", c), soc("chip", c), drv(host, c), guest_mem_(guest_mem) {
    const unsigned n = static_cast<unsigned>(socks.size());
    const unsigned max_vfs = soc.pcie.get_params().max_vfs;
    if (n > max_vfs)
        throw config_error(fmt::format("usage error: --vfs {} needs as many SR-IOV VFs: pcie.sriov.max_vfs is {} (the "
                                       "inference preset has 4)", n, max_vfs));
    if (!c.get(keys::cpu::enabled) || !c.get(keys::mmu::enabled))
        throw config_error("usage error: --vfs needs cpu.enabled=true (the firmware schedules the VFs) and "
                           "mmu.enabled=true (each VF runs in its own MMU context)");
    if (n + 1 > c.get(keys::qman::rings))
        throw config_error(fmt::format("usage error: --vfs {} needs qman.rings >= {} (one ring for the PF, one per VF), "
                                       "qman.rings is {}", n, n + 1, c.get(keys::qman::rings)));
    if (soc.pcie.vf_bar2_size() < bar2_window)
        throw config_error(fmt::format("usage error: --vfs: a VF's partition ({} bytes) is smaller than the 256 MiB "
                                       "BAR2 window its guest maps", soc.pcie.vf_bar2_size()));
    if (guest_mem > (1ull << 36))
        throw config_error("usage error: --vfs: --guest-mem must be at most 64G");
    soc.pcie.to_host.bind(host.bus.target_socket);
    host.bus.add_target("bar0", host.bar0(), AAX_BAR0_SIZE, soc.pcie.bar0_socket);
    host.bus.add_target("bar2", host.bar2(), c.get(keys::mem::size), soc.pcie.bar2_socket);
    host.bus.add_target("vf_bar0", vf_bar0_base(), uint64_t{max_vfs} * AAX_BAR0_SIZE, soc.pcie.vf_bar0_socket);
    host.bus.add_target("vf_bar2", vf_bar2_base(), max_vfs * soc.pcie.vf_bar2_size(), soc.pcie.vf_bar2_socket);
    for (unsigned k = 0; k < n; ++k) {
        ports.push_back(std::make_unique<vf_port>(fmt::format("vf{}", k).c_str(), c, k, socks[k],
                                                  vf_bar0_base() + uint64_t{k} * AAX_BAR0_SIZE,
                                                  vf_bar2_base() + k * soc.pcie.vf_bar2_size(), bar2_window, 2 + 1,
                                                  vm_host_base(k)));
        ports.back()->bus.bind(host.bus.target_socket);
        ports.back()->flr_count = [this, k] { return soc.pcie.vf_flrs(k); };
        ports.back()->msi_count = [this, k] { return soc.pcie.vf_msis(k); };
        host.bus.add_target(fmt::format("vm{}_ram", k), vm_host_base(k), guest_mem, ports.back()->ram.socket);
        host.bus.add_target(fmt::format("vm{}_msi", k), host.vm_msi_addr(k), 0x1000, ports.back()->msi.socket);
    }
    drv.set_max_rings(1);  // the PF keeps ring 0; VF k gets ring k + 1
    const std::string fw = drv.firmware_path(), def = "accelvp-fw.elf";
    if (fw.size() >= def.size() && fw.compare(fw.size() - def.size(), def.size(), def) == 0) {
        const std::string sriov = fw.substr(0, fw.size() - def.size()) + "accelvp-fw-sriov.elf";
        std::FILE* f = std::fopen(sriov.c_str(), "rb");
        if (!f)
            throw config_error(fmt::format("usage error: --vfs needs the firmware's SR-IOV build {} (built beside {})",
                                           sriov, fw));
        std::fclose(f);
        drv.set_firmware(sriov);
    }
    SC_HAS_PROCESS(vf_board);
    SC_THREAD(setup_thread);
}

vf_board::~vf_board() = default;

// What the Linux PCI core and a PF driver's sriov_configure do on a hypervisor host.
void vf_board::setup_thread() {
    const unsigned n = static_cast<unsigned>(ports.size());
    if (int rc = drv.probe()) {
        setup_error = fmt::format("the PF driver's probe failed: {}", std::strerror(-rc));
        setup_rc = rc;
        return;
    }
    const uint64_t vf_bar2 = soc.pcie.vf_bar2_size();
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_NUM_VFS, 2, n);
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_VF_BAR(0), 4, static_cast<uint32_t>(vf_bar0_base()));
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_VF_BAR(2), 4, static_cast<uint32_t>(vf_bar2_base()));
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_VF_BAR(3), 4, static_cast<uint32_t>(vf_bar2_base() >> 32));
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_CTRL, 2, AAX_SRIOV_CTRL_VFE | AAX_SRIOV_CTRL_MSE);
    std::vector<uint32_t> shares(n, 1);
    {
        const std::string s = host.vm_shares();
        size_t pos = 0;
        for (unsigned k = 0; k < n && !s.empty() && pos <= s.size(); ++k) {
            const size_t end = std::min(s.find(',', pos), s.size());
            const unsigned long v = std::strtoul(s.substr(pos, end - pos).c_str(), nullptr, 10);
            if (v >= 1 && v <= 255) shares[k] = static_cast<uint32_t>(v);
            pos = end + 1;
        }
    }
    const device_info& pf = drv.info();
    std::vector<driver::vf_setup> setup(n);
    for (unsigned k = 0; k < n; ++k) {
        driver::vf_setup& S = setup[k];
        S.first_ring = k + 1;
        S.rings = 1;
        S.mem_size = bar2_window;
        S.mem_base = pf.devmem_base + pf.devmem_size - (k + 1) * vf_bar2;
        S.host_base = vm_host_base(k);
        S.host_size = guest_mem_;
        S.share = shares[k];
        for (unsigned i = 0; i < soc.compute.clusters.size(); ++i)
            S.extra.emplace_back(soc.sram_addr(i), soc.compute.params().sram_bytes);
    }
    if (int rc = drv.sriov_enable(setup)) {
        setup_error = fmt::format("enabling {} VFs failed: {}", n, std::strerror(-rc));
        setup_rc = rc;
        return;
    }
    // Each VF's MSI-X table: every vector to the VF's MSI page, data = the vector.
    for (unsigned k = 0; k < n; ++k) ports[k]->program_msix(host.vm_msi_addr(k));
    uint32_t id = 0;
    host.cpu.mmio_read32(vf_bar0_base() + AAX_REG_ID, id);  // the posted writes are done
    setup_rc = 0;
}

} // namespace accelvp::qemu_dev
