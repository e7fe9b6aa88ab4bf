#include "tlm/core/payload_pool.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace accelvp {

namespace {
// Owns every payload the thread made; `free` lists those not held.
struct pool {
    std::vector<std::unique_ptr<tlm::tlm_generic_payload>> all;
    std::vector<tlm::tlm_generic_payload*> free;
};
pool& thread_pool() {
    thread_local pool p;
    return p;
}
} // namespace

tlm::tlm_generic_payload* pooled_payload::take() {
    pool& p = thread_pool();
    if (p.free.empty()) {
        p.all.push_back(std::make_unique<tlm::tlm_generic_payload>());
        return p.all.back().get();
    }
    tlm::tlm_generic_payload* t = p.free.back();
    p.free.pop_back();
    return t;
}

void pooled_payload::give_back(tlm::tlm_generic_payload* t) {
    // Extensions: every one this code base sets is an extension_guard's, cleared when the guard
    // goes (before the holder). Checking all of them (a library call each) was 5 % of a
    // collective step, so the check runs in the sanitizer and debug builds, where the test
    // suite would catch a setter that leaves one behind for the payload's next holder.
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
    t->resize_extensions();
    for (unsigned i = 0, n = tlm::max_num_extensions(); i < n; ++i)
        if (t->get_extension(i)) {
            std::fprintf(stderr, "accelvp: internal error: a pooled payload came back with extension %u still set\n", i);
            std::abort();
        }
#endif
    thread_pool().free.push_back(t);
}

} // namespace accelvp
