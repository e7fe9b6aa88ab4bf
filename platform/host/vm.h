// Host side of the MMU (abi/aax_mmu.h): what an accel driver does to give each user
// context its own device address space.
//
// - page_table_editor: builds and edits one context's 4-level page table in device
//   memory. It keeps a shadow copy of every table it owns (a driver never reads its
//   tables back over PCIe) and writes changed entries through a write functor (the
//   driver's BAR2 path), merged into one write per run of adjacent entries.
// - vm_manager: the driver's contexts: ASID allocation, MMU_CTX programming, bind and
//   unbind of device-memory or host-window ranges at chosen device VAs (2 MiB pages
//   where VA, address and size allow, else 4 KiB), TLB invalidation after unbind and
//   destroy, and the MMU fault record read on the MMU interrupt.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace accelvp {

class driver;

class page_table_editor {
public:
    using alloc_fn = std::function<std::optional<uint64_t>()>;  // a 4 KiB-aligned 4 KiB block
    using free_fn = std::function<void(uint64_t)>;
    using write_fn = std::function<bool(uint64_t addr, const void* data, uint64_t len)>;

    page_table_editor(alloc_fn alloc, free_fn free, write_fn write);
    ~page_table_editor();  // frees every table
    page_table_editor(const page_table_editor&) = delete;
    page_table_editor& operator=(const page_table_editor&) = delete;

    // Allocate and clear the root table. 0, -ENOMEM or -EIO.
    int init();
    uint64_t root() const { return root_; }

    // Map [va, va+size) to [pa, pa+size) with AAX_PTE_READ/WRITE/EXEC perms; 2 MiB
    // leaves where va, pa and the remaining size allow it and allow_2m. va, pa and size
    // 4 KiB aligned, va+size <= 2^48. -EINVAL, -EEXIST (a page already mapped; nothing
    // changed), -ENOMEM, -EIO.
    int map(uint64_t va, uint64_t pa, uint64_t size, uint64_t perms, bool allow_2m = true);
    // Unmap every leaf in [va, va+size) (a 2 MiB leaf only if wholly inside: else
    // -EINVAL, nothing changed). Fills `leaves` with the (va, page size) of each
    // removed leaf. Tables are kept for reuse.
    int unmap(uint64_t va, uint64_t size, std::vector<std::pair<uint64_t, uint64_t>>* leaves = nullptr);

    // The leaf PTE covering va in the shadow (0 if unmapped) and its page size.
    uint64_t leaf(uint64_t va, uint64_t* page_size = nullptr) const;
    size_t tables() const { return tables_.size(); }
    uint64_t bytes_written() const { return bytes_written_; }

private:
    using table = std::array<uint64_t, 512>;
    // The table of `level` on va's path (creating it when `create`), or nullptr.
    table* walk_to(uint64_t va, unsigned level, bool create, uint64_t* addr, int* err);
    int new_table(uint64_t& addr);
    void set(uint64_t table_addr, unsigned index, uint64_t pte);
    int flush();

    alloc_fn alloc_;
    free_fn free_;
    write_fn write_;
    uint64_t root_ = 0;
    std::map<uint64_t, std::unique_ptr<table>> tables_;  // device address -> shadow
    std::set<std::pair<uint64_t, unsigned>> dirty_;     // (table, index) to write
    uint64_t bytes_written_ = 0;
};

// The MMU fault record as the driver read it.
struct mmu_fault {
    uint8_t type = 0, access = 0, level = 0;  // aax_mmu_fault_type, aax_mmu_access
    uint8_t port = 0;                         // the DMA engine whose access faulted (= dma_engines: the QM)
    uint16_t asid = 0;
    uint64_t va = 0;
    uint32_t count = 0;  // FAULT_COUNT when read
    uint64_t time_ns = 0;
    std::string describe() const;
};

class vm_manager {
public:
    vm_manager(driver& d, uint32_t contexts);
    ~vm_manager();

    uint32_t contexts() const { return contexts_; }
    // 0 and a fresh ASID with an empty, enabled context; -ENOSPC, -ENOMEM, -EIO.
    int create(uint16_t& asid);
    // Disable the context, invalidate its TLB entries (only with program_device), free
    // its tables. -ENOENT.
    int destroy(uint16_t asid, bool program_device = true);
    bool exists(uint16_t asid) const { return spaces_.count(asid) != 0; }
    int bind(uint16_t asid, uint64_t va, uint64_t pa, uint64_t size, uint64_t perms, bool allow_2m = true);
    // Unmap and invalidate the removed pages in the TLB (by VA for a few pages, else by ASID).
    int unbind(uint16_t asid, uint64_t va, uint64_t size);
    const page_table_editor* space(uint16_t asid) const;

    // On the MMU interrupt: read FAULT_*, clear the record, log and keep it.
    void handle_fault();
    const std::vector<mmu_fault>& faults() const { return faults_; }

private:
    void invalidate(uint16_t asid, unsigned op, uint64_t va = 0);

    driver& drv_;
    uint32_t contexts_;
    std::map<uint16_t, std::unique_ptr<page_table_editor>> spaces_;
    std::set<uint16_t> creating_;  // ASIDs a create() is setting up (its device writes let other threads run)
    std::vector<mmu_fault> faults_;
    static constexpr size_t max_va_invalidations = 16;  // beyond: one invalidation of the whole ASID
};

} // namespace accelvp
