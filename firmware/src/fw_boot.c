#include "fw_boot.h"

uint32_t fw_check_boot_params(const aax_boot_params *p, uint32_t fw_abi_major)
{
    uint32_t err = 0;
    uint32_t i;
    if (p->magic != AAX_BOOT_MAGIC)
        return AAX_BOOT_ERR_BAD_MAGIC; /* nothing else in the block can be trusted */
    if ((p->abi_version >> 16) != fw_abi_major)
        err |= AAX_BOOT_ERR_BAD_VERSION;
    if (p->n_rings > AAX_BOOT_MAX_RINGS || p->core_freq_mhz == 0)
        err |= AAX_BOOT_ERR_BAD_PARAMS;
    if (p->log_size != 0 && p->log_size < sizeof(aax_fw_log) + 16)
        err |= AAX_BOOT_ERR_BAD_PARAMS;
    for (i = 0; i < p->n_rings && i < AAX_BOOT_MAX_RINGS; ++i) {
        const aax_boot_ring *r = &p->rings[i];
        if (r->ring_log2 < 1 || r->ring_log2 > 16 || r->cq_log2 < 1 || r->cq_log2 > 16 ||
            (r->ring_addr & 63) != 0 || (r->cq_addr & 31) != 0)
            err |= AAX_BOOT_ERR_BAD_PARAMS;
    }
    return err;
}

void fw_log_append(aax_fw_log *log, const char *text, uint32_t len)
{
    char *buf = (char *)(log + 1);
    uint32_t i;
    if (log->capacity == 0)
        return;
    for (i = 0; i < len; ++i)
        buf[(log->write_pos + i) % log->capacity] = text[i];
    log->write_pos += len;
}
