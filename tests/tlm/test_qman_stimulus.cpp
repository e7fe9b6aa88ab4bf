// Stimulus tests of the queue manager (tlm/qman/queue_manager.h, hardware scheduler) bound alone:
// a host initiator on reg_socket (offsets relative to BAR0 0x1000), a memory stub on bus_socket
// holding rings, command buffers and CQs (10 ns per access), engine stubs on the DMA, sync,
// compute and collective sockets, an interrupt sink on irq_out. Checks the register map of
// docs/abi.md, a job's path and timing (descriptor fetch, job_ns, command-buffer fetch,
// decode_ns per packet, the engine's time, the completion record, the CQ interrupt), the
// completion record fields, the doorbell, job-level and packet error codes with the error
// record, FENCE/MSG/WREG writes, CALL/RET, and the CQ's phase, overflow and enable rules.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "abi/aax_regs.h"
#include "stimulus_stubs.h"
#include "tlm/core/stats.h"
#include "tlm/qman/queue_manager.h"

using namespace accelvp;

namespace {

constexpr uint64_t kLat = 10000;         // memory stub latency (ps)
constexpr uint64_t kRing0 = 0x1000;      // ring r at kRing0 + r * 0x1000, 8 entries
constexpr uint64_t kCmd = 0x10000;       // command buffers
constexpr uint64_t kCq0 = 0x20000;       // CQ c at kCq0 + c * 0x1000, 4 records
constexpr uint64_t kRegsBase = 0xF0000;  // chip address of BAR0 (WREG target, inside the stub)

constexpr uint64_t ring_reg(unsigned r, uint32_t off) { return AAX_RING_BASE(r) - queue_manager::bar_base + off; }
constexpr uint64_t cq_reg(unsigned c, uint32_t off) { return AAX_CQ_BASE(c) - queue_manager::bar_base + off; }
constexpr uint64_t qreg(uint32_t bar0) { return bar0 - queue_manager::bar_base; }

queue_manager::params qparams() {
    queue_manager::params p;
    p.rings = 2;
    p.cqs = 2;
    p.decode_ns = 4;
    p.job_ns = 50;
    p.regs_base = kRegsBase;
    return p;
}

template <typename P>
void append(std::vector<uint8_t>& v, const P& p) {
    const auto* b = reinterpret_cast<const uint8_t*>(&p);
    v.insert(v.end(), b, b + sizeof(P));
}
aax_pkt_hdr hdr(uint8_t op, uint16_t qw, uint32_t param = 0, uint8_t flags = 0) {
    aax_pkt_hdr h{};
    h.opcode = op;
    h.size_qw = qw;
    h.param = param;
    h.flags = flags;
    return h;
}
aax_pkt_dma dma_pkt() {
    aax_pkt_dma p{};
    p.hdr = hdr(AAX_OP_DMA, AAX_PKT_DMA_QW);
    p.src = 0x1234000;
    p.dst = 0x5678000;
    p.width = 4096;
    p.height = 1;
    return p;
}
aax_pkt_msg msg_pkt(uint64_t addr, uint32_t v, uint8_t flags = 0) {
    aax_pkt_msg p{};
    p.hdr = hdr(AAX_OP_MSG, AAX_PKT_MSG_QW, 0, flags);
    p.addr = addr;
    p.value = v;
    return p;
}
aax_pkt_fence fence_pkt(uint64_t addr, uint64_t v, uint32_t param) {
    aax_pkt_fence p{};
    p.hdr = hdr(AAX_OP_FENCE, AAX_PKT_FENCE_QW, param);
    p.addr = addr;
    p.value = v;
    return p;
}

struct mmu_stub : sc_core::sc_module, mmu_context_if {
    sc_core::sc_export<mmu_context_if> ctx{"ctx"};
    explicit mmu_stub(sc_core::sc_module_name n) : sc_module(n) { ctx.bind(*this); }
    bool context_enabled(uint16_t asid) const override { return asid == 3; }
};

struct bench {
    stim::initiator host{"host"};
    stim::initiator fw{"fw"};  // fw_reg_socket must be bound; unused by the hardware scheduler
    queue_manager qm;
    stim::mem_stub mem{"mem", 0, 1u << 20, kLat};
    stim::engine_stub dma{"dma"}, sync{"sync"}, compute{"compute"}, coll{"coll"};
    stim::irq_sink irq{"irq"};
    uint32_t tail[2] = {0, 0};
    uint64_t cmd_next = kCmd;

    explicit bench(const queue_manager::params& p = qparams()) : qm("qm", p) {
        host.socket.bind(qm.reg_socket);
        fw.socket.bind(qm.fw_reg_socket);
        qm.bus_socket.bind(mem.socket);
        qm.dma_socket.bind(dma.socket);
        qm.sync_socket.bind(sync.socket);
        qm.compute_socket.bind(compute.socket);
        qm.coll_socket.bind(coll.socket);
        qm.irq_out.bind(irq.in);
    }
    // Ring r -> CQ c, 8 entries; CQ c: 4 records, enabled with interrupts.
    void setup(unsigned r, unsigned c, bool priv = false) {
        host.write32(ring_reg(r, AAX_RING_BASE_LO), static_cast<uint32_t>(kRing0 + r * 0x1000));
        host.write32(ring_reg(r, AAX_RING_BASE_HI), 0);
        host.write32(ring_reg(r, AAX_RING_SIZE_LOG2), 3);
        host.write32(ring_reg(r, AAX_RING_CTRL),
                     AAX_RING_CTRL_EN | (priv ? AAX_RING_CTRL_PRIV : 0u) | c << AAX_RING_CTRL_CQ_SHIFT);
        host.write32(cq_reg(c, AAX_CQ_BASE_LO), static_cast<uint32_t>(kCq0 + c * 0x1000));
        host.write32(cq_reg(c, AAX_CQ_SIZE_LOG2), 2);
        host.write32(cq_reg(c, AAX_CQ_CTRL), AAX_CQ_CTRL_EN | AAX_CQ_CTRL_IRQ_EN);
    }
    // Puts a command buffer in memory; a descriptor for it.
    aax_job_desc job(const std::vector<uint8_t>& cmds, uint32_t id, uint32_t flags = AAX_JOB_IRQ | AAX_JOB_TIMESTAMP) {
        std::memcpy(mem.at(cmd_next), cmds.data(), cmds.size());
        aax_job_desc d{};
        d.cmdbuf_addr = cmd_next;
        d.cmdbuf_size = static_cast<uint32_t>(cmds.size());
        d.job_id = id;
        d.flags = flags;
        cmd_next += (cmds.size() + 0xFF) & ~uint64_t{0xFF};
        return d;
    }
    void submit(unsigned r, const aax_job_desc& d) {
        mem.put(kRing0 + r * 0x1000 + tail[r] * 64, d);
        tail[r] = (tail[r] + 1) % 8;
        host.write32(qreg(AAX_DOORBELL(r)), tail[r]);
    }
    aax_cq_entry record(unsigned c, unsigned slot) { return mem.get<aax_cq_entry>(kCq0 + c * 0x1000 + slot * 32); }
    // After a failure: reset the ring and clear the error record.
    void recover(unsigned r, unsigned c) {
        host.write32(ring_reg(r, AAX_RING_CTRL), AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET | c << AAX_RING_CTRL_CQ_SHIFT);
        host.write32(qreg(AAX_REG_ERR_STATUS), AAX_ERR_STATUS_VALID);
    }
    const stim::access* find(uint64_t addr, bool write) const {
        for (const auto& a : mem.log)
            if (a.addr == addr && a.write == write) return &a;
        return nullptr;
    }
};

void settle() { sc_core::wait(sc_core::sc_time(5, sc_core::SC_US)); }

} // namespace

TEST_CASE("qman stimulus: register map reset values, RO/WO rules and holes", "[qman][stimulus]") {
    bench b;
    stim::run([&] {
        auto& h = b.host;
        for (unsigned r = 0; r < 2; ++r) {
            for (uint32_t off : {AAX_RING_BASE_LO, AAX_RING_BASE_HI, AAX_RING_SIZE_LOG2, AAX_RING_ASID, AAX_RING_CTRL,
                                 AAX_RING_HEAD, AAX_RING_TAIL, AAX_RING_JOBS_DONE}) {
                INFO("ring " << r << " +0x" << std::hex << off);
                CHECK(h.read32(ring_reg(r, off)) == 0);
            }
            CHECK(h.read32(ring_reg(r, AAX_RING_STATUS)) == AAX_RING_STATUS_IDLE);
            for (uint32_t off : {AAX_CQ_BASE_LO, AAX_CQ_BASE_HI, AAX_CQ_SIZE_LOG2, AAX_CQ_HEAD, AAX_CQ_TAIL,
                                 AAX_CQ_CTRL, AAX_CQ_OVERFLOWS}) {
                INFO("cq " << r << " +0x" << std::hex << off);
                CHECK(h.read32(cq_reg(r, off)) == 0);
            }
        }
        for (uint32_t off : {AAX_REG_ERR_STATUS, AAX_REG_ERR_JOB_ID, AAX_REG_ERR_OFFSET, AAX_REG_ERR_ADDR_LO,
                             AAX_REG_ERR_ADDR_HI, AAX_REG_ERR_COUNT, AAX_REG_MBOX_F2H})
            CHECK(h.read32(qreg(off)) == 0);
        // RO registers: command error, unchanged.
        for (uint64_t off : {ring_reg(0, AAX_RING_HEAD), ring_reg(0, AAX_RING_TAIL), ring_reg(0, AAX_RING_STATUS),
                             ring_reg(0, AAX_RING_JOBS_DONE), cq_reg(1, AAX_CQ_TAIL), cq_reg(1, AAX_CQ_OVERFLOWS),
                             qreg(AAX_REG_ERR_JOB_ID), qreg(AAX_REG_ERR_COUNT), qreg(AAX_REG_MBOX_F2H)}) {
            INFO("offset 0x" << std::hex << off);
            CHECK(h.write32(off, 5) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        }
        CHECK(h.read32(ring_reg(0, AAX_RING_TAIL)) == 0);
        // WO registers.
        CHECK(h.status_of_read(qreg(AAX_DOORBELL(1))) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        CHECK(h.status_of_read(qreg(AAX_REG_MBOX_H2F)) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        // Rings, CQs and doorbells exist only below qman.rings / qman.cqs (2); other holes.
        for (uint64_t off : {ring_reg(2, AAX_RING_CTRL), cq_reg(2, AAX_CQ_CTRL), qreg(AAX_DOORBELL(2)),
                             ring_reg(0, 0x2C), qreg(AAX_REG_ERR_COUNT + 4), qreg(0x1C08), qreg(0x3FFC)}) {  // (0x24/0x28: RING_UQ_HDR, ABI 0.2)
            INFO("offset 0x" << std::hex << off);
            CHECK(h.status_of_read(off) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
            CHECK(h.write32(off, 0) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        }
        // RW registers keep what is written; RING_CTRL.RESET reads back 0, other bits are stored.
        h.write32(ring_reg(1, AAX_RING_BASE_HI), 0x12);
        h.write32(cq_reg(1, AAX_CQ_HEAD), 3);
        h.write32(ring_reg(1, AAX_RING_CTRL), 0xFFFF0F07u);
        CHECK(h.read32(ring_reg(1, AAX_RING_BASE_HI)) == 0x12u);
        CHECK(h.read32(cq_reg(1, AAX_CQ_HEAD)) == 3u);
        CHECK(h.read32(ring_reg(1, AAX_RING_CTRL)) == 0xFFFF0F05u);
        h.write32(ring_reg(1, AAX_RING_CTRL), 0);
    });
    CHECK(b.irq.got.empty());
}

TEST_CASE("qman stimulus: one DMA job: fetches, decode, engine time, completion record and interrupt, timed",
          "[qman][stimulus]") {
    bench b;
    b.dma.cost_ps = 100000;  // the engine takes 100 ns
    std::vector<uint8_t> cmds;
    append(cmds, dma_pkt());
    std::vector<uint32_t> regs;
    stim::run([&] {
        b.setup(0, 0);
        b.submit(0, b.job(cmds, 77));
        settle();
        for (uint32_t off : {AAX_RING_HEAD, AAX_RING_TAIL, AAX_RING_STATUS, AAX_RING_JOBS_DONE})
            regs.push_back(b.host.read32(ring_reg(0, off)));
        regs.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
    });
    CHECK(regs == std::vector<uint32_t>{1, 1, AAX_RING_STATUS_IDLE, 1, 1});
    // Descriptor read at 0; command buffer read after it (10 ns) and job_ns (50 ns); the packet
    // reaches the engine after decode_ns (4 ns); the record is written when the engine is done.
    const stim::access* desc = b.find(kRing0, false);
    const stim::access* cmd = b.find(kCmd, false);
    const stim::access* rec = b.find(kCq0, true);
    REQUIRE(desc);
    REQUIRE(cmd);
    REQUIRE(rec);
    CHECK(desc->arrive_ps == 0);
    CHECK(desc->len == 64);
    CHECK(cmd->arrive_ps == kLat + 50000);
    CHECK(cmd->len == sizeof(aax_pkt_dma));
    REQUIRE(b.dma.got.size() == 1);
    CHECK(b.dma.got[0].arrive_ps == 2 * kLat + 50000 + 4000);
    CHECK(b.dma.got[0].bytes == cmds);  // the packet, bit-exact
    CHECK(b.dma.got[0].ext.stream == 0);
    CHECK(b.dma.got[0].ext.asid == 0);
    CHECK(b.dma.got[0].ext.deadline_ps == 0);
    CHECK(rec->arrive_ps == 2 * kLat + 54000 + 100000);  // 174 ns
    CHECK(rec->len == 32);
    const aax_cq_entry e = b.record(0, 0);
    CHECK(e.job_id == 77);
    CHECK(e.ring == 0);
    CHECK(e.status == AAX_OK);
    CHECK(e.flags == (AAX_CQE_PHASE | AAX_CQE_TS_VALID));
    CHECK(e.err_offset == 0);
    CHECK(e.err_info == 0);
    CHECK(e.ts_start == 0);
    CHECK(e.ts_end == 174);
    // The CQ interrupt (line 16 + CQ 0) after the record's write.
    REQUIRE(b.irq.got.size() == 1);
    CHECK(b.irq.got[0] == std::make_pair(AAX_IRQ_CQ_SHIFT + 0, uint64_t{174000 + kLat}));
    CHECK(b.sync.got.empty());
    CHECK(b.compute.got.empty());
}

TEST_CASE("qman stimulus: a NULL job skips its command buffer: record after the descriptor and job_ns",
          "[qman][stimulus]") {
    bench b;
    std::vector<uint8_t> cmds;
    append(cmds, dma_pkt());
    aax_cq_entry e{};
    stim::run([&] {
        b.setup(0, 0);
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
        b.submit(0, b.job(cmds, 3, AAX_JOB_IRQ | AAX_JOB_TIMESTAMP | AAX_JOB_NULL));
        settle();
        e = b.record(0, 0);
    });
    CHECK(e.status == AAX_OK);
    CHECK(e.ts_start == 1000);
    CHECK(e.ts_end == 1000 + 10 + 50);  // descriptor read, job_ns
    CHECK(b.find(kCmd, false) == nullptr);
    CHECK(b.dma.got.empty());
    REQUIRE(b.irq.got.size() == 1);
    CHECK(b.irq.got[0].second == (1000 + 60 + 10) * 1000ull);
}

TEST_CASE("qman stimulus: packets go to their engine; NOP pads; the job deadline reaches the engines",
          "[qman][stimulus]") {
    bench b;
    std::vector<uint8_t> cmds;
    append(cmds, hdr(AAX_OP_NOP, 3));
    cmds.resize(24, 0xEE);  // NOP padding is not interpreted
    aax_pkt_sem_signal s{};
    s.hdr = hdr(AAX_OP_SEM_SIGNAL, AAX_PKT_SEM_SIGNAL_QW);
    append(cmds, s);
    aax_pkt_sem_wait w{};
    w.hdr = hdr(AAX_OP_SEM_WAIT, AAX_PKT_SEM_WAIT_QW);
    append(cmds, w);
    aax_pkt_gemm g{};
    g.hdr = hdr(AAX_OP_GEMM, AAX_PKT_GEMM_QW);
    append(cmds, g);
    aax_pkt_vec v{};
    v.hdr = hdr(AAX_OP_VEC, AAX_PKT_VEC_QW);
    append(cmds, v);
    aax_pkt_coll c{};
    c.hdr = hdr(AAX_OP_COLL, AAX_PKT_COLL_QW);
    append(cmds, c);
    append(cmds, dma_pkt());
    aax_cq_entry e{};
    stim::run([&] {
        b.setup(1, 1);
        aax_job_desc d = b.job(cmds, 5);
        d.timeout_us = 7;
        b.submit(1, d);
        settle();
        e = b.record(1, 0);
    });
    CHECK(e.status == AAX_OK);
    CHECK(e.ring == 1);
    CHECK(b.sync.got.size() == 2);
    CHECK(b.compute.got.size() == 2);
    CHECK(b.coll.got.size() == 1);
    REQUIRE(b.dma.got.size() == 1);
    // deadline = timeout after the descriptor fetch and job_ns.
    CHECK(b.dma.got[0].ext.deadline_ps == kLat + 50000 + 7000000);
    CHECK(b.dma.got[0].ext.stream == 1);
    CHECK(b.sync.got[1].bytes.size() == 16);
    auto* p = dynamic_cast<const counter*>(global_stats().find("qm", "packets"));
    REQUIRE(p);
    CHECK(p->get() == 7);
}

TEST_CASE("qman stimulus: doorbells: ignored when disabled, out of range stops the ring with a job-level BAD_PARAM",
          "[qman][stimulus]") {
    bench b;
    std::vector<uint32_t> v;
    stim::run([&] {
        auto& h = b.host;
        h.write32(ring_reg(0, AAX_RING_SIZE_LOG2), 3);
        h.write32(qreg(AAX_DOORBELL(0)), 1);  // not enabled: ignored
        v.push_back(h.read32(ring_reg(0, AAX_RING_TAIL)));
        h.write32(ring_reg(0, AAX_RING_CTRL), AAX_RING_CTRL_EN);
        h.write32(qreg(AAX_DOORBELL(0)), 8);  // 8 entries: 8 is out of range
        v.push_back(h.read32(ring_reg(0, AAX_RING_STATUS)));
        v.push_back(h.read32(qreg(AAX_REG_ERR_STATUS)));
        v.push_back(h.read32(qreg(AAX_REG_ERR_JOB_ID)));
        v.push_back(h.read32(qreg(AAX_REG_ERR_OFFSET)));
        v.push_back(h.read32(qreg(AAX_REG_ERR_ADDR_LO)));
        v.push_back(h.read32(qreg(AAX_REG_ERR_COUNT)));
        // A second error only counts; the record keeps the first.
        h.write32(ring_reg(1, AAX_RING_CTRL), AAX_RING_CTRL_EN);  // ring 1 has size 0
        h.write32(qreg(AAX_DOORBELL(1)), 0);
        v.push_back(h.read32(qreg(AAX_REG_ERR_STATUS)));
        v.push_back(h.read32(qreg(AAX_REG_ERR_COUNT)));
        // ERR_STATUS: writing other bits clears only them; bit 31 clears the whole record.
        h.write32(qreg(AAX_REG_ERR_STATUS), 0x4);
        v.push_back(h.read32(qreg(AAX_REG_ERR_STATUS)));
        h.write32(qreg(AAX_REG_ERR_STATUS), AAX_ERR_STATUS_VALID);
        v.push_back(h.read32(qreg(AAX_REG_ERR_STATUS)));
        v.push_back(h.read32(qreg(AAX_REG_ERR_ADDR_LO)));
        // RING_CTRL.RESET restarts the stopped ring.
        h.write32(ring_reg(0, AAX_RING_CTRL), AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET);
        v.push_back(h.read32(ring_reg(0, AAX_RING_STATUS)));
    });
    const uint32_t err0 = AAX_ERR_STATUS_VALID | AAX_ERR_BAD_PARAM | 0u << 8 | AAX_ERR_OPCODE_JOB << 16;
    CHECK(v == std::vector<uint32_t>{0, AAX_RING_STATUS_ERROR | AAX_ERR_BAD_PARAM << 8 | AAX_RING_STATUS_IDLE, err0, 0,
                                     0, 8, 1, err0, 2, err0 & ~0x4u, 0, 0, AAX_RING_STATUS_IDLE});
    CHECK(b.irq.count(AAX_IRQ_LINE_ERROR) == 2);
    CHECK(b.mem.log.empty());  // no descriptor fetched, no record written
}

TEST_CASE("qman stimulus: packet errors stop the ring with the documented code, offset and opcode", "[qman][stimulus]") {
    bench b;
    struct outcome {
        aax_cq_entry rec;
        uint32_t err_status, err_job, err_off, err_addr, ring_status;
    };
    std::vector<outcome> got;
    std::vector<std::vector<uint8_t>> jobs;
    auto nop_then = [](auto pkt) {
        std::vector<uint8_t> v;
        append(v, hdr(AAX_OP_NOP, 1));
        append(v, pkt);
        return v;
    };
    jobs.push_back(nop_then(hdr(0x20, 0)));                         // size_qw 0 is checked first: BAD_LENGTH
    jobs.push_back(nop_then(hdr(AAX_OP_COUNT, 1)));                 // BAD_OPCODE
    jobs.push_back(nop_then(hdr(AAX_OP_DMA, 1)));                   // DMA with size_qw 1: BAD_LENGTH
    jobs.push_back(nop_then(hdr(AAX_OP_NOP, 1, 0, 2)));             // header flag bit 1: BAD_PARAM
    jobs.push_back(nop_then(hdr(AAX_OP_NOP, 2)));                   // overruns the buffer: BAD_LENGTH
    jobs.push_back(nop_then(fence_pkt(0x100, 1, 4)));               // FENCE param bit 2: BAD_PARAM
    jobs.push_back(nop_then(msg_pkt(0x100, 1)));                    // (MSG param set below): BAD_PARAM
    jobs.back()[8 + 4] = 1;
    aax_pkt_wreg wr{};
    wr.hdr = hdr(AAX_OP_WREG, AAX_PKT_WREG_QW);
    wr.offset = 0x30;
    jobs.push_back(nop_then(wr));                                   // WREG on an unprivileged ring: PRIV
    jobs.push_back(nop_then(msg_pkt(0xFFF00000, 1)));               // MSG to nowhere: BAD_ADDRESS, addr
    jobs.push_back(nop_then(dma_pkt()));                            // the engine's status and address
    jobs.push_back(nop_then(hdr(AAX_OP_RET, 1, 0, 1)));             // RET with flags: BAD_PARAM
    stim::run([&] {
        b.setup(0, 0);
        for (size_t i = 0; i < jobs.size(); ++i) {
            if (i == 9) {
                b.dma.status = AAX_ERR_BAD_ADDRESS;
                b.dma.error_addr = 0x1234ABC00ull;
            }
            b.submit(0, b.job(jobs[i], 100 + static_cast<uint32_t>(i)));
            settle();
            outcome o;
            o.rec = b.record(0, static_cast<unsigned>(i % 4));
            o.err_status = b.host.read32(qreg(AAX_REG_ERR_STATUS));
            o.err_job = b.host.read32(qreg(AAX_REG_ERR_JOB_ID));
            o.err_off = b.host.read32(qreg(AAX_REG_ERR_OFFSET));
            o.err_addr = b.host.read32(qreg(AAX_REG_ERR_ADDR_LO));
            o.ring_status = b.host.read32(ring_reg(0, AAX_RING_STATUS));
            got.push_back(o);
            b.host.write32(cq_reg(0, AAX_CQ_HEAD), static_cast<uint32_t>((i + 1) % 4));
            b.recover(0, 0);
        }
    });
    struct want {
        uint8_t status, opcode;
        uint32_t addr;
    };
    const want w[] = {{AAX_ERR_BAD_LENGTH, 0x20, 0},         {AAX_ERR_BAD_OPCODE, AAX_OP_COUNT, 0},
                      {AAX_ERR_BAD_LENGTH, AAX_OP_DMA, 0},   {AAX_ERR_BAD_PARAM, AAX_OP_NOP, 0},
                      {AAX_ERR_BAD_LENGTH, AAX_OP_NOP, 0},   {AAX_ERR_BAD_PARAM, AAX_OP_FENCE, 0},
                      {AAX_ERR_BAD_PARAM, AAX_OP_MSG, 0},    {AAX_ERR_PRIV, AAX_OP_WREG, 0},
                      {AAX_ERR_BAD_ADDRESS, AAX_OP_MSG, 0xFFF00000u},
                      {AAX_ERR_BAD_ADDRESS, AAX_OP_DMA, 0x234ABC00u}, {AAX_ERR_BAD_PARAM, AAX_OP_RET, 0}};
    REQUIRE(got.size() == jobs.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("job " << i);
        const outcome& o = got[i];
        CHECK(o.rec.job_id == 100 + i);
        CHECK(o.rec.status == w[i].status);
        CHECK(o.rec.err_offset == 8);  // the packet after the NOP
        CHECK(o.rec.err_info == w[i].opcode);
        CHECK(o.err_status == (AAX_ERR_STATUS_VALID | w[i].status | static_cast<uint32_t>(w[i].opcode) << 16));
        CHECK(o.err_job == 100 + i);
        CHECK(o.err_off == 8);
        CHECK(o.err_addr == w[i].addr);
        CHECK(o.ring_status == (AAX_RING_STATUS_ERROR | static_cast<uint32_t>(w[i].status) << 8 | AAX_RING_STATUS_IDLE));
    }
    CHECK(b.irq.count(AAX_IRQ_LINE_ERROR) == jobs.size());
    CHECK(b.irq.count(AAX_IRQ_CQ_SHIFT) == 0);  // failures raise the error line, not the CQ's
    CHECK(b.mem.get<uint32_t>(0x100) == 0);     // no rejected packet wrote anything
}

TEST_CASE("qman stimulus: job-level errors: descriptor, address space, fetches, fence", "[qman][stimulus]") {
    bench b;
    mmu_stub mmu("mmu");
    b.qm.mmu_ctx.bind(mmu.ctx);
    b.mem.faults.push_back({0xE0000, 0xE1000, tlm::TLM_ADDRESS_ERROR_RESPONSE});
    b.mem.faults.push_back({0xE1000, 0xE2000, tlm::TLM_GENERIC_ERROR_RESPONSE});
    std::vector<uint8_t> ok;
    append(ok, hdr(AAX_OP_NOP, 1));
    struct outcome {
        aax_cq_entry rec;
        uint32_t err_status, err_addr;
    };
    std::vector<outcome> got;
    std::vector<aax_job_desc> descs;
    auto d = b.job(ok, 1);
    d.flags |= 0x10;  // unknown flag
    descs.push_back(d);
    d = b.job(ok, 2);
    d.cmdbuf_size = 12;  // not a multiple of 8
    descs.push_back(d);
    d = b.job(ok, 3);
    d.cmdbuf_addr += 4;  // misaligned
    descs.push_back(d);
    d = b.job(ok, 4);
    d.asid = 2;  // context 2 is not enabled
    descs.push_back(d);
    d = b.job(ok, 5);
    d.cmdbuf_addr = 0xE0000;  // the command buffer does not decode
    descs.push_back(d);
    d = b.job(ok, 6);
    d.flags |= AAX_JOB_WRITE_FENCE;
    d.fence_addr = 0xE1008;  // the fence write gets another error
    descs.push_back(d);
    d = b.job(ok, 7);
    d.asid = 3;  // enabled: fine
    descs.push_back(d);
    stim::run([&] {
        b.setup(0, 0);
        for (size_t i = 0; i < descs.size(); ++i) {
            b.submit(0, descs[i]);
            settle();
            got.push_back({b.record(0, static_cast<unsigned>(i % 4)), b.host.read32(qreg(AAX_REG_ERR_STATUS)),
                           b.host.read32(qreg(AAX_REG_ERR_ADDR_LO))});
            b.host.write32(cq_reg(0, AAX_CQ_HEAD), static_cast<uint32_t>((i + 1) % 4));
            b.recover(0, 0);
        }
    });
    const uint8_t st[] = {AAX_ERR_BAD_JOB,     AAX_ERR_BAD_JOB, AAX_ERR_BAD_JOB, AAX_ERR_BAD_ASID,
                          AAX_ERR_BAD_ADDRESS, AAX_ERR_BUS,     AAX_OK};
    const uint32_t addr[] = {0, 0, 0, 0, 0xE0000, 0xE1008, 0};
    REQUIRE(got.size() == descs.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("job " << i + 1);
        CHECK(got[i].rec.job_id == i + 1);
        CHECK(got[i].rec.status == st[i]);
        CHECK(got[i].rec.err_offset == 0);
        CHECK(got[i].rec.err_info == (st[i] == AAX_OK ? 0u : AAX_ERR_OPCODE_JOB));
        if (st[i] != AAX_OK) {
            CHECK(got[i].err_status == (AAX_ERR_STATUS_VALID | st[i] | AAX_ERR_OPCODE_JOB << 16));
            CHECK(got[i].err_addr == addr[i]);
        } else {
            CHECK(got[i].err_status == 0);
        }
    }
}

TEST_CASE("qman stimulus: a ring bound to a CQ that does not exist fails its jobs with BAD_PARAM, ERR_ADDR = index",
          "[qman][stimulus]") {
    bench b;
    std::vector<uint8_t> nop;
    append(nop, hdr(AAX_OP_NOP, 1));
    std::vector<uint32_t> v;
    stim::run([&] {
        b.setup(0, 0);
        b.host.write32(ring_reg(0, AAX_RING_CTRL), AAX_RING_CTRL_EN | 5u << AAX_RING_CTRL_CQ_SHIFT);  // qman.cqs = 2
        b.submit(0, b.job(nop, 42));
        settle();
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_STATUS)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_JOB_ID)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_ADDR_LO)));
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_JOBS_DONE)));
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
    });
    CHECK(v == std::vector<uint32_t>{AAX_ERR_STATUS_VALID | AAX_ERR_BAD_PARAM | AAX_ERR_OPCODE_JOB << 16, 42, 5, 0, 0});
    CHECK(b.find(kCq0, true) == nullptr);  // no record anywhere
    CHECK(b.irq.count(AAX_IRQ_LINE_ERROR) == 1);
}

TEST_CASE("qman stimulus: ring base misaligned or descriptor unreadable: job id 0, address = the slot",
          "[qman][stimulus]") {
    bench b;
    b.mem.faults.push_back({0x3000, 0x3040, tlm::TLM_ADDRESS_ERROR_RESPONSE});
    std::vector<aax_cq_entry> rec;
    std::vector<uint32_t> v;
    stim::run([&] {
        b.setup(0, 0);
        b.host.write32(ring_reg(0, AAX_RING_BASE_LO), 0x3000 + 0x20);  // not 64-byte aligned
        b.host.write32(qreg(AAX_DOORBELL(0)), 1);
        settle();
        rec.push_back(b.record(0, 0));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_STATUS)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_ADDR_LO)));
        b.host.write32(cq_reg(0, AAX_CQ_HEAD), 1);
        b.host.write32(ring_reg(0, AAX_RING_BASE_LO), 0x3000);  // restarts the ring: HEAD = TAIL = 0
        b.host.write32(qreg(AAX_REG_ERR_STATUS), AAX_ERR_STATUS_VALID);
        b.host.write32(qreg(AAX_DOORBELL(0)), 1);  // slot 0 at 0x3000 does not decode
        settle();
        rec.push_back(b.record(0, 1));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_STATUS)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_ADDR_LO)));
    });
    CHECK(rec[0].status == AAX_ERR_BAD_PARAM);
    CHECK(rec[0].job_id == 0);
    CHECK(rec[0].err_info == AAX_ERR_OPCODE_JOB);
    CHECK(rec[1].status == AAX_ERR_BAD_ADDRESS);
    CHECK(rec[1].job_id == 0);
    CHECK(v == std::vector<uint32_t>{AAX_ERR_STATUS_VALID | AAX_ERR_BAD_PARAM | AAX_ERR_OPCODE_JOB << 16, 0x3020,
                                     AAX_ERR_STATUS_VALID | AAX_ERR_BAD_ADDRESS | AAX_ERR_OPCODE_JOB << 16, 0x3000});
}

TEST_CASE("qman stimulus: FENCE, MSG, WREG and the job fence write bit-exact, before the record", "[qman][stimulus]") {
    bench b;
    std::vector<uint8_t> cmds;
    append(cmds, fence_pkt(0x30000, 0x1122334455667788ull, AAX_FENCE_WRITE_VALUE));
    append(cmds, fence_pkt(0x30008, 0xFFFF, AAX_FENCE_WRITE_VALUE | AAX_FENCE_WRITE_TS));  // TS wins
    append(cmds, fence_pkt(0x30010, 0xAAAA, 0));  // a pure barrier writes nothing
    append(cmds, msg_pkt(0x30018, 0xCAFEF00D, AAX_PKT_F_IRQ));
    aax_pkt_wreg wr{};
    wr.hdr = hdr(AAX_OP_WREG, AAX_PKT_WREG_QW);
    wr.offset = 0x0030;
    wr.value = 0x5A5A5A5A;
    append(cmds, wr);
    aax_cq_entry e{};
    stim::run([&] {
        b.setup(0, 0, /*priv=*/true);
        aax_job_desc d = b.job(cmds, 9, AAX_JOB_IRQ | AAX_JOB_WRITE_FENCE);
        d.fence_addr = 0x30020;
        d.fence_value = 0x0102030405060708ull;
        b.submit(0, d);
        settle();
        e = b.record(0, 0);
    });
    CHECK(e.status == AAX_OK);
    CHECK(e.flags == AAX_CQE_PHASE);  // no TS_VALID without AAX_JOB_TIMESTAMP
    CHECK(e.ts_start == 0);
    CHECK(e.ts_end == 0);
    CHECK(b.mem.get<uint64_t>(0x30000) == 0x1122334455667788ull);
    // The second FENCE writes the device time (ns) when it executes: descriptor 10, job 50, fetch 10,
    // first FENCE decode 4 + write 10, second decode 4 -> 88 ns.
    CHECK(b.mem.get<uint64_t>(0x30008) == 88);
    CHECK(b.mem.get<uint64_t>(0x30010) == 0);
    CHECK(b.mem.get<uint32_t>(0x30018) == 0xCAFEF00Du);
    CHECK(b.mem.get<uint32_t>(kRegsBase + 0x30) == 0x5A5A5A5Au);
    const stim::access* w = b.find(kRegsBase + 0x30, true);
    REQUIRE(w);
    CHECK(w->privileged);  // WREG passes the register firewall
    CHECK(b.mem.get<uint64_t>(0x30020) == 0x0102030405060708ull);
    const stim::access* fence = b.find(0x30020, true);
    const stim::access* rec = b.find(kCq0, true);
    REQUIRE(fence);
    REQUIRE(rec);
    CHECK(fence->arrive_ps + kLat == rec->arrive_ps);  // the fence lands, then the record
    // Two CQ interrupts: the MSG's packet flag and the job's.
    CHECK(b.irq.count(AAX_IRQ_CQ_SHIFT) == 2);
}

TEST_CASE("qman stimulus: CALL runs a buffer and returns; errors in it report its own offset", "[qman][stimulus]") {
    bench b;
    aax_cq_entry ok{}, bad{};
    uint32_t err_addr = 0;
    stim::run([&] {
        b.setup(0, 0);
        std::vector<uint8_t> sub;
        append(sub, msg_pkt(0x30000, 1));
        append(sub, hdr(AAX_OP_RET, 1));
        append(sub, msg_pkt(0x30000, 99));  // after RET: not executed
        const aax_job_desc callee = b.job(sub, 0);
        std::vector<uint8_t> top;
        aax_pkt_jump call{};
        call.hdr = hdr(AAX_OP_CALL, AAX_PKT_CALL_QW);
        call.addr = callee.cmdbuf_addr;
        call.size = callee.cmdbuf_size;
        append(top, call);
        append(top, msg_pkt(0x30004, 2));
        b.submit(0, b.job(top, 1));
        settle();
        ok = b.record(0, 0);
        // A callee with a bad packet at its offset 8; and a CALL to a misaligned buffer.
        std::vector<uint8_t> sub2;
        append(sub2, hdr(AAX_OP_NOP, 1));
        append(sub2, hdr(AAX_OP_DMA, 2));
        const aax_job_desc callee2 = b.job(sub2, 0);
        std::vector<uint8_t> top2;
        append(top2, hdr(AAX_OP_NOP, 1));
        call.addr = callee2.cmdbuf_addr;
        call.size = callee2.cmdbuf_size;
        append(top2, call);
        b.submit(0, b.job(top2, 2));
        settle();
        bad = b.record(0, 1);
        err_addr = b.host.read32(qreg(AAX_REG_ERR_ADDR_LO));
    });
    CHECK(ok.status == AAX_OK);
    CHECK(b.mem.get<uint32_t>(0x30000) == 1);
    CHECK(b.mem.get<uint32_t>(0x30004) == 2);
    CHECK(bad.status == AAX_ERR_BAD_LENGTH);
    CHECK(bad.err_offset == 8);  // in the callee
    CHECK(bad.err_info == AAX_OP_DMA);
    CHECK(err_addr == 0);
}

TEST_CASE("qman stimulus: CQ phase toggles on wrap, a full CQ drops and counts, EN and IRQ_EN gate", "[qman][stimulus]") {
    bench b;
    std::vector<uint8_t> nop;
    append(nop, hdr(AAX_OP_NOP, 1));
    std::vector<uint32_t> v;
    std::vector<aax_cq_entry> rec;
    stim::run([&] {
        b.setup(0, 0);
        for (uint32_t id = 1; id <= 4; ++id) b.submit(0, b.job(nop, id));  // 4 records, CQ holds 3
        settle();
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_OVERFLOWS)));
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_JOBS_DONE)));  // the job itself succeeded
        b.host.write32(cq_reg(0, AAX_CQ_HEAD), 3);                     // consume 3
        b.submit(0, b.job(nop, 5));                                     // slot 3, then wraps: phase 0
        b.submit(0, b.job(nop, 6));                                     // slot 0 with phase 0
        settle();
        for (unsigned s = 0; s < 4; ++s) rec.push_back(b.record(0, s));
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
        // IRQ_EN clear: a record but no interrupt; EN clear: nothing, nothing counted.
        b.host.write32(cq_reg(0, AAX_CQ_CTRL), AAX_CQ_CTRL_EN);
        b.submit(0, b.job(nop, 7));
        settle();
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
        b.host.write32(cq_reg(0, AAX_CQ_CTRL), 0);
        b.submit(0, b.job(nop, 8));
        settle();
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_OVERFLOWS)));
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_JOBS_DONE)));
    });
    CHECK(v == std::vector<uint32_t>{3, 1, 4, 1, 2, 2, 1, 8});
    CHECK(rec[0].job_id == 6);
    CHECK(rec[0].flags == AAX_CQE_TS_VALID);  // phase 0 on the second pass
    CHECK(rec[1].job_id == 2);
    CHECK(rec[2].job_id == 3);
    CHECK(rec[3].job_id == 5);
    CHECK(rec[3].flags == (AAX_CQE_PHASE | AAX_CQE_TS_VALID));
    // Interrupts: jobs 1-6 (job 4's record was dropped: its interrupt still fires), not 7 or 8.
    CHECK(b.irq.count(AAX_IRQ_CQ_SHIFT) == 6);
}

TEST_CASE("qman stimulus: a job past its timeout fails with TIMEOUT at the next packet boundary", "[qman][stimulus]") {
    bench b;
    b.dma.cost_ps = 3000000;  // 3 us per DMA
    std::vector<uint8_t> cmds;
    append(cmds, dma_pkt());
    append(cmds, dma_pkt());
    aax_cq_entry e{};
    stim::run([&] {
        b.setup(0, 0);
        aax_job_desc d = b.job(cmds, 1);
        d.timeout_us = 2;
        b.submit(0, d);
        sc_core::wait(sc_core::sc_time(20, sc_core::SC_US));
        e = b.record(0, 0);
    });
    CHECK(e.status == AAX_ERR_TIMEOUT);
    CHECK(e.err_offset == 0);  // reported at the packet that ran past the deadline
    CHECK(e.err_info == AAX_OP_DMA);
    CHECK(b.dma.got.size() == 1);  // the second DMA never started
}

TEST_CASE("qman stimulus: a ring reset while busy drops the job at the next packet boundary without a record",
          "[qman][stimulus]") {
    bench b;
    b.dma.cost_ps = 1000000;  // 1 us per DMA
    std::vector<uint8_t> cmds;
    append(cmds, dma_pkt());
    append(cmds, dma_pkt());
    std::vector<uint32_t> v;
    stim::run([&] {
        b.setup(0, 0);
        b.submit(0, b.job(cmds, 1));
        sc_core::wait(sc_core::sc_time(500, sc_core::SC_NS));
        b.host.write32(ring_reg(0, AAX_RING_CTRL), AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET);
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_CTRL)));    // RESET reads 0
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_STATUS)));  // still busy: not idle
        settle();
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_STATUS)));
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_HEAD)));
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_JOBS_DONE)));
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
    });
    CHECK(v == std::vector<uint32_t>{AAX_RING_CTRL_EN, 0, AAX_RING_STATUS_IDLE, 1, 0, 0});
    CHECK(b.dma.got.size() == 1);  // the second DMA never started
    CHECK(b.find(kCq0, true) == nullptr);
    CHECK(b.irq.got.empty());
}

TEST_CASE("qman stimulus: soft reset puts every register back and restarts the CQ phase", "[qman][stimulus]") {
    bench b;
    std::vector<uint8_t> nop;
    append(nop, hdr(AAX_OP_NOP, 1));
    std::vector<uint32_t> v;
    stim::run([&] {
        b.setup(0, 0);
        b.submit(0, b.job(nop, 1));
        b.host.write32(qreg(AAX_DOORBELL(1)), 0);  // ring 1 disabled: ignored
        b.host.write32(ring_reg(1, AAX_RING_CTRL), AAX_RING_CTRL_EN);
        b.host.write32(qreg(AAX_DOORBELL(1)), 0);  // size 0: an error
        settle();
        b.qm.reset_in->soft_reset();
        for (uint32_t off : {AAX_RING_BASE_LO, AAX_RING_SIZE_LOG2, AAX_RING_CTRL, AAX_RING_HEAD, AAX_RING_TAIL,
                             AAX_RING_JOBS_DONE})
            v.push_back(b.host.read32(ring_reg(0, off)));
        v.push_back(b.host.read32(ring_reg(1, AAX_RING_STATUS)));
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_CTRL)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_STATUS)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_COUNT)));
    });
    CHECK(v == std::vector<uint32_t>{0, 0, 0, 0, 0, 0, AAX_RING_STATUS_IDLE, 0, 0, 0, 0});
}

// ---- firmware scheduler (params::firmware): the control core's window at 0xA000 ----------

namespace {

constexpr uint64_t fwreg(uint32_t a) { return a - queue_manager::fw_bar_base; }
constexpr uint64_t eqreg(unsigned q, uint32_t off) { return AAX_FW_EQ(q) - queue_manager::fw_bar_base + off; }

struct level_sink : sc_core::sc_module, irq_level_if {
    sc_core::sc_export<irq_level_if> in{"in"};
    std::vector<std::pair<unsigned, bool>> got;
    std::vector<uint64_t> at;
    explicit level_sink(sc_core::sc_module_name n) : sc_module(n) { in.bind(*this); }
    void set_level(unsigned line, bool level) override {
        got.emplace_back(line, level);
        at.push_back(stim::now_ps());
    }
};

queue_manager::params fw_params() {
    queue_manager::params p = qparams();
    p.firmware = true;
    return p;
}

} // namespace

TEST_CASE("qman stimulus (firmware): doorbells, resets and the mailbox reach the firmware's interrupt", "[qman][stimulus]") {
    bench b(fw_params());
    level_sink meip("meip");
    b.qm.fw_irq_out.bind(meip.in);
    std::vector<uint32_t> v;
    stim::run([&] {
        b.setup(1, 1);
        b.host.write32(qreg(AAX_DOORBELL(1)), 3);  // not enabled in INT_ENABLE yet: pending, no level
        v.push_back(b.fw.read32(fwreg(AAX_FW_INT_PENDING)));
        v.push_back(b.fw.read32(fwreg(AAX_FW_DOORBELLS)));
        v.push_back(b.host.read32(ring_reg(1, AAX_RING_TAIL)));
        v.push_back(b.host.read32(ring_reg(1, AAX_RING_STATUS)));  // HEAD 0 != TAIL 3: not idle
        b.fw.write32(fwreg(AAX_FW_INT_ENABLE), AAX_FW_INT_DOORBELL | AAX_FW_INT_MAILBOX);  // level rises
        b.fw.write32(fwreg(AAX_FW_DOORBELLS), 1u << 1);
        b.fw.write32(fwreg(AAX_FW_INT_PENDING), AAX_FW_INT_DOORBELL);  // level falls
        // The host's mailbox message; the firmware's reply raises the event line.
        b.host.write32(qreg(AAX_REG_MBOX_H2F), 0x01000007);
        v.push_back(b.fw.read32(fwreg(AAX_FW_MBOX_H2F)));
        b.fw.write32(fwreg(AAX_FW_MBOX_F2H), 0x00000042);
        v.push_back(b.host.read32(qreg(AAX_REG_MBOX_F2H)));
        b.fw.write32(fwreg(AAX_FW_INT_PENDING), AAX_FW_INT_MAILBOX);
        // A ring reset while the firmware marks the ring BUSY is the firmware's to finish.
        b.fw.write32(fwreg(AAX_FW_RING(1) + AAX_FW_RING_STATE), AAX_FW_RING_BUSY);
        b.host.write32(ring_reg(1, AAX_RING_CTRL), AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET | 1u << AAX_RING_CTRL_CQ_SHIFT);
        v.push_back(b.fw.read32(fwreg(AAX_FW_RESETS)));
        v.push_back(b.fw.read32(fwreg(AAX_FW_INT_PENDING)));
        b.fw.write32(fwreg(AAX_FW_RING(1) + AAX_FW_RING_STATE), 0);  // job dropped: the reset completes
        v.push_back(b.host.read32(ring_reg(1, AAX_RING_HEAD)));
        v.push_back(b.fw.read32(fwreg(AAX_FW_RESETS)));
        v.push_back(b.host.read32(ring_reg(1, AAX_RING_STATUS)));
    });
    CHECK(v == std::vector<uint32_t>{AAX_FW_INT_DOORBELL, 1u << 1, 3, 0, 0x01000007, 0x80000042, 1u << 1,
                                     AAX_FW_INT_RESET, 3, 0, AAX_RING_STATUS_IDLE});
    CHECK(meip.got == std::vector<std::pair<unsigned, bool>>{{11, true}, {11, false}, {11, true}, {11, false}});
    CHECK(b.irq.count(AAX_IRQ_LINE_EVENT) == 1);
    CHECK(b.mem.log.empty());  // the hardware scheduler's ring threads do not exist
}

TEST_CASE("qman stimulus (firmware): an engine queue runs a command buffer and reports its result", "[qman][stimulus]") {
    bench b(fw_params());
    level_sink meip("meip");
    b.qm.fw_irq_out.bind(meip.in);
    b.dma.cost_ps = 200000;
    std::vector<uint8_t> good;
    append(good, msg_pkt(0x30000, 0xBEEF));
    append(good, dma_pkt());
    std::vector<uint8_t> bad;
    append(bad, hdr(AAX_OP_NOP, 1));
    append(bad, hdr(AAX_OP_NOP, 1));
    append(bad, msg_pkt(0xFFF00000, 1));
    std::vector<uint32_t> v;
    uint64_t done_at = 0;
    stim::run([&] {
        b.fw.write32(fwreg(AAX_FW_INT_ENABLE), AAX_FW_INT_EQ(1));
        const aax_job_desc g = b.job(good, 0);
        b.fw.write32(eqreg(1, AAX_FW_EQ_CMDBUF_LO), static_cast<uint32_t>(g.cmdbuf_addr));
        b.fw.write32(eqreg(1, AAX_FW_EQ_SIZE), g.cmdbuf_size);
        b.fw.write32(eqreg(1, AAX_FW_EQ_RING), 0);
        b.fw.write32(eqreg(1, AAX_FW_EQ_DEADLINE_LO), 5000);  // ns
        b.fw.write32(eqreg(1, AAX_FW_EQ_ASID), 3);
        b.fw.write32(eqreg(1, AAX_FW_EQ_CTRL), AAX_FW_EQ_START);
        sc_core::wait(sc_core::SC_ZERO_TIME);
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_STATUS)));  // busy
        settle();
        REQUIRE(!meip.at.empty());
        done_at = meip.at[0];  // the engine queue's interrupt
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_STATUS)));
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_DONE)));
        v.push_back(b.fw.read32(fwreg(AAX_FW_INT_PENDING)));
        b.fw.write32(fwreg(AAX_FW_INT_PENDING), AAX_FW_INT_EQ(1));
        const aax_job_desc x = b.job(bad, 0);
        b.fw.write32(eqreg(1, AAX_FW_EQ_CMDBUF_LO), static_cast<uint32_t>(x.cmdbuf_addr));
        b.fw.write32(eqreg(1, AAX_FW_EQ_SIZE), x.cmdbuf_size);
        b.fw.write32(eqreg(1, AAX_FW_EQ_CTRL), AAX_FW_EQ_START);
        settle();
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_STATUS)));
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_ERR_OFFSET)));
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_ERR_OPCODE)));
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_ERR_ADDR_LO)));
        // An unreadable buffer: the fetch fails, opcode JOB.
        b.fw.write32(eqreg(1, AAX_FW_EQ_CMDBUF_LO), 0xFFF00000u);
        b.fw.write32(eqreg(1, AAX_FW_EQ_CTRL), AAX_FW_EQ_START);
        settle();
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_STATUS)));
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_ERR_OPCODE)));
        v.push_back(b.fw.read32(eqreg(1, AAX_FW_EQ_DONE)));
    });
    CHECK(v == std::vector<uint32_t>{AAX_FW_EQ_BUSY, 0, 1, AAX_FW_INT_EQ(1),
                                     AAX_ERR_BAD_ADDRESS << 8, 16, AAX_OP_MSG, 0xFFF00000u,
                                     AAX_ERR_BAD_ADDRESS << 8, AAX_ERR_OPCODE_JOB, 3});
    CHECK(b.mem.get<uint32_t>(0x30000) == 0xBEEFu);
    REQUIRE(b.dma.got.size() == 1);
    CHECK(b.dma.got[0].ext.deadline_ps == 5000000);  // DEADLINE (device ns) to the engines
    CHECK(b.dma.got[0].ext.asid == 3);
    CHECK(b.dma.got[0].ext.stream == 0);
    // fetch 10 + MSG (decode 4 + write 10) + DMA (decode 4 + 200): 228 ns.
    CHECK(done_at == 228000);
    CHECK(b.irq.got.empty());  // errors are the firmware's to report
}

TEST_CASE("qman stimulus (firmware): the firmware's ring, CQ and error writes show in the host registers; epochs gate them",
          "[qman][stimulus]") {
    bench b(fw_params());
    std::vector<uint32_t> v;
    stim::run([&] {
        b.setup(0, 0);
        b.fw.write32(fwreg(AAX_FW_RING(0) + AAX_FW_RING_HEAD), 11);  // mod 8 entries
        b.fw.write32(fwreg(AAX_FW_RING(0) + AAX_FW_RING_STATE), AAX_FW_RING_ERROR | AAX_ERR_BAD_JOB << 8);
        b.fw.write32(fwreg(AAX_FW_RING(0) + AAX_FW_RING_JOBS_DONE), 9);
        b.fw.write32(fwreg(AAX_FW_CQ(0) + AAX_FW_CQ_TAIL), 2);  // and phase 0
        b.fw.write32(fwreg(AAX_FW_ERR_JOB_ID), 77);
        b.fw.write32(fwreg(AAX_FW_ERR_OFFSET), 24);
        b.fw.write32(fwreg(AAX_FW_ERR_ADDR_LO), 0x1000);
        b.fw.write32(fwreg(AAX_FW_ERR_REPORT), AAX_ERR_BAD_JOB | 0u << 8 | AAX_ERR_OPCODE_JOB << 16);
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_HEAD)));
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_STATUS)));
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_JOBS_DONE)));
        v.push_back(b.host.read32(cq_reg(0, AAX_CQ_TAIL)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_STATUS)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_JOB_ID)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_OFFSET)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_ADDR_LO)));
        v.push_back(b.host.read32(qreg(AAX_REG_ERR_COUNT)));
        // A soft reset moves the epoch: the firmware's writes are ignored until it catches up.
        b.qm.reset_in->soft_reset();
        v.push_back(b.fw.read32(fwreg(AAX_FW_EPOCH)));
        v.push_back(b.fw.read32(fwreg(AAX_FW_RESETS)));
        b.fw.write32(fwreg(AAX_FW_RING(0) + AAX_FW_RING_JOBS_DONE), 5);  // stale epoch: ignored
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_JOBS_DONE)));
        b.fw.write32(fwreg(AAX_FW_EPOCH), 1);
        b.fw.write32(fwreg(AAX_FW_RING(0) + AAX_FW_RING_JOBS_DONE), 5);
        v.push_back(b.host.read32(ring_reg(0, AAX_RING_JOBS_DONE)));
        v.push_back(b.fw.read32(fwreg(AAX_FW_CQ(0) + AAX_FW_CQ_TAIL)));  // CQ restarted: tail 0, phase 1
    });
    CHECK(v == std::vector<uint32_t>{3, AAX_RING_STATUS_ERROR | AAX_ERR_BAD_JOB << 8, 9, 2,
                                     AAX_ERR_STATUS_VALID | AAX_ERR_BAD_JOB | AAX_ERR_OPCODE_JOB << 16, 77, 24, 0x1000,
                                     1, 1, AAX_FW_RESETS_SOFT, 0, 5, AAX_FW_CQ_PHASE});
    CHECK(b.irq.count(AAX_IRQ_LINE_ERROR) == 1);
}
