// The MMU ABI (abi/aax_mmu.h): PTE bit positions, table geometry, index extraction,
// register offsets and fault codes are stable; the header also compiles as C99
// (tests/abi/abi_mmu_c99.c).
#include <catch2/catch.hpp>

#include <string>

#include "abi/aax_mmu.h"
#include "abi/aax_queue.h"
#include "abi/aax_regs.h"

TEST_CASE("abi: MMU page-table entry bits and index extraction are stable", "[abi][mmu]") {
    CHECK(AAX_PTE_VALID == 0x1);
    CHECK(AAX_PTE_LEAF == 0x2);
    CHECK(AAX_PTE_READ == 0x4);
    CHECK(AAX_PTE_WRITE == 0x8);
    CHECK(AAX_PTE_EXEC == 0x10);
    CHECK(AAX_PTE_ADDR_MASK == 0x00FFFFFFFFFFF000ull);
    // A PTE can point into the host window (chip bus address 2^48 and up).
    CHECK(((1ull << 48) + 0x1234000) == (((1ull << 48) + 0x1234000) & AAX_PTE_ADDR_MASK));
    const uint64_t va = (0x1Aull << 39) | (0x0Bull << 30) | (0x1C3ull << 21) | (0x0D4ull << 12) | 0xABC;
    CHECK(AAX_MMU_INDEX(va, 0) == 0x1A);
    CHECK(AAX_MMU_INDEX(va, 1) == 0x0B);
    CHECK(AAX_MMU_INDEX(va, 2) == 0x1C3);
    CHECK(AAX_MMU_INDEX(va, 3) == 0x0D4);
    CHECK(AAX_PAGE_2M == AAX_PAGE_4K * AAX_MMU_PTES);
}

TEST_CASE("abi: MMU register offsets and fault codes are stable", "[abi][mmu]") {
    CHECK(AAX_MMU_BAR_BASE == 0xC000);
    CHECK(AAX_REG_MMU_ID == 0xC000);
    CHECK(AAX_REG_MMU_TLB_INV == 0xC018);
    CHECK(AAX_REG_MMU_FAULT_STATUS == 0xC020);
    CHECK(AAX_REG_MMU_FAULT_COUNT == 0xC030);
    CHECK(AAX_MMU_FAULT_PORT_MASK == 0x1F000u);  // FAULT_STATUS [16:12]: the faulting engine or the QM
    CHECK((AAX_MMU_FAULT_PORT_MASK & (AAX_MMU_FAULT_TYPE_MASK | 3u << AAX_MMU_FAULT_ACC_SHIFT |
                                      3u << AAX_MMU_FAULT_LEVEL_SHIFT | AAX_MMU_FAULT_VALID)) == 0);
    CHECK(AAX_MMU_CTX(1) == 0xC110);
    CHECK(AAX_MMU_CTX(AAX_MMU_MAX_CONTEXTS - 1) + AAX_MMU_CTX_CTRL < AAX_MMU_BAR_BASE + AAX_MMU_BAR_SIZE);
    CHECK(AAX_CAPS1_MMU == (1u << 17));
    CHECK(AAX_IRQ_LINE_MMU == 2);
    CHECK(AAX_MMU_FAULT_NOT_PRESENT == 1);
    CHECK(AAX_MMU_FAULT_CONTEXT == 5);
    CHECK(std::string(aax_mmu_fault_name(AAX_MMU_FAULT_PERMISSION)) == "PERMISSION");
    CHECK(std::string(aax_mmu_fault_name(6)) == "UNKNOWN");
}
