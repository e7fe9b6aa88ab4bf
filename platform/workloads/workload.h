// Workloads: host programs that drive the device through the user API and report
// their headline numbers (`summary`) and whether their results were verified.
// To add one: implement `workload`, then list it in registry.cpp.
#pragma once

#include <functional>
#include <map>
#include <memory>
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

// The system a workload runs on: one board (a host and a chip), or a multi-chip system of
// boards joined by scale-out links (system.*, platform/system/system_board.h).
enum class system_kind { board, multi_chip };

class workload {
public:
    virtual ~workload() = default;
    // The system the simulation elaborates for this workload.
    virtual system_kind system() const { return system_kind::board; }
    virtual std::string name() const = 0;
    virtual std::string description() const = 0;
    // Declare the workload's parameters, all under "workload.".
    virtual void declare(param_schema& s) const = 0;
    // Cross-parameter checks at config time, before anything is elaborated or simulated:
    // throw config_error naming the keys and what would be valid.
    virtual void check(const config& c) const { (void)c; }
    // Runs on the host CPU thread. 0 = success, 1 = device or workload error (ctx.error says why).
    virtual int run(workload_context& ctx) = 0;
};

struct workload_entry {
    std::string description;
    std::function<std::unique_ptr<workload>()> make;
};
// All workloads by name, sorted.
const std::map<std::string, workload_entry>& workload_registry();
// Throws config_error naming the valid workloads.
std::unique_ptr<workload> make_workload(const std::string& name);

} // namespace accelvp
