// Workloads: host programs that drive the device through the user API and report
// their headline numbers (`summary`) and whether their results were verified.
// To add one: derive from `staged_workload` (below), then list it in registry.cpp
// (docs/architecture.md, "How to add a workload").
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "platform/system/board_program.h"
#include "tlm/core/config.h"
#include "tlm/core/params.h"

namespace accelvp {

struct system_context;  // platform/system/system_board.h

// The system a workload runs on: one board (a host and a chip), or a multi-chip system of
// boards joined by scale-out links (system.*, platform/system/system_board.h).
enum class system_kind { board, multi_chip };

// A workload is a board's host program (platform/system/board_program.h: run() and the
// workload_context it runs in) with a name, parameters and a config-time check.
class workload : public board_program {
public:
    // The system the simulation elaborates for this workload.
    virtual system_kind system() const { return system_kind::board; }
    virtual std::string name() const = 0;
    virtual std::string description() const = 0;
    // Declare the workload's parameters, all under "workload.".
    virtual void declare(param_schema& s) const = 0;
    // Cross-parameter checks at config time, before anything is elaborated or simulated:
    // throw config_error naming the keys and what would be valid.
    virtual void check(const config& c) const { (void)c; }
    // run(workload_context&): from board_program, on the host CPU thread.
    // A multi-chip workload's host program: runs on the system's host thread (0, or 1 with
    // ctx.error set). The default says the workload is not a multi-chip one.
    virtual int run_system(system_context& ctx);
};

// The common shape of a workload (docs/architecture.md, "How to add a workload"): its
// parameters are a `Params` struct with a field table, declared under "workload." and loaded
// once; `State` carries what one step hands the next. run() is the four steps in order:
//   validate  cross-key checks at config time, before anything is elaborated (config_error,
//             exit 2; check() calls it);
//   plan      allocate buffers, generate and write the inputs (functional mode), build the
//             command streams: nothing runs on the device yet;
//   submit    run the jobs, wait for them, fill ctx.summary;
//   verify    functional mode only: compare the results bit-exact, set ctx.verified.
// plan, submit and verify return 0, or 1 with ctx.error set (a device or workload error).
template <class P, class = void>
struct has_table : std::false_type {};
template <class P>
struct has_table<P, std::void_t<decltype(P::table())>> : std::true_type {};

template <class Params, class State>
class staged_workload : public workload {
public:
    using params = Params;
    using state = State;
    // The parameter table: Params::table(), or (a workload with variants, such as mem-*) the
    // variant's, by overriding this.
    virtual const param_table<Params>& table() const {
        if constexpr (has_table<Params>::value)
            return Params::table();
        else
            throw std::logic_error(name() + ": no parameter table");
    }
    void declare(param_schema& s) const override { table().declare(s, "workload"); }
    void check(const config& c) const final { validate(table().load(c, "workload"), c); }
    int run(workload_context& ctx) final {
        const Params p = table().load(ctx.cfg, "workload");
        State st;
        if (int rc = plan(ctx, p, st)) return rc;
        if (int rc = submit(ctx, p, st)) return rc;
        return ctx.functional ? verify(ctx, p, st) : 0;
    }

protected:
    virtual void validate(const Params& p, const config& c) const {
        (void)p;
        (void)c;
    }
    virtual int plan(workload_context& ctx, const Params& p, State& st) = 0;
    virtual int submit(workload_context& ctx, const Params& p, State& st) = 0;
    virtual int verify(workload_context& ctx, const Params& p, State& st) = 0;
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
