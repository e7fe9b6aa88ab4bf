// QEMU's multi-process PCI proxy protocol (x-pci-proxy-dev), device side, as Debian
// bookworm's QEMU 7.2 speaks it (../shared/reference/qemu-mpqemu.md). The protocol is
// QEMU-internal: this file is the only place that knows its layout, so another transport
// (vfio-user) can sit beside it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace accelvp::mpqemu {

enum cmd : int32_t {
    SYNC_SYSMEM = 0,
    RET = 1,
    PCI_CFGWRITE = 2,
    PCI_CFGREAD = 3,
    BAR_WRITE = 4,
    BAR_READ = 5,
    SET_IRQFD = 6,
    DEVICE_RESET = 7,
    CMD_MAX = 8
};
const char* cmd_name(int32_t c);

constexpr unsigned max_fds = 8;
constexpr unsigned max_regions = 8;

struct pci_conf {  // PCI_CFGREAD / PCI_CFGWRITE
    uint32_t addr;
    uint32_t val;
    int32_t len;
};
struct bar_access {  // BAR_READ / BAR_WRITE
    uint64_t addr;
    uint64_t val;
    uint32_t size;
    uint8_t memory;
    uint8_t pad[3];
};
struct sync_sysmem {  // SYNC_SYSMEM: region i is sizes[i] bytes at offsets[i] of fd i, at guest address gpas[i]
    uint64_t gpas[max_regions];
    uint64_t sizes[max_regions];
    int64_t offsets[max_regions];
};
static_assert(sizeof(pci_conf) == 12, "PciConfDataMsg");
static_assert(sizeof(bar_access) == 24, "BarAccessMsg");
static_assert(sizeof(sync_sysmem) == 192, "SyncSysmemMsg");

struct message {
    int32_t cmd = 0;
    uint64_t size = 0;
    union {
        uint64_t u64;
        pci_conf conf;
        bar_access bar;
        sync_sysmem sysmem;
        uint8_t raw[192];
    } data{};
    std::vector<int> fds;  // owned: closed by the receiver unless taken
};

// A malformed message or a broken socket: the text names the message and what is wrong.
struct protocol_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads one message (blocking). Returns false on a clean end of stream (QEMU closed the
// socket between messages). Throws protocol_error on a malformed message: unknown
// command, payload size wrong for the command, wrong number of file descriptors,
// truncated message.
bool receive(int fd, message& m);
// Sends RET with a 64-bit value.
void reply(int fd, uint64_t value);

} // namespace accelvp::mpqemu
