#include "tlm/compute/engine_models.h"

#include <map>
#include <utility>

namespace accelvp {

namespace {
std::map<std::pair<std::string, std::string>, engine_model>& models() {
    static std::map<std::pair<std::string, std::string>, engine_model> m;
    return m;
}
} // namespace

void register_engine_model(const std::string& engine, const std::string& model, engine_model m) {
    models()[{engine, model}] = std::move(m);
}

const engine_model* find_engine_model(const std::string& engine, const std::string& model) {
    const auto it = models().find({engine, model});
    return it == models().end() ? nullptr : &it->second;
}

} // namespace accelvp
