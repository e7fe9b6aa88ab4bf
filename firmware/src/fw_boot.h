/* Firmware logic that does not touch hardware: boot-parameter checks and the log ring.
 * Plain C99; built for the control core and natively for unit tests. */
#ifndef FW_BOOT_H
#define FW_BOOT_H

#include <stdint.h>

#include "abi/aax_boot.h"

#define FW_VERSION_MAJOR 0u
#define FW_VERSION_MINOR 2u
#define FW_VERSION_BUILD 0u
#define FW_VERSION ((FW_VERSION_MAJOR << 24) | (FW_VERSION_MINOR << 16) | FW_VERSION_BUILD)

/* AAX_BOOT_ERR_* bits for a parameter block; 0 = usable. */
uint32_t fw_check_boot_params(const aax_boot_params *p, uint32_t fw_abi_major);

/* Append len bytes of text to a log ring (header + capacity bytes of text). */
void fw_log_append(aax_fw_log *log, const char *text, uint32_t len);

#endif
