// gdb_server: a GDB remote-serial-protocol stub for one rv32_core, on a TCP socket bound
// to 127.0.0.1 only.
//
// Run control: the stub is the core's debugger (rv32_debugger_if). Everything happens in
// the core's SC_THREAD: when the core stops (at reset, on a breakpoint, after a single
// step, on Ctrl-C) it calls stopped(), which reads packets from GDB with blocking socket
// reads until GDB resumes it. Meanwhile no other SystemC process runs and no simulated
// time passes: halting the core halts the whole simulation. While the core runs, the
// socket is polled every few hundred quanta for GDB's interrupt byte (0x03).
//
// Packets: qSupported (PacketSize, qXfer:features:read, QStartNoAckMode), ?, g/G
// (x0..x31, pc; 32-bit little-endian hex), p/P (0..31 x registers, 32 pc, 65 + n CSR n;
// CSR writes are refused with E01), m/M (through the core's bus with transport_dbg),
// Z0/z0 and Z1/z1 (breakpoints, checked by the core before an instruction runs), s and c
// (optionally at an address), D (detach: the program runs on without GDB), k (kill:
// the core halts with halt_reason::debugger and the platform ends the simulation),
// qAttached, qC, qfThreadInfo, H, T, qXfer:features:read:target.xml (the RV32 x
// registers, pc and the machine CSRs), qRcmd (`monitor help`, `monitor time`). Stop
// replies are T05 (SIGTRAP) after a breakpoint, a step or at reset, T02 (SIGINT) after
// Ctrl-C. Anything else gets the empty reply (unsupported). Ack mode (+/-, checksums)
// by default; QStartNoAckMode turns it off.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tlm/cpu/rv32_core.h"

namespace accelvp {

class gdb_server final : public rv32_debugger_if {
public:
    // Listens on 127.0.0.1:`port` (0 picks a free port; see port()) and attaches to
    // `core`, which stops before its first instruction: the simulation then waits there
    // until GDB connects. Throws std::runtime_error if the socket cannot be set up.
    gdb_server(rv32_core& core, uint16_t port);
    ~gdb_server();
    gdb_server(const gdb_server&) = delete;
    gdb_server& operator=(const gdb_server&) = delete;

    uint16_t port() const { return port_; }
    bool connected() const { return conn_ >= 0; }

    // The program ended with `exit_code` (the simulation is over): a GDB waiting for
    // the core to stop learns it through a W (exited) reply; then the stub closes.
    void program_exited(int exit_code);

    // More `monitor` commands from the platform (the chip's state, command-stream breakpoints):
    // returns the reply of a command it knows (ending in a newline), nullopt for one it does not;
    // asked with "help" for its lines of the help text.
    void set_monitor_extension(std::function<std::optional<std::string>(const std::string&)> f) {
        monitor_ext_ = std::move(f);
    }

    // rv32_debugger_if
    resume stopped(stop_reason why) override;
    bool interrupt_requested() override;

private:
    enum class action { none, run, step, detach, kill };

    bool accept_connection();
    void close_connection();
    void detach();
    int get_char();                          // next byte from GDB (blocking); -1 = connection gone
    bool read_packet(std::string& payload);  // false: connection gone
    bool send_packet(const std::string& payload);
    bool send_raw(const std::string& bytes);
    action handle(const std::string& pkt, std::string& reply);
    std::string stop_reply() const;
    std::string monitor(const std::string& cmd);
    std::function<std::optional<std::string>(const std::string&)> monitor_ext_;
    std::string target_xml() const;
    bool read_register(unsigned n, uint32_t& v) const;
    bool write_register(unsigned n, uint32_t v);
    std::string read_memory(uint32_t addr, uint32_t len);
    bool write_memory(uint32_t addr, const std::string& bytes);

    rv32_core& core_;
    int listen_ = -1, conn_ = -1;
    uint16_t port_ = 0;
    bool no_ack_ = false, no_ack_after_reply_ = false;
    bool awaiting_stop_ = false;  // GDB sent c/s and waits for a stop reply
    int signal_ = 5;              // of the last stop: 5 SIGTRAP, 2 SIGINT
    bool watch_stop_ = false;     // the last stop was a watchpoint (core_.last_watch())
    std::string in_;              // bytes received but not consumed yet
    size_t in_pos_ = 0;
};

} // namespace accelvp
