// accelvp qemu: the chip served to a QEMU guest through QEMU's multi-process PCI proxy
// (x-pci-proxy-dev). accelvp creates a socket pair, starts qemu-system-x86_64 with the
// guest kernel and initramfs, and answers the proxy's config-space and BAR accesses from
// the PCIe endpoint model; device DMA to host addresses reads and writes the guest RAM the
// proxy hands over as memfds; interrupts are INTx through the proxy's eventfds, and (QEMU
// wires those only as a KVM irqfd: no INTx under TCG) also an MSI-X vector of an
// ivshmem-doorbell device accelvp serves as its ivshmem server (--irq-channel).
//
// Time policy (docs/linux-driver.md): simulated time is paced against wall time by
// --time-ratio (simulated seconds per wall second, default 1): while the device has work
// the simulator runs as fast as it can, and it never runs ahead of ratio x wall time since
// the guest started; 0 = free-running (no pacing). A BAR access is applied at the current
// simulated time, and a read is answered when the model has produced the value.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "platform/sim/simulation.h"

namespace accelvp {

struct qemu_options {
    run_options run;  // config, overrides, stats file, quiet
    std::string qemu = "qemu-system-x86_64";
    std::string kernel, initrd;
    // no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can fail
    // ("IO-APIC + timer doesn't work!" panic); the check is meaningless in a VM.
    std::string append = "console=ttyS0 panic=-1 quiet no_timer_check";
    std::string guest_mem = "1G";
    double time_ratio = 1.0;
    int gdb_port = -1;  // >= 0: GDB stub for the control core (0 = any port)
    // Interrupt side channel: "ivshmem" adds an ivshmem-doorbell device (1af4:1110) whose
    // MSI-X vector 0 accelvp signals with every INTx assertion (the aax driver takes it);
    // "none": INTx through the proxy only.
    std::string irq_channel = "ivshmem";
    std::vector<std::string> extra;  // after --
    // --capture FILE: what the guest's driver submitted, as a command-stream capture that
    // `accelvp replay` runs in-process (docs/debugging.md); --capture-jobs N: only the first
    // N jobs (0: all).
    std::string capture_file;
    uint64_t capture_jobs = 0;
    // --vfs N: N guests, each with its own SR-IOV VF of one chip (platform/qemu/qemu_vfs.h);
    // the PF stays in-process. Guest k's kernel command line gets " aax.vf=k".
    unsigned vfs = 0;
    // With --vfs: guest k's serial console goes to this file, "{vf}" replaced by k (empty: all
    // on stdout, interleaved).
    std::string vf_console;
};

// Registers the `qemu` subcommand, filling `o` when it is parsed.
CLI::App* add_qemu_command(CLI::App& app, qemu_options& o);

// Runs QEMU with the chip until QEMU exits, the socket closes or the guest resets the
// device after using it; writes the stats. Exit 0 when QEMU exited 0 and the protocol
// was clean, 1 otherwise; throws config_error on usage errors (exit 2).
int run_qemu(const qemu_options& o, std::ostream& out);

} // namespace accelvp
