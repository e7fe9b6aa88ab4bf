// libFuzzer target: config YAML and -p overrides (tlm/core/config.cpp) with the DRAM
// parameter checks (tlm/mem/dram_timing.cpp). Input: YAML text, optionally followed by a
// line "%%" and one `key=value` override per line. Anything but a config_error escaping
// (a crash, a sanitizer report, a yaml-cpp exception, a hang) is a finding.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tlm/core/config.h"
#include "tlm/mem/dram_timing.h"

using namespace accelvp;

namespace {
const param_schema& schema() {
    static const param_schema s = [] {
        param_schema p;
        p.string("preset.name", "custom", "name");
        p.string("preset.description", "", "description");
        p.string("sim.mode", "functional", "mode", {"functional", "timing"});
        p.integer("sim.seed", 1, 0, INT64_MAX, "seed");
        p.real("sim.max_time_ms", 60000, 0.001, 1e9, "limit", "ms");
        p.boolean("sim.check", true, "check");
        p.integer("mem.size", 1ll << 30, 4096, 1ll << 46, "capacity", "bytes");
        p.boolean("mem.dmi", true, "dmi");
        p.integer("dma.burst_bytes", 4096, 64, 1 << 20, "burst", "bytes");
        dram_params::declare(p, "mem");
        return p;
    }();
    return s;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    const size_t sep = in.find("\n%%\n");
    const std::string yaml = in.substr(0, sep);
    config c(schema());
    try {
        c.load_yaml_text(yaml, "fuzz.yaml");
        if (sep != std::string::npos) {
            std::istringstream ov(in.substr(sep + 4));
            for (std::string line; std::getline(ov, line);) c.apply_override(line);
        }
        c.validate();
        (void)c.to_json();
        (void)c.to_yaml();
        (void)dram_params::from_config(c, "mem");
    } catch (const config_error&) {
    }
    return 0;
}
