#include "tlm/link/coll_engine.h"

#include <cstring>
#include <algorithm>
#include <array>
#include <functional>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "tlm/compute/numerics.h"
#include "tlm/core/extensions.h"
#include "tlm/core/payload_pool.h"
#include "tlm/core/log.h"
#include "tlm/core/trace.h"

namespace accelvp {

namespace {
constexpr uint32_t op_of(const aax_pkt_coll& p) { return p.hdr.param & 0xFFu; }
constexpr uint32_t dtype_of(const aax_pkt_coll& p) { return (p.hdr.param >> 8) & 0xFu; }
constexpr uint32_t red_of(const aax_pkt_coll& p) { return (p.hdr.param >> 12) & 0xFu; }
constexpr bool signals(const aax_pkt_coll& p) { return p.hdr.param & AAX_COLL_F_SIGNAL; }
constexpr uint32_t signal_bytes = 8;   // a semaphore message on the wire (payload)
const char* const op_names[] = {"send", "recv", "rdma_write", "signal", "reduce"};

template <typename T, typename F>
void combine_as(uint8_t* dst, const uint8_t* src, uint64_t bytes, F f) {
    for (uint64_t i = 0; i + sizeof(T) <= bytes; i += sizeof(T)) {
        T a, b;
        std::memcpy(&a, dst + i, sizeof(T));
        std::memcpy(&b, src + i, sizeof(T));
        a = f(a, b);
        std::memcpy(dst + i, &a, sizeof(T));
    }
}
} // namespace

const param_table<coll_engine::params>& coll_engine::params::table() {
    static const auto t =
        param_table<params>()
            .integer("chunk_bytes", &params::chunk_bytes, 256, 1 << 24,
                     "largest piece a transfer is cut into (local read, link, remote write)", "bytes")
            .integer("max_outstanding", &params::max_outstanding, 1, 64, "chunks of one transfer in flight at once")
            .real("setup_ns", &params::setup_ns, 0, 1e6, "fixed cost per COLL packet", "ns")
            .real("reduce_gbps", &params::reduce_gbps, 0.1, 1e6, "reduction datapath throughput of the receiver",
                  "GB/s")
            .real("recv_timeout_us", &params::recv_timeout_us, 0.001, 1e9,
                  "how long a SEND waits for the peer to post its RECV", "us");
    return t;
}

void coll_engine::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

coll_engine::params coll_engine::from_config(const config& c, const std::string& prefix) {
    auto p = params::table().load(c, prefix);
    p.regs_base = c.get(keys::addr::regs_base);
    p.timing_only = c.get(keys::sim::mode) == "timing";
    return p;
}

coll_engine::coll_engine(sc_core::sc_module_name name, const params& p)
    : sc_module(name), cmd_socket("cmd_socket"), bus_socket("bus_socket"), p_(p), reduce_path_(p.reduce_gbps * 1e9) {
    p_.chunk_bytes = std::max<uint32_t>(256, p_.chunk_bytes & ~63u);  // whole elements of any dtype
    // Staging buffers, left uninitialised: the bus reads fill them before any use, and
    // pages never touched (timing mode moves no data) cost no resident memory -- a chip
    // of a large system that only forwards collectives stays small.
    buf_.reset(new uint8_t[static_cast<size_t>(p_.chunk_bytes) * p_.max_outstanding]);
    peer_buf_.reset(new uint8_t[p_.chunk_bytes]);
    cmd_socket.register_b_transport(this, &coll_engine::cmd_b_transport);
    stats_.add({&commands_, &errors_, &bytes_sent_, &bytes_reduced_, &signals_, &busy_});
    track_ = tracer::instance().track(this->name());
}

coll_engine::~coll_engine() = default;  // stats_ unregisters the stats

void coll_engine::connect(unsigned port, std::vector<link_channel*> path, coll_engine* peer, unsigned peer_port) {
    if (port >= ports_.size()) {
        ports_.resize(port + 1);
        posted_.resize(port + 1);
    }
    ports_[port] = wire{std::move(path), peer, peer_port};
    if (peer->posted_.size() <= peer_port) peer->posted_.resize(peer_port + 1);
}

uint8_t coll_engine::validate(const aax_pkt_coll& p) {
    const uint32_t op = op_of(p);
    if (op >= AAX_COLL_OP_COUNT) return AAX_ERR_BAD_PARAM;
    if (p.hdr.param & ~(0xFFFFu | AAX_COLL_F_SIGNAL)) return AAX_ERR_BAD_PARAM;
    if (op != AAX_COLL_REDUCE && (dtype_of(p) || red_of(p))) return AAX_ERR_BAD_PARAM;
    if (op == AAX_COLL_SIGNAL ? (p.bytes != 0 || !signals(p)) : p.bytes == 0) return AAX_ERR_BAD_PARAM;
    if (signals(p) && p.sem >= AAX_MAX_SEMS) return AAX_ERR_BAD_PARAM;
    if (op == AAX_COLL_REDUCE) {
        const uint64_t elem = dtype_of(p) >= AAX_COLL_DT_BF16 ? 2 : 4;
        if (dtype_of(p) > AAX_COLL_DT_FP16 || red_of(p) > AAX_COLL_RED_MAX || p.bytes % elem) return AAX_ERR_BAD_PARAM;
    }
    const auto end = [&](uint64_t a) { return static_cast<unsigned __int128>(a) + p.bytes; };
    const auto limit = static_cast<unsigned __int128>(1) << 64;
    if (end(p.local_addr) > limit || end(p.remote_addr) > limit) return AAX_ERR_BAD_PARAM;
    return AAX_OK;
}

void coll_engine::combine(uint8_t* dst, const uint8_t* src, uint64_t bytes, unsigned dtype, unsigned red) {
    if (dtype == AAX_COLL_DT_FP32) {
        if (red == AAX_COLL_RED_SUM) combine_as<float>(dst, src, bytes, [](float a, float b) { return a + b; });
        else combine_as<float>(dst, src, bytes, [](float a, float b) { return b > a ? b : a; });
    } else if (dtype == AAX_COLL_DT_INT32) {
        // Sum wraps (two's complement), like the integer vector path.
        if (red == AAX_COLL_RED_SUM)
            combine_as<uint32_t>(dst, src, bytes, [](uint32_t a, uint32_t b) { return a + b; });
        else combine_as<int32_t>(dst, src, bytes, [](int32_t a, int32_t b) { return b > a ? b : a; });
    } else {
        // 16-bit floats: widen both to fp32, combine, round once back (nearest even), as
        // the vector engine does (tlm/compute/numerics.h).
        const bool bf = dtype == AAX_COLL_DT_BF16;
        const bool sum = red == AAX_COLL_RED_SUM;
        combine_as<uint16_t>(dst, src, bytes, [bf, sum](uint16_t a, uint16_t b) {
            const float x = bf ? num::bf16_to_f32(a) : num::fp16_to_f32(a);
            const float y = bf ? num::bf16_to_f32(b) : num::fp16_to_f32(b);
            const float r = sum ? x + y : (y > x ? y : x);
            return bf ? num::f32_to_bf16(r) : num::f32_to_fp16(r);
        });
    }
}

void coll_engine::cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    serve_command<aax_pkt_coll>(t, [&](const aax_pkt_coll& pkt, command_ext& ext) {
        const result r = execute(pkt, delay, ext.deadline_ps);
        ext.status = r.status;
        ext.error_addr = r.error_addr;
    });
}

uint8_t coll_engine::bus_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint32_t len,
                                sc_core::sc_time& delay, uint64_t& error_addr) {
    const tlm::tlm_response_status r = engine_transport(bus_socket, cmd, addr, data, len, delay, p_.timing_only);
    if (r == tlm::TLM_OK_RESPONSE) return AAX_OK;
    error_addr = addr;
    return r == tlm::TLM_ADDRESS_ERROR_RESPONSE ? AAX_ERR_BAD_ADDRESS : AAX_ERR_BUS;
}

uint8_t coll_engine::sem_add(uint16_t sem, uint32_t value) {
    const pooled_payload pt;
    tlm::tlm_generic_payload& t = *pt;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    init_payload(t, tlm::TLM_WRITE_COMMAND, p_.regs_base + AAX_SEM_ADD(sem), &value, 4);
    bus_socket->b_transport(t, d);  // control traffic: real data in both modes
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) return AAX_ERR_BAD_PARAM;  // no such semaphore
    ++signals_;
    return AAX_OK;
}

coll_engine::result coll_engine::stream(const aax_pkt_coll& p, const wire& w, uint64_t dst_addr, bool reduce,
                                        uint64_t t0, uint64_t& done, uint64_t deadline_ps) {
    // Up to max_outstanding chunks in flight, each going read -> link -> peer. Steps run
    // in time order and simulated time catches up with each step before it executes, so
    // the memories of both chips (shared with their other initiators) see accesses at
    // their true times, not ahead of them (a timeline serves in presentation order).
    result res;
    coll_engine& peer = *w.peer;
    // A min-heap on (time, seq) in a member vector (one stream at a time: busy_lock_), so a
    // transfer allocates nothing.
    std::vector<step>& q = steps_;
    q.clear();
    const auto push = [&q](const step& s) {
        q.push_back(s);
        std::push_heap(q.begin(), q.end(), std::greater<step>());
    };
    uint64_t next_off = 0, seq = 0, last_link = t0;
    const bool private_link = w.path.size() == 1;
    done = t0;
    auto start_chunk = [&](uint32_t slot, uint64_t at) {
        if (next_off >= p.bytes) return;
        const auto len = static_cast<uint32_t>(std::min<uint64_t>(p_.chunk_bytes, p.bytes - next_off));
        push(step{at, seq++, next_off, slot, len, stage::read});
        next_off += len;
    };
    for (uint32_t s = 0; s < p_.max_outstanding; ++s) start_chunk(s, t0);
    while (!q.empty()) {
        std::pop_heap(q.begin(), q.end(), std::greater<step>());
        step st = q.back();
        q.pop_back();
        if (deadline_ps && st.t > deadline_ps) {
            res.status = AAX_ERR_TIMEOUT;
            done = std::max(done, deadline_ps);
            return res;
        }
        // The link stage computes with the port's own transmitter only (a direct link is
        // wired to one port, so nothing else sends on it): no need to be at its time. Through
        // a switch the downlink is shared with other senders, which must see time order.
        const uint64_t now = sc_core::sc_time_stamp().value();
        if (st.t > now && !(st.what == stage::link && private_link)) sc_core::wait(ps(st.t - now));
        uint8_t* data = buf_.get() + static_cast<size_t>(st.slot) * p_.chunk_bytes;
        const uint64_t dst = dst_addr + st.off;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        switch (st.what) {
        case stage::read:
            res.status = bus_access(tlm::TLM_READ_COMMAND, p.local_addr + st.off, data, st.len, d, res.error_addr);
            st.what = stage::link;
            st.t = abs_ps(d);
            break;
        case stage::link: {
            const link_result lr = link_channel::send(w.path, st.t, st.len);
            last_link = st.t;
            if (lr.status != AAX_OK) {
                res.status = lr.status;
                res.error_addr = dst;
                done = std::max(done, lr.done_ps);
                return res;
            }
            bytes_sent_ += st.len;
            st.what = stage::peer;
            st.t = lr.done_ps;
            break;
        }
        case stage::peer:
            // Write, or read + combine on the peer's reduction path + write (one atomic
            // read-modify-write: nothing else runs in between).
            if (reduce) {
                res.status = peer.bus_access(tlm::TLM_READ_COMMAND, dst, peer_buf_.get(), st.len, d, res.error_addr);
                if (res.status) break;
                d = offset_to(peer.reduce_path_.reserve(abs_ps(d), st.len));
                if (!p_.timing_only) combine(peer_buf_.get(), data, st.len, dtype_of(p), red_of(p));
                peer.bytes_reduced_ += st.len;
            }
            if (res.status == AAX_OK)
                res.status = peer.bus_access(tlm::TLM_WRITE_COMMAND, dst, reduce ? peer_buf_.get() : data, st.len, d,
                                             res.error_addr);
            done = std::max(done, abs_ps(d));
            start_chunk(st.slot, abs_ps(d));  // the slot's buffer is free again
            continue;
        }
        if (res.status) return res;
        st.seq = seq++;
        push(st);
    }
    if (res.status) return res;
    // The signal message follows the data on the transmitter, so it lands after it.
    if (signals(p)) {
        const link_result sr = link_channel::send(w.path, last_link, signal_bytes);
        res.status = sr.status;
        done = std::max(done, sr.done_ps);
    }
    return res;
}

coll_engine::result coll_engine::execute(const aax_pkt_coll& p, sc_core::sc_time& delay, uint64_t deadline_ps) {
    result res;
    ++commands_;
    const uint64_t begin = abs_ps(delay);
    uint64_t done = begin;
    res.status = validate(p);
    if (res.status == AAX_OK && (p.port >= ports_.size() || !ports_[p.port].peer))
        res.status = AAX_ERR_BAD_PARAM;  // no link wired to this port
    const uint32_t op = op_of(p);
    if (res.status == AAX_OK) {
        const wire& w = ports_[p.port];
        coll_engine& peer = *w.peer;
        const uint64_t t0 = begin + static_cast<uint64_t>(p_.setup_ns * 1000.0 + 0.5);
        done = t0;
        // What to add to which of the peer's semaphores once the data has landed.
        // (At most two: the packet's own and, for a SEND, the posted RECV's. Not a vector: one
        // allocation per packet showed in large systems' profiles.)
        std::array<std::pair<uint16_t, uint32_t>, 2> peer_signals;
        unsigned n_signals = 0;
        if (signals(p)) peer_signals[n_signals++] = {p.sem, p.sem_value};
        switch (op) {
        case AAX_COLL_RECV:
            posted_[p.port].push_back(posted_recv{p.local_addr, p.bytes, p.sem, p.sem_value, signals(p), t0});
            posted_ev_.notify(sc_core::SC_ZERO_TIME);
            n_signals = 0;  // a RECV's signal is applied by the SEND that fills it
            break;
        case AAX_COLL_SIGNAL: {
            const link_result sr = link_channel::send(w.path, t0, signal_bytes);
            res.status = sr.status;
            done = sr.done_ps;
            break;
        }
        case AAX_COLL_RDMA_WRITE:
        case AAX_COLL_REDUCE:
            busy_lock_.lock();
            res = stream(p, w, p.remote_addr, op == AAX_COLL_REDUCE, t0, done, deadline_ps);
            busy_lock_.unlock();
            break;
        case AAX_COLL_SEND: {
            // Rendezvous: wait (in simulated time) until the peer has posted a receive.
            auto& q = peer.posted_[w.peer_port];
            if (q.empty()) {
                sc_core::wait(delay);
                delay = sc_core::SC_ZERO_TIME;
                const uint64_t start = sc_core::sc_time_stamp().value();
                uint64_t limit = start + static_cast<uint64_t>(p_.recv_timeout_us * 1e6);
                if (deadline_ps) limit = std::min(limit, deadline_ps);
                while (q.empty() && sc_core::sc_time_stamp().value() < limit)
                    sc_core::wait(ps(limit - sc_core::sc_time_stamp().value()), peer.posted_ev_);
                if (q.empty()) {
                    res.status = AAX_ERR_TIMEOUT;
                    done = sc_core::sc_time_stamp().value();
                    break;
                }
                done = std::max<uint64_t>(t0, sc_core::sc_time_stamp().value());
            }
            const posted_recv r = q.front();
            if (p.bytes > r.bytes) {  // would overrun the posted buffer; the receive stays posted
                res.status = AAX_ERR_BAD_PARAM;
                break;
            }
            q.pop_front();
            if (r.signal) peer_signals[n_signals++] = {r.sem, r.sem_value};
            busy_lock_.lock();
            aax_pkt_coll s = p;
            s.hdr.param |= n_signals == 0 ? 0u : AAX_COLL_F_SIGNAL;  // one signal message for both
            res = stream(s, w, r.addr, false, std::max({done, r.at}), done, deadline_ps);
            busy_lock_.unlock();
            break;
        }
        default: res.status = AAX_ERR_BAD_PARAM; break;
        }
        // Semaphore signals take effect when they arrive: wait for it, then add.
        if (res.status == AAX_OK && n_signals != 0) {
            const uint64_t now = sc_core::sc_time_stamp().value();
            if (done > now) sc_core::wait(ps(done - now));
            delay = sc_core::SC_ZERO_TIME;
            for (unsigned i = 0; i < n_signals && res.status == AAX_OK; ++i)
                res.status = peer.sem_add(peer_signals[i].first, peer_signals[i].second);
        }
    }
    if (res.status != AAX_OK) {
        ++errors_;
        AVP_LOG(info, name(), "COLL {} failed: {}", op < AAX_COLL_OP_COUNT ? op_names[op] : "?",
                aax_status_name(res.status));
    }
    busy_ += static_cast<double>(done - begin);
    if (tracer::instance().enabled()) {
        tracer::instance().slice(track_, op < AAX_COLL_OP_COUNT ? op_names[op] : "coll", ps(begin), ps(done - begin),
                                 "coll",
                                 fmt::format(R"({{"port":{},"bytes":{},"status":"{}"}})", p.port, p.bytes,
                                             aax_status_name(res.status)));
    }
    delay = offset_to(done);
    return res;
}

} // namespace accelvp
