#include "tlm/mem/dram_timing.h"

#include <algorithm>

#include <fmt/format.h>

namespace accelvp {

namespace {

// ns -> cycles of a clock, the JEDEC way: ceil(ns / tCK - 0.025), so a value that is a
// whole number of clocks up to rounding of the clock period stays that number.
uint32_t ck(double ns, uint32_t tck_ps) {
    const double c = ns * 1000.0 / tck_ps - 0.025;
    const auto i = static_cast<uint32_t>(c);
    return static_cast<double>(i) < c ? i + 1 : i;
}

// One standard's table: timings in ns (converted with the clock in use) or in clocks (nCK,
// kept when the clock changes); tRTW derived from the data-bus turnaround rule, tRC from
// tRAS + tRP where the standard defines it so.
struct table {
    dram_standard s;
    explicit table(const char* name, const char* desc, dram_org org, uint32_t tck_ps, uint32_t bl, uint32_t beats,
                   bool dual_cmd_bus, const char* refresh) {
        s.name = name;
        s.description = desc;
        s.org = org;
        s.t.tCK_ps = tck_ps;
        s.t.BL = bl;
        s.t.beats_per_ck = beats;
        s.t.dual_cmd_bus = dual_cmd_bus;
        s.default_refresh = refresh;
    }
    table& ns(uint32_t dram_timing::*f, double v) {
        s.ns.push_back({f, v});
        s.t.*f = ck(v, s.t.tCK_ps);
        return *this;
    }
    table& nck(uint32_t dram_timing::*f, uint32_t v) {
        s.t.*f = v;
        return *this;
    }
    table& trc_is_tras_plus_trp() {
        s.trc_derived = true;
        return *this;
    }
    dram_standard done() {
        s.derive(s.t);
        return s;
    }
};

using T = dram_timing;

std::vector<dram_standard> make_standards() {
    std::vector<dram_standard> v;
    // Sources of every table: docs/memory.md "Standards and sources".
    // HBM2, 2 Gb/s per pin, legacy mode (JESD235B): CK 1 GHz, 8 x 128-bit channels, BL4 =
    // 64 B bursts, 256 GB/s per stack: DRAMSim3's HBM2_8Gb_x128 config.
    v.push_back(table("HBM2", "HBM2 2 Gb/s, 8 channels x 128 bit per stack (legacy mode), 256 GB/s per stack",
                      dram_org{1, 8, 1, 4, 4, 128, 1024, 8ull << 30}, 1000, 4, 2, true, "per_bank")
                    .ns(&T::tRCD, 14).ns(&T::tRP, 14).ns(&T::tCL, 14).ns(&T::tWL, 4).ns(&T::tRAS, 34).ns(&T::tRC, 48)
                    .nck(&T::tCCD_S, 1).nck(&T::tCCD_L, 2).ns(&T::tRRD_S, 4).ns(&T::tRRD_L, 6).ns(&T::tFAW, 30)
                    .ns(&T::tWTR_S, 6).ns(&T::tWTR_L, 8).ns(&T::tRTP, 4).ns(&T::tWR, 16)
                    .ns(&T::tRFC, 260).ns(&T::tRFCpb, 160).ns(&T::tREFI, 3900)
                    .done());
    // HBM2E 3.2 Gb/s, pseudo-channel mode (JESD235D): the HBM2 core timings in ns at CK 1.6 GHz.
    v.push_back(table("HBM2E", "HBM2E 3.2 Gb/s, 8 channels x 2 pseudo-channels x 64 bit per stack, 409.6 GB/s per stack",
                      dram_org{1, 8, 2, 4, 4, 64, 1024, 16ull << 30}, 625, 4, 2, true, "per_bank")
                    .ns(&T::tRCD, 14).ns(&T::tRP, 14).ns(&T::tCL, 14).ns(&T::tWL, 4).ns(&T::tRAS, 34).ns(&T::tRC, 48)
                    .nck(&T::tCCD_S, 2).nck(&T::tCCD_L, 4).ns(&T::tRRD_S, 4).ns(&T::tRRD_L, 6).ns(&T::tFAW, 30)
                    .ns(&T::tWTR_S, 6).ns(&T::tWTR_L, 8).ns(&T::tRTP, 6).ns(&T::tWR, 16)
                    .ns(&T::tRFC, 450).ns(&T::tRFCpb, 160).ns(&T::tREFI, 3900)
                    .done());
    // HBM3 6.4 Gb/s (JESD238A): CK 1.6 GHz, 4 beats per CK, BL8 on 32-bit pseudo-channels.
    v.push_back(table("HBM3", "HBM3 6.4 Gb/s, 16 channels x 2 pseudo-channels x 32 bit per stack, 819.2 GB/s per stack",
                      dram_org{1, 16, 2, 4, 4, 32, 1024, 16ull << 30}, 625, 8, 4, true, "per_bank")
                    .ns(&T::tRCD, 14).ns(&T::tRP, 14).ns(&T::tCL, 14).ns(&T::tWL, 4).ns(&T::tRAS, 34).ns(&T::tRC, 48)
                    .nck(&T::tCCD_S, 2).nck(&T::tCCD_L, 4).ns(&T::tRRD_S, 1.25).ns(&T::tRRD_L, 2.5).ns(&T::tFAW, 30)
                    .ns(&T::tWTR_S, 6).ns(&T::tWTR_L, 8).ns(&T::tRTP, 6).ns(&T::tWR, 16)
                    .ns(&T::tRFC, 450).ns(&T::tRFCpb, 200).ns(&T::tREFI, 3900)
                    .done());
    // HBM3E 9.6 Gb/s: the HBM3 organisation and core timings (ns) at CK 2.4 GHz.
    v.push_back(table("HBM3E", "HBM3E 9.6 Gb/s, 16 channels x 2 pseudo-channels x 32 bit per stack, 1.23 TB/s per stack",
                      dram_org{1, 16, 2, 4, 4, 32, 1024, 24ull << 30}, 417, 8, 4, true, "per_bank")
                    .ns(&T::tRCD, 14).ns(&T::tRP, 14).ns(&T::tCL, 14).ns(&T::tWL, 4).ns(&T::tRAS, 34).ns(&T::tRC, 48)
                    .nck(&T::tCCD_S, 2).nck(&T::tCCD_L, 4).ns(&T::tRRD_S, 1.25).ns(&T::tRRD_L, 2.5).ns(&T::tFAW, 30)
                    .ns(&T::tWTR_S, 6).ns(&T::tWTR_L, 8).ns(&T::tRTP, 6).ns(&T::tWR, 16)
                    .ns(&T::tRFC, 450).ns(&T::tRFCpb, 200).ns(&T::tREFI, 3900)
                    .done());
    // DDR4-2400 (JESD79-4), one rank of x8 8 Gb devices on a 64-bit channel (Micron
    // MT40A1G8-083E), BL8 = 64 B: DRAMSim3's DDR4_8Gb_x8_2400. No per-bank refresh.
    v.push_back(table("DDR4", "DDR4-2400, one 64-bit channel of x8 devices (one rank), 19.2 GB/s per channel",
                      dram_org{1, 1, 1, 4, 4, 64, 8192, 8ull << 30}, 833, 8, 2, false, "all_bank")
                    .nck(&T::tCL, 16).nck(&T::tWL, 16).ns(&T::tRCD, 13.32).ns(&T::tRP, 13.32).ns(&T::tRAS, 32)
                    .trc_is_tras_plus_trp().nck(&T::tCCD_S, 4).nck(&T::tCCD_L, 6).nck(&T::tRRD_S, 4).ns(&T::tRRD_L, 4.9)
                    .ns(&T::tFAW, 21).nck(&T::tWTR_S, 3).nck(&T::tWTR_L, 9).ns(&T::tRTP, 7.5).ns(&T::tWR, 15)
                    .ns(&T::tRFC, 350).ns(&T::tREFI, 7800).nck(&T::tRTRS, 2)
                    .done());
    // DDR5-4800B (JESD79-5), 16 Gb x8 devices, a DIMM's two 32-bit subchannels, BL16 = 64 B.
    v.push_back(table("DDR5", "DDR5-4800, two 32-bit subchannels of x8 devices (one rank), 19.2 GB/s per subchannel",
                      dram_org{1, 2, 1, 8, 4, 32, 4096, 16ull << 30}, 416, 16, 2, false, "all_bank")
                    .nck(&T::tCL, 40).nck(&T::tWL, 38).ns(&T::tRCD, 16.64).ns(&T::tRP, 16.64).ns(&T::tRAS, 32)
                    .trc_is_tras_plus_trp().nck(&T::tCCD_S, 8).ns(&T::tCCD_L, 5).nck(&T::tRRD_S, 8).ns(&T::tRRD_L, 5)
                    .nck(&T::tFAW, 32).ns(&T::tWTR_S, 2.5).ns(&T::tWTR_L, 10).ns(&T::tRTP, 7.5).ns(&T::tWR, 30)
                    .ns(&T::tRFC, 295).ns(&T::tRFCpb, 130).ns(&T::tREFI, 3900).nck(&T::tRTRS, 2)
                    .done());
    // LPDDR5-6400 x16, bank-group mode (JESD209-5B): CK 800 MHz, WCK:CK 4:1 (8 beats per CK),
    // BL16 = 32 B in 2 CK.
    v.push_back(table("LPDDR5", "LPDDR5-6400 x16 channels, 12.8 GB/s per channel",
                      dram_org{1, 2, 1, 4, 4, 16, 2048, 4ull << 30}, 1250, 16, 8, false, "per_bank")
                    .nck(&T::tCL, 20).nck(&T::tWL, 11).ns(&T::tRCD, 18).ns(&T::tRP, 18).ns(&T::tRAS, 42)
                    .trc_is_tras_plus_trp().nck(&T::tCCD_S, 2).nck(&T::tCCD_L, 4).ns(&T::tRRD_S, 5).ns(&T::tRRD_L, 5)
                    .ns(&T::tFAW, 20).ns(&T::tWTR_S, 6.25).ns(&T::tWTR_L, 12).nck(&T::tRTP, 4).ns(&T::tWR, 34)
                    .ns(&T::tRFC, 210).ns(&T::tRFCpb, 120).ns(&T::tREFI, 3906)
                    .done());
    // LPDDR5X-8533 x16 (JESD209-5B): CK 1067 MHz, WCK:CK 4:1; the LPDDR5 core timings in ns,
    // read/write latency scaled from LPDDR5-6400 in ns (25 ns, 13.75 ns); 16 Gb refresh.
    v.push_back(table("LPDDR5X", "LPDDR5X-8533 x16 channels, 17.1 GB/s per channel",
                      dram_org{1, 2, 1, 4, 4, 16, 2048, 8ull << 30}, 937, 16, 8, false, "per_bank")
                    .ns(&T::tCL, 25).ns(&T::tWL, 13.75).ns(&T::tRCD, 18).ns(&T::tRP, 18).ns(&T::tRAS, 42)
                    .trc_is_tras_plus_trp().nck(&T::tCCD_S, 2).nck(&T::tCCD_L, 4).ns(&T::tRRD_S, 5).ns(&T::tRRD_L, 5)
                    .ns(&T::tFAW, 20).ns(&T::tWTR_S, 6.25).ns(&T::tWTR_L, 12).nck(&T::tRTP, 4).ns(&T::tWR, 34)
                    .ns(&T::tRFC, 280).ns(&T::tRFCpb, 140).ns(&T::tREFI, 3906)
                    .done());
    // GDDR6 16 Gb/s (JESD250C): CK 2 GHz, 8 beats per CK, two x16 channels per device,
    // BL16 = 32 B, eight devices = 16 channels, 512 GB/s. Core timings in ns from Ramulator
    // 2's GDDR6_2000_1350mV preset (its cycles x its 570 ps clock).
    v.push_back(table("GDDR6", "GDDR6 16 Gb/s, 8 devices x 2 x16 channels, 512 GB/s",
                      dram_org{1, 16, 1, 4, 4, 16, 2048, 16ull << 30}, 500, 16, 8, false, "per_bank")
                    .ns(&T::tCL, 13.68).ns(&T::tWL, 3.42).ns(&T::tRCD, 14.82).ns(&T::tRP, 14.82).ns(&T::tRAS, 30.21)
                    .ns(&T::tRC, 45.03).nck(&T::tCCD_S, 2).nck(&T::tCCD_L, 4).ns(&T::tRRD_S, 3.99).ns(&T::tRRD_L, 3.99)
                    .ns(&T::tFAW, 15.96).ns(&T::tWTR_S, 5.13).ns(&T::tWTR_L, 6.27).ns(&T::tRTP, 2.28).ns(&T::tWR, 14.82)
                    .ns(&T::tRFC, 119.7).ns(&T::tRFCpb, 59.85).ns(&T::tREFI, 1899.81)
                    .done());
    return v;
}

struct timing_key {
    const char* name;
    uint32_t dram_timing::*field;
    const char* desc;
};

const timing_key timing_keys[] = {
    {"tCK_ps", &dram_timing::tCK_ps, "memory clock period (ps)"},
    {"BL", &dram_timing::BL, "burst length (beats)"},
    {"beats_per_ck", &dram_timing::beats_per_ck, "data beats per clock"},
    {"tRCD", &dram_timing::tRCD, "ACT to RD/WR, same bank"},
    {"tRP", &dram_timing::tRP, "PRE to ACT, same bank"},
    {"tRAS", &dram_timing::tRAS, "ACT to PRE, same bank"},
    {"tRC", &dram_timing::tRC, "ACT to ACT, same bank"},
    {"tCL", &dram_timing::tCL, "read latency (RD to first data, tRL)"},
    {"tWL", &dram_timing::tWL, "write latency (WR to first data)"},
    {"tCCD_S", &dram_timing::tCCD_S, "column to column, different bank group"},
    {"tCCD_L", &dram_timing::tCCD_L, "column to column, same bank group"},
    {"tRRD_S", &dram_timing::tRRD_S, "ACT to ACT, different bank group"},
    {"tRRD_L", &dram_timing::tRRD_L, "ACT to ACT, same bank group"},
    {"tFAW", &dram_timing::tFAW, "window in which at most four ACTs may issue (per pseudo-channel)"},
    {"tWTR_S", &dram_timing::tWTR_S, "end of write data to RD, different bank group"},
    {"tWTR_L", &dram_timing::tWTR_L, "end of write data to RD, same bank group"},
    {"tRTP", &dram_timing::tRTP, "RD to PRE, same bank"},
    {"tWR", &dram_timing::tWR, "write recovery: end of write data to PRE"},
    {"tRTW", &dram_timing::tRTW, "RD to WR (data-bus turnaround)"},
    {"tRFC", &dram_timing::tRFC, "all-bank refresh: REF to ACT"},
    {"tRFCpb", &dram_timing::tRFCpb, "per-bank refresh: REF to ACT of that bank"},
    {"tREFI", &dram_timing::tREFI, "average refresh interval (all-bank)"},
    {"tREFIpb", &dram_timing::tREFIpb, "per-bank refresh interval (default tREFI / banks per pseudo-channel)"},
    {"tRTRS", &dram_timing::tRTRS, "rank to rank switch: extra cycles between column commands of different ranks"},
};

} // namespace

void dram_standard::derive(dram_timing& x, bool rtw, bool trc) const {
    if (rtw) {
        const uint32_t r = x.tCL + x.burst_cycles() + 2;
        x.tRTW = r > x.tWL ? r - x.tWL : 1;
    }
    if (trc && trc_derived) x.tRC = x.tRAS + x.tRP;
}

dram_timing dram_standard::at_clock(uint32_t tck_ps) const {
    dram_timing x = t;
    if (tck_ps == t.tCK_ps) return x;
    x.tCK_ps = tck_ps;
    for (const auto& [f, v] : ns) x.*f = ck(v, tck_ps);
    derive(x);
    return x;
}

const std::vector<dram_standard>& dram_standards() {
    static const std::vector<dram_standard> v = make_standards();
    return v;
}

const dram_standard* find_dram_standard(const std::string& name) {
    for (const auto& s : dram_standards())
        if (s.name == name) return &s;
    return nullptr;
}

double dram_params::peak_bytes_per_s() const {
    const double per_pc = static_cast<double>(burst_bytes()) / (t.burst_cycles() * t.tCK_ps * 1e-12);
    return per_pc * org.pseudo_channels * controllers();
}

dram_knobs::dram_knobs() {
    for (const auto& k : timing_keys) t.*k.field = 0;
}

const param_table<dram_knobs>& dram_knobs::table() {
    static const auto tab = [] {
        using P = dram_knobs;
        std::vector<std::string> names;
        for (const auto& st : dram_standards()) names.push_back(st.name);
        auto t = param_table<P>()
                     .string("standard", &P::standard,
                             "DRAM standard of the dram model: its organisation and timing table", names)
                     .integer("stacks", &P::stacks, 1, 64, "stacks (HBM) or packages (LPDDR)")
                     .integer("channels", &P::channels, 0, 1024,
                              "channels per stack, one controller each (0: the standard's)")
                     .integer("pseudo_channels", &P::pseudo_channels, 0, 16,
                              "pseudo-channels per channel (0: the standard's)")
                     .integer("ranks", &P::ranks, 0, 16,
                              "ranks per pseudo-channel, sharing its data bus (0: the standard's; DDR DIMMs 1 or 2)")
                     .integer("bank_groups", &P::bank_groups, 0, 64, "bank groups per pseudo-channel (0: the standard's)")
                     .integer("banks_per_group", &P::banks_per_group, 0, 64, "banks per bank group (0: the standard's)")
                     .integer("width_bits", &P::width_bits, 0, 1024, "data bus of one pseudo-channel (0: the standard's)",
                              "bits")
                     .integer("row_bytes", &P::row_bytes, 0, 1 << 20,
                              "row (page) size of one pseudo-channel (0: the standard's)", "bytes");
        // One row per timing parameter of the standards' table.
        for (const auto& k : timing_keys) {
            const std::string name = k.name;
            t.integer("dram." + name, [f = k.field](auto& p) -> auto& { return p.t.*f; }, 0, 1 << 24,
                      std::string(k.desc) + " (0: the standard's value)",
                      name == "tCK_ps" ? "ps" : (name == "BL" || name == "beats_per_ck") ? "" : "cycles");
        }
        t.string("dram.refresh", &P::refresh,
                 "refresh mode: standard (the standard's: per_bank for HBM, LPDDR and GDDR, all_bank for DDR4 and "
                 "DDR5), all_bank (REFab), per_bank (REFpb, idle banks first), none",
                 {"standard", "all_bank", "per_bank", "none"})
            .string("dram.scheduler", &P::scheduler, "request scheduler: frfcfs (row hits first, then oldest) or fcfs",
                    {"frfcfs", "fcfs"})
            .string("dram.page_policy", &P::page_policy,
                    "open: keep rows open; closed: precharge after every access; closed_adaptive: precharge unless a "
                    "queued request hits the row",
                    {"open", "closed", "closed_adaptive"})
            .string("dram.mapping", &P::mapping,
                    "address mapping, fields MSB to LSB (st ch pc bg ba ro co, optional :bits), see docs/memory.md")
            .integer("dram.queue_depth", &P::queue_depth, 1, 4096, "read queue entries per channel")
            .integer("dram.write_queue_depth", &P::write_queue_depth, 1, 4096, "write queue entries per channel")
            .integer("dram.write_high", &P::write_high, 1, 4096,
                     "write-drain high watermark: drain writes from this many queued")
            .integer("dram.write_low", &P::write_low, 0, 4096, "write-drain low watermark: back to reads at this many")
            .integer("dram.bank_queue_depth", &P::bank_queue_depth, 0, 4096,
                     "per-bank command queue entries (per direction) fed in order from the transaction queues "
                     "(queue_depth, write_queue_depth); 0: no command queues, the scheduler sees every queued request")
            .integer("dram.row_hit_cap", &P::row_hit_cap, 0, 1 << 20,
                     "FR-FCFS age cap: younger row hits served ahead of a bank's oldest request before it goes "
                     "next (0: no cap)");
        return t;
    }();
    return tab;
}

dram_params dram_params::of_standard(const std::string& name) {
    const dram_standard* st = find_dram_standard(name);
    if (!st) throw config_error("config error: unknown DRAM standard '" + name + "'");
    dram_params p;
    p.standard = st->name;
    p.org = st->org;
    p.t = st->t;
    p.refresh = st->default_refresh;
    return p;
}


void dram_params::declare(param_schema& s, const std::string& prefix) { dram_knobs::table().declare(s, prefix); }

dram_params dram_params::from_config(const config& c, const std::string& prefix) {
    const auto k = dram_knobs::table().load(c, prefix);
    dram_params p = of_standard(k.standard);
    auto over = [](uint32_t v, uint32_t& field) {
        if (v) field = v;
    };
    p.org.stacks = k.stacks;
    over(k.channels, p.org.channels);
    over(k.pseudo_channels, p.org.pseudo_channels);
    over(k.ranks, p.org.ranks);
    over(k.bank_groups, p.org.bank_groups);
    over(k.banks_per_group, p.org.banks_per_group);
    over(k.width_bits, p.org.width_bits);
    over(k.row_bytes, p.org.row_bytes);
    p.org.size = c.get_uint(prefix + ".size");  // declared by memory::declare (shared with the simple model)
    // A clock other than the standard's converts its ns timings (docs/memory.md); explicit
    // cycle values override, and derived ones (tRTW, tRC) follow unless given.
    const dram_standard* st = find_dram_standard(k.standard);
    if (k.t.tCK_ps) p.t = st->at_clock(k.t.tCK_ps);
    for (const auto& tk : timing_keys) over(k.t.*tk.field, p.t.*tk.field);
    st->derive(p.t, k.t.tRTW == 0, k.t.tRC == 0);
    p.refresh = k.refresh == "standard" ? st->default_refresh : k.refresh;
    p.scheduler = k.scheduler;
    p.page_policy = k.page_policy;
    p.mapping = k.mapping;
    p.queue_depth = k.queue_depth;
    p.write_queue_depth = k.write_queue_depth;
    p.write_high = k.write_high;
    p.write_low = k.write_low;
    p.bank_queue_depth = k.bank_queue_depth;
    p.row_hit_cap = k.row_hit_cap;
    p.dmi = c.get_bool(prefix + ".dmi");
    p.validate();
    return p;
}

void dram_params::validate() const {
    auto fail = [](const std::string& m) { throw config_error("config error: " + m); };
    if (org.width_bits % 8) fail(fmt::format("mem.width_bits = {} is not a whole number of bytes", org.width_bits));
    const uint32_t bb = burst_bytes();
    if (bb == 0 || (bb & (bb - 1))) fail(fmt::format("DRAM burst of {} bytes (width/8 x BL) is not a power of two", bb));
    if (org.row_bytes % bb) fail(fmt::format("mem.row_bytes = {} is not a multiple of the {}-byte burst", org.row_bytes, bb));
    if (banks_per_pc() > 1024) fail("more than 1024 banks per pseudo-channel");
    if (org.ranks == 0 || org.units() > 64)
        fail(fmt::format("mem.ranks = {} x mem.pseudo_channels = {}: 1 to 64 ranks and pseudo-channels per channel",
                         org.ranks, org.pseudo_channels));
    if (t.tRC < t.tRAS) fail(fmt::format("mem.dram.tRC = {} is less than tRAS = {}", t.tRC, t.tRAS));
    if (t.tCCD_L < t.tCCD_S) fail(fmt::format("mem.dram.tCCD_L = {} is less than tCCD_S = {}", t.tCCD_L, t.tCCD_S));
    if (t.tRRD_L < t.tRRD_S) fail(fmt::format("mem.dram.tRRD_L = {} is less than tRRD_S = {}", t.tRRD_L, t.tRRD_S));
    if (t.tCK_ps == 0) fail("mem.dram.tCK_ps must be positive");
    // Refresh must leave the banks time to serve requests: a bank (all-bank: the
    // pseudo-channel) may spend at most half of its time refreshing, counting with each
    // refresh one row cycle (tRC) lost to the precharge it forces. Closer to full, the
    // controller finds a refresh due before every request's column command and never serves
    // one (tREFIpb = 1 livelocked it).
    if (refresh == "all_bank" && t.tREFI < 2ull * (t.tRFC + t.tRC))
        fail(fmt::format("mem.dram.tREFI = {} must be at least 2 x (mem.dram.tRFC + mem.dram.tRC) = {}: all-bank "
                         "refresh would leave the banks too little time to serve requests",
                         t.tREFI, 2ull * (t.tRFC + t.tRC)));
    if (refresh == "per_bank") {
        // Each bank is refreshed once every tREFIpb x banks cycles.
        const uint64_t banks = banks_per_pc();
        const uint64_t every = t.tREFIpb ? t.tREFIpb : std::max<uint64_t>(1, t.tREFI / std::max<uint64_t>(1, banks));
        const std::string what = t.tREFIpb ? fmt::format("mem.dram.tREFIpb = {}", t.tREFIpb)
                                           : fmt::format("mem.dram.tREFI = {} / {} banks = {}", t.tREFI, banks, every);
        if (every * banks < 2ull * (t.tRFCpb + t.tRC))
            fail(fmt::format("{}: each of the {} banks of a pseudo-channel is refreshed every {} cycles, which must be "
                             "at least 2 x (mem.dram.tRFCpb + mem.dram.tRC) = {}: the banks would have too little "
                             "time to serve requests",
                             what, banks, every * banks, 2ull * (t.tRFCpb + t.tRC)));
        // Each per-bank refresh takes the row-command bus one cycle, for every pseudo-channel.
        if (every < 2ull * org.units())
            fail(fmt::format("{}: per-bank refreshes of the {} pseudo-channels would take more than half of the "
                             "row-command slots; the interval must be at least {}",
                             what, org.units(), 2ull * org.units()));
    }
    if (refresh == "per_bank") {
        if (t.tRFCpb == 0)
            fail(fmt::format("mem.dram.refresh = per_bank: {} has no per-bank refresh (mem.dram.tRFCpb = 0); use "
                             "all_bank or none, or set mem.dram.tRFCpb",
                             standard));
        const uint64_t banks = std::max<uint64_t>(1, banks_per_pc());
        const uint64_t every = t.tREFIpb ? t.tREFIpb : std::max<uint64_t>(1, t.tREFI / banks);
        if (t.tRFCpb >= every)
            fail(fmt::format("mem.dram.tRFCpb = {} is not below tREFIpb = {} ({}): per-bank refresh would never end",
                             t.tRFCpb, every, t.tREFIpb ? "mem.dram.tREFIpb" : "tREFI / banks per pseudo-channel"));
    }
    const uint64_t slots = uint64_t{queue_depth} + write_queue_depth +
                           2ull * org.units() * banks_per_pc() * bank_queue_depth;
    if (slots > 32767)
        fail(fmt::format("mem.dram.bank_queue_depth = {}: queue_depth + write_queue_depth + 2 x {} banks x "
                         "bank_queue_depth = {} entries per channel, at most 32767",
                         bank_queue_depth, org.units() * banks_per_pc(), slots));
    if (t.tRAS < t.tRCD)
        fail(fmt::format("mem.dram.tRAS = {} is less than tRCD = {}: a row must stay open until it can be read",
                         t.tRAS, t.tRCD));
    if (write_low >= write_high)
        fail(fmt::format("mem.dram.write_low = {} must be below write_high = {}", write_low, write_high));
    if (write_high > write_queue_depth)
        fail(fmt::format("mem.dram.write_high = {} exceeds write_queue_depth = {}", write_high, write_queue_depth));
}

} // namespace accelvp
