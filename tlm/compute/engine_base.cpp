#include "tlm/compute/engine_base.h"

#include <cstring>

#include <fmt/format.h>

#include "abi/aax_queue.h"
#include "tlm/core/trace.h"
#include <vector>

namespace accelvp {

compute_engine::compute_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram,
                               uint32_t packet_bytes)
    : sc_module(name), cmd_socket("cmd_socket"), p_(p), sram_(sram), packet_bytes_(packet_bytes) {
    cmd_socket.register_b_transport(this, &compute_engine::cmd_b_transport);
    stats_.add({&packets_, &errors_, &busy_cycles_, &busy_, &stall_cycles_, &queue_wait_ps_});
}

compute_engine::~compute_engine() = default;  // stats_ unregisters the stats

void compute_engine::cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    auto* ext = t.get_extension<command_ext>();
    if (!t.is_write() || !ext) {
        t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
    if (t.get_data_length() != packet_bytes_) {
        ext->status = AAX_ERR_BAD_LENGTH;
        ++errors_;
        return;
    }
    std::vector<uint8_t> pkt(t.get_data_ptr(), t.get_data_ptr() + packet_bytes_);
    const result r = execute(pkt.data(), p_.timing_only || is_timing_only(t));
    ext->status = r.status;
    ext->error_addr = r.error_addr;
    if (r.status != AAX_OK) {
        ++errors_;
        return;
    }
    // Analytic time: the packet occupies the engine for its cycles, after any packet of
    // another queue that reached the engine first.
    const uint64_t arrival = abs_ps(delay);
    const uint64_t dur = p_.cycles_to_ps(r.cycles);
    const uint64_t end = pipe_.reserve_for(arrival, dur);
    delay = offset_to(end);
    queue_wait_ps_ += end - dur - arrival;  // started when the engine was free
    if (tracer::instance().enabled()) {  // the engine's own track (docs/profiling.md)
        if (track_ < 0) track_ = tracer::instance().track(name());
        tracer::instance().slice(track_, aax_opcode_name(pkt[0]), sc_core::sc_time::from_value(end - dur),
                                 sc_core::sc_time::from_value(dur), "compute",
                                 fmt::format(R"({{"cycles":{},"stream":{}}})", r.cycles, ext->stream));
        // The job's flow arrow passes through this packet (docs/profiling.md#flows).
        if (ext->flow) tracer::instance().flow_event('t', track_, ext->flow, sc_core::sc_time::from_value(end - dur / 2));
    }
    ++packets_;
    busy_cycles_ += r.cycles;
    stall_cycles_ += r.stall;
    busy_ += static_cast<double>(dur);
}

} // namespace accelvp
