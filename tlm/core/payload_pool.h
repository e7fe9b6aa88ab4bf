// Generic payloads for initiators that make one per transaction.
//
// A tlm_generic_payload allocates and zeroes its extension array when constructed and frees
// it when destroyed: a collective step of a multi-chip run made about six of them (queue
// packet, bus reads and writes, semaphore signal), and with the other small allocations of
// the step that was a tenth of a 1024-chip run. A pooled_payload takes one from a free list
// and gives it back when it goes out of scope, so a payload is made once and reused.
//
// The free list belongs to the OS thread. SystemC processes are coroutines of one OS thread;
// taking and giving back never yields, so no two holders ever share a payload, however the
// processes interleave (a holder may wait() inside b_transport as with a local payload).
// A holder sets every attribute it uses (init_payload) as with a fresh payload, and clears
// every extension it set (extension_guard) before giving it back: the sanitizer and debug
// builds check that none is left.
#pragma once

#include <tlm>

namespace accelvp {

class pooled_payload {
public:
    pooled_payload() : p_(take()) {}
    ~pooled_payload() { give_back(p_); }
    pooled_payload(const pooled_payload&) = delete;
    pooled_payload& operator=(const pooled_payload&) = delete;

    tlm::tlm_generic_payload& operator*() const { return *p_; }
    tlm::tlm_generic_payload* operator->() const { return p_; }

private:
    static tlm::tlm_generic_payload* take();
    static void give_back(tlm::tlm_generic_payload* p);
    tlm::tlm_generic_payload* p_;
};

} // namespace accelvp
