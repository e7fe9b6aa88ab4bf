# header comment
dma src=0x1000 dst=0x2000 width=64
dmx src=1

dma dst=0x2000 wdth=3
sem_wait sem=1 cond=gt
dma dst=0x2000 width=0
sem_signal sem=70000 value=1
sem_signal sem=1
msg addr=0x10 value=1 value=2
fence addr=zz
dma dst
.raw
.byte 256
nop size=0
msg addr=0x10 value=4294967296
fence addr=0x10 irq=2
sem_wait sem=1 # cond=gt is commented out
gemm dtype_in=bf8 dtype_out=fp32 m=1 n=1 k=1 a_addr=0 b_addr=0 c_addr=0
vec op=softmax dtype=fp32 dtype_out=fp32 rows=1 cols=1 src0=0 dst=0 eps=tiny
