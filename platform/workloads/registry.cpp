#include <fmt/format.h>

#include "platform/workloads/attention.h"
#include "platform/workloads/cmdstream.h"
#include "platform/workloads/collective.h"
#include "platform/workloads/conv2d.h"
#include "platform/workloads/dma_copy.h"
#include "platform/workloads/gemm.h"
#include "platform/workloads/mem_bench.h"
#include "platform/workloads/model.h"
#include "platform/workloads/soak.h"
#include "platform/workloads/submit_latency.h"
#include "platform/workloads/train_step.h"
#include "platform/workloads/transformer.h"
#include "platform/workloads/workload.h"

namespace accelvp {

const std::map<std::string, workload_entry>& workload_registry() {
    static const std::map<std::string, workload_entry> reg = [] {
        std::map<std::string, workload_entry> r;
        auto add = [&r](std::function<std::unique_ptr<workload>()> make) {
            auto w = make();
            r[w->name()] = workload_entry{w->description(), std::move(make)};
        };
        add([] { return std::make_unique<dma_copy>(); });
        add([] { return std::make_unique<gemm_workload>(); });
        add([] { return std::make_unique<mem_bench>(mem_bench::kind::stream); });
        add([] { return std::make_unique<mem_bench>(mem_bench::kind::random); });
        add([] { return std::make_unique<mem_bench>(mem_bench::kind::strided); });
        add([] { return std::make_unique<collective_workload>(); });
        add([] { return std::make_unique<conv2d_workload>(); });
        add([] { return std::make_unique<attention_workload>(); });
        add([] { return std::make_unique<transformer_workload>(); });
        add([] { return std::make_unique<soak_workload>(); });
        add([] { return std::make_unique<model::model_workload>(model::model_workload::source::layers); });
        add([] { return std::make_unique<model::model_workload>(model::model_workload::source::onnx); });
        add([] { return std::make_unique<model::model_workload>(model::model_workload::source::decoder); });
        add([] { return std::make_unique<cmdstream_workload>(); });
        add([] { return std::make_unique<train_step_workload>(); });
        add([] { return std::make_unique<submit_latency>(); });
        return r;
    }();
    return reg;
}

int workload::run_system(system_context& ctx) {
    ctx.error = "workload " + name() + " runs on one chip, not on a multi-chip system";
    return 1;
}

std::unique_ptr<workload> make_workload(const std::string& name) {
    const auto& reg = workload_registry();
    auto it = reg.find(name);
    if (it != reg.end()) return it->second.make();
    std::string names;
    for (const auto& [n, e] : reg) names += (names.empty() ? "" : ", ") + n;
    throw config_error(fmt::format("usage error: unknown workload '{}'; valid workloads: {}", name, names));
}

} // namespace accelvp
