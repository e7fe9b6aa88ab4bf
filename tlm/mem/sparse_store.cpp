#include "tlm/mem/sparse_store.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace accelvp {

const uint8_t* sparse_store::find_page(uint64_t idx) const {
    auto it = pages_.find(idx);
    return it == pages_.end() ? nullptr : it->second.get();
}

uint8_t* sparse_store::page_ptr(uint64_t addr) {
    auto& p = pages_[addr >> page_bits];
    if (!p) {
        p.reset(static_cast<uint8_t*>(std::calloc(1, page_size)));
        if (!p) throw std::bad_alloc();
    }
    return p.get();
}

void sparse_store::read(uint64_t addr, void* dst, uint64_t len) const {
    auto* out = static_cast<uint8_t*>(dst);
    while (len) {
        const uint64_t off = addr & (page_size - 1);
        const uint64_t n = std::min(len, page_size - off);
        if (const uint8_t* p = find_page(addr >> page_bits))
            std::memcpy(out, p + off, n);
        else
            std::memset(out, 0, n);
        out += n;
        addr += n;
        len -= n;
    }
}

void sparse_store::write(uint64_t addr, const void* src, uint64_t len) {
    auto* in = static_cast<const uint8_t*>(src);
    while (len) {
        const uint64_t off = addr & (page_size - 1);
        const uint64_t n = std::min(len, page_size - off);
        std::memcpy(page_ptr(addr) + off, in, n);
        in += n;
        addr += n;
        len -= n;
    }
}

void sparse_store::fill(uint64_t addr, uint8_t byte, uint64_t len) {
    while (len) {
        const uint64_t off = addr & (page_size - 1);
        const uint64_t n = std::min(len, page_size - off);
        if (byte != 0 || find_page(addr >> page_bits)) std::memset(page_ptr(addr) + off, byte, n);
        addr += n;
        len -= n;
    }
}

} // namespace accelvp
