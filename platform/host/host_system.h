// Host v0: DRAM, the host's physical address map, the MSI target, and a CPU whose
// software (driver model, runtime, workload) runs in SystemC threads and reaches the
// device only through memory-mapped I/O and DMA'd memory, as a real driver does.
//
// Host physical map (config keys host.*): DRAM at host.mem_base, the MSI doorbell page
// at host.msi_base, the device's BAR0 at host.bar0_base and BAR2 at host.bar2_base.
// Host CPU time is not modelled in v0: its own DRAM accesses take no simulated time,
// its MMIO accesses take what the link and the device say.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "tlm/core/params.h"
#include "tlm/core/router.h"
#include "tlm/core/stats.h"
#include "tlm/mem/memory.h"

namespace accelvp {

// Receives MSI/MSI-X memory writes: the data word is the vector number.
class msi_receiver : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<msi_receiver> socket;
    explicit msi_receiver(sc_core::sc_module_name name);
    ~msi_receiver() override;
    // Pending vectors as a bitmask, cleared on take().
    uint64_t take() {
        const uint64_t p = pending_;
        pending_ = 0;
        return p;
    }
    bool any() const { return pending_ != 0; }
    const sc_core::sc_event& event() const { return ev_; }

private:
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    uint64_t pending_ = 0;
    sc_core::sc_event ev_;
    counter received_{"received", "MSI messages received"};
    counter bad_{"bad_writes", "malformed writes to the MSI page"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

class host_cpu : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<host_cpu> socket;
    explicit host_cpu(sc_core::sc_module_name name) : sc_module(name), socket("socket") {}

    // Timed MMIO: the calling thread waits for the access to complete.
    bool mmio_read32(uint64_t addr, uint32_t& v);
    bool mmio_write32(uint64_t addr, uint32_t v);
    bool mmio_write(uint64_t addr, const void* src, uint64_t len);
    bool mmio_read(uint64_t addr, void* dst, uint64_t len);
    // The time of an MMIO write of len bytes without its data (timing fidelity mode).
    bool mmio_write_timing_only(uint64_t addr, uint64_t len);
    // Host DRAM through DMI (no simulated time).
    bool mem_write(uint64_t addr, const void* src, uint64_t len);
    bool mem_read(uint64_t addr, void* dst, uint64_t len);
    // Debug access anywhere (no simulated time, no side effects on timing).
    bool peek(uint64_t addr, void* dst, uint64_t len);
    bool poke(uint64_t addr, const void* src, uint64_t len);

private:
    bool access(tlm::tlm_command cmd, uint64_t addr, void* data, uint64_t len, bool timing_only = false);
    bool debug(tlm::tlm_command cmd, uint64_t addr, void* data, uint64_t len);
    bool mem_copy(tlm::tlm_command cmd, uint64_t addr, unsigned char* buf, uint64_t len);
    unsigned char* dmi_ptr(uint64_t addr, uint64_t& avail);
    struct dmi_region {
        uint64_t start, end;
        unsigned char* ptr;
    };
    std::map<uint64_t, dmi_region> dmi_;  // by start address
};

class host_system : public sc_core::sc_module {
public:
    // The host's own keys (host.*; host DRAM is a memory under host.mem, the driver's keys
    // are under host.driver).
    struct params {
        uint64_t mem_base = 1ull << 32;
        uint64_t msi_base = 0xFEE00000ull;
        uint64_t bar0_base = 0xF0000000ull;
        uint64_t bar2_base = 1ull << 44;
        double bus_hop_ns = 10;
        uint32_t vms = 0;           // SR-IOV: VMs, each with a VF of the device (docs/virtualization.md)
        std::string vm_shares;      // their scheduling shares, "w0,w1,..." (empty: all 1)
        std::string vm_workloads;   // the workload each VM runs, "name0,name1,..." (empty: the run's workload in each)
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s);
    host_system(sc_core::sc_module_name name, const config& c);

    uint64_t mem_base() const { return mem_base_; }
    uint64_t mem_size() const { return mem.get_params().size; }
    uint64_t bar0() const { return bar0_; }
    uint64_t bar2() const { return bar2_; }
    uint64_t msi_addr() const { return msi_base_; }
    uint32_t vms() const { return p_.vms; }
    const std::string& vm_shares() const { return p_.vm_shares; }
    const std::string& vm_workloads() const { return p_.vm_workloads; }
    // Where VM k's memory is (the top half of host DRAM, split evenly) and its MSI page.
    uint64_t vm_mem_base(unsigned k) const;
    uint64_t vm_mem_size() const;
    uint64_t vm_msi_addr(unsigned k) const { return msi_base_ + 0x1000ull * (k + 1); }

    router bus;
    memory mem;
    msi_receiver msi;
    host_cpu cpu;

private:
    host_system(sc_core::sc_module_name name, const config& c, const params& p);
    uint64_t mem_base_, bar0_, bar2_, msi_base_;
    params p_;
};

} // namespace accelvp
