// First-fit allocator over an address range, with alignment and coalescing free.
// Used by the driver model for device memory and pinned host memory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace accelvp {

class range_allocator {
public:
    range_allocator(uint64_t base, uint64_t size) : base_(base), size_(size) { free_[base] = size; }

    // Returns the address of a block of `size` bytes aligned to `align` (a power of two).
    std::optional<uint64_t> alloc(uint64_t size, uint64_t align) {
        if (size == 0 || align == 0 || (align & (align - 1))) return std::nullopt;
        for (auto it = free_.begin(); it != free_.end(); ++it) {
            const uint64_t start = it->first, len = it->second;
            const uint64_t a = (start + align - 1) & ~(align - 1);
            if (a < start || a - start > len || len - (a - start) < size) continue;
            free_.erase(it);
            if (a > start) free_[start] = a - start;
            if (a + size < start + len) free_[a + size] = start + len - (a + size);
            used_[a] = size;
            in_use_ += size;
            return a;
        }
        return std::nullopt;
    }
    // Takes [addr, addr + size) out of the free space (wholly inside one free block); false if
    // any of it is in use or outside the range. Freed with free(addr) like an allocation.
    bool reserve(uint64_t addr, uint64_t size) {
        auto it = free_.upper_bound(addr);
        if (it == free_.begin() || size == 0) return false;
        --it;
        const uint64_t start = it->first, len = it->second;
        if (addr - start > len || len - (addr - start) < size) return false;
        free_.erase(it);
        if (addr > start) free_[start] = addr - start;
        if (addr + size < start + len) free_[addr + size] = start + len - (addr + size);
        used_[addr] = size;
        in_use_ += size;
        return true;
    }
    // Frees a block returned by alloc(); false if addr is not one.
    bool free(uint64_t addr) {
        auto u = used_.find(addr);
        if (u == used_.end()) return false;
        uint64_t start = addr, len = u->second;
        in_use_ -= len;
        used_.erase(u);
        auto next = free_.lower_bound(start);
        if (next != free_.end() && start + len == next->first) {
            len += next->second;
            next = free_.erase(next);
        }
        if (next != free_.begin()) {
            auto prev = std::prev(next);
            if (prev->first + prev->second == start) {
                start = prev->first;
                len += prev->second;
                free_.erase(prev);
            }
        }
        free_[start] = len;
        return true;
    }
    uint64_t in_use() const { return in_use_; }
    uint64_t base() const { return base_; }
    uint64_t size() const { return size_; }

private:
    uint64_t base_, size_, in_use_ = 0;
    std::map<uint64_t, uint64_t> free_, used_;
};

} // namespace accelvp
