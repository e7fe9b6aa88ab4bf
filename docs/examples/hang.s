# A job that never ends: it waits on a semaphore nobody signals (docs/debugging.md#state-dump).
.buffer a 4K
dma src=@a dst=@a+2048 width=64
sem_signal sem=3 value=2
sem_wait sem=7 value=1
