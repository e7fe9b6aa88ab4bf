// cmdstream: run a command-stream text file (docs/cmdasm.md packets plus buffer, job, data
// and expectation directives; docs/debugging.md "Command-stream files") through the user API:
//
//   .buffer src 64KiB host init=pattern:7       # a BO, its initial contents
//   .buffer dst 64KiB                            # device memory, zero
//   .job queue=1                                 # a new command buffer (job) on ring 1
//   dma src=@src dst=@dst+0x100 width=4096       # @NAME[+OFF]: the buffer's device address
//   .expect dst+0x100 4096 copy:src              # checked bit-exact in functional mode
//
// The same form is what `accelvp run --capture` writes (with .data, .wait, .capture, .config,
// .override and .captured lines) and `accelvp replay` runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "platform/host/uapi.h"
#include "platform/workloads/workload.h"
#include "tlm/core/params.h"

namespace accelvp {

class capture_recorder;

namespace cmdstream {

// Contents of a region: zero, a repeated byte / 32-bit / 64-bit value (little-endian), the
// seeded pattern of dma-copy (fill_pattern) or the initial contents of another buffer.
struct value_spec {
    enum kind_t { zero, byte, u32, u64, pattern, copy, fnv64 } kind = zero;  // fnv64: .expect only
    uint64_t value = 0;
    size_t buf = 0;       // copy: the buffer ...
    uint64_t offset = 0;  // ... and the offset in it
};
struct buffer_decl {
    std::string name;
    uint64_t size = 0;
    bool host = false;
    value_spec init;
    int line = 0;
};
struct expect_decl {
    size_t buf = 0;
    uint64_t offset = 0, size = 0;
    value_spec spec;
    int line = 0;
};
struct job_decl {
    uint32_t queue = 0;
    bool queue_given = false;  // else workload.queue
    uint32_t timeout_us = 0;
    int line = 0;  // the .job line (0: the packets before any .job)
    std::vector<std::pair<int, std::string>> packets;  // (line, text with @NAME references)
};
struct step {
    enum kind_t { job, wait, data } kind = job;
    size_t index = 0;               // job: index into jobs; data: buffer
    uint64_t offset = 0;            // data
    std::vector<uint8_t> bytes;     // data
};
struct captured_job {
    uint32_t queue = 0;
    int status = 0;
    uint64_t start_ns = 0, end_ns = 0;
};
struct program {
    std::string file;
    std::vector<buffer_decl> buffers;
    std::vector<expect_decl> expects;
    std::vector<job_decl> jobs;
    std::vector<step> steps;
    // Capture header (absent in hand-written files).
    int capture_version = 0;
    std::string capture_workload, capture_config;
    std::vector<std::string> capture_overrides;
    std::vector<captured_job> captured;
};

// Current version of the capture form; replay refuses newer ones.
constexpr int capture_version = 1;

// Parses a file's text; throws cmdasm::asm_error with every bad line as "FILE:LINE: message".
// The packets are assembled too (with every buffer at address 0), so a file that parses runs
// into no assembler error later.
program parse(const std::string& text, const std::string& file);
// Reads and parses a file; a file that cannot be read is a config_error naming `key`.
program load(const std::string& path, const std::string& key = "workload.file");

// A job's bytes with each buffer at `va[i]`, and the source line of each packet (offset, line).
std::vector<uint8_t> assemble_job(const program& p, const job_decl& j, const std::vector<uint64_t>& va,
                                  std::vector<std::pair<uint32_t, int>>* lines = nullptr);
// FNV-1a 64 of bytes, continuing from `h` (the fnv64:V contents spec).
uint64_t fnv64(const uint8_t* p, size_t n, uint64_t h = 0xcbf29ce484222325ull);
// The bytes a value spec gives for [offset, offset + len) of a region (not fnv64).
void fill(const program& p, const value_spec& v, uint64_t offset, uint8_t* out, uint64_t len);

// What `accelvp run --capture` writes: the recorder's steps as a command-stream file.
struct capture_header {
    std::string workload, config;
    std::vector<std::string> overrides;  // -p key=value of the run (workload.* left out)
};
std::string capture_text(const capture_recorder& r, const capture_header& h);

} // namespace cmdstream

struct cmdstream_params {
    std::string file;
    uint32_t queue = 0;
    double timeout_ms = 10000;
    static const param_table<cmdstream_params>& table();
};

struct cmdstream_state {
    cmdstream::program prog;
    std::vector<uapi::bo_create_args> bos;
    std::vector<uint64_t> va;
    std::vector<uapi::submit_args> subs;  // one per job
    std::vector<std::vector<std::pair<uint32_t, int>>> lines;  // per job: packet offset -> source line
    std::vector<std::unique_ptr<uapi::mapping>> maps;
};

class cmdstream_workload : public staged_workload<cmdstream_params, cmdstream_state> {
public:
    std::string name() const override { return "cmdstream"; }
    std::string description() const override {
        return "run a command-stream text file (workload.file: packets, buffers, expected contents; docs/debugging.md)";
    }

protected:
    void validate(const params& p, const config& c) const override;
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;
};

} // namespace accelvp
