// Constants shared by the RV32 core's source files (rv32_core.cpp, rv32_execute.cpp,
// rv32_debug.cpp, rv32_decode_cache.cpp); not part of its interface.
#pragma once

#include <cstdint>

#include "tlm/cpu/rv32_core.h"

namespace accelvp::rv32_internal {


// mstatus / mip / mie bits (machine mode only).
constexpr uint32_t mstatus_mie = 1u << 3;
constexpr uint32_t mstatus_mpie = 1u << 7;
constexpr uint32_t mstatus_mpp = 3u << 11;  // always M
constexpr uint32_t irq_mask = (1u << irq_msip) | (1u << irq_mtip) | (1u << irq_meip);
constexpr uint32_t interrupt_bit = 0x80000000u;

// Exception causes (mcause).
enum : uint32_t {
    cause_fetch_fault = 1,
    cause_illegal = 2,
    cause_breakpoint = 3,
    cause_load_misaligned = 4,
    cause_load_fault = 5,
    cause_store_misaligned = 6,
    cause_store_fault = 7,
    cause_ecall_m = 11,
};

constexpr uint32_t misa_value = (1u << 30) | (1u << 0) /*A*/ | (1u << 2) /*C*/ | (1u << 8) /*I*/ | (1u << 12) /*M*/;


} // namespace accelvp::rv32_internal
