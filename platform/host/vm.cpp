#include "platform/host/vm.h"

#include <cerrno>

#include <fmt/format.h>

#include "abi/aax_mmu.h"
#include "abi/aax_regs.h"
#include "platform/host/driver.h"
#include "tlm/core/log.h"

namespace accelvp {

namespace {
const char* kName = "host.driver.vm";
// Bytes of VA one entry of `level` covers.
constexpr uint64_t span_of(unsigned level) { return 1ull << (39 - 9 * level); }
} // namespace

// ---- page_table_editor ------------------------------------------------------------

page_table_editor::page_table_editor(alloc_fn alloc, free_fn free, write_fn write)
    : alloc_(std::move(alloc)), free_(std::move(free)), write_(std::move(write)) {}

page_table_editor::~page_table_editor() {
    for (const auto& [addr, t] : tables_) free_(addr);
}

int page_table_editor::new_table(uint64_t& addr) {
    auto a = alloc_();
    if (!a) return -ENOMEM;
    // Memory may hold an old table: clear it on the device before anything points at it.
    static const table zero{};
    if (!write_(*a, zero.data(), sizeof(zero))) {
        free_(*a);
        return -EIO;
    }
    bytes_written_ += sizeof(zero);
    tables_[*a] = std::make_unique<table>();
    addr = *a;
    return 0;
}

int page_table_editor::init() { return root_ ? 0 : new_table(root_); }

void page_table_editor::set(uint64_t table_addr, unsigned index, uint64_t pte) {
    (*tables_.at(table_addr))[index] = pte;
    dirty_.insert({table_addr, index});
}

int page_table_editor::flush() {
    // One write per run of adjacent dirty entries of a table.
    bool ok = true;
    for (auto it = dirty_.begin(); it != dirty_.end();) {
        const uint64_t t = it->first;
        const unsigned first = it->second;
        unsigned last = first;
        for (++it; it != dirty_.end() && it->first == t && it->second == last + 1; ++it) ++last;
        const uint64_t n = (last - first + 1) * 8ull;
        ok = write_(t + 8ull * first, tables_.at(t)->data() + first, n) && ok;
        bytes_written_ += n;
    }
    dirty_.clear();
    return ok ? 0 : -EIO;
}

page_table_editor::table* page_table_editor::walk_to(uint64_t va, unsigned level, bool create, uint64_t* addr,
                                                     int* err) {
    uint64_t a = root_;
    for (unsigned l = 0; l < level; ++l) {
        table& t = *tables_.at(a);
        const unsigned i = AAX_MMU_INDEX(va, l);
        if (t[i] & AAX_PTE_LEAF) return nullptr;
        if (!(t[i] & AAX_PTE_VALID)) {
            if (!create) return nullptr;
            uint64_t child = 0;
            if (int rc = new_table(child)) {
                if (err) *err = rc;
                return nullptr;
            }
            set(a, i, child | AAX_PTE_VALID);
        }
        a = t[i] & AAX_PTE_ADDR_MASK;
    }
    if (addr) *addr = a;
    return tables_.at(a).get();
}

uint64_t page_table_editor::leaf(uint64_t va, uint64_t* page_size) const {
    if (!root_ || (va >> AAX_MMU_VA_BITS)) return 0;
    uint64_t a = root_;
    for (unsigned l = 0; l < AAX_MMU_LEVELS; ++l) {
        const uint64_t e = (*tables_.at(a))[AAX_MMU_INDEX(va, l)];
        if (!(e & AAX_PTE_VALID)) {
            if (page_size) *page_size = span_of(l);  // nothing mapped in this entry's span
            return 0;
        }
        if (e & AAX_PTE_LEAF) {
            if (page_size) *page_size = span_of(l);
            return e;
        }
        a = e & AAX_PTE_ADDR_MASK;
    }
    return 0;
}

int page_table_editor::map(uint64_t va, uint64_t pa, uint64_t size, uint64_t perms, bool allow_2m) {
    const uint64_t m = AAX_PAGE_4K - 1;
    if (!root_ || size == 0 || (va & m) || (pa & m) || (size & m) || (perms & ~(AAX_PTE_READ | AAX_PTE_WRITE | AAX_PTE_EXEC)))
        return -EINVAL;
    if (va + size < va || ((va + size - 1) >> AAX_MMU_VA_BITS) || ((pa + size - 1) & ~(AAX_PTE_ADDR_MASK | m)))
        return -EINVAL;
    // Nothing in the range may be mapped already: skip unmapped spans wholesale.
    for (uint64_t v = va; v < va + size;) {
        uint64_t span = 0;
        if (leaf(v, &span)) return -EEXIST;
        v = (v & ~(span - 1)) + span;
        if (v == 0) break;  // wrapped past the top
    }
    int err = 0;
    uint64_t off = 0;
    while (off < size) {
        const uint64_t v = va + off, p = pa + off;
        uint64_t t = 0;
        // A 2 MiB leaf only in an empty level-2 slot (never over a kept level-3 table,
        // whose address the walk cache may hold).
        if (allow_2m && !((v | p) & (AAX_PAGE_2M - 1)) && size - off >= AAX_PAGE_2M) {
            table* l2 = walk_to(v, 2, true, &t, &err);
            if (!l2) {
                err = err ? err : -EEXIST;
                break;
            }
            const unsigned i = AAX_MMU_INDEX(v, 2);
            if (!((*l2)[i] & AAX_PTE_VALID)) {
                set(t, i, p | AAX_PTE_VALID | AAX_PTE_LEAF | perms);
                off += AAX_PAGE_2M;
                continue;
            }
        }
        table* l3 = walk_to(v, 3, true, &t, &err);
        if (!l3) {
            err = err ? err : -EEXIST;
            break;
        }
        set(t, AAX_MMU_INDEX(v, 3), p | AAX_PTE_VALID | AAX_PTE_LEAF | perms);
        off += AAX_PAGE_4K;
    }
    const int rc = flush();
    if (err) {
        // Out of table memory half-way: undo the pages mapped so far (tables stay for reuse).
        if (off) unmap(va, off, nullptr);
        return err;
    }
    return rc;
}

int page_table_editor::unmap(uint64_t va, uint64_t size, std::vector<std::pair<uint64_t, uint64_t>>* leaves) {
    const uint64_t m = AAX_PAGE_4K - 1;
    if (!root_ || size == 0 || (va & m) || (size & m) || va + size < va || ((va + size - 1) >> AAX_MMU_VA_BITS))
        return -EINVAL;
    std::vector<std::pair<uint64_t, uint64_t>> found;  // (page va, size)
    for (uint64_t v = va; v < va + size;) {
        uint64_t span = 0;
        const bool mapped = leaf(v, &span) != 0;
        const uint64_t base = v & ~(span - 1);
        if (mapped) {
            if (base < va || base + span > va + size) return -EINVAL;  // would split a 2 MiB page
            found.push_back({base, span});
        }
        v = base + span;
        if (v == 0) break;
    }
    for (const auto& [v, span] : found) {
        uint64_t t = 0;
        walk_to(v, span == AAX_PAGE_2M ? 2 : 3, false, &t, nullptr);
        set(t, AAX_MMU_INDEX(v, span == AAX_PAGE_2M ? 2 : 3), 0);
    }
    if (leaves) *leaves = found;
    return flush();
}

// ---- vm_manager -------------------------------------------------------------------

std::string mmu_fault::describe() const {
    static const char* const acc[] = {"read", "write", "exec", "?"};
    return fmt::format("{} fault on {} of asid {} va 0x{:x} by dma{} (walk level {}, {} faults so far)",
                       aax_mmu_fault_name(type), acc[access & 3], asid, va, port, level, count);
}

vm_manager::vm_manager(driver& d, uint32_t contexts) : drv_(d), contexts_(contexts) {}

vm_manager::~vm_manager() = default;

const page_table_editor* vm_manager::space(uint16_t asid) const {
    auto it = spaces_.find(asid);
    return it == spaces_.end() ? nullptr : it->second.get();
}

int vm_manager::create(uint16_t& asid) {
    uint16_t a = 1;
    while (a < contexts_ && (spaces_.count(a) || creating_.count(a))) ++a;
    if (a >= contexts_) return -ENOSPC;
    // Claimed before the device writes below, which let other threads run (and create).
    creating_.insert(a);
    struct unclaim {
        std::set<uint16_t>& s;
        uint16_t a;
        ~unclaim() { s.erase(a); }
    } guard{creating_, a};
    auto pt = std::make_unique<page_table_editor>(
        [this] { return drv_.alloc_device(AAX_MMU_TABLE_SIZE, AAX_MMU_TABLE_SIZE); },
        [this](uint64_t addr) { drv_.free_device(addr); },
        [this](uint64_t addr, const void* data, uint64_t len) {
            return drv_.host().cpu.mmio_write(drv_.device_to_bar2(addr), data, len);
        });
    if (int rc = pt->init()) return rc;
    const uint64_t root = pt->root();
    drv_.wr(AAX_MMU_CTX(a) + AAX_MMU_CTX_PT_BASE_HI, static_cast<uint32_t>(root >> 32));
    drv_.wr(AAX_MMU_CTX(a) + AAX_MMU_CTX_PT_BASE_LO, static_cast<uint32_t>(root));
    // The ASID may have been used before: drop what the TLB still holds for it.
    invalidate(a, AAX_MMU_INV_ASID);
    drv_.wr(AAX_MMU_CTX(a) + AAX_MMU_CTX_CTRL, AAX_MMU_CTX_EN);
    spaces_[a] = std::move(pt);
    asid = a;
    return 0;
}

int vm_manager::destroy(uint16_t asid, bool program_device) {
    auto it = spaces_.find(asid);
    if (it == spaces_.end()) return -ENOENT;
    if (program_device) {
        drv_.wr(AAX_MMU_CTX(asid) + AAX_MMU_CTX_CTRL, 0);
        invalidate(asid, AAX_MMU_INV_ASID);
    }
    spaces_.erase(it);  // frees the tables
    return 0;
}

int vm_manager::bind(uint16_t asid, uint64_t va, uint64_t pa, uint64_t size, uint64_t perms, bool allow_2m) {
    auto it = spaces_.find(asid);
    if (it == spaces_.end()) return -ENOENT;
    return it->second->map(va, pa, size, perms, allow_2m);
}

int vm_manager::unbind(uint16_t asid, uint64_t va, uint64_t size) {
    auto it = spaces_.find(asid);
    if (it == spaces_.end()) return -ENOENT;
    std::vector<std::pair<uint64_t, uint64_t>> leaves;
    if (int rc = it->second->unmap(va, size, &leaves)) return rc;
    if (leaves.size() > max_va_invalidations) {
        invalidate(asid, AAX_MMU_INV_ASID);
    } else {
        for (const auto& l : leaves) invalidate(asid, AAX_MMU_INV_VA, l.first);
    }
    return 0;
}

void vm_manager::invalidate(uint16_t asid, unsigned op, uint64_t va) {
    if (op == AAX_MMU_INV_VA) {
        drv_.wr(AAX_REG_MMU_TLB_INV_VA_LO, static_cast<uint32_t>(va));
        drv_.wr(AAX_REG_MMU_TLB_INV_VA_HI, static_cast<uint32_t>(va >> 32));
    }
    // Complete when the write completes (abi/aax_mmu.h); the host CPU waits for it.
    drv_.wr(AAX_REG_MMU_TLB_INV, asid | op << AAX_MMU_INV_OP_SHIFT);
}

void vm_manager::handle_fault() {
    const uint32_t st = drv_.rd(AAX_REG_MMU_FAULT_STATUS);
    if (!(st & AAX_MMU_FAULT_VALID)) return;
    mmu_fault f;
    f.type = st & AAX_MMU_FAULT_TYPE_MASK;
    f.access = (st >> AAX_MMU_FAULT_ACC_SHIFT) & 3;
    f.level = (st >> AAX_MMU_FAULT_LEVEL_SHIFT) & 3;
    f.port = static_cast<uint8_t>((st & AAX_MMU_FAULT_PORT_MASK) >> AAX_MMU_FAULT_PORT_SHIFT);
    f.asid = static_cast<uint16_t>(drv_.rd(AAX_REG_MMU_FAULT_ASID));
    f.va = drv_.rd(AAX_REG_MMU_FAULT_VA_LO) | static_cast<uint64_t>(drv_.rd(AAX_REG_MMU_FAULT_VA_HI)) << 32;
    f.count = drv_.rd(AAX_REG_MMU_FAULT_COUNT);
    f.time_ns = sc_core::sc_time_stamp().value() / 1000;
    drv_.wr(AAX_REG_MMU_FAULT_STATUS, AAX_MMU_FAULT_VALID);
    AVP_LOG(warn, kName, "MMU {}", f.describe());
    faults_.push_back(f);
}

} // namespace accelvp
