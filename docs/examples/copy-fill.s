# A command-stream file (docs/debugging.md): copy a seeded pattern host -> device, fill the
# next 4 KiB with a 32-bit pattern, then on ring 1 copy all of it back and write a fence.
.buffer src 8KiB host init=pattern:7
.buffer dev 8KiB
.buffer out 8KiB host
.buffer fb 8 host

dma src=@src dst=@dev width=4096
dma dst=@dev+4096 width=4096 pattern=0xa1b2c3d4 fill
.wait                              # the second job reads what the first wrote
.job queue=1
dma src=@dev dst=@out width=8192
fence addr=@fb value=0x1234

.expect out 4096 copy:src
.expect out+4096 4096 u32:0xa1b2c3d4
.expect fb 8 u64:0x1234
