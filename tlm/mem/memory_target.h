// The interface every device-memory model offers the chip: one TLM target socket, its
// backing store (debug access, page-table setup in tests), its peak bandwidth, ECC fault
// injection, and -- for the DRAM model only -- its channel/bank system. The chip holds
// one `memory_target` whatever `mem.model` names, so composition and the workloads need
// no case per model.
#pragma once

#include <memory>

#include <tlm>

#include "tlm/mem/ecc.h"
#include "tlm/mem/sparse_store.h"

namespace accelvp {

class dram_memory;

class memory_target {
public:
    virtual ~memory_target() = default;
    virtual tlm::tlm_target_socket<>& target_socket() = 0;
    virtual const char* target_name() const = 0;
    virtual sparse_store& store() = 0;
    virtual double peak_bytes_per_s() const = 0;
    // ECC fault injection on this memory (tlm/mem/ecc.h); null: none.
    virtual void set_ecc(std::unique_ptr<ecc_injector> e) = 0;
    virtual ecc_injector* ecc() = 0;
    // The DRAM model (channels, banks, controllers), or null for a model without one.
    virtual dram_memory* dram() { return nullptr; }
};

} // namespace accelvp
