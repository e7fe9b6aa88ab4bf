// The firmware's hardware-independent logic, built natively.
#include <cstring>
#include <string>

#include <catch2/catch.hpp>

extern "C" {
#include "fw_boot.h"
}
#include "abi/aax_regs.h"

namespace {
aax_boot_params good_params() {
    aax_boot_params p{};
    p.magic = AAX_BOOT_MAGIC;
    p.abi_version = AAX_ABI_VERSION;
    p.core_freq_mhz = 1000;
    p.timer_mhz = 100;
    p.n_rings = 2;
    p.log_addr = 0x100000;
    p.log_size = 4096;
    for (unsigned i = 0; i < 2; ++i) {
        p.rings[i].ring_addr = 0x200000 + 0x1000 * i;
        p.rings[i].cq_addr = (1ull << 48) + 0x400 * i;
        p.rings[i].ring_log2 = 8;
        p.rings[i].cq_log2 = 9;
        p.rings[i].msix_vector = 2 + i;
    }
    return p;
}
} // namespace

TEST_CASE("firmware accepts well-formed boot parameters", "[firmware][boot]") {
    const auto p = good_params();
    REQUIRE(fw_check_boot_params(&p, AAX_ABI_MAJOR) == 0);
}

TEST_CASE("firmware rejects a wrong magic and trusts nothing else", "[firmware][boot]") {
    auto p = good_params();
    p.magic = 0x12345678;
    p.n_rings = 99;
    REQUIRE(fw_check_boot_params(&p, AAX_ABI_MAJOR) == AAX_BOOT_ERR_BAD_MAGIC);
}

TEST_CASE("firmware rejects another ABI major and out-of-range ring geometry", "[firmware][boot]") {
    auto p = good_params();
    p.abi_version = (AAX_ABI_MAJOR + 1) << 16;
    REQUIRE(fw_check_boot_params(&p, AAX_ABI_MAJOR) == AAX_BOOT_ERR_BAD_VERSION);
    p = good_params();
    p.rings[1].ring_log2 = 17;
    REQUIRE(fw_check_boot_params(&p, AAX_ABI_MAJOR) == AAX_BOOT_ERR_BAD_PARAMS);
    p = good_params();
    p.rings[0].ring_addr += 8;  // not 64-byte aligned
    REQUIRE(fw_check_boot_params(&p, AAX_ABI_MAJOR) == AAX_BOOT_ERR_BAD_PARAMS);
    p = good_params();
    p.n_rings = AAX_BOOT_MAX_RINGS + 1;
    REQUIRE(fw_check_boot_params(&p, AAX_ABI_MAJOR) == AAX_BOOT_ERR_BAD_PARAMS);
}

TEST_CASE("the firmware log ring wraps and keeps the newest text", "[firmware][log]") {
    alignas(8) unsigned char mem[sizeof(aax_fw_log) + 8] = {};
    auto* log = reinterpret_cast<aax_fw_log*>(mem);
    log->magic = AAX_FW_LOG_MAGIC;
    log->capacity = 8;
    fw_log_append(log, "abcdef", 6);
    fw_log_append(log, "ghij", 4);
    REQUIRE(log->write_pos == 10);
    const char* text = reinterpret_cast<const char*>(log + 1);
    REQUIRE(std::string(text, 8) == "ijcdefgh");  // positions 8,9 wrapped onto 0,1
}
