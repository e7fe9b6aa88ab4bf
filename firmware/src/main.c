/* accelvp control-core firmware: boot handshake, log and heartbeat.
 * (Job scheduling moves here from the hardware queue manager in a later step.) */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fw_boot.h"
#include "hal.h"

static uint64_t devmem_base;
static aax_fw_log *fw_log;
static uint32_t heartbeat;
static uint64_t tick; /* mtime ticks per heartbeat */

/* Device bus address -> core address through the device-memory window (0 if outside). */
static void *devmem(uint64_t bus, uint32_t len)
{
    if (bus < devmem_base || bus - devmem_base > AAX_CORE_DEVMEM_SIZE - len)
        return 0;
    return (void *)(uintptr_t)(AAX_CORE_DEVMEM_WINDOW + (uint32_t)(bus - devmem_base));
}

static void logf(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    int n;
    if (!fw_log)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    fw_log_append(fw_log, line, (uint32_t)n);
}

static void boot_fail(uint32_t err)
{
    reg_write(AAX_REG_BOOT_ERR, err);
    reg_write(AAX_REG_BOOT_STATUS, AAX_BOOT_FAIL);
    reg_write(AAX_REG_FW_IRQ, AAX_IRQ_LINE_BOOT);
    for (;;)
        __asm__ volatile("wfi");
}

void fw_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    if (mcause == 0x80000007u) { /* machine timer: heartbeat */
        reg_write(AAX_REG_HEARTBEAT, ++heartbeat);
        set_mtimecmp(mtime() + tick);
        return;
    }
    logf("fatal trap: mcause %lu mepc 0x%08lx mtval 0x%08lx", (unsigned long)mcause, (unsigned long)mepc,
         (unsigned long)mtval);
    reg_write(AAX_REG_BOOT_ERR, reg_read(AAX_REG_BOOT_ERR) | 0x80000000u);
    reg_write(AAX_REG_BOOT_STATUS, AAX_BOOT_FAIL);
    reg_write(AAX_REG_FW_IRQ, AAX_IRQ_LINE_ERROR);
    for (;;)
        __asm__ volatile("wfi");
}

int main(void)
{
    const aax_boot_params *p;
    uint32_t err;

    reg_write(AAX_REG_BOOT_STATUS, AAX_BOOT_STARTED);
    devmem_base = reg_read64(AAX_REG_DEVMEM_BASE_LO);
    p = (const aax_boot_params *)devmem(reg_read64(AAX_REG_BOOT_PARAMS_LO), sizeof *p);
    if (!p)
        boot_fail(AAX_BOOT_ERR_BAD_PARAMS);
    err = fw_check_boot_params(p, AAX_ABI_MAJOR);
    if (err)
        boot_fail(err);

    if (p->log_size) {
        fw_log = (aax_fw_log *)devmem(p->log_addr, p->log_size);
        if (!fw_log)
            boot_fail(AAX_BOOT_ERR_BAD_PARAMS);
        fw_log->magic = AAX_FW_LOG_MAGIC;
        fw_log->capacity = p->log_size - (uint32_t)sizeof(aax_fw_log);
        fw_log->write_pos = 0;
    }
    logf("accelvp firmware %u.%u.%u: boot params ok, %lu rings, core %lu MHz", FW_VERSION_MAJOR, FW_VERSION_MINOR,
         FW_VERSION_BUILD, (unsigned long)p->n_rings, (unsigned long)p->core_freq_mhz);

    /* Heartbeat every millisecond of device time. */
    tick = (uint64_t)(p->timer_mhz ? p->timer_mhz : 1) * 1000u;
    set_mtimecmp(mtime() + tick);
    csr_set(mie, 1u << 7);      /* MTIE */
    csr_set(mstatus, 1u << 3);  /* MIE */

    reg_write(AAX_REG_FW_VERSION, FW_VERSION);
    reg_write(AAX_REG_BOOT_STATUS, AAX_BOOT_READY);
    reg_write(AAX_REG_FW_IRQ, AAX_IRQ_LINE_BOOT);
    logf("ready");
    for (;;)
        __asm__ volatile("wfi");
}
