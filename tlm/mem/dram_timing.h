// DRAM standards as data: organisation and timing tables, one per standard, picked by
// name (`mem.standard: HBM2E`), every value overridable from the config.
//
// Structure: stacks -> channels -> pseudo-channels -> bank groups -> banks -> rows ->
// columns (one column = one device burst). A channel has one controller; its
// pseudo-channels have their own data bus and banks and share the channel's command
// buses (DRAMSys models HBM pseudo-channels the same way, as ranks).
//
// Timing values are in memory-clock cycles (nCK) of tCK_ps; the sources of the numbers
// are cited in docs/memory.md. Adding a standard = adding one table entry in
// dram_timing.cpp (plus a timing checker only if its rules differ from the JEDEC rules
// that timing_checker implements).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tlm/core/params.h"

namespace accelvp {

struct dram_org {
    uint32_t stacks = 1;           // stacks (HBM) or packages (LPDDR)
    uint32_t channels = 8;         // per stack; one controller each
    uint32_t pseudo_channels = 2;  // per channel: own data bus and banks
    uint32_t bank_groups = 4;      // per pseudo-channel
    uint32_t banks_per_group = 4;
    uint32_t width_bits = 64;      // data bus of one pseudo-channel
    uint32_t row_bytes = 1024;     // page size of one pseudo-channel
    uint64_t size = 16ull << 30;   // total capacity (bytes)
    // Ranks per pseudo-channel (DDR DIMMs): each its own banks, tRRD/tFAW window and refresh,
    // sharing the pseudo-channel's data bus (column commands of different ranks keep tRTRS
    // apart). The controller treats pseudo-channels x ranks as its units.
    uint32_t ranks = 1;
    uint32_t units() const { return pseudo_channels * ranks; }
};

struct dram_timing {
    uint32_t tCK_ps = 625;
    uint32_t BL = 4;           // burst length (beats)
    uint32_t beats_per_ck = 2; // data beats per clock (DDR 2, HBM3 4, LPDDR5 with WCK:CK 4:1 8)
    bool dual_cmd_bus = true;  // separate row and column command buses (HBM) or one CA bus (LPDDR)
    uint32_t tRCD = 0, tRP = 0, tRAS = 0, tRC = 0, tCL = 0, tWL = 0;
    uint32_t tCCD_S = 0, tCCD_L = 0, tRRD_S = 0, tRRD_L = 0, tFAW = 0;
    uint32_t tWTR_S = 0, tWTR_L = 0, tRTP = 0, tWR = 0, tRTW = 0;
    uint32_t tRFC = 0, tRFCpb = 0, tREFI = 0, tREFIpb = 0;  // tREFIpb 0: tREFI / banks per pseudo-channel
    uint32_t tRTRS = 0;  // rank to rank: extra data-bus cycles between column commands of different ranks

    // Data-bus cycles of one burst.
    uint32_t burst_cycles() const { return (BL + beats_per_ck - 1) / beats_per_ck; }
};

struct dram_standard {
    std::string name;
    std::string description;
    dram_org org;
    dram_timing t;  // at the standard's own clock (t.tCK_ps)
    // The timings the standard gives in ns: with another clock (mem.dram.tCK_ps) they are
    // converted again, the JEDEC way (ceil(ns / tCK - 0.025)); the others are in clocks.
    std::vector<std::pair<uint32_t dram_timing::*, double>> ns;
    bool trc_derived = false;           // tRC = tRAS + tRP (LPDDR, DDR)
    std::string default_refresh;        // all_bank | per_bank
    // The derived timings of `t`: tRTW = tCL + BURST + 2 - tWL (read data off the bus before
    // write data, two cycles of turnaround) and, if trc_derived, tRC.
    void derive(dram_timing& t, bool rtw = true, bool trc = true) const;
    // The table's timings at clock `tck_ps` (ns values converted, clock values kept, derived
    // values derived again).
    dram_timing at_clock(uint32_t tck_ps) const;
};

// The registry of standards, by name (HBM2, HBM2E, HBM3, HBM3E, DDR4, DDR5, LPDDR5, LPDDR5X,
// GDDR6).
const std::vector<dram_standard>& dram_standards();
const dram_standard* find_dram_standard(const std::string& name);

// The DRAM model's keys (`mem.*`) as a config gives them: an organisation or timing value
// of 0 keeps the standard's. dram_params::from_config applies them over the standard.
struct dram_knobs {
    std::string standard = "HBM2E";
    uint32_t stacks = 1;
    uint32_t ranks = 0;
    uint32_t channels = 0, pseudo_channels = 0, bank_groups = 0, banks_per_group = 0, width_bits = 0, row_bytes = 0;
    dram_timing t;  // every timing key 0 (set by the constructor)
    std::string refresh = "standard";
    std::string scheduler = "frfcfs";
    std::string page_policy = "open";
    std::string mapping = "ro-ba-co-bg-st-pc-ch";
    uint32_t queue_depth = 32;
    uint32_t write_queue_depth = 32;
    uint32_t write_high = 24;
    uint32_t write_low = 8;
    uint32_t bank_queue_depth = 0;
    uint32_t row_hit_cap = 0;

    dram_knobs();
    static const param_table<dram_knobs>& table();  // the parameters: key, member, range, unit, description
};

// Everything the DRAM model is configured with (`mem.*` keys).
struct dram_params {
    std::string standard = "HBM2E";
    dram_org org;
    dram_timing t;
    std::string refresh = "per_bank";     // all_bank | per_bank | none
    std::string scheduler = "frfcfs";     // frfcfs | fcfs
    std::string page_policy = "open";     // open | closed | closed_adaptive
    std::string mapping = "ro-ba-co-bg-st-pc-ch";  // MSB -> LSB, see address_mapping.h
    uint32_t queue_depth = 32;            // read queue entries per channel
    uint32_t write_queue_depth = 32;      // write queue entries per channel
    uint32_t write_high = 24;             // start draining writes at this many
    uint32_t write_low = 8;               // stop draining at this many (if reads wait)
    // Per-bank command queues (per direction) behind the transaction queues: 0 = none, every
    // queued request is visible to the scheduler (queue_depth entries in all); N = each bank
    // schedules among at most N requests, the rest wait in the transaction queue in order.
    uint32_t bank_queue_depth = 0;
    // FR-FCFS age cap: at most this many younger row hits go before a bank's oldest request
    // (0 = no cap).
    uint32_t row_hit_cap = 0;
    bool dmi = true;

    uint32_t burst_bytes() const { return org.width_bits / 8 * t.BL; }
    uint32_t banks_per_pc() const { return org.bank_groups * org.banks_per_group; }
    uint32_t controllers() const { return org.stacks * org.channels; }
    // Peak data bandwidth of the whole memory (bytes/s).
    double peak_bytes_per_s() const;

    // Declare the DRAM keys under `prefix` ("mem"); capacity is `<prefix>.size` and DMI
    // `<prefix>.dmi` (declared by memory::declare, shared with the simple model).
    static void declare(param_schema& s, const std::string& prefix);
    // The standard's table with the config's overrides applied; checks consistency.
    static dram_params from_config(const config& c, const std::string& prefix);
    // The standard's table alone (for tests and tools).
    static dram_params of_standard(const std::string& name);
    // Throws config_error when values are inconsistent (e.g. tRC < tRAS + tRP).
    void validate() const;
};

} // namespace accelvp
