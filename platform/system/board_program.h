// The host program a board runs on its host thread (platform/system/board.h): what the
// program sees (`workload_context`) and the interface it implements. A workload
// (platform/workloads/workload.h) is one; so is a test's body. Defined here, below the
// workloads, so that the system layer never includes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tlm/core/config.h"

namespace accelvp {

class chip;
namespace uapi {
class device;
}

struct workload_context {
    workload_context(uapi::device& d, const config& c, const chip& s) : dev(d), cfg(c), soc(s) {}
    uapi::device& dev;
    const config& cfg;
    const chip& soc;           // for analytic figures (peak bandwidth) only
    bool functional = true;    // false in --mode timing: no data is generated or checked
    uint64_t seed = 1;
    nlohmann::json summary = nlohmann::json::object();
    std::optional<bool> verified;  // nullopt = not checked (timing mode)
    std::string error;             // set with a non-zero return
};

class board_program {
public:
    virtual ~board_program() = default;
    // Runs on the host CPU thread. 0 = success, 1 = device or workload error (ctx.error says why).
    virtual int run(workload_context& ctx) = 0;
};

} // namespace accelvp
