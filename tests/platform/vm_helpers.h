// Helpers of the VM (MMU) platform tests: jobs in an address space, VM create/bind,
// copies through device VAs.
#pragma once

#include <cstdint>
#include <vector>

#include "harness.h"

namespace accelvp::test {

inline uint32_t submit_vm(uapi::device& dev, const std::vector<uint8_t>& cmds, uint32_t vm_id, uint32_t queue = 0) {
    buffer cb = make_bo(dev, cmds.size(), uapi::BO_DEVICE);
    CHECK(cb.map->write(0, cmds.data(), cmds.size()) == 0);
    uapi::submit_args s;
    s.queue = queue;
    s.cmdbuf_handle = cb.args.handle;
    s.cmdbuf_size = static_cast<uint32_t>(cmds.size());
    s.vm_id = vm_id;
    CHECK(dev.submit(s) == 0);
    return s.seq;
}

inline uint32_t new_vm(uapi::device& dev) {
    uapi::vm_create_args a;
    CHECK(dev.vm_create(a) == 0);
    return a.vm_id;
}

inline void bind(uapi::device& dev, uint32_t vm, const buffer& b, uint64_t va, uint64_t size,
                 uint32_t flags = uapi::VM_READ | uapi::VM_WRITE) {
    uapi::vm_bind_args a;
    a.vm_id = vm;
    a.handle = b.args.handle;
    a.va = va;
    a.size = size;
    a.flags = flags;
    CHECK(dev.vm_bind(a) == 0);
}

inline int copy_in(uapi::device& dev, uint32_t vm, uint64_t src, uint64_t dst, uint64_t bytes, uapi::wait_args& w,
                   uint32_t queue = 0) {
    cmdbuf_builder cb;
    cb.copy(src, dst, bytes);
    return wait_job(dev, submit_vm(dev, cb.bytes(), vm, queue), w);
}

inline std::vector<uint8_t> peek(const buffer& b, uint64_t off, uint64_t n) {
    std::vector<uint8_t> v(n);
    CHECK(b.map->peek(off, v.data(), n) == 0);
    return v;
}

} // namespace accelvp::test
