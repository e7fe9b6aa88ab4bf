// A multi-chip system: `system.chips` boards (host + chip + driver, each chip on its own
// PCIe link and host, as in a server with one accelerator per host socket) in one SystemC
// process, the chips' link ports wired per `system.topology` through link channels
// (`link.*`), each chip's collective engine connected to its peers. One host thread
// probes every driver, opens every device and runs a system workload (a collective).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <systemc>

#include "platform/chip/chip.h"
#include "platform/host/driver.h"
#include "platform/host/host_system.h"
#include "platform/host/uapi.h"
#include "platform/system/topology.h"
#include "tlm/link/link.h"

namespace accelvp {

struct system_context {
    system_context(const config& c, const topology& t) : cfg(c), topo(t) {}
    const config& cfg;
    const topology& topo;
    std::vector<uapi::device*> devs;  // one per chip, in chip order
    std::vector<const chip*> chips;
    bool functional = true;
    uint64_t seed = 1;
    nlohmann::json summary = nlohmann::json::object();
    std::optional<bool> verified;
    std::string error;
};

class system_board : public sc_core::sc_module {
public:
    using body_fn = std::function<int(system_context&)>;
    // The board's own key (link.down_port); system.* are the topology's, link.* the links'.
    struct params {
        std::string down_port;  // "c.p" (chip c port p), empty: every port
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    // system.*, link.* and link.down_port.
    static void declare(param_schema& s);

    system_board(sc_core::sc_module_name name, const config& c, body_fn body);
    ~system_board() override;

    // One server: host, chip on its PCIe link, driver (a board without a main thread).
    struct node : sc_core::sc_module {
        node(sc_core::sc_module_name name, const config& c);
        host_system host;
        chip soc;
        driver drv;
    };
    std::vector<std::unique_ptr<node>> nodes;
    const topology& topo() const { return topo_; }
    // The channel a chip's port transmits on (the uplink for a switch).
    link_channel& tx(uint32_t chip, uint32_t port) { return *tx_.at(chip).at(port); }

    bool done() const { return done_; }
    // The process ends right after the run (run_options::leave_model_at_exit): the threads
    // still waiting when the program ends are left as they are, not killed and unwound.
    void keep_threads_at_end() { kill_at_end_ = false; }
    int exit_code() const { return exit_code_; }
    const std::string& error() const { return error_; }
    const nlohmann::json& summary() const { return summary_; }
    const std::optional<bool>& verified() const { return verified_; }

private:
    void main_thread();
    const config& cfg_;
    body_fn body_;
    topology topo_;
    std::vector<std::unique_ptr<link_channel>> channels_;
    std::vector<std::vector<link_channel*>> tx_;  // [chip][port]
    bool done_ = false;
    bool kill_at_end_ = true;
    int exit_code_ = 1;
    std::string error_;
    nlohmann::json summary_ = nlohmann::json::object();
    std::optional<bool> verified_;
};

} // namespace accelvp
