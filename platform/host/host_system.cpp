#include "platform/host/host_system.h"

#include <cstring>

#include "tlm/core/extensions.h"
#include "tlm/core/payload_pool.h"
#include "tlm/core/log.h"
#include "tlm/core/keys.h"

namespace accelvp {

// ---- msi_receiver -------------------------------------------------------------------

msi_receiver::msi_receiver(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    socket.register_b_transport(this, &msi_receiver::b_transport);
    stats_.add(received_);
    stats_.add(bad_);
}

msi_receiver::~msi_receiver() = default;  // stats_ unregisters the stats

void msi_receiver::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    uint32_t v = 0;
    if (!t.is_write() || t.get_data_length() != 4) {
        ++bad_;
        t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    std::memcpy(&v, t.get_data_ptr(), 4);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
    if (v >= 64) {
        ++bad_;
        return;
    }
    ++received_;
    pending_ |= 1ull << v;
    ev_.notify(delay);  // the interrupt arrives when the write does
}

// ---- host_cpu -----------------------------------------------------------------------

bool host_cpu::access(tlm::tlm_command cmd, uint64_t addr, void* data, uint64_t len, bool timing_only) {
    auto* p = static_cast<unsigned char*>(data);
    while (len) {
        const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(len, 64 * 1024));
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        tlm::tlm_response_status st;
        {  // no payload may live across wait(): thread stacks are not unwound at the end
            const pooled_payload pt;
            tlm::tlm_generic_payload& t = *pt;
            init_payload(t, cmd, addr, p, n);
            timing_only_ext timing;
            extension_guard<timing_only_ext> g(t, timing_only ? &timing : nullptr);
            socket->b_transport(t, d);
            st = t.get_response_status();
        }
        sc_core::wait(d);
        if (st != tlm::TLM_OK_RESPONSE) {
            AVP_LOG(debug, name(), "MMIO {} at 0x{:x} failed: {}", cmd == tlm::TLM_READ_COMMAND ? "read" : "write", addr,
                    static_cast<int>(st));
            return false;
        }
        addr += n;
        p += n;
        len -= n;
    }
    return true;
}

bool host_cpu::mmio_read32(uint64_t addr, uint32_t& v) { return access(tlm::TLM_READ_COMMAND, addr, &v, 4); }
bool host_cpu::mmio_write32(uint64_t addr, uint32_t v) { return access(tlm::TLM_WRITE_COMMAND, addr, &v, 4); }
bool host_cpu::mmio_write(uint64_t addr, const void* src, uint64_t len) {
    return access(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), len);
}
bool host_cpu::mmio_read(uint64_t addr, void* dst, uint64_t len) { return access(tlm::TLM_READ_COMMAND, addr, dst, len); }
bool host_cpu::mmio_write_timing_only(uint64_t addr, uint64_t len) {
    static unsigned char scratch[64 * 1024];  // never read: the targets move no data
    bool ok = true;
    for (uint64_t off = 0; ok && off < len; off += sizeof(scratch))
        ok = access(tlm::TLM_WRITE_COMMAND, addr + off, scratch, std::min<uint64_t>(sizeof(scratch), len - off), true);
    return ok;
}

bool host_cpu::debug(tlm::tlm_command cmd, uint64_t addr, void* data, uint64_t len) {
    auto* p = static_cast<unsigned char*>(data);
    while (len) {
        const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(len, 1 << 20));
        tlm::tlm_generic_payload t;
        init_payload(t, cmd, addr, p, n);
        if (socket->transport_dbg(t) != n) return false;
        addr += n;
        p += n;
        len -= n;
    }
    return true;
}

bool host_cpu::peek(uint64_t addr, void* dst, uint64_t len) { return debug(tlm::TLM_READ_COMMAND, addr, dst, len); }
bool host_cpu::poke(uint64_t addr, const void* src, uint64_t len) {
    return debug(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), len);
}

unsigned char* host_cpu::dmi_ptr(uint64_t addr, uint64_t& avail) {
    auto it = dmi_.upper_bound(addr);
    if (it != dmi_.begin()) {
        --it;
        if (addr >= it->second.start && addr <= it->second.end) {
            avail = it->second.end - addr + 1;
            return it->second.ptr + (addr - it->second.start);
        }
    }
    tlm::tlm_generic_payload t;
    tlm::tlm_dmi dmi;
    t.set_address(addr);
    t.set_command(tlm::TLM_READ_COMMAND);
    if (!socket->get_direct_mem_ptr(t, dmi) || !dmi.is_read_write_allowed()) return nullptr;
    dmi_[dmi.get_start_address()] = {dmi.get_start_address(), dmi.get_end_address(), dmi.get_dmi_ptr()};
    avail = dmi.get_end_address() - addr + 1;
    return dmi.get_dmi_ptr() + (addr - dmi.get_start_address());
}

// Host DRAM through DMI pages, falling back to debug access where DMI is refused.
bool host_cpu::mem_copy(tlm::tlm_command cmd, uint64_t addr, unsigned char* buf, uint64_t len) {
    while (len) {
        uint64_t avail = 0;
        unsigned char* p = dmi_ptr(addr, avail);
        if (!p) return debug(cmd, addr, buf, len);
        const uint64_t n = std::min(len, avail);
        if (cmd == tlm::TLM_WRITE_COMMAND)
            std::memcpy(p, buf, n);
        else
            std::memcpy(buf, p, n);
        addr += n;
        buf += n;
        len -= n;
    }
    return true;
}

bool host_cpu::mem_write(uint64_t addr, const void* src, uint64_t len) {
    return mem_copy(tlm::TLM_WRITE_COMMAND, addr, static_cast<unsigned char*>(const_cast<void*>(src)), len);
}
bool host_cpu::mem_read(uint64_t addr, void* dst, uint64_t len) {
    return mem_copy(tlm::TLM_READ_COMMAND, addr, static_cast<unsigned char*>(dst), len);
}

// ---- host_system --------------------------------------------------------------------

const param_table<host_system::params>& host_system::params::table() {
    static const auto t =
        param_table<params>()
            .integer("mem_base", &params::mem_base, 0, 1ll << 47, "host physical address of DRAM")
            .integer("msi_base", &params::msi_base, 0, 1ll << 47, "host physical address of the MSI doorbell page")
            .integer("bar0_base", &params::bar0_base, 0, 1ll << 47, "host physical address of the device's BAR0")
            .integer("bar2_base", &params::bar2_base, 0, 1ll << 47, "host physical address of the device's BAR2")
            .real("bus_hop_ns", &params::bus_hop_ns, 0, 1e6, "host fabric latency (root complex, IOMMU bypassed)",
                  "ns")
            .integer("vms", &params::vms, 0, 8,
                     "SR-IOV: VMs on this host, each bound to a VF of the device with its own driver instance "
                     "(needs pcie.sriov.max_vfs >= vms, cpu.enabled, mmu.enabled; docs/virtualization.md)")
            .string("vm_shares", &params::vm_shares,
                    "SR-IOV: the VMs' scheduling shares as comma-separated weights 1-255 (empty: all 1)")
            .string("vm_workloads", &params::vm_workloads,
                    "SR-IOV: the workload each VM runs, comma-separated names, one per VM (empty: the run's workload "
                    "in every VM); each takes its workload.* parameters where it declares them, else its defaults");
    return t;
}

void host_system::declare(param_schema& s) {
    memory::declare(s, "host.mem", memory::params{64ull << 30, 150, 90, true});
    params::table().declare(s, "host");
}

host_system::host_system(sc_core::sc_module_name name, const config& c)
    : host_system(name, c, params::table().load(c, "host")) {}

host_system::host_system(sc_core::sc_module_name name, const config& c, const params& p)
    : sc_module(name), bus("bus", sc_core::sc_time(p.bus_hop_ns, sc_core::SC_NS)),
      mem("mem", memory::from_config(c, "host.mem")), msi("msi"), cpu("cpu"), mem_base_(p.mem_base),
      bar0_(p.bar0_base), bar2_(p.bar2_base), msi_base_(p.msi_base), p_(p) {
    cpu.socket.bind(bus.target_socket);
    bus.add_target("dram", mem_base_, mem.get_params().size, mem.socket);
    bus.add_target("msi", msi_base_, 0x1000, msi.socket);
    // BAR0/BAR2 targets are bound by the board, which owns the device.
}

uint64_t host_system::vm_mem_size() const {
    return p_.vms ? (mem_size() / 2 / p_.vms) & ~0xFFFFFull : 0;  // 1 MiB aligned
}
uint64_t host_system::vm_mem_base(unsigned k) const { return mem_base_ + mem_size() / 2 + k * vm_mem_size(); }

} // namespace accelvp
