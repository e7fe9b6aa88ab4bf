# Cross toolchain for the control core: Debian's gcc-riscv64-unknown-elf with picolibc.
# rv32imac with the 2.2 ISA spec (CSR instructions and fence.i without _zicsr, which has
# no multilib in Debian's build).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(RV32_FLAGS "-march=rv32imac -misa-spec=2.2 -mabi=ilp32 -mcmodel=medany")
set(CMAKE_C_FLAGS_INIT "${RV32_FLAGS} -specs=picolibc.specs -ffreestanding -fno-common")
set(CMAKE_ASM_FLAGS_INIT "${RV32_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles")  # C flags (with the specs) are on the link line too
