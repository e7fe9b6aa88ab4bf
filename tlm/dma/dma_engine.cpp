#include "tlm/dma/dma_engine.h"

#include <cstring>
#include <queue>

#include <fmt/format.h>

#include "tlm/core/extensions.h"
#include "tlm/core/payload_pool.h"
#include "tlm/core/log.h"
#include "tlm/core/trace.h"

namespace accelvp {

const param_table<dma_engine::params>& dma_engine::params::table() {
    static const auto t =
        param_table<params>()
            .integer("burst_bytes", &params::burst_bytes, 64, 1 << 20, "largest single bus transaction", "bytes")
            .integer("max_outstanding", &params::max_outstanding, 1, 256, "bursts in flight at once")
            .real("bandwidth_gbps", &params::bandwidth_gbps, 0.1, 100000, "engine datapath throughput", "GB/s")
            .real("setup_ns", &params::setup_ns, 0, 100000, "fixed cost per DMA packet", "ns")
            .real("sync_ns", &params::sync_ns, 0, 1e9,
                  "let SystemC time catch up whenever the transfer runs this far ahead, so engines running at once "
                  "interleave at this grain (0 = automatic: 64 ns with several engines, else every 16384 steps)",
                  "ns")
            .boolean("split_reads", &params::split_reads,
                     "queue reads at memories that can hold them (the DRAM model) and complete them later, so every "
                     "read in flight is visible to the memory's schedulers at once (false: each read is scheduled "
                     "alone)");
    return t;
}

void dma_engine::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

dma_engine::params dma_engine::from_config(const config& c, const std::string& prefix) {
    params p = params::table().load(c, prefix);
    p.timing_only = c.get(keys::sim::mode) == "timing";
    return p;
}

dma_engine::dma_engine(sc_core::sc_module_name name, const params& p)
    : sc_module(name), cmd_socket("cmd_socket"), bus_socket("bus_socket"), p_(p), datapath_(p.bandwidth_gbps * 1e9),
      requests_(p.bandwidth_gbps * 1e9),
      splits_(p.split_reads ? p.max_outstanding : 0) {
    cmd_socket.register_b_transport(this, &dma_engine::cmd_b_transport);
    stats_.add({&commands_, &errors_, &bursts_, &bytes_, &busy_, &throughput_, &read_wait_ps_});
    track_ = tracer::instance().track(this->name());
}

dma_engine::~dma_engine() = default;  // stats_ unregisters the stats

uint8_t* dma_engine::staging(uint32_t slot) {
    if (!buffers_) {
        buffers_.reset(static_cast<uint8_t*>(std::calloc(static_cast<size_t>(p_.max_outstanding) * p_.burst_bytes, 1)));
        if (!buffers_) throw std::bad_alloc();
    }
    return buffers_.get() + static_cast<size_t>(slot) * p_.burst_bytes;
}

uint8_t dma_engine::validate(const aax_pkt_dma& p) {
    if (p.width == 0 || p.height == 0) return AAX_ERR_BAD_PARAM;
    if (p.hdr.param & ~AAX_DMA_FILL) return AAX_ERR_BAD_PARAM;
    if (p.height > 1 && p.dst_stride < p.width) return AAX_ERR_BAD_PARAM;  // rows would overlap
    // Keep every address computation inside 64 bits.
    const unsigned __int128 span_dst = static_cast<unsigned __int128>(p.height - 1) * p.dst_stride + p.width;
    const unsigned __int128 span_src = static_cast<unsigned __int128>(p.height - 1) * p.src_stride + p.width;
    if (p.dst + span_dst > (static_cast<unsigned __int128>(1) << 64)) return AAX_ERR_BAD_PARAM;
    if (!(p.hdr.param & AAX_DMA_FILL) && p.src + span_src > (static_cast<unsigned __int128>(1) << 64))
        return AAX_ERR_BAD_PARAM;
    return AAX_OK;
}

void dma_engine::cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    serve_command<aax_pkt_dma>(t, [&](const aax_pkt_dma& pkt, command_ext& ext) {
        // One command at a time: a transfer may wait (a burst into register space), and
        // the staging buffers and datapath belong to the command in progress.
        busy_lock_.lock();
        asid_ = ext.asid;
        flow_ = ext.flow;
        const result r = hang_next(ext) ? hang(ext, delay) : execute(pkt, delay, ext.deadline_ps);
        busy_lock_.unlock();
        ext.status = r.status;
        ext.error_addr = r.error_addr;
    });
}

uint8_t dma_engine::bus_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint32_t len,
                               sc_core::sc_time& delay, uint64_t& error_addr, split_read_ext* split) {
    const pooled_payload pt;
    tlm::tlm_generic_payload& t = *pt;
    timing_only_ext timing;
    init_payload(t, cmd, addr, data, len);
    extension_guard<timing_only_ext> g(t, p_.timing_only ? &timing : nullptr);
    asid_ext as;
    as.asid = asid_;
    extension_guard<asid_ext> ga(t, asid_ ? &as : nullptr);
    extension_guard<split_read_ext> gs(t, split);
    ecc_ext ecc;
    extension_guard<ecc_ext> ge(t, faults_ && cmd == tlm::TLM_READ_COMMAND ? &ecc : nullptr);
    bus_socket->b_transport(t, delay);
    if (t.get_response_status() == tlm::TLM_OK_RESPONSE) return AAX_OK;
    error_addr = addr;
    if (as.fault) return AAX_ERR_MMU_FAULT;
    if (ecc.uncorrectable) {
        error_addr = addr + ecc.offset;  // the word that could not be corrected
        return AAX_ERR_ECC_UE;
    }
    return t.get_response_status() == tlm::TLM_ADDRESS_ERROR_RESPONSE ? AAX_ERR_BAD_ADDRESS : AAX_ERR_BUS;
}

void dma_engine::set_faults(const fault_params& f, unsigned index) {
    faults_ = true;
    fault_ = f;
    index_ = index;
    hang_rng_ = fault_stream(f.seed, std::string(name()) + ".hang");
    if (f.engine_enabled()) stats_.add(hangs_);
}

bool dma_engine::hang_next(const command_ext&) {
    if (!faults_ || !fault_.engine_enabled()) return false;
    ++packets_seen_;
    bool h = false;
    for (const auto& x : fault_.engine_hang) h |= x.engine == index_ && x.nth == packets_seen_;
    if (fault_.engine_hang_prob > 0) h |= hang_rng_.chance(fault_.engine_hang_prob);  // drawn for every packet
    return h;
}

// A hung packet: the engine makes no progress and never completes it by itself. It lets go
// only when the scheduler aborts the job (the firmware's watchdog, a ring or device reset)
// or, with the hardware scheduler, at the job's deadline (its watchdog).
dma_engine::result dma_engine::hang(const command_ext& ext, sc_core::sc_time& delay) {
    ++hangs_;
    AVP_LOG(info, name(), "fault injection: DMA packet {} hangs the engine", packets_seen_);
    sc_core::wait(delay);
    delay = sc_core::SC_ZERO_TIME;
    const uint64_t poll_ps = 1'000'000;  // 1 us: the engine's abort line, sampled
    result r;
    for (;;) {
        if (ext.abort && *ext.abort) {
            r.status = AAX_ERR_ABORTED;
            return r;
        }
        const uint64_t now = sc_core::sc_time_stamp().value();
        const bool hw_deadline = !ext.fw_watchdog && ext.deadline_ps;
        if (hw_deadline && now >= ext.deadline_ps) {
            r.status = AAX_ERR_TIMEOUT;
            return r;
        }
        uint64_t step = poll_ps;
        if (hw_deadline) step = std::min(step, ext.deadline_ps - now);
        sc_core::wait(ps(step));
    }
}

dma_engine::result dma_engine::execute(const aax_pkt_dma& p, sc_core::sc_time& delay, uint64_t deadline_ps) {
    result res;
    ++commands_;
    res.status = validate(p);
    if (res.status != AAX_OK) {
        ++errors_;
        return res;
    }
    const bool fill = p.hdr.param & AAX_DMA_FILL;
    const uint64_t begin = abs_ps(delay);
    const uint64_t t0 = begin + static_cast<uint64_t>(p_.setup_ns * 1000.0 + 0.5);

    // Burst generator: rows x chunks of at most burst_bytes.
    struct chunk {
        uint64_t src, dst;
        uint32_t len;
        uint32_t col;  // byte offset within the row (fill pattern phase)
    };
    uint32_t row = 0;
    uint64_t col = 0;
    auto next_chunk = [&](chunk& c) {
        if (row >= p.height) return false;
        const uint64_t n = std::min<uint64_t>(p_.burst_bytes, p.width - col);
        c.src = p.src + static_cast<uint64_t>(row) * p.src_stride + col;
        c.dst = p.dst + static_cast<uint64_t>(row) * p.dst_stride + col;
        c.len = static_cast<uint32_t>(n);
        c.col = static_cast<uint32_t>(col);
        col += n;
        if (col == p.width) {
            col = 0;
            ++row;
        }
        return true;
    };

    // Local event queue ordered by (time, sequence). Each burst goes through three
    // steps -- read the source, pass the engine datapath, write the destination -- and
    // each step is presented to its resource when it arrives there, in time order, so
    // the FCFS timelines of memories and links never see a later arrival before an
    // earlier one. A finished write frees its slot for the next burst.
    // read_wait: a split read's data is due (at the earliest) at t; complete it there.
    enum class stage : uint8_t { read, read_wait, datapath, write };
    struct step {
        uint64_t t, seq;
        uint32_t slot;
        stage what;
        chunk c;
        split_read_ext* split = nullptr;
        bool operator>(const step& o) const { return t != o.t ? t > o.t : seq > o.seq; }
    };
    std::priority_queue<step, std::vector<step>, std::greater<step>> q;
    uint64_t seq = 0, last_done = t0;
    // A burst's read is requested no faster than the datapath moves data: the engine paces
    // its requests, so several engines' requests interleave at the memories the way they
    // would on a real interconnect instead of arriving 64 at once.
    auto start_burst = [&](uint32_t slot, uint64_t at) {
        chunk c;
        if (!next_chunk(c)) return;
        if (fill) {  // a fill has no read
            q.push(step{at, seq++, slot, stage::datapath, c});
            return;
        }
        const uint64_t issue = std::max(at, requests_.free_at());
        requests_.reserve(at, c.len);
        q.push(step{issue, seq++, slot, stage::read, c});
    };
    for (uint32_t s = 0; s < p_.max_outstanding; ++s) start_burst(s, t0);

    uint64_t steps = 0;
    const uint64_t sync_ps = static_cast<uint64_t>(p_.sync_ns * 1000.0 + 0.5);
    while (!q.empty()) {
        step st = q.top();
        q.pop();
        if (deadline_ps && st.t > deadline_ps) {  // the job's timeout_us expired mid-transfer
            res.status = AAX_ERR_TIMEOUT;
            last_done = std::max(last_done, deadline_ps);
            q.push(st);  // its split read, if any, is completed below
            break;
        }
        // A long transfer lets simulated time catch up now and then, so other queues,
        // the host and the run's time limit are not starved by one packet.
        // With sync_ps, other engines' transfers interleave with this one at that grain: the
        // shared memories' timelines then see their traffic roughly in time order.
        if (++steps % sync_steps == 0 || (sync_ps && st.t > sc_core::sc_time_stamp().value() + sync_ps)) {
            const uint64_t now = sc_core::sc_time_stamp().value();
            if (st.t > now) sc_core::wait(ps(st.t - now));
        }
        uint8_t* buf = staging(st.slot);
        sc_core::sc_time d = offset_to(st.t);
        const stage was = st.what;
        switch (was) {
        case stage::read: {
            split_read_ext* split = p_.split_reads ? &splits_[st.slot] : nullptr;
            if (split) split->reset();
            res.status = bus_access(tlm::TLM_READ_COMMAND, st.c.src, buf, st.c.len, d, res.error_addr, split);
            read_wait_ps_ += abs_ps(d) - st.t;
            st.t = abs_ps(d);
            st.split = split && split->parts ? split : nullptr;
            st.what = st.split ? stage::read_wait : stage::datapath;
            break;
        }
        case stage::read_wait: {
            // The read's time so far ends at the memory's lower bound; move it on by what
            // the memory says the last beat took beyond that.
            const uint64_t bound = st.split->bound_ps, done = st.split->complete();
            st.t += done > bound ? done - bound : 0;
            read_wait_ps_ += done > bound ? done - bound : 0;
            st.split = nullptr;
            st.what = stage::datapath;
            break;
        }
        case stage::datapath:
            if (fill && !p_.timing_only) {
                for (uint32_t i = 0; i < st.c.len; ++i)
                    buf[i] = static_cast<uint8_t>(p.fill >> (8 * ((st.c.col + i) & 3)));
            }
            st.t = datapath_.reserve(st.t, st.c.len);
            st.what = stage::write;
            break;
        case stage::write:
            res.status = bus_access(tlm::TLM_WRITE_COMMAND, st.c.dst, buf, st.c.len, d, res.error_addr);
            st.t = abs_ps(d);
            break;
        }
        if (res.status != AAX_OK) {
            last_done = std::max(last_done, st.t);
            q.push(st);  // a part of its read may be queued at a memory: completed below
            break;
        }
        if (was == stage::write) {
            last_done = std::max(last_done, st.t);
            ++bursts_;
            bytes_ += st.c.len;
            throughput_ += st.c.len;
            start_burst(st.slot, st.t);
        } else {
            st.seq = seq++;
            q.push(st);  // on to the burst's next step
        }
    }

    // Reads still queued at a memory after a failure or the deadline: complete them, so
    // the memory does not keep them (their data is not used).
    for (; !q.empty(); q.pop())
        if (q.top().split) q.top().split->complete();
    if (res.status != AAX_OK) {
        ++errors_;
        AVP_LOG(info, name(), "DMA failed: {} at 0x{:x}", aax_status_name(res.status), res.error_addr);
    }
    // Busy time is the union of the commands' intervals: a command's setup and reads overlap
    // the previous one's tail, and adding whole intervals counted that overlap twice.
    if (last_done > busy_until_ps_) {
        busy_ += static_cast<double>(last_done - std::max(begin, busy_until_ps_));
        busy_until_ps_ = last_done;
    }
    span_begin_ps_ = std::min(span_begin_ps_, begin);
    span_end_ps_ = std::max(span_end_ps_, last_done);
    if (tracer::instance().enabled()) {
        tracer::instance().slice(track_, fill ? "fill" : "copy", ps(begin), ps(last_done - begin), "dma",
                                 fmt::format(R"({{"src":"0x{:x}","dst":"0x{:x}","width":{},"height":{},"status":"{}"}})",
                                             p.src, p.dst, p.width, p.height, aax_status_name(res.status)));
        if (flow_ && last_done > begin) tracer::instance().flow_event('t', track_, flow_, ps(begin + (last_done - begin) / 2));
    }
    delay = offset_to(last_done);
    return res;
}

} // namespace accelvp
