// FP32 arithmetic of the vector lanes, bit-exact with the host fp32 arithmetic of the TLM vector
// engine (tlm/compute/numerics.cpp on x86-64 SSE, round to nearest even, no flush to zero):
//  - add, mul: IEEE 754 binary32, round to nearest even, subnormal operands and results, signed
//    zeros (x + -x = +0, -0 + -0 = -0); NaN operands as SSE returns them: the first operand's if it
//    is a NaN, else the second's, quieted (bit 22 set, payload and sign kept); an invalid
//    operation (inf - inf, 0 * inf) gives the SSE default NaN 0xFFC00000;
//  - max (num::vmax): a if a is a NaN, else a > b ? a : b (b on ties, so max(+0, -0) = -0, and a
//    NaN b unchanged);
//  - relu (num::vrelu): x < 0 ? +0 : x (-0 and NaN pass unchanged);
//  - conversions: INT8 / BF16 -> fp32 (exact), fp32 -> INT8 / INT32 (NaN -> 0, saturating, round
//    to nearest even), fp32 -> BF16 (round to nearest even; a NaN keeps its top 16 bits, quieted).
// Functions only: the lanes instantiate them in their ALU stage, the cluster in its fetch and
// result formatting (docs/calibration.md, "The RTL lane cluster").
// (Functions on whole fp32 words use only some of their bits: UNUSEDSIGNAL is off here.)
/* verilator lint_off UNUSEDSIGNAL */
package vpu_fp;
    localparam logic [31:0] DEFAULT_NAN = 32'hFFC0_0000;  // SSE "real indefinite" (invalid operation)
    localparam logic [31:0] CANON_NAN = 32'h7FC0_0000;    // std::numeric_limits<float>::quiet_NaN()

    // A row reduction's partial result: the value, and for ROW_MAX the column it came from (the
    // earliest of equal values wins, as in the TLM engine's sequential max: it decides between
    // +0 and -0) and whether a NaN was seen (the result is then CANON_NAN).
    typedef struct packed {
        logic        nan;
        logic [31:0] idx;
        logic [31:0] val;
    } red_t;
    localparam red_t SUM_ID = '{nan: 1'b0, idx: 32'd0, val: 32'h0000_0000};
    localparam red_t MAX_ID = '{nan: 1'b0, idx: 32'hFFFF_FFFF, val: 32'hFF80_0000};

    function automatic logic is_nan(input logic [31:0] x);
        return x[30:23] == 8'hFF && x[22:0] != 23'd0;
    endfunction
    function automatic logic is_inf(input logic [31:0] x);
        return x[30:23] == 8'hFF && x[22:0] == 23'd0;
    endfunction
    function automatic logic is_zero(input logic [31:0] x);
        return x[30:0] == 31'd0;
    endfunction

    // Significand with the hidden bit, and the exponent of its unit (subnormals: exponent 1).
    function automatic logic [23:0] sig_of(input logic [31:0] x);
        return {x[30:23] != 8'd0, x[22:0]};
    endfunction
    function automatic int exp_of(input logic [31:0] x);
        return x[30:23] == 8'd0 ? 1 : int'({24'd0, x[30:23]});
    endfunction

    // sign * sig * 2^scale rounded to fp32, round to nearest even (sig != 0).
    function automatic logic [31:0] round_pack(input logic sign, input logic [63:0] sig_in, input int scale_in);
        logic [63:0]  sig;
        logic [127:0] wide;
        logic [24:0]  mant;
        logic         guard, sticky;
        int           k, e, rs, sc;
        sig = sig_in;
        sc = scale_in;
        k = 0;
        for (int i = 0; i < 64; i++) if (sig[i]) k = i;
        if (k < 23) begin  // at least 24 significant bits
            sig = sig << (23 - k);
            sc = sc - (23 - k);
            k = 23;
        end
        e = k + sc + 127;  // biased exponent of the leading bit
        rs = k - 23;       // bits below the 24 kept
        if (e < 1) begin   // subnormal: the unit is 2^-149
            rs = rs + (1 - e);
            e = 1;
        end
        if (rs > 100) begin
            mant = 25'd0;
            guard = 1'b0;
            sticky = 1'b1;
        end else begin
            wide = {sig, 64'd0} >> rs;
            mant = wide[88:64];
            guard = wide[63];
            sticky = wide[62:0] != 63'd0;
        end
        if (guard && (sticky || mant[0])) mant = mant + 25'd1;
        if (mant[24]) begin
            mant = mant >> 1;
            e = e + 1;
        end
        if (e >= 255) return {sign, 8'hFF, 23'd0};
        return {sign, mant[23] ? 8'(e) : 8'd0, mant[22:0]};
    endfunction

    function automatic logic [31:0] fadd(input logic [31:0] a, input logic [31:0] b);
        logic [31:0] x, y;
        logic [63:0] hi, lo, s;
        int          d;
        if (is_nan(a)) return a | 32'h0040_0000;
        if (is_nan(b)) return b | 32'h0040_0000;
        if (is_inf(a) && is_inf(b) && a[31] != b[31]) return DEFAULT_NAN;
        if (is_inf(a)) return a;
        if (is_inf(b)) return b;
        if (is_zero(a) && is_zero(b)) return {a[31] & b[31], 31'd0};
        if (is_zero(a)) return b;
        if (is_zero(b)) return a;
        // x: the larger magnitude. Aligned with 39 bits below its significand, so the sum is exact
        // unless y lies more than 39 bits lower, where a sticky 1 stands for it.
        if (a[30:0] >= b[30:0]) begin
            x = a;
            y = b;
        end else begin
            x = b;
            y = a;
        end
        d = exp_of(x) - exp_of(y);
        hi = {1'b0, sig_of(x), 39'd0};
        if (d >= 63) lo = 64'd1;
        else begin
            lo = {1'b0, sig_of(y), 39'd0} >> d;
            if (d > 39 && ({40'd0, sig_of(y)} & ((64'd1 << (d - 39)) - 64'd1)) != 64'd0) lo = lo | 64'd1;
        end
        s = x[31] == y[31] ? hi + lo : hi - lo;
        if (s == 64'd0) return 32'h0000_0000;  // exact cancellation: +0
        return round_pack(x[31], s, exp_of(x) - 150 - 39);
    endfunction

    function automatic logic [31:0] fmul(input logic [31:0] a, input logic [31:0] b);
        logic sign;
        sign = a[31] ^ b[31];
        if (is_nan(a)) return a | 32'h0040_0000;
        if (is_nan(b)) return b | 32'h0040_0000;
        if ((is_inf(a) && is_zero(b)) || (is_zero(a) && is_inf(b))) return DEFAULT_NAN;
        if (is_inf(a) || is_inf(b)) return {sign, 8'hFF, 23'd0};
        if (is_zero(a) || is_zero(b)) return {sign, 31'd0};
        return round_pack(sign, {16'd0, 48'(sig_of(a)) * 48'(sig_of(b))}, exp_of(a) + exp_of(b) - 300);
    endfunction

    // a > b as C compares floats (false with a NaN; +0 == -0).
    function automatic logic fgt(input logic [31:0] a, input logic [31:0] b);
        if (is_nan(a) || is_nan(b)) return 1'b0;
        if (is_zero(a) && is_zero(b)) return 1'b0;
        if (a[31] != b[31]) return !a[31];
        return a[31] ? a[30:0] < b[30:0] : a[30:0] > b[30:0];
    endfunction

    // Max of two partial row maxima (r later than l in the lanes' order, not in columns).
    function automatic red_t red_max(input red_t l, input red_t r);
        red_t o;
        if (fgt(r.val, l.val) || (!fgt(l.val, r.val) && r.idx < l.idx)) o = r;
        else o = l;
        o.nan = l.nan | r.nan;
        return o;
    endfunction

    function automatic logic [31:0] fmax(input logic [31:0] a, input logic [31:0] b);
        if (is_nan(a)) return a;
        return fgt(a, b) ? a : b;
    endfunction

    function automatic logic [31:0] frelu(input logic [31:0] x);
        return fgt(32'h0000_0000, x) ? 32'h0000_0000 : x;
    endfunction

    function automatic logic [31:0] from_int(input logic signed [31:0] v);
        if (v == 32'sd0) return 32'h0000_0000;
        return round_pack(v < 0, v < 0 ? 64'(-64'(v)) : 64'(v), 0);
    endfunction

    function automatic logic [31:0] from_bf16(input logic [15:0] h);
        return {h, 16'd0};
    endfunction

    // Round to an integer, nearest even (|x| < 2^31, not a NaN).
    function automatic logic signed [31:0] rne_int(input logic [31:0] x);
        logic [63:0]  m;
        logic [127:0] wide;
        logic         guard, sticky;
        int           e, rs;
        if (is_zero(x)) return 32'sd0;
        e = int'({24'd0, x[30:23]}) - 127;
        if (e >= 23) m = {40'd0, sig_of(x)} << (e - 23);
        else begin
            rs = 23 - e;  // 1 .. 150 (subnormals: 150)
            if (rs > 100) rs = 100;
            wide = {40'd0, sig_of(x), 64'd0} >> rs;
            m = wide[127:64];
            guard = wide[63];
            sticky = wide[62:0] != 63'd0;
            if (guard && (sticky || m[0])) m = m + 64'd1;
        end
        return x[31] ? -32'(m) : 32'(m);
    endfunction

    function automatic logic [31:0] to_int8(input logic [31:0] x);  // sign-extended to 32 bits
        if (is_nan(x)) return 32'd0;
        if (fgt(x, 32'h42FE_0000)) return 32'sd127;   // 127.0f
        if (fgt(32'hC300_0000, x)) return -32'sd128;  // -128.0f
        return rne_int(x);
    endfunction

    function automatic logic [31:0] to_int32(input logic [31:0] x);
        if (is_nan(x)) return 32'd0;
        if (!x[31] && x[30:0] >= 31'h4F00_0000) return 32'h7FFF_FFFF;  // >= 2^31
        if (x[31] && x[30:0] >= 31'h4F00_0000) return 32'h8000_0000;   // <= -2^31
        return rne_int(x);
    endfunction

    function automatic logic [15:0] to_bf16(input logic [31:0] x);
        logic [32:0] r;
        if (is_nan(x)) return x[31:16] | 16'h0040;
        r = {1'b0, x} + 33'h7FFF + {32'd0, x[16]};
        return r[31:16];
    endfunction
endpackage
/* verilator lint_on UNUSEDSIGNAL */
