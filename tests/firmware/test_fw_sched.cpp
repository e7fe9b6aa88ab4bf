// The firmware's scheduling logic (fw_sched.c), built natively.
#include <catch2/catch.hpp>

extern "C" {
#include "abi/aax_regs.h"
#include "fw_sched.h"
}

namespace {
aax_job_desc good_job() {
    aax_job_desc d{};
    d.cmdbuf_addr = 0x100000;
    d.cmdbuf_size = 64;
    d.job_id = 42;
    d.flags = AAX_JOB_IRQ | AAX_JOB_TIMESTAMP;
    return d;
}
} // namespace

TEST_CASE("firmware accepts a well-formed job descriptor", "[firmware][sched]") {
    const auto d = good_job();
    REQUIRE(fw_check_job(&d, 0, 0) == AAX_OK);
}

TEST_CASE("firmware rejects bad flags and command-buffer geometry as BAD_JOB", "[firmware][sched]") {
    auto d = good_job();
    d.flags = 1u << 7;
    REQUIRE(fw_check_job(&d, 0, 0) == AAX_ERR_BAD_JOB);
    d = good_job();
    d.cmdbuf_size = 0;
    REQUIRE(fw_check_job(&d, 0, 0) == AAX_ERR_BAD_JOB);
    d.cmdbuf_size = 12;
    REQUIRE(fw_check_job(&d, 0, 0) == AAX_ERR_BAD_JOB);
    d.cmdbuf_size = AAX_MAX_CMDBUF_SIZE + 8;
    REQUIRE(fw_check_job(&d, 0, 0) == AAX_ERR_BAD_JOB);
    d = good_job();
    d.cmdbuf_addr += 4;
    REQUIRE(fw_check_job(&d, 0, 0) == AAX_ERR_BAD_JOB);
}

TEST_CASE("firmware accepts an address space only with an enabled context and the ring's pin", "[firmware][sched]") {
    auto d = good_job();
    d.asid = 3;
    REQUIRE(fw_check_job(&d, 0, 0) == AAX_ERR_BAD_ASID);  // no enabled MMU context
    REQUIRE(fw_check_job(&d, 0, 1) == AAX_OK);
    REQUIRE(fw_check_job(&d, 3, 1) == AAX_OK);            // the ring is pinned to ASID 3
    REQUIRE(fw_check_job(&d, 2, 1) == AAX_ERR_BAD_ASID);  // ... to another one
    d.asid = 0;
    REQUIRE(fw_check_job(&d, 1, 0) == AAX_ERR_BAD_ASID);
}

TEST_CASE("the CQ producer wraps with a phase flip and stops one short of the head", "[firmware][sched][cq]") {
    fw_cq q{0, 1, 2, 0};  // 4 slots, host head at 0
    uint32_t slot = 99;
    for (uint32_t i = 0; i < 3; ++i) {
        REQUIRE(fw_cq_reserve(&q, &slot) == 0);
        REQUIRE(slot == i);
        fw_cq_commit(&q);
    }
    REQUIRE(fw_cq_reserve(&q, &slot) == -1);  // full: 3 of 4 used
    q.head = 2;                               // the host consumed two
    REQUIRE(fw_cq_reserve(&q, &slot) == 0);
    REQUIRE(slot == 3);
    fw_cq_commit(&q);
    REQUIRE(q.tail == 0);
    REQUIRE(q.phase == 0);  // second pass writes PHASE = 0
    REQUIRE(fw_cq_reserve(&q, &slot) == 0);
    REQUIRE(slot == 0);
}

TEST_CASE("an invalid CQ size or a tail beyond a shrunk CQ is handled", "[firmware][sched][cq]") {
    fw_cq q{0, 1, 0, 0};
    uint32_t slot = 0;
    REQUIRE(fw_cq_reserve(&q, &slot) == -1);
    q.size_log2 = 17;
    REQUIRE(fw_cq_reserve(&q, &slot) == -1);
    fw_cq s{9, 0, 2, 0};  // tail 9 in a 4-entry CQ: restart at slot 0, phase 1
    REQUIRE(fw_cq_reserve(&s, &slot) == 0);
    REQUIRE(slot == 0);
    REQUIRE(s.phase == 1);
}

TEST_CASE("completion records carry error details only for failures and timestamps only when asked", "[firmware][sched][cq]") {
    auto d = good_job();
    aax_cq_entry e;
    fw_cq_fill(&e, &d, 3, AAX_OK, 16, 2, 1, 100, 200);
    REQUIRE(e.job_id == 42);
    REQUIRE(e.ring == 3);
    REQUIRE(e.status == AAX_OK);
    REQUIRE(e.flags == (AAX_CQE_PHASE | AAX_CQE_TS_VALID));
    REQUIRE(e.err_offset == 0);
    REQUIRE(e.err_info == 0);
    REQUIRE(e.ts_start == 100);
    REQUIRE(e.ts_end == 200);
    d.flags = 0;
    fw_cq_fill(&e, &d, 0, AAX_ERR_BAD_ADDRESS, 16, AAX_OP_DMA, 0, 100, 200);
    REQUIRE(e.flags == 0);
    REQUIRE(e.err_offset == 16);
    REQUIRE(e.err_info == AAX_OP_DMA);
    REQUIRE(e.ts_start == 0);
}

TEST_CASE("firmware runs on a user ring only jobs of its context, and no descriptor fence", "[firmware][sched][uq]") {
    const uint32_t user3 = AAX_RING_ASID_USER | 3;
    auto d = good_job();
    d.asid = 3;
    REQUIRE(fw_check_job(&d, user3, 1) == AAX_OK);
    REQUIRE(fw_check_job(&d, user3, 0) == AAX_ERR_BAD_ASID);            // context not enabled
    REQUIRE(fw_check_job(&d, AAX_RING_ASID_USER | 2, 1) == AAX_ERR_BAD_ASID);  // another context
    d.flags |= AAX_JOB_WRITE_FENCE;
    REQUIRE(fw_check_job(&d, user3, 1) == AAX_ERR_BAD_JOB);             // a physical write
    REQUIRE(fw_check_job(&d, 3, 1) == AAX_OK);                          // (a kernel ring may)
    d = good_job();
    d.asid = 0;
    REQUIRE(fw_check_job(&d, AAX_RING_ASID_USER, 0) == AAX_ERR_BAD_ASID);  // physical: never on a user ring
}
