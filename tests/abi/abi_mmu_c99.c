/* The MMU ABI header is plain C99: this file only has to compile (as C). */
#include "abi/aax_mmu.h"
#include "abi/aax_queue.h"

unsigned aax_mmu_c99_probe(void);
unsigned aax_mmu_c99_probe(void) { return AAX_MMU_INDEX(AAX_PAGE_2M, 2) + (unsigned)AAX_ERR_MMU_FAULT; }
