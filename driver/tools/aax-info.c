/* SPDX-License-Identifier: MIT */
/* aax-info: what the aax driver reports about the device. */
#include <stdio.h>
#include <string.h>

#include "driver/libaax/aax.h"

int main(int argc, char **argv)
{
    aax_dev d;
    int r = aax_open(&d, argc > 1 ? argv[1] : NULL);
    if (r) {
        fprintf(stderr, "aax-info: no aax device: %s\n", strerror(-r));
        return 1;
    }
    printf("device: %s\n", d.path);
    printf("abi_version: %u.%u\n", d.info.abi_version >> 16, d.info.abi_version & 0xFFFF);
    printf("fw_version: %u.%u.%u\n", d.info.fw_version >> 24, (d.info.fw_version >> 16) & 0xFF,
           d.info.fw_version & 0xFFFF);
    printf("queues: %u\nsemaphores: %u\ndma_engines: %u\n", d.info.queues, d.info.semaphores, d.info.dma_engines);
    printf("devmem_size: %llu\ndevmem_free: %llu\nhost_bo_max: %llu\n", (unsigned long long)d.info.devmem_size,
           (unsigned long long)d.info.devmem_free, (unsigned long long)d.info.host_bo_max);
    printf("host_bo_sg_max: %llu\nmmu_contexts: %u\n", (unsigned long long)d.info.host_bo_sg_max, d.info.mmu_contexts);
    printf("control_core: %s\nmmu: %s\n", (d.info.flags & AAX_INFO_CONTROL_CORE) ? "yes" : "no",
           (d.info.flags & AAX_INFO_MMU) ? "yes" : "no");
    aax_close(&d);
    return 0;
}
