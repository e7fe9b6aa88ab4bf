.raw 0x0000000000010001 0xffffffffffffffff
.byte 1 2 3 0xff
vec op=softmax dtype=fp32 dtype_out=fp32 rows=1 cols=1 src0=0 dst=0 eps=1e-5 scalar=-0.5

