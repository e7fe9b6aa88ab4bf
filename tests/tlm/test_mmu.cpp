// Unit tests of the MMU (tlm/mmu/): translation of 4 KiB and 2 MiB pages on a hand-built
// table, TLB hit vs miss cost against the analytic sum of timed PTE reads, walk cache,
// set/way eviction, invalidation by ASID and by VA, page-crossing splits and every
// fault type with its record and interrupt.
//
// Bench: two engine-side initiators -> mmu ports 0 and 1 -> router -> memory, the walkers
// on the same router; memory at 8 GB/s with 50 ns latency, so an 8-byte read costs
// exactly 51 ns. Tests use port 0 unless they are about several ports.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "abi/aax_mmu.h"
#include "abi/aax_regs.h"
#include "platform/host/vm.h"
#include "tlm/core/extensions.h"
#include "tlm/core/router.h"
#include "tlm/mem/memory.h"
#include "tlm/mmu/mmu.h"

using namespace accelvp;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

constexpr uint64_t pte_read_ps = 51000;  // 50 ns latency + 8 bytes at 8 GB/s
constexpr uint64_t hit_ps = 1000;        // mmu tlb_hit_ns = 1

struct irq_counter : sc_core::sc_module, irq_if {
    explicit irq_counter(sc_core::sc_module_name n) : sc_module(n) {}
    void raise(unsigned line) override { lines.push_back(line); }
    std::vector<unsigned> lines;
};

struct bench : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<bench> eng{"eng"};
    tlm_utils::simple_initiator_socket<bench> eng1{"eng1"};
    tlm_utils::simple_initiator_socket<bench> reg{"reg"};
    router noc{"noc"};
    memory mem;
    mmu m;
    irq_counter irq{"irq"};
    std::function<void(bench&)> body;
    uint64_t next_table = 0x100000;

    static mmu::params mmu_params(uint32_t walk_cache) {
        mmu::params p;
        p.contexts = 4;
        p.tlb_geom.sets = 4;
        p.tlb_geom.ways = 2;
        p.tlb_geom.entries_2m = 2;
        p.walk_cache = walk_cache;
        p.tlb_hit_ns = 1;
        p.ports = {"port0", "port1"};
        return p;
    }
    explicit bench(uint32_t walk_cache = 0, sc_core::sc_module_name n = "tb")
        : sc_module(n), mem("mem", memory::params{64ull << 20, 8, 50, false}), m("mmu", mmu_params(walk_cache)) {
        eng.bind(m.port(0).target_socket);
        eng1.bind(m.port(1).target_socket);
        reg.bind(m.reg_socket);
        for (unsigned i = 0; i < 2; ++i) {
            m.port(i).initiator_socket.bind(noc.target_socket);
            m.port(i).walker.socket.bind(noc.target_socket);
        }
        noc.add_target("mem", 0, 64ull << 20, mem.socket);
        m.irq_out.bind(irq);
        sc_core::sc_spawn([this] { body(*this); });
    }

    void poke64(uint64_t a, uint64_t v) { mem.store().write(a, &v, 8); }
    void wreg(uint32_t off, uint32_t v) {
        tlm::tlm_generic_payload t;
        sc_time d = sc_core::SC_ZERO_TIME;
        init_payload(t, tlm::TLM_WRITE_COMMAND, off - AAX_MMU_BAR_BASE, &v, 4);
        reg->b_transport(t, d);
        REQUIRE(t.is_response_ok());
    }
    uint32_t rreg(uint32_t off) {
        uint32_t v = 0;
        tlm::tlm_generic_payload t;
        sc_time d = sc_core::SC_ZERO_TIME;
        init_payload(t, tlm::TLM_READ_COMMAND, off - AAX_MMU_BAR_BASE, &v, 4);
        reg->b_transport(t, d);
        REQUIRE(t.is_response_ok());
        return v;
    }
    void enable(uint16_t asid, uint64_t root) {
        wreg(AAX_MMU_CTX(asid) + AAX_MMU_CTX_PT_BASE_LO, static_cast<uint32_t>(root));
        wreg(AAX_MMU_CTX(asid) + AAX_MMU_CTX_PT_BASE_HI, static_cast<uint32_t>(root >> 32));
        wreg(AAX_MMU_CTX(asid) + AAX_MMU_CTX_CTRL, AAX_MMU_CTX_EN);
    }
    // A page-table editor writing straight into the memory's store (tables from 1 MiB up).
    std::unique_ptr<page_table_editor> editor() {
        auto e = std::make_unique<page_table_editor>(
            [this]() -> std::optional<uint64_t> {
                next_table += AAX_MMU_TABLE_SIZE;
                return next_table;
            },
            [](uint64_t) {},
            [this](uint64_t a, const void* d, uint64_t n) {
                mem.store().write(a, d, n);
                return true;
            });
        REQUIRE(e->init() == 0);
        return e;
    }
    // One engine access; returns its duration in ps (and syncs, so the bus is idle after).
    struct access_result {
        tlm::tlm_response_status status;
        bool fault;
        uint64_t ps;
    };
    access_result access(uint16_t asid, tlm::tlm_command cmd, uint64_t va, void* data, uint32_t len,
                         unsigned port = 0) {
        tlm::tlm_generic_payload t;
        init_payload(t, cmd, va, data, len);
        asid_ext a;
        a.asid = asid;
        extension_guard<asid_ext> g(t, &a);
        sc_time d = sc_core::SC_ZERO_TIME;
        (port ? eng1 : eng)->b_transport(t, d);
        sc_core::wait(d + sc_time(1, sc_core::SC_US));
        return {t.get_response_status(), a.fault, d.value()};
    }
};

void run(bench& b, std::function<void(bench&)> f) {
    b.body = std::move(f);
    sc_core::sc_start();
}

constexpr uint64_t rw = AAX_PTE_READ | AAX_PTE_WRITE;

// Two 4 KiB pages at VA 0x7000_0000 in context 1; the duration of an 8-byte read at each va.
std::vector<uint64_t> timed_reads(bench& b, const std::vector<uint64_t>& vas) {
    auto pt = b.editor();
    REQUIRE(pt->map(0x7000'0000, 0x300000, 0x2000, rw, false) == 0);
    uint64_t v = 0;
    std::vector<uint64_t> ps;
    run(b, [&](bench& t) {
        t.enable(1, pt->root());
        for (uint64_t va : vas) ps.push_back(t.access(1, tlm::TLM_READ_COMMAND, va, &v, 8).ps);
    });
    return ps;
}

} // namespace

TEST_CASE("MMU translates 4 KiB and 2 MiB pages of a hand-built table", "[mmu]") {
    bench b;
    // Root 0x10000; VA = 1<<39 | 2<<30 | 3<<21 | 4<<12 (indices 1, 2, 3, 4) -> PA 0x200000 (4 KiB page);
    // VA 1<<39 | 2<<30 | 5<<21 -> PA 0x800000 (2 MiB leaf in the same level-2 table).
    const uint64_t root = 0x10000, l1 = 0x11000, l2 = 0x12000, l3 = 0x13000;
    b.poke64(root + 8 * 1, l1 | AAX_PTE_VALID);
    b.poke64(l1 + 8 * 2, l2 | AAX_PTE_VALID);
    b.poke64(l2 + 8 * 3, l3 | AAX_PTE_VALID);
    b.poke64(l3 + 8 * 4, 0x200000 | AAX_PTE_VALID | AAX_PTE_LEAF | rw);
    b.poke64(l2 + 8 * 5, 0x800000 | AAX_PTE_VALID | AAX_PTE_LEAF | AAX_PTE_READ);
    const uint64_t va4k = (1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12);
    const uint64_t va2m = (1ull << 39) | (2ull << 30) | (5ull << 21);
    const char msg4k[] = "four kilobytes", msg2m[] = "two megabytes";
    b.mem.store().write(0x200000 + 0x123, msg4k, sizeof(msg4k));
    b.mem.store().write(0x800000 + 0x1F0123, msg2m, sizeof(msg2m));
    char got4k[sizeof(msg4k)] = {}, got2m[sizeof(msg2m)] = {};
    uint32_t written = 0xC0FFEE, back = 0;
    bench::access_result r1{}, r2{}, r3{};
    run(b, [&](bench& t) {
        t.enable(1, root);
        r1 = t.access(1, tlm::TLM_READ_COMMAND, va4k + 0x123, got4k, sizeof(got4k));
        r2 = t.access(1, tlm::TLM_READ_COMMAND, va2m + 0x1F0123, got2m, sizeof(got2m));
        r3 = t.access(1, tlm::TLM_WRITE_COMMAND, va4k + 0xFF8, &written, 4);
    });
    REQUIRE(r1.status == tlm::TLM_OK_RESPONSE);
    REQUIRE(r2.status == tlm::TLM_OK_RESPONSE);
    REQUIRE(r3.status == tlm::TLM_OK_RESPONSE);
    REQUIRE(std::memcmp(got4k, msg4k, sizeof(msg4k)) == 0);
    REQUIRE(std::memcmp(got2m, msg2m, sizeof(msg2m)) == 0);
    b.mem.store().read(0x200000 + 0xFF8, &back, 4);
    REQUIRE(back == written);
    // The 2 MiB walk stops at level 2: 3 reads; the 4 KiB one reads 4.
    REQUIRE(b.m.port(0).get_tlb().misses.get() == 2);
}

TEST_CASE("MMU TLB hit costs the lookup and a miss adds four timed PTE reads", "[mmu][timing]") {
    bench b;
    const auto ps = timed_reads(b, {0x7000'0000, 0x7000'0008, 0x7000'1000, 0x7000'1010});
    // data access = one 8-byte read = pte_read_ps
    REQUIRE(ps[0] == hit_ps + 4 * pte_read_ps + pte_read_ps);  // miss: full walk (no walk cache)
    REQUIRE(ps[1] == hit_ps + pte_read_ps);                    // hit
    REQUIRE(ps[2] == hit_ps + 4 * pte_read_ps + pte_read_ps);  // next page: miss again
    REQUIRE(ps[3] == hit_ps + pte_read_ps);
    REQUIRE(b.m.port(0).get_tlb().hits.get() == 2);
    REQUIRE(b.m.port(0).get_tlb().misses.get() == 2);
}

TEST_CASE("MMU walk cache makes a neighbouring miss one PTE read", "[mmu][timing]") {
    bench b(8);
    const auto ps = timed_reads(b, {0x7000'0000, 0x7000'1000});
    REQUIRE(ps[0] == hit_ps + 4 * pte_read_ps + pte_read_ps);
    REQUIRE(ps[1] == hit_ps + 1 * pte_read_ps + pte_read_ps);  // level-3 table address cached
}

TEST_CASE("MMU TLB evicts the least recently used way of a set", "[mmu][tlb]") {
    tlb::params p;
    p.sets = 2;
    p.ways = 2;
    p.entries_2m = 1;
    tlb t(p);
    auto tr = [](uint64_t vpn, uint64_t size = AAX_PAGE_4K) {
        translation x;
        x.va_page = vpn * size;
        x.pa_page = 0x1000000 + vpn * size;
        x.page_size = size;
        x.perms = AAX_PTE_READ;
        return x;
    };
    translation out;
    // VPNs 0, 2, 4 all map to set 0; 1 to set 1.
    t.insert(1, 0x0000, tr(0));
    t.insert(1, 0x2000, tr(2));
    t.insert(1, 0x1000, tr(1));
    REQUIRE(t.lookup(1, 0x0000, out));  // 0 is now more recent than 2
    t.insert(1, 0x4000, tr(4));         // evicts 2 (LRU of set 0), not 0, and not set 1
    REQUIRE(t.evictions.get() == 1);
    REQUIRE(t.lookup(1, 0x0010, out));
    REQUIRE(out.pa(0x0010) == 0x1000010);
    REQUIRE_FALSE(t.lookup(1, 0x2000, out));
    REQUIRE(t.lookup(1, 0x4000, out));
    REQUIRE(t.lookup(1, 0x1000, out));
    REQUIRE_FALSE(t.lookup(2, 0x1000, out));  // another ASID never hits
    // 2 MiB entries are separate: a 2 MiB insert does not evict 4 KiB entries.
    t.insert(1, 0x600000, tr(3, AAX_PAGE_2M));
    REQUIRE(t.lookup(1, 0x7FFFFF, out));
    REQUIRE(out.page_size == AAX_PAGE_2M);
    REQUIRE(out.pa(0x7FFFFF) == 0x1000000 + 0x7FFFFF);
    REQUIRE(t.evictions.get() == 1);
    REQUIRE(t.hits.get() == 5);
    REQUIRE(t.misses.get() == 2);
}

TEST_CASE("MMU TLB without 2 MiB entries keeps the used 4 KiB piece", "[mmu][tlb]") {
    tlb::params p;
    p.entries_2m = 0;
    tlb t(p);
    translation big;
    big.va_page = 0x200000;
    big.pa_page = 0x4000000;
    big.page_size = AAX_PAGE_2M;
    big.perms = AAX_PTE_READ;
    t.insert(3, 0x203456, big);
    translation out;
    REQUIRE(t.lookup(3, 0x203000, out));
    REQUIRE(out.page_size == AAX_PAGE_4K);
    REQUIRE(out.pa(0x203FFF) == 0x4003FFF);
    REQUIRE_FALSE(t.lookup(3, 0x204000, out));
}

TEST_CASE("MMU invalidation by asid and by va through the registers", "[mmu][tlb]") {
    bench b;
    auto p1 = b.editor();
    auto p2 = b.editor();
    REQUIRE(p1->map(0x10000, 0x300000, 0x2000, rw, false) == 0);
    REQUIRE(p2->map(0x10000, 0x400000, 0x1000, rw, false) == 0);
    uint64_t v = 0;
    std::vector<uint64_t> misses;
    run(b, [&](bench& t) {
        t.enable(1, p1->root());
        t.enable(2, p2->root());
        auto touch = [&] {
            t.access(1, tlm::TLM_READ_COMMAND, 0x10000, &v, 8);
            t.access(1, tlm::TLM_READ_COMMAND, 0x11000, &v, 8);
            t.access(2, tlm::TLM_READ_COMMAND, 0x10000, &v, 8);
            misses.push_back(t.m.port(0).get_tlb().misses.get());
        };
        touch();  // 3 misses
        touch();  // all hits
        t.wreg(AAX_REG_MMU_TLB_INV_VA_LO, 0x11000);
        t.wreg(AAX_REG_MMU_TLB_INV_VA_HI, 0);
        t.wreg(AAX_REG_MMU_TLB_INV, 1 | AAX_MMU_INV_VA << AAX_MMU_INV_OP_SHIFT);
        touch();  // only asid 1's page 0x11000 misses
        t.wreg(AAX_REG_MMU_TLB_INV, 2 | AAX_MMU_INV_ASID << AAX_MMU_INV_OP_SHIFT);
        touch();  // only asid 2 misses
        t.wreg(AAX_REG_MMU_TLB_INV, AAX_MMU_INV_ALL << AAX_MMU_INV_OP_SHIFT);
        touch();  // all three miss
    });
    REQUIRE(misses == std::vector<uint64_t>{3, 3, 4, 5, 8});
}

TEST_CASE("MMU splits a transaction that crosses a page boundary", "[mmu]") {
    bench b;
    auto pt = b.editor();
    REQUIRE(pt->map(0x20000, 0x500000, 0x1000, rw, false) == 0);
    REQUIRE(pt->map(0x21000, 0x300000, 0x1000, rw, false) == 0);  // not contiguous physically
    std::vector<uint8_t> data(64);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i + 1);
    bench::access_result r{};
    run(b, [&](bench& t) {
        t.enable(1, pt->root());
        r = t.access(1, tlm::TLM_WRITE_COMMAND, 0x20FE0, data.data(), 64);
    });
    REQUIRE(r.status == tlm::TLM_OK_RESPONSE);
    std::vector<uint8_t> lo(32), hi(32);
    b.mem.store().read(0x500FE0, lo.data(), 32);
    b.mem.store().read(0x300000, hi.data(), 32);
    REQUIRE(std::equal(lo.begin(), lo.end(), data.begin()));
    REQUIRE(std::equal(hi.begin(), hi.end(), data.begin() + 32));
}

TEST_CASE("MMU passes ASID 0 through untranslated and untimed", "[mmu]") {
    bench b;
    const uint32_t magic = 0xABCD1234;
    b.mem.store().write(0x1234, &magic, 4);
    uint32_t v = 0;
    bench::access_result r{};
    run(b, [&](bench& t) { r = t.access(0, tlm::TLM_READ_COMMAND, 0x1234, &v, 4); });
    REQUIRE(r.status == tlm::TLM_OK_RESPONSE);
    REQUIRE(v == magic);
    REQUIRE(r.ps == 50000 + 500);  // the memory alone: 50 ns + 4 bytes at 8 GB/s
}

TEST_CASE("MMU faults record type access asid and va and raise the MMU line", "[mmu][fault]") {
    bench b;
    auto pt = b.editor();
    REQUIRE(pt->map(0x40000, 0x300000, 0x1000, AAX_PTE_READ, false) == 0);
    struct rec {
        bool fault;
        tlm::tlm_response_status st;
        uint32_t status, asid, va_lo, va_hi, count;
    };
    std::vector<rec> recs;
    uint64_t v = 0;
    run(b, [&](bench& t) {
        t.enable(1, pt->root());
        t.enable(2, 0x7FFFF000000ull);  // root outside memory: the walk's read fails
        auto probe = [&](uint16_t asid, tlm::tlm_command cmd, uint64_t va) {
            const auto r = t.access(asid, cmd, va, &v, 8);
            recs.push_back({r.fault, r.status, t.rreg(AAX_REG_MMU_FAULT_STATUS), t.rreg(AAX_REG_MMU_FAULT_ASID),
                            t.rreg(AAX_REG_MMU_FAULT_VA_LO), t.rreg(AAX_REG_MMU_FAULT_VA_HI),
                            t.rreg(AAX_REG_MMU_FAULT_COUNT)});
            t.wreg(AAX_REG_MMU_FAULT_STATUS, AAX_MMU_FAULT_VALID);  // clear for the next one
        };
        probe(1, tlm::TLM_READ_COMMAND, 0x1234'5678'9000ull);  // not present at level 0
        probe(1, tlm::TLM_READ_COMMAND, 0x41000);               // not present at level 3
        probe(1, tlm::TLM_WRITE_COMMAND, 0x40010);              // read-only page
        probe(1, tlm::TLM_READ_COMMAND, 1ull << 48);            // beyond 48 bits
        probe(3, tlm::TLM_READ_COMMAND, 0x40000);               // context 3 not enabled
        probe(2, tlm::TLM_READ_COMMAND, 0x40000);               // table read fails
        // Two faults without a clear: the first is kept.
        t.access(1, tlm::TLM_READ_COMMAND, 0x50000, &v, 8);
        t.access(1, tlm::TLM_READ_COMMAND, 0x60000, &v, 8);
        recs.push_back({true, tlm::TLM_OK_RESPONSE, t.rreg(AAX_REG_MMU_FAULT_STATUS), 0, t.rreg(AAX_REG_MMU_FAULT_VA_LO), 0,
                        t.rreg(AAX_REG_MMU_FAULT_COUNT)});
    });
    REQUIRE(recs.size() == 7);
    auto st = [](uint32_t type, uint32_t acc, uint32_t level) {
        return AAX_MMU_FAULT_VALID | type | acc << AAX_MMU_FAULT_ACC_SHIFT | level << AAX_MMU_FAULT_LEVEL_SHIFT;
    };
    for (size_t i = 0; i < 6; ++i) {
        REQUIRE(recs[i].fault);
        REQUIRE(recs[i].st == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        REQUIRE(recs[i].count == i + 1);
    }
    REQUIRE(recs[0].status == st(AAX_MMU_FAULT_NOT_PRESENT, AAX_MMU_ACC_READ, 0));
    REQUIRE(recs[0].asid == 1);
    REQUIRE(recs[0].va_lo == 0x56789000u);
    REQUIRE(recs[0].va_hi == 0x1234u);
    REQUIRE(recs[1].status == st(AAX_MMU_FAULT_NOT_PRESENT, AAX_MMU_ACC_READ, 3));
    REQUIRE(recs[1].va_lo == 0x41000u);
    REQUIRE(recs[2].status == st(AAX_MMU_FAULT_PERMISSION, AAX_MMU_ACC_WRITE, 3));
    REQUIRE(recs[2].va_lo == 0x40010u);
    REQUIRE(recs[3].status == st(AAX_MMU_FAULT_RANGE, AAX_MMU_ACC_READ, 0));
    REQUIRE(recs[3].va_hi == 0x10000u);
    REQUIRE(recs[4].status == st(AAX_MMU_FAULT_CONTEXT, AAX_MMU_ACC_READ, 0));
    REQUIRE(recs[4].asid == 3);
    REQUIRE(recs[5].status == st(AAX_MMU_FAULT_WALK, AAX_MMU_ACC_READ, 0));
    REQUIRE(recs[5].asid == 2);
    REQUIRE(recs[6].va_lo == 0x50000u);  // first kept
    REQUIRE(recs[6].count == 8);
    REQUIRE(b.irq.lines == std::vector<unsigned>(8, AAX_IRQ_LINE_MMU));
}

TEST_CASE("MMU soft reset disables every context and clears the TLB and the fault record", "[mmu]") {
    bench b;
    auto pt = b.editor();
    REQUIRE(pt->map(0x40000, 0x300000, 0x1000, rw, false) == 0);
    uint64_t v = 0;
    uint32_t st = 1, count = 1, ctrl = 1;
    bool enabled_before = false, enabled_after = true;
    bench::access_result after{};
    run(b, [&](bench& t) {
        t.enable(1, pt->root());
        t.access(1, tlm::TLM_READ_COMMAND, 0x40000, &v, 8);  // cached in the TLB
        t.access(1, tlm::TLM_READ_COMMAND, 0x90000, &v, 8);  // a fault
        enabled_before = t.m.context_enabled(1);
        t.m.reset_in->soft_reset();
        enabled_after = t.m.context_enabled(1);
        st = t.rreg(AAX_REG_MMU_FAULT_STATUS);
        count = t.rreg(AAX_REG_MMU_FAULT_COUNT);
        ctrl = t.rreg(AAX_MMU_CTX(1) + AAX_MMU_CTX_CTRL);
        after = t.access(1, tlm::TLM_READ_COMMAND, 0x40000, &v, 8);  // no stale translation survives
    });
    REQUIRE(enabled_before);
    REQUIRE_FALSE(enabled_after);
    REQUIRE(st == 0);
    REQUIRE(count == 0);
    REQUIRE(ctrl == 0);
    REQUIRE(after.fault);
    REQUIRE(b.m.port(0).get_tlb().invalidated.get() >= 1);
}

TEST_CASE("MMU ports have their own TLBs and every invalidation reaches all of them", "[mmu][tlb][ports]") {
    bench b;
    auto pt = b.editor();
    REQUIRE(pt->map(0x10000, 0x300000, 0x1000, rw, false) == 0);
    const uint64_t old_word = 0x01D01D01D01Dull, new_word = 0x0E30E30E30E3ull;
    b.poke64(0x300000, old_word);
    b.poke64(0x400000, new_word);
    struct sample {
        uint64_t v0, v1, miss0, miss1;
    };
    std::vector<sample> s;
    run(b, [&](bench& t) {
        t.enable(1, pt->root());
        auto both = [&] {
            uint64_t v0 = 0, v1 = 0;
            REQUIRE(t.access(1, tlm::TLM_READ_COMMAND, 0x10000, &v0, 8, 0).status == tlm::TLM_OK_RESPONSE);
            REQUIRE(t.access(1, tlm::TLM_READ_COMMAND, 0x10000, &v1, 8, 1).status == tlm::TLM_OK_RESPONSE);
            s.push_back({v0, v1, t.m.port(0).get_tlb().misses.get(), t.m.port(1).get_tlb().misses.get()});
        };
        both();  // each port walks once: its own TLB
        both();  // both hit
        // Remap the page behind the MMU's back: both TLBs keep the stale translation.
        REQUIRE(pt->unmap(0x10000, 0x1000) == 0);
        REQUIRE(pt->map(0x10000, 0x400000, 0x1000, rw, false) == 0);
        both();
        t.wreg(AAX_REG_MMU_TLB_INV_VA_LO, 0x10000);
        t.wreg(AAX_REG_MMU_TLB_INV_VA_HI, 0);
        t.wreg(AAX_REG_MMU_TLB_INV, 1 | AAX_MMU_INV_VA << AAX_MMU_INV_OP_SHIFT);
        both();  // both walk again and see the new page
        t.wreg(AAX_REG_MMU_TLB_INV, 1 | AAX_MMU_INV_ASID << AAX_MMU_INV_OP_SHIFT);
        both();
        t.wreg(AAX_REG_MMU_TLB_INV, AAX_MMU_INV_ALL << AAX_MMU_INV_OP_SHIFT);
        both();
    });
    REQUIRE(s.size() == 6);
    const std::vector<uint64_t> want_v = {old_word, old_word, old_word, new_word, new_word, new_word};
    const std::vector<uint64_t> want_miss = {1, 1, 1, 2, 3, 4};
    for (size_t i = 0; i < s.size(); ++i) {
        INFO("step " << i);
        REQUIRE(s[i].v0 == want_v[i]);
        REQUIRE(s[i].v1 == want_v[i]);
        REQUIRE(s[i].miss0 == want_miss[i]);
        REQUIRE(s[i].miss1 == want_miss[i]);
    }
    REQUIRE(b.m.port(0).get_tlb().hits.get() == 2);
    REQUIRE(b.m.port(1).get_tlb().hits.get() == 2);
}

TEST_CASE("MMU fault on port 1 is recorded with its port in the shared record", "[mmu][fault][ports]") {
    bench b;
    auto pt = b.editor();
    REQUIRE(pt->map(0x40000, 0x300000, 0x1000, AAX_PTE_READ, false) == 0);
    uint64_t v = 0;
    bench::access_result ok0{}, bad1{};
    uint32_t st = 0, va_lo = 0, asid = 0;
    run(b, [&](bench& t) {
        t.enable(1, pt->root());
        bad1 = t.access(1, tlm::TLM_WRITE_COMMAND, 0x40008, &v, 8, 1);  // read-only page, written by port 1
        ok0 = t.access(1, tlm::TLM_READ_COMMAND, 0x40008, &v, 8, 0);    // port 0 is unaffected
        st = t.rreg(AAX_REG_MMU_FAULT_STATUS);
        va_lo = t.rreg(AAX_REG_MMU_FAULT_VA_LO);
        asid = t.rreg(AAX_REG_MMU_FAULT_ASID);
    });
    REQUIRE(bad1.fault);
    REQUIRE(bad1.status == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    REQUIRE_FALSE(ok0.fault);
    REQUIRE(ok0.status == tlm::TLM_OK_RESPONSE);
    REQUIRE(st == (AAX_MMU_FAULT_VALID | AAX_MMU_FAULT_PERMISSION | AAX_MMU_ACC_WRITE << AAX_MMU_FAULT_ACC_SHIFT |
                   3u << AAX_MMU_FAULT_LEVEL_SHIFT | 1u << AAX_MMU_FAULT_PORT_SHIFT));
    REQUIRE(va_lo == 0x40008u);
    REQUIRE(asid == 1);
    REQUIRE(b.irq.lines == std::vector<unsigned>{AAX_IRQ_LINE_MMU});
}
