#include "tlm/dma/dma_fanout.h"

#include "tlm/core/extensions.h"

namespace accelvp {

dma_fanout::dma_fanout(sc_core::sc_module_name name)
    : sc_module(name), cmd_socket("cmd_socket"), engine_socket("engine_socket") {
    cmd_socket.register_b_transport(this, &dma_fanout::b_transport);
}

void dma_fanout::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const command_ext* ext = t.get_extension<command_ext>();
    const unsigned n = static_cast<unsigned>(engine_socket.size());
    engine_socket[ext ? ext->stream % n : 0]->b_transport(t, delay);
}

} // namespace accelvp
