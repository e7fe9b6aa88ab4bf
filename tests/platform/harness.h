// Test harness: elaborate a board from a preset + overrides and run a test body as
// the host program (in the host CPU thread). One harness per test case: SystemC
// elaborates once per process, and ctest runs each test case in its own process.
//
// Inside the body use CHECK (it does not throw); collect values and REQUIRE on them
// after run() returns.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "abi/aax_boot.h"
#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "platform/host/cmdbuf.h"
#include "platform/host/uapi.h"
#include "platform/system/board.h"
#include "platform/sim/simulation.h"
#include "tlm/core/log.h"
#include "tlm/core/stats.h"

namespace accelvp::test {

struct host_program : board_program {
    std::function<void(uapi::device&, workload_context&)> body;
    int run(workload_context& ctx) override {
        body(ctx.dev, ctx);
        return 0;
    }
};

class harness {
public:
    explicit harness(std::vector<std::string> overrides = {}, const std::string& preset = "inference")
        : schema_(build_schema("")), cfg_(schema_) {
        run_options o;
        o.config = preset;
        o.overrides = std::move(overrides);
        cfg_ = load_config(schema_, o);
        set_log_level(log_level::error);
    }

    // Runs body on the host thread; returns when it has finished (or the simulation
    // ran out of events or time).
    void run(std::function<void(uapi::device&, workload_context&)> body,
             sc_core::sc_time limit = sc_core::sc_time(10, sc_core::SC_SEC)) {
        prog_.body = std::move(body);
        top_ = std::make_unique<board>("board", cfg_, &prog_);
        sc_core::sc_start(limit);
        finished_ = top_->done();
    }
    bool finished() const { return finished_; }
    board& top() { return *top_; }
    const config& cfg() const { return cfg_; }

private:
    param_schema schema_;
    config cfg_;
    host_program prog_;
    std::unique_ptr<board> top_;
    bool finished_ = false;
};

// A BO with its mapping.
struct buffer {
    uapi::bo_create_args args;
    std::unique_ptr<uapi::mapping> map;
    uint64_t va() const { return args.device_va; }
};

inline buffer make_bo(uapi::device& dev, uint64_t size, uint32_t flags) {
    buffer b;
    b.args.size = size;
    b.args.flags = flags;
    CHECK(dev.bo_create(b.args) == 0);
    CHECK(dev.bo_mmap(b.args.handle, b.map) == 0);
    return b;
}

// Submit a command buffer (copied into a device BO) on a queue; returns the seq.
inline uint32_t submit(uapi::device& dev, const std::vector<uint8_t>& cmds, uint32_t queue = 0,
                       uint32_t timeout_us = 0, int* rc_out = nullptr) {
    buffer cb = make_bo(dev, cmds.size() ? cmds.size() : 8, uapi::BO_DEVICE);
    if (!cmds.empty()) CHECK(cb.map->write(0, cmds.data(), cmds.size()) == 0);
    uapi::submit_args s;
    s.queue = queue;
    s.cmdbuf_handle = cb.args.handle;
    s.cmdbuf_size = static_cast<uint32_t>(cmds.size());
    s.timeout_us = timeout_us;
    const int rc = dev.submit(s);
    if (rc_out) *rc_out = rc;
    else CHECK(rc == 0);
    return s.seq;
}

// A counter's value after the run (`missing` when the component has no such stat).
inline uint64_t stat_u64(const std::string& comp, const std::string& name, uint64_t missing = ~0ull) {
    const stat_base* s = global_stats().find(comp, name);
    return s ? s->value(0).get<uint64_t>() : missing;
}

inline int wait_job(uapi::device& dev, uint32_t seq, uapi::wait_args& w, double timeout_us = 1e6) {
    w.seq = seq;
    w.timeout_ns = static_cast<uint64_t>(timeout_us * 1000);
    return dev.wait(w);
}

inline std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
    std::vector<uint8_t> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<uint8_t>(x);
    }
    return v;
}

// Runs f in a forked child and returns the n values it produced (all 0 if the child did not
// deliver them): SystemC elaborates once per process, so a second run (e.g. in timing mode)
// has to happen in another process.
inline std::vector<uint64_t> in_child(size_t n, const std::function<std::vector<uint64_t>()>& f) {
    std::vector<uint64_t> v(n, 0);
    int fds[2];
    if (pipe(fds) != 0) return v;
    const pid_t pid = fork();
    if (pid < 0) return v;
    if (pid == 0) {
        close(fds[0]);
        std::vector<uint64_t> out = f();
        out.resize(n);
        _exit(write(fds[1], out.data(), n * 8) == static_cast<ssize_t>(n * 8) ? 0 : 1);
    }
    close(fds[1]);
    if (read(fds[0], v.data(), n * 8) != static_cast<ssize_t>(n * 8)) v.assign(n, 0);
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return v;
}

} // namespace accelvp::test
