// Alternative models of the compute engines, chosen per engine with `compute.matrix.model` and
// `compute.vector.model` (tlm = the analytic engines of this folder). Other models (the RTL
// in the loop of rtl-models/) register themselves here at static initialisation, so this
// folder never depends on them (docs/architecture.md, "RTL models").
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <systemc>

#include "tlm/mem/sparse_store.h"

namespace accelvp {

struct compute_params;
class compute_engine;

struct engine_model {
    // Throws config_error (naming the key) when the parameters are outside what the model covers.
    std::function<void(const compute_params&)> check;
    std::function<std::unique_ptr<compute_engine>(sc_core::sc_module_name, const compute_params&, sparse_store&)> make;
};

// engine: "matrix" or "vector"; model: the value of compute.<engine>.model.
void register_engine_model(const std::string& engine, const std::string& model, engine_model m);
const engine_model* find_engine_model(const std::string& engine, const std::string& model);

// The entry of an engine class with a static `check(const compute_params&)` and the
// constructor (name, params, SRAM store): `register_engine_model("matrix", "rtl",
// engine_model_of<rtl_matrix_engine>())`.
template <class Engine>
engine_model engine_model_of() {
    return {&Engine::check, [](sc_core::sc_module_name name, const compute_params& p, sparse_store& s) {
                return std::unique_ptr<compute_engine>(std::make_unique<Engine>(name, p, s));
            }};
}

} // namespace accelvp
