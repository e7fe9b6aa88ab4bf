// Fault injection (`-p fault.*`, docs/security.md "Fault injection"): what goes wrong and
// when, decided up front from the parameters and sim.seed, so the same seed gives the same
// faults, the same stats and the same results.
//
//   DRAM ECC      single-bit errors corrected and counted, double-bit errors returned as an
//                 uncorrectable error to the initiator that read the word (tlm/mem/ecc.h)
//   engine hang   a DMA engine never completes a chosen packet; the watchdog (firmware, or
//                 the hardware scheduler's deadline) ends the job as TIMEOUT
//   firmware      the control core traps (or hangs) when it starts a chosen job; the driver
//                 sees it, resets the device, re-boots the firmware and resubmits the jobs
//   links         extra bit errors (CRC retries) and a link-down event, on top of link.*
//
// Each injection site draws from its own stream (fault_stream), seeded from sim.seed and
// the site's name: adding a site never changes another site's faults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tlm/core/keys.h"
#include "tlm/core/params.h"

namespace accelvp {

// splitmix64: small, fast, good enough to decide rare events.
class fault_stream {
public:
    fault_stream() = default;
    fault_stream(uint64_t seed, const std::string& site) {
        uint64_t h = 1469598103934665603ull;  // FNV-1a of the site name
        for (unsigned char ch : site) h = (h ^ ch) * 1099511628211ull;
        s_ = seed * 0x9E3779B97F4A7C15ull ^ h;
    }
    uint64_t next() {
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
    bool chance(double p) { return p > 0 && uniform() < p; }

private:
    uint64_t s_ = 0x1234567;
};

struct fault_params {
    uint64_t seed = 1;                 // sim.seed
    double dram_sbe_per_gib = 0;       // expected corrected single-bit errors per GiB read
    double dram_dbe_per_gib = 0;       // expected uncorrectable double-bit errors per GiB read
    int64_t dram_sbe_addr = -1;        // chip bus address of a word with a stuck single-bit error (-1 none)
    int64_t dram_dbe_addr = -1;        // chip bus address of a word with a double-bit error (-1 none)
    struct hang {
        unsigned engine = 0;  // DMA engine index
        uint64_t nth = 0;     // its n-th DMA packet (1 = the first)
    };
    std::string engine_hang_spec;      // fault.engine_hang = "dma0@3,dma1@10", parsed into engine_hang
    std::vector<hang> engine_hang;
    double engine_hang_prob = 0;       // per DMA packet, any engine
    uint64_t fw_crash_at_job = 0;      // the n-th job the firmware starts (0 = never)
    double fw_crash_prob = 0;          // per job the firmware starts
    std::string fw_crash_mode = "trap";  // trap: illegal-instruction exception; hang: the core stops
    double link_ber = 0;               // added to link.ber, drawn from sim.seed
    double link_down_at_ns = -1;       // overrides link.down_at_ns when >= 0
    std::string link_down_port;        // with fault.link_down_at_ns: overrides link.down_port

    bool dram_enabled() const {
        return dram_sbe_per_gib > 0 || dram_dbe_per_gib > 0 || dram_sbe_addr >= 0 || dram_dbe_addr >= 0;
    }
    bool engine_enabled() const { return !engine_hang.empty() || engine_hang_prob > 0; }
    bool fw_enabled() const { return fw_crash_at_job > 0 || fw_crash_prob > 0; }
    bool any() const { return dram_enabled() || engine_enabled() || fw_enabled() || link_ber > 0 || link_down_at_ns >= 0; }

    // The parameters: key, member, range, unit, description (all under `fault.`).
    static const param_table<fault_params>& table() {
        using P = fault_params;
        static const auto t =
            param_table<P>()
                .real("dram_sbe_per_gib", &P::dram_sbe_per_gib, 0, 1e12,
                      "injected DRAM single-bit errors per GiB read (corrected by ECC, counted per memory/channel)")
                .real("dram_dbe_per_gib", &P::dram_dbe_per_gib, 0, 1e12,
                      "injected DRAM double-bit errors per GiB read (uncorrectable: the read fails, a DMA job fails "
                      "with ECC_UE)")
                .integer("dram_sbe_addr", &P::dram_sbe_addr, -1, INT64_MAX,
                         "chip bus address of a device-memory word with a stuck single-bit error: every read is "
                         "corrected (-1: none)")
                .integer("dram_dbe_addr", &P::dram_dbe_addr, -1, INT64_MAX,
                         "chip bus address of a device-memory word with a stuck double-bit error: every read fails "
                         "(-1: none)")
                .string("engine_hang", &P::engine_hang_spec,
                        "DMA packets that never complete: dma<i>@<n>[,...] (the n-th packet of engine i, from 1); the "
                        "watchdog ends the job as TIMEOUT")
                .real("engine_hang_prob", &P::engine_hang_prob, 0, 1, "probability that a DMA packet hangs its engine")
                .integer("fw_crash_at_job", &P::fw_crash_at_job, 0, INT64_MAX,
                         "the control-core firmware crashes when it starts its n-th job (0: never); the driver resets "
                         "the device and resubmits")
                .real("fw_crash_prob", &P::fw_crash_prob, 0, 1,
                      "probability that the firmware crashes when it starts a job")
                .string("fw_crash_mode", &P::fw_crash_mode,
                        "how the firmware crashes: trap (an illegal-instruction exception: fatal trap, BOOT_STATUS = "
                        "FAIL, error interrupt) or hang (the core stops: only the heartbeat tells)",
                        {"trap", "hang"})
                .real("link_ber", &P::link_ber, 0, 1, "extra link bit error rate (CRC retries), drawn from sim.seed")
                .real("link_down_at_ns", &P::link_down_at_ns, -1, 1e15,
                      "a link goes down at this time (ns; < 0: never); overrides link.down_at_ns")
                .string("link_down_port", &P::link_down_port,
                        "with fault.link_down_at_ns: the port c.p whose wire goes down (empty: every port)");
        return t;
    }
    static void declare(param_schema& s) { table().declare(s, "fault"); }

    // Throws config_error naming the key for a malformed fault.engine_hang.
    static fault_params from_config(const config& c) {
        fault_params p = table().load(c, "fault");
        try {
            p.seed = c.get(keys::sim::seed);
        } catch (const config_error&) {
            p.seed = 1;  // a schema without the simulation's keys (unit tests of one block)
        }
        p.engine_hang = parse_hangs(p.engine_hang_spec);
        return p;
    }

    static std::vector<hang> parse_hangs(const std::string& text) {
        std::vector<hang> out;
        size_t pos = 0;
        while (pos < text.size()) {
            size_t end = text.find(',', pos);
            if (end == std::string::npos) end = text.size();
            const std::string item = text.substr(pos, end - pos);
            pos = end + 1;
            const size_t at = item.find('@');
            bool ok = item.size() > 3 && item.compare(0, 3, "dma") == 0 && at != std::string::npos && at > 3 &&
                      at + 1 < item.size();
            hang h;
            if (ok) {
                const std::string e = item.substr(3, at - 3), n = item.substr(at + 1);
                ok = e.size() <= 2 && n.size() <= 18 && e.find_first_not_of("0123456789") == std::string::npos &&
                     n.find_first_not_of("0123456789") == std::string::npos;
                if (ok) {
                    h.engine = static_cast<unsigned>(std::stoul(e));
                    h.nth = std::stoull(n);
                    ok = h.nth >= 1 && h.engine < 16;
                }
            }
            if (!ok)
                throw config_error("config error: fault.engine_hang = '" + text + "': '" + item +
                                   "' is not dma<i>@<n> (engine i in 0..15, packet n >= 1), e.g. dma0@3,dma1@10");
            out.push_back(h);
        }
        return out;
    }
};

} // namespace accelvp
