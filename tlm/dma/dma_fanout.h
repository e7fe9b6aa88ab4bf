// Several DMA engines behind one command socket: a packet goes to engine
// (submitting ring % engines), from command_ext::stream. So each ring keeps its packets in
// order on one engine while different rings run on different engines in parallel.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

namespace accelvp {

class dma_fanout : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<dma_fanout> cmd_socket;                      // from the queue manager
    tlm_utils::multi_passthrough_initiator_socket<dma_fanout> engine_socket;     // to each engine's cmd_socket

    explicit dma_fanout(sc_core::sc_module_name name);

private:
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
};

} // namespace accelvp
