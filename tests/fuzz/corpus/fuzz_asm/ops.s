gemm cluster=0 dtype_in=bf16 dtype_out=fp32 m=128 n=128 k=64 a_addr=0x0 b_addr=0x4000 c_addr=0x8000
fence addr=0x9000 value=7
msg addr=0xfee00000 value=1 irq
