// Unit tests of the generic-payload free list (tlm/core/payload_pool.h).
#include <catch2/catch.hpp>

#include <tlm>

#include "tlm/core/extensions.h"
#include "tlm/core/payload_pool.h"

using accelvp::pooled_payload;

TEST_CASE("payload pool: holders at the same time get different payloads, a returned one is reused",
          "[payload_pool]") {
    tlm::tlm_generic_payload* first = nullptr;
    {
        const pooled_payload a;
        const pooled_payload b;  // e.g. a target making its own transaction inside b_transport
        CHECK(&*a != &*b);
        first = &*b;
    }
    // Given back in reverse order: the last one returned (a) comes first, then b.
    const pooled_payload c;
    const pooled_payload d;
    CHECK(&*d == first);
    CHECK(&*c != &*d);
}

TEST_CASE("payload pool: a reused payload carries what init_payload sets and no extension", "[payload_pool]") {
    uint32_t word = 0x1234;
    {
        const pooled_payload p;
        accelvp::init_payload(*p, tlm::TLM_READ_COMMAND, 0x40, &word, 4);
        p->set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        p->set_dmi_allowed(true);
        accelvp::timing_only_ext timing;
        accelvp::extension_guard<accelvp::timing_only_ext> g(*p, &timing);
        CHECK(p->get_extension<accelvp::timing_only_ext>() == &timing);
    }
    const pooled_payload q;
    CHECK(q->get_extension<accelvp::timing_only_ext>() == nullptr);  // the guard cleared it
    uint8_t data[8] = {};
    accelvp::init_payload(*q, tlm::TLM_WRITE_COMMAND, 0x80, data, 8);
    CHECK(q->is_write());
    CHECK(q->get_address() == 0x80);
    CHECK(q->get_data_ptr() == data);
    CHECK(q->get_data_length() == 8);
    CHECK(q->get_streaming_width() == 8);
    CHECK(q->get_byte_enable_ptr() == nullptr);
    CHECK_FALSE(q->is_dmi_allowed());
    CHECK(q->get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE);
}
