// Sparse backing store: memory is allocated in 1 MiB pages on first write, so a 96 GiB
// device memory costs nothing until it is touched. Untouched pages read as zero.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <unordered_map>

namespace accelvp {

class sparse_store {
public:
    static constexpr uint64_t page_bits = 20;
    static constexpr uint64_t page_size = 1ull << page_bits;

    explicit sparse_store(uint64_t size) : size_(size) {}
    uint64_t size() const { return size_; }

    // Copy out / in; ranges must lie within size() (callers check).
    void read(uint64_t addr, void* dst, uint64_t len) const;
    void write(uint64_t addr, const void* src, uint64_t len);
    void fill(uint64_t addr, uint8_t byte, uint64_t len);

    // Pointer to the page holding addr (allocating it), for DMI; the page spans
    // [page_base(addr), page_base(addr) + page_size).
    uint8_t* page_ptr(uint64_t addr);
    static uint64_t page_base(uint64_t addr) { return addr & ~(page_size - 1); }

    uint64_t pages_allocated() const { return pages_.size(); }

private:
    struct freer {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    const uint8_t* find_page(uint64_t idx) const;

    uint64_t size_;
    // calloc'd pages: the OS maps zero pages lazily, so even touched pages cost only
    // what is actually written.
    std::unordered_map<uint64_t, std::unique_ptr<uint8_t, freer>> pages_;
};

} // namespace accelvp
