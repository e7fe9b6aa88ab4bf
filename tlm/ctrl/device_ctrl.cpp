#include "tlm/ctrl/device_ctrl.h"

#include "abi/aax_boot.h"
#include "abi/aax_regs.h"
#include "tlm/core/log.h"

namespace accelvp {

device_ctrl::device_ctrl(sc_core::sc_module_name name, const caps& c)
    : sc_module(name), reg_socket("reg_socket"), irq_in("irq_in"), msi_out("msi_out"), reset_out("reset_out"),
      core_out("core_out"), caps_(c), regs_(this->name(), AAX_CTRL_WINDOW_BASE) {
    reg_socket.register_b_transport(this, &device_ctrl::b_transport);
    reg_socket.register_transport_dbg(this, &device_ctrl::transport_dbg);
    irq_in.bind(*this);

    regs_.add("id", AAX_REG_ID, AAX_ID_MAGIC, reg_access::ro);
    regs_.add("version", AAX_REG_VERSION, AAX_ABI_VERSION, reg_access::ro);
    regs_.add("caps0", AAX_REG_CAPS0,
              (c.rings & 0xFF) | (c.cqs & 0xFF) << 8 | (c.dma_engines & 0xFF) << 16 | (c.msix_vectors & 0xFF) << 24,
              reg_access::ro);
    regs_.add("caps1", AAX_REG_CAPS1, (c.semaphores & 0xFFFF) | (c.control_core ? AAX_CAPS1_CONTROL_CORE : 0u) | (c.mmu ? AAX_CAPS1_MMU : 0u),
              reg_access::ro);
    regs_.add("dev_status", AAX_REG_DEV_STATUS, AAX_DEV_STATUS_READY, reg_access::ro);
    regs_.add("reset", AAX_REG_RESET, 0, reg_access::wo).write_cb([this](uint32_t v) {
        if (v != AAX_RESET_SOFT) return;  // other values are reserved and ignored
        ++resets_;
        regs_[AAX_REG_IRQ_RAW].set(0);
        regs_[AAX_REG_IRQ_MASK].set(0xFFFFFFFFu);
        for (int i = 0; i < reset_out.size(); ++i) reset_out[i]->soft_reset();
    });
    // The time lives in the simulator; reading LO latches HI (into HI's own state) so the
    // pair is consistent.
    regs_.add("timestamp_lo", AAX_REG_TIMESTAMP_LO, 0, reg_access::ro)
        .read_cb([this] { return static_cast<uint32_t>(now_ns()); })
        .read_effect_cb([this] { regs_[AAX_REG_TIMESTAMP_HI].set(now_ns() >> 32); });
    regs_.add("timestamp_hi", AAX_REG_TIMESTAMP_HI, 0, reg_access::ro);
    regs_.add64("devmem_size", AAX_REG_DEVMEM_SIZE_LO, c.devmem_size, reg_access::ro);
    regs_.add64("host_win", AAX_REG_HOST_WIN_LO, c.host_window, reg_access::ro);
    regs_.add("scratch", AAX_REG_SCRATCH, 0, reg_access::rw);
    regs_.add64("devmem_base", AAX_REG_DEVMEM_BASE_LO, c.devmem_base, reg_access::ro);

    // Control core and boot handshake (abi/aax_boot.h).
    regs_.add("boot_status", AAX_REG_BOOT_STATUS, AAX_BOOT_RESET, reg_access::rw);
    regs_.add("boot_err", AAX_REG_BOOT_ERR, 0, reg_access::rw);
    regs_.add64("boot_params", AAX_REG_BOOT_PARAMS_LO, 0, reg_access::rw);
    regs_.add("core_entry", AAX_REG_CORE_ENTRY, AAX_CORE_DEVMEM_WINDOW, reg_access::rw);
    regs_.add("core_ctrl", AAX_REG_CORE_CTRL, 0, reg_access::rw).write_cb([this](uint32_t v) {
        if (core_out.size() == 0) return;  // no control core on this chip
        if (!(v & AAX_CORE_RUN)) regs_[AAX_REG_BOOT_STATUS].set(AAX_BOOT_RESET);
        core_out->core_run(v & AAX_CORE_RUN, static_cast<uint32_t>(regs_[AAX_REG_CORE_ENTRY].get()));
    });
    regs_.add("fw_version", AAX_REG_FW_VERSION, 0, reg_access::rw);
    regs_.add("heartbeat", AAX_REG_HEARTBEAT, 0, reg_access::rw);
    regs_.add("fw_irq", AAX_REG_FW_IRQ, 0, reg_access::wo).write_cb([this](uint32_t line) { raise(line); });
    regs_.add64("core_win", AAX_REG_CORE_WIN_LO, 0, reg_access::rw).write_cb([this](uint32_t) {
        if (core_out.size()) core_out->core_window(regs_[AAX_REG_CORE_WIN_LO].get());
    });

    // IRQ_RAW holds the pending lines; IRQ_STATUS is their unmasked part (a view of two
    // registers), and writing 1s to it clears those lines in IRQ_RAW.
    regs_.add("irq_status", AAX_REG_IRQ_STATUS, 0, reg_access::w1c)
        .read_cb([this] { return regs_[AAX_REG_IRQ_RAW].get() & ~regs_[AAX_REG_IRQ_MASK].get(); })
        .write_cb([this](uint32_t w) {
            reg& raw = regs_[AAX_REG_IRQ_RAW];
            raw.set(raw.get() & ~w);
        });
    regs_.add("irq_mask", AAX_REG_IRQ_MASK, 0xFFFFFFFFu, reg_access::rw).write_cb([this](uint32_t newmask, uint64_t before) {
        // Lines that became pending while masked fire when unmasked (once).
        const uint32_t fire = static_cast<uint32_t>(regs_[AAX_REG_IRQ_RAW].get() & before & ~newmask);
        for (unsigned line = 0; line < 32; ++line)
            if (fire & (1u << line)) {
                ++msis_;
                msi_out->raise(vector_for_line(line));
            }
    });
    regs_.add("irq_raw", AAX_REG_IRQ_RAW, 0, reg_access::ro);

    stats_.add({&irqs_, &msis_, &resets_});
}

device_ctrl::~device_ctrl() = default;  // stats_ unregisters the stats

uint64_t device_ctrl::now_ns() const { return sc_core::sc_time_stamp().value() / 1000; }

unsigned device_ctrl::vector_for_line(unsigned line) {
    if (line >= AAX_IRQ_CQ_SHIFT) return AAX_MSIX_VEC_CQ(line - AAX_IRQ_CQ_SHIFT);
    if (line == AAX_IRQ_LINE_ERROR || line == AAX_IRQ_LINE_MMU) return AAX_MSIX_VEC_ERROR;
    return AAX_MSIX_VEC_EVENT;
}

void device_ctrl::raise(unsigned line) {
    if (line >= 32) return;
    ++irqs_;
    reg& raw = regs_[AAX_REG_IRQ_RAW];
    raw.set(raw.get() | 1u << line);
    if (regs_[AAX_REG_IRQ_MASK].get() & (1u << line)) return;
    ++msis_;
    AVP_LOG(debug, name(), "irq line {} -> MSI-X vector {}", line, vector_for_line(line));
    msi_out->raise(vector_for_line(line));
}

} // namespace accelvp
