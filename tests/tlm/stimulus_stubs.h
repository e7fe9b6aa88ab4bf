// Minimal stubs for the per-block stimulus tests (tests/tlm/test_*_stimulus.cpp): each test
// binds only the block under test to these -- an initiator that issues register accesses
// and packets, a memory target with a fixed latency, a command-packet target, an interrupt
// sink and a reset sink -- so a block's contract (docs/abi.md, its header) is checked
// without the rest of the chip. Header-only: the tests/tlm glob picks up only .cpp files.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "abi/aax_queue.h"
#include "tlm/core/extensions.h"
#include "tlm/core/register_firewall.h"

namespace accelvp::stim {

// Issues plain TLM accesses: registers (32 bit), memory blocks and command packets.
struct initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<initiator> socket{"socket"};
    explicit initiator(sc_core::sc_module_name n) : sc_module(n) {}

    tlm::tlm_response_status go(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len, sc_core::sc_time& d) {
        tlm::tlm_generic_payload t;
        init_payload(t, cmd, addr, data, len);
        socket->b_transport(t, d);
        return t.get_response_status();
    }
    tlm::tlm_response_status write32(uint64_t addr, uint32_t v) {
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        return go(tlm::TLM_WRITE_COMMAND, addr, &v, 4, d);
    }
    // The value read, or 0xDEADBEEF when the access failed (`st` gets the status).
    uint32_t read32(uint64_t addr, tlm::tlm_response_status* st = nullptr) {
        uint32_t v = 0xDEADBEEF;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        const auto s = go(tlm::TLM_READ_COMMAND, addr, &v, 4, d);
        if (st) *st = s;
        return v;
    }
    tlm::tlm_response_status status_of_read(uint64_t addr) {
        tlm::tlm_response_status s;
        read32(addr, &s);
        return s;
    }
    unsigned debug(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len) {
        tlm::tlm_generic_payload t;
        init_payload(t, cmd, addr, data, len);
        return socket->transport_dbg(t);
    }
    // A command packet (the queue manager's side of the engine protocol): the status the
    // engine reported through command_ext, the response, the delay it added.
    struct cmd_result {
        tlm::tlm_response_status response = tlm::TLM_INCOMPLETE_RESPONSE;
        uint8_t status = 0xEE;
        uint64_t error_addr = 0;
        sc_core::sc_time delay;
    };
    template <typename Pkt>
    cmd_result command(const Pkt& pkt, uint64_t deadline_ps = 0, uint16_t asid = 0,
                       sc_core::sc_time start = sc_core::SC_ZERO_TIME) {
        return command_bytes(&pkt, sizeof(pkt), deadline_ps, asid, start);
    }
    cmd_result command_bytes(const void* p, uint32_t len, uint64_t deadline_ps = 0, uint16_t asid = 0,
                             sc_core::sc_time start = sc_core::SC_ZERO_TIME, bool with_ext = true) {
        std::vector<uint8_t> bytes(static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + len);
        tlm::tlm_generic_payload t;
        command_ext ext;
        ext.deadline_ps = deadline_ps;
        ext.asid = asid;
        init_payload(t, tlm::TLM_WRITE_COMMAND, 0, bytes.data(), len);
        extension_guard<command_ext> g(t, with_ext ? &ext : nullptr);
        cmd_result r;
        r.delay = start;
        socket->b_transport(t, r.delay);
        r.response = t.get_response_status();
        r.status = ext.status;
        r.error_addr = ext.error_addr;
        return r;
    }
};

// One access seen by a stub target.
struct access {
    bool write = false;
    uint64_t addr = 0;
    uint32_t len = 0;
    uint64_t arrive_ps = 0;  // absolute time of arrival (now + annotated delay)
    uint64_t now_ps = 0;     // SystemC time when b_transport was called
    uint16_t asid = 0;       // asid_ext on the access (0: none)
    bool privileged = false;
    bool timing_only = false;
};

// Memory target: `size` bytes at `base` with a fixed latency per access and unlimited
// bandwidth; [lo, hi) ranges answer with a chosen error response. Records every access.
struct mem_stub : sc_core::sc_module {
    tlm_utils::simple_target_socket<mem_stub> socket{"socket"};
    uint64_t base;
    std::vector<uint8_t> bytes;
    uint64_t latency_ps;
    std::vector<access> log;
    struct fault {
        uint64_t lo, hi;
        tlm::tlm_response_status resp;
    };
    std::vector<fault> faults;

    mem_stub(sc_core::sc_module_name n, uint64_t base_, uint64_t size, uint64_t latency_ps_ = 0)
        : sc_module(n), base(base_), bytes(size, 0), latency_ps(latency_ps_) {
        socket.register_b_transport(this, &mem_stub::b_transport);
        socket.register_transport_dbg(this, &mem_stub::transport_dbg);
    }
    uint8_t* at(uint64_t a) { return bytes.data() + (a - base); }
    template <typename T>
    void put(uint64_t a, const T& v) { std::memcpy(at(a), &v, sizeof(T)); }
    template <typename T>
    T get(uint64_t a) {
        T v;
        std::memcpy(&v, at(a), sizeof(T));
        return v;
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) {
        access a;
        a.write = t.is_write();
        a.addr = t.get_address();
        a.len = t.get_data_length();
        a.now_ps = sc_core::sc_time_stamp().value();
        a.arrive_ps = (sc_core::sc_time_stamp() + d).value();
        if (auto* e = t.get_extension<asid_ext>()) a.asid = e->asid;
        a.privileged = t.get_extension<privileged_ext>() != nullptr;
        a.timing_only = is_timing_only(t);
        log.push_back(a);
        for (const auto& f : faults)
            if (a.addr < f.hi && a.addr + a.len > f.lo) {
                t.set_response_status(f.resp);
                return;
            }
        if (a.addr < base || a.addr + a.len > base + bytes.size()) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        if (!a.timing_only) {
            if (t.is_write())
                std::memcpy(at(a.addr), t.get_data_ptr(), a.len);
            else
                std::memcpy(t.get_data_ptr(), at(a.addr), a.len);
        }
        d += sc_core::sc_time::from_value(latency_ps);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) {
        const uint64_t a = t.get_address(), n = t.get_data_length();
        if (a < base || a + n > base + bytes.size()) return 0;
        if (t.is_write())
            std::memcpy(at(a), t.get_data_ptr(), n);
        else
            std::memcpy(t.get_data_ptr(), at(a), n);
        return static_cast<unsigned>(n);
    }
};

// Command-packet target standing in for an engine: records each packet and its
// command_ext, answers with `status` after `cost_ps`.
struct engine_stub : sc_core::sc_module {
    tlm_utils::simple_target_socket<engine_stub> socket{"socket"};
    struct packet {
        std::vector<uint8_t> bytes;
        command_ext ext;
        uint64_t arrive_ps = 0;
    };
    std::vector<packet> got;
    uint8_t status = AAX_OK;
    uint64_t error_addr = 0;
    uint64_t cost_ps = 0;
    explicit engine_stub(sc_core::sc_module_name n) : sc_module(n) {
        socket.register_b_transport(this, &engine_stub::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) {
        packet p;
        p.bytes.assign(t.get_data_ptr(), t.get_data_ptr() + t.get_data_length());
        if (auto* e = t.get_extension<command_ext>()) {
            p.ext = *e;
            e->status = status;
            e->error_addr = error_addr;
        }
        p.arrive_ps = (sc_core::sc_time_stamp() + d).value();
        got.push_back(std::move(p));
        d += sc_core::sc_time::from_value(cost_ps);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// Interrupt sink (edge lines / MSI-X vectors): records (line, time).
struct irq_sink : sc_core::sc_module, irq_if {
    sc_core::sc_export<irq_if> in{"in"};
    std::vector<std::pair<unsigned, uint64_t>> got;
    explicit irq_sink(sc_core::sc_module_name n) : sc_module(n) { in.bind(*this); }
    void raise(unsigned line) override { got.emplace_back(line, sc_core::sc_time_stamp().value()); }
    size_t count(unsigned line) const {
        size_t n = 0;
        for (const auto& g : got) n += g.first == line;
        return n;
    }
};

// Soft-reset sink.
struct reset_sink : sc_core::sc_module, reset_if {
    sc_core::sc_export<reset_if> in{"in"};
    unsigned resets = 0;
    explicit reset_sink(sc_core::sc_module_name n) : sc_module(n) { in.bind(*this); }
    void soft_reset() override { ++resets; }
};

// Runs `body` as a SystemC thread (blocking transports need one), then the simulation.
inline void run(std::function<void()> body) {
    sc_core::sc_spawn(std::move(body), "stimulus");
    sc_core::sc_start();
}

inline uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }

} // namespace accelvp::stim
