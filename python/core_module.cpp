// accelvp._core: the simulator as a Python extension module (pybind11). The Python package
// (python/accelvp/__init__.py) is the API; this module is its engine. run() elaborates the
// SystemC model, which SystemC allows once per process: the package calls it in a fresh worker
// process per run (python/accelvp/_worker.py). The schema, presets and workloads need no
// elaboration and are read in the calling process.
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <systemc>

#include "platform/sim/simulation.h"
#include "platform/workloads/workload.h"
#include "tlm/core/config.h"
#include "tlm/core/data_dir.h"

namespace py = pybind11;
using namespace accelvp;

namespace {

// What sc_main runs: SystemC's sc_elab_and_sim() calls the program's sc_main, as it does for
// the CLI, so a run here starts exactly like `accelvp run`.
std::function<void()> g_body;

const char* type_name(param_type t) {
    switch (t) {
    case param_type::boolean: return "bool";
    case param_type::integer: return "int";
    case param_type::real: return "float";
    case param_type::string: return "str";
    }
    return "?";
}

// One run, as `accelvp run` does it: (exit code, message). The exit codes and messages are
// the CLI's (platform/cli/main.cpp): 2 and "config error: ..." for a bad configuration,
// 1 and the run's error for a device or workload failure.
py::tuple py_run(const std::string& config, const std::string& workload, const std::vector<std::string>& overrides,
              const std::string& mode, py::object seed, const std::string& stats_file, const std::string& trace_file) {
    run_options o;
    o.config = config;
    o.workload = workload;
    o.overrides = overrides;
    if (!mode.empty()) o.mode = mode;
    if (!seed.is_none()) o.seed = seed.cast<uint64_t>();
    o.stats_file = stats_file;
    o.trace_file = trace_file;
    o.quiet = true;
    int code = exit_device_error;
    std::string message = "internal error: the simulation did not run";
    g_body = [&] {
        std::ostringstream out;
        try {
            const run_result r = accelvp::run(o, out);
            code = r.exit_code;
            message = r.exit_code == exit_ok ? std::string() : "error: " + r.error;
        } catch (const config_error& e) {
            code = exit_usage;
            message = e.what();
        } catch (const std::bad_alloc&) {
            code = exit_device_error;
            message = "error: out of host memory (a C++ allocation failed); use --mode timing or a smaller workload";
        } catch (const std::exception& e) {
            code = exit_device_error;
            message = std::string("internal error: ") + e.what();
        }
    };
    {
        py::gil_scoped_release nogil;
        char arg0[] = "accelvp";
        char* argv[] = {arg0, nullptr};
        sc_core::sc_elab_and_sim(1, argv);
    }
    g_body = nullptr;
    return py::make_tuple(code, message);
}

// The configuration schema of the platform and a workload ("" = platform only).
py::dict py_params(const std::string& workload) {
    const param_schema schema = build_schema(workload);
    py::dict d;
    for (const auto& [key, s] : schema.all()) {
        py::dict p;
        p["type"] = type_name(s.type);
        p["default"] = s.default_value;
        p["description"] = s.description;
        p["unit"] = s.unit;
        // An integer key's bounds as ints (the schema keeps every bound as a double).
        auto bound = [&](const std::optional<double>& b) -> py::object {
            if (!b) return py::none();
            if (s.type == param_type::integer) return py::int_(static_cast<long long>(*b));
            return py::float_(*b);
        };
        p["min"] = bound(s.min);
        p["max"] = bound(s.max);
        p["choices"] = s.choices;
        d[py::str(key)] = p;
    }
    return d;
}

} // namespace

// libsystemc.so calls sc_main (and Python loads extension modules with RTLD_NOW, so the symbol
// must exist even before a run): the body of the current run().
extern "C" __attribute__((visibility("default"))) int sc_main(int, char*[]) {
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    if (g_body) g_body();
    return 0;
}

PYBIND11_MODULE(_core, m) {
    m.doc() = "accelvp simulator engine (use the accelvp package, not this module)";
    m.attr("version") = ACCELVP_VERSION;
    m.def("run", &py_run, py::arg("config"), py::arg("workload"), py::arg("overrides"), py::arg("mode"),
          py::arg("seed"), py::arg("stats_file"), py::arg("trace_file"),
          "one simulation (once per process): (exit_code, message); the stats go to stats_file");
    m.def("params", [](const std::string& w) {
        try {
            return py_params(w);
        } catch (const config_error& e) {
            throw py::value_error(e.what());
        }
    }, py::arg("workload") = "");
    m.def("presets", &list_presets, "[(name, description)] of the presets found");
    m.def("workloads", [] {
        std::vector<std::pair<std::string, std::string>> v;
        for (const auto& [name, e] : workload_registry()) v.emplace_back(name, e.description);
        return v;
    });
    m.def("data_dir", [] { return data_dir(); });
    m.def("set_data_dir", &set_data_dir);
    m.def("binary", [] { return self_binary(); }, "this extension module's file");
}
