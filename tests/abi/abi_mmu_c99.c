/* The MMU and errno ABI headers are plain C99: this file only has to compile (as C). */
#include "abi/aax_errno.h"
#include "abi/aax_mmu.h"
#include "abi/aax_queue.h"

unsigned aax_mmu_c99_probe(void);
unsigned aax_mmu_c99_probe(void)
{
    return AAX_MMU_INDEX(AAX_PAGE_2M, 2) + (unsigned)AAX_ERR_MMU_FAULT + (unsigned)-aax_status_to_errno(AAX_ERR_LINK_DOWN);
}
