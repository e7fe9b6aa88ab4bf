// The TLM side of a sparse backing store, shared by every memory model: access checks,
// debug transport and DMI grants. Timing stays in each model.
#pragma once

#include <algorithm>
#include <cstdint>

#include <systemc>
#include <tlm>

#include "tlm/core/extensions.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"
#include "tlm/mem/sparse_store.h"

namespace accelvp {

// Range, byte-enable and streaming-width checks; on failure sets the response status.
inline bool store_check(const sparse_store& s, tlm::tlm_generic_payload& t) {
    const uint64_t a = t.get_address(), n = t.get_data_length();
    if (a >= s.size() || n > s.size() - a) {
        t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (t.get_byte_enable_ptr()) {
        t.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    if (t.get_streaming_width() < n) {
        t.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    return true;
}

// Finish a checked read or write that completes at `done_ps` (absolute): move its data
// (none in timing-only mode), count it, answer OK with the DMI hint.
inline void store_complete(sparse_store& s, tlm::tlm_generic_payload& t, sc_core::sc_time& delay, uint64_t done_ps,
                           bool dmi, counter& reads, counter& writes, counter& bytes_read, counter& bytes_written) {
    const uint64_t a = t.get_address(), n = t.get_data_length();
    const bool move = !is_timing_only(t);
    if (t.is_read()) {
        ++reads;
        bytes_read += n;
        if (move) s.read(a, t.get_data_ptr(), n);
    } else if (t.is_write()) {
        ++writes;
        bytes_written += n;
        if (move) s.write(a, t.get_data_ptr(), n);
    }
    delay = offset_to(done_ps);
    t.set_dmi_allowed(dmi);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

// Debug access: no time, clipped to the store.
inline unsigned store_transport_dbg(sparse_store& s, tlm::tlm_generic_payload& t) {
    const uint64_t a = t.get_address();
    if (a >= s.size()) return 0;
    const uint64_t n = std::min<uint64_t>(t.get_data_length(), s.size() - a);
    if (t.is_read())
        s.read(a, t.get_data_ptr(), n);
    else if (t.is_write())
        s.write(a, t.get_data_ptr(), n);
    return static_cast<unsigned>(n);
}

// A read/write DMI grant for the store page holding addr.
inline bool store_dmi(sparse_store& s, uint64_t addr, tlm::tlm_dmi& dmi, const sc_core::sc_time& latency) {
    if (addr >= s.size()) return false;
    const uint64_t base = sparse_store::page_base(addr);
    dmi.set_dmi_ptr(s.page_ptr(addr));
    dmi.set_start_address(base);
    dmi.set_end_address(std::min(base + sparse_store::page_size, s.size()) - 1);
    dmi.allow_read_write();
    dmi.set_read_latency(latency);
    dmi.set_write_latency(latency);
    return true;
}

} // namespace accelvp
