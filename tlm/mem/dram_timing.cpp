#include "tlm/mem/dram_timing.h"

#include <algorithm>

#include <fmt/format.h>

namespace accelvp {

namespace {

// ns -> cycles of the standard's clock, rounded up (as JEDEC rounds minimum times).
constexpr uint32_t ck(double ns, uint32_t tck_ps) {
    const double c = ns * 1000.0 / tck_ps;
    const auto i = static_cast<uint32_t>(c);
    return static_cast<double>(i) < c - 1e-9 ? i + 1 : i;
}

std::vector<dram_standard> make_standards() {
    std::vector<dram_standard> v;
    {
        // HBM2E at 3.2 Gb/s per pin, pseudo-channel mode (JESD235): CK 1.6 GHz, DDR, BL4 on
        // a 64-bit pseudo-channel = 32 B per burst, 409.6 GB/s per stack. Core timings are
        // the ns values of DRAMSim3's HBM2_8Gb_x128 config at this clock; refresh from the
        // JESD235 density table (16 Gb die) as tabulated by Ramulator 2. docs/memory.md.
        dram_standard s;
        s.name = "HBM2E";
        s.description = "HBM2E 3.2 Gb/s, 8 channels x 2 pseudo-channels x 64 bit per stack, 409.6 GB/s per stack";
        s.org = dram_org{1, 8, 2, 4, 4, 64, 1024, 16ull << 30};
        auto& t = s.t;
        t.tCK_ps = 625;
        t.BL = 4;
        t.beats_per_ck = 2;
        t.dual_cmd_bus = true;
        t.tRCD = ck(14, 625);   // 23
        t.tRP = ck(14, 625);    // 23
        t.tCL = ck(14, 625);    // 23
        t.tWL = ck(4, 625);     // 7
        t.tRAS = ck(34, 625);   // 55
        t.tRC = ck(48, 625);    // 77
        t.tCCD_S = 2;
        t.tCCD_L = 4;
        t.tRRD_S = ck(4, 625);  // 7
        t.tRRD_L = ck(6, 625);  // 10
        t.tFAW = ck(30, 625);   // 48
        t.tWTR_S = ck(6, 625);  // 10
        t.tWTR_L = ck(8, 625);  // 13
        t.tRTP = ck(6, 625);    // 10
        t.tWR = ck(16, 625);    // 26
        t.tRTW = t.tCL + t.burst_cycles() + 2 - t.tWL;  // 20: read data leaves the bus before write data
        t.tRFC = ck(450, 625);    // 720
        t.tRFCpb = ck(160, 625);  // 256
        t.tREFI = ck(3900, 625);  // 6240
        t.tREFIpb = 0;
        v.push_back(s);
    }
    {
        // HBM3 at 6.4 Gb/s per pin (JESD238): CK 1.6 GHz, 4 beats per CK, BL8 on a 32-bit
        // pseudo-channel = 32 B per burst, 16 channels x 2 pseudo-channels, 819.2 GB/s per
        // stack. Timings: the HBM3_6.4Gbps row of the Ramulator 2 based AttAcc simulator
        // (which scales the DRAMSim3 HBM2 ns values to this clock); tRTW from the data-bus
        // turnaround rule; refresh from the JESD238 16 Gb density entry. docs/memory.md.
        dram_standard s;
        s.name = "HBM3";
        s.description = "HBM3 6.4 Gb/s, 16 channels x 2 pseudo-channels x 32 bit per stack, 819.2 GB/s per stack";
        s.org = dram_org{1, 16, 2, 4, 4, 32, 1024, 16ull << 30};
        auto& t = s.t;
        t.tCK_ps = 625;
        t.BL = 8;
        t.beats_per_ck = 4;
        t.dual_cmd_bus = true;
        t.tRCD = 23;
        t.tRP = 23;
        t.tCL = 23;
        t.tWL = 7;
        t.tRAS = 55;
        t.tRC = 77;
        t.tCCD_S = 2;
        t.tCCD_L = 4;
        t.tRRD_S = 2;
        t.tRRD_L = 4;
        t.tFAW = 48;
        t.tWTR_S = 10;
        t.tWTR_L = 13;
        t.tRTP = 10;
        t.tWR = 26;
        t.tRTW = t.tCL + t.burst_cycles() + 2 - t.tWL;  // 20
        t.tRFC = ck(450, 625);    // 720
        t.tRFCpb = 320;           // 200 ns
        t.tREFI = 6240;           // 3.9 us
        t.tREFIpb = 0;
        v.push_back(s);
    }
    {
        // LPDDR5-6400, x16 channel, bank-group mode (JESD209-5): CK 800 MHz, WCK:CK 4:1 so
        // 8 beats per CK, BL16 = 32 B per burst in 2 CK, 12.8 GB/s per channel. Timings: the
        // LPDDR5_6400 preset and 8 Gb refresh table of Ramulator 2 (tRC = tRAS + tRPpb, as
        // the standard defines it); tRTW from the data-bus turnaround rule. docs/memory.md.
        dram_standard s;
        s.name = "LPDDR5";
        s.description = "LPDDR5-6400 x16 channels, 12.8 GB/s per channel";
        s.org = dram_org{1, 2, 1, 4, 4, 16, 2048, 4ull << 30};
        auto& t = s.t;
        t.tCK_ps = 1250;
        t.BL = 16;
        t.beats_per_ck = 8;
        t.dual_cmd_bus = false;
        t.tRCD = 15;
        t.tRP = 15;
        t.tCL = 20;
        t.tWL = 11;
        t.tRAS = 34;
        t.tRC = 49;
        t.tCCD_S = 2;
        t.tCCD_L = 4;
        t.tRRD_S = 4;
        t.tRRD_L = 4;
        t.tFAW = 16;
        t.tWTR_S = 5;
        t.tWTR_L = 10;
        t.tRTP = 4;
        t.tWR = 28;
        t.tRTW = t.tCL + t.burst_cycles() + 2 - t.tWL;  // 13
        t.tRFC = ck(210, 1250);    // 168
        t.tRFCpb = ck(120, 1250);  // 96
        t.tREFI = ck(3906, 1250);  // 3125
        t.tREFIpb = 0;
        v.push_back(s);
    }
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
};

} // namespace

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
                 "refresh mode: all_bank (REFab), per_bank (REFpb, idle banks first), none",
                 {"all_bank", "per_bank", "none"})
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
    over(k.bank_groups, p.org.bank_groups);
    over(k.banks_per_group, p.org.banks_per_group);
    over(k.width_bits, p.org.width_bits);
    over(k.row_bytes, p.org.row_bytes);
    p.org.size = c.get_uint(prefix + ".size");  // declared by memory::declare (shared with the simple model)
    for (const auto& tk : timing_keys) over(k.t.*tk.field, p.t.*tk.field);
    p.refresh = k.refresh;
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
    if (t.tRC < t.tRAS) fail(fmt::format("mem.dram.tRC = {} is less than tRAS = {}", t.tRC, t.tRAS));
    if (t.tCCD_L < t.tCCD_S) fail(fmt::format("mem.dram.tCCD_L = {} is less than tCCD_S = {}", t.tCCD_L, t.tCCD_S));
    if (t.tRRD_L < t.tRRD_S) fail(fmt::format("mem.dram.tRRD_L = {} is less than tRRD_S = {}", t.tRRD_L, t.tRRD_S));
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
        if (every < 2ull * org.pseudo_channels)
            fail(fmt::format("{}: per-bank refreshes of the {} pseudo-channels would take more than half of the "
                             "row-command slots; the interval must be at least {}",
                             what, org.pseudo_channels, 2ull * org.pseudo_channels));
    }
    const uint64_t slots = uint64_t{queue_depth} + write_queue_depth +
                           2ull * org.pseudo_channels * banks_per_pc() * bank_queue_depth;
    if (slots > 32767)
        fail(fmt::format("mem.dram.bank_queue_depth = {}: queue_depth + write_queue_depth + 2 x {} banks x "
                         "bank_queue_depth = {} entries per channel, at most 32767",
                         bank_queue_depth, org.pseudo_channels * banks_per_pc(), slots));
    if (write_low >= write_high)
        fail(fmt::format("mem.dram.write_low = {} must be below write_high = {}", write_low, write_high));
    if (write_high > write_queue_depth)
        fail(fmt::format("mem.dram.write_high = {} exceeds write_queue_depth = {}", write_high, write_queue_depth));
}

} // namespace accelvp
