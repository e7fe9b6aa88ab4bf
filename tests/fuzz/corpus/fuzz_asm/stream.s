# copy in, wait for the compute side, copy out
dma src=0x1000 dst=0x2000 width=4096 height=1
sem_wait sem=3 cond=ge value=1 dec
dma dst=0x3000 width=64 height=2 dst_stride=64 pattern=0x01020304 fill
sem_signal sem=4 value=1
fence addr=0x8000 value=7
msg addr=0x9000 value=1 irq
nop size=2
