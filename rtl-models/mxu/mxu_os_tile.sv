// The RTL matrix tile, output-stationary: an R x C grid of PEs, each holding one C element's
// INT32 accumulator, executing one AAX GEMM packet's fields (m, n, k, byte addresses, leading
// dimensions, ACCUMULATE, B_TRANS) with dataflow OS. INT8 x INT8 -> INT32.
//
// C is cut into blocks of r <= rows (of m) x c <= cols (of n), m-outer, n-inner, as the TLM
// engine. A block's k steps stream in from the edges: in each step the feeder (SRAM port 1)
// fetches a column of A (r values) and a row of B (c values); row i of A is delayed i cycles
// and column j of B j cycles (skew registers), A moves right and B down through the grid, and
// PE (i, j) adds a*b of step s in cycle t_s + 1 + i + j. The block is complete in the cycle of
// its last MAC (fill and drain r + c - 1); its r x c results then move, with that cycle's MAC,
// into the output buffer (double-buffered accumulators) and the accumulators restart at 0.
// The output buffer drains one row per cycle through the drainer (SRAM port 0), which with
// ACCUMULATE reads the row's C and writes C + result (so no C preload is needed), while the
// next block streams. A block starts in the cycle after the previous block's results moved to
// the output buffer, and moves its own once the previous block's drain has ended.
// Each port moves cfg_bpc bytes per cycle with a byte credit reset at every block (+cfg_bpc per
// cycle; a beat waits until the credit covers it): a feeder step charges (r + c) * cfg_ib, a
// drained row c * cfg_ob (twice with ACCUMULATE). cfg_ib / cfg_ob other than 1 / 4 give the
// timing of other types (data off).
//
// The SRAM is the simulator's, through DPI-C (the mxu_sram_* functions of mxu_tile). With
// cfg_data = 0 nothing is read or written (timing).
module mxu_os_tile #(
    parameter int RMAX = 32,
    parameter int CMAX = 32
) (
    input  logic        clk,
    input  logic        rst_n,
    input  logic        start,
    input  logic [31:0] cfg_m,
    input  logic [31:0] cfg_n,
    input  logic [31:0] cfg_k,
    input  logic [31:0] cfg_a,
    input  logic [31:0] cfg_b,
    input  logic [31:0] cfg_c,
    input  logic [31:0] cfg_lda,
    input  logic [31:0] cfg_ldb,
    input  logic [31:0] cfg_ldc,
    input  logic        cfg_acc,
    input  logic        cfg_btrans,
    input  logic        cfg_data,
    input  logic [15:0] cfg_rows,
    input  logic [15:0] cfg_cols,
    input  logic [7:0]  cfg_ib,
    input  logic [7:0]  cfg_ob,
    input  logic [31:0] cfg_bpc,
    input  logic [31:0] cfg_setup,
    output logic        busy,
    output logic        done,
    output logic [63:0] cycles
);
    import "DPI-C" function int mxu_sram_rd8(input longint addr);
    import "DPI-C" function int mxu_sram_rd32(input longint addr);
    import "DPI-C" function void mxu_sram_wr32(input longint addr, input int data);

    // ---------------------------------------------------------------- the grid
    logic               issue, swap;
    // Per-PE wires (unpacked, one element per PE: no wide vectors to evaluate every cycle).
    logic signed [31:0] obuf [RMAX][CMAX];   // the output buffer
    logic [7:0]         a_w [RMAX][CMAX];    // A entering PE (i, j)
    logic [7:0]         b_w [RMAX][CMAX];    // B entering PE (i, j)
    logic               av_w [RMAX][CMAX];

    // Skew registers: row i of A reaches column 0 i + 1 cycles after its fetch, column j of B
    // reaches row 0 j + 1 cycles after. Stage 0 is loaded with the step's operands in its issue
    // cycle (DPI reads).
    for (genvar i = 0; i < RMAX; i++) begin : g_skew_a
        localparam int W = 8 * (i + 1);
        localparam int V = i + 1;
        logic [W-1:0] sa;
        logic [V-1:0] sv;
        always_ff @(posedge clk) begin
            logic [63:0] aa;
            logic [7:0]  x;
            aa = {32'd0, cfg_a} + (64'(r_i0) + 64'(i)) * 64'(cfg_lda) + 64'(r_step);
            x = 8'd0;
            if (issue && cfg_data && 16'(i) < r_r) x = 8'(mxu_sram_rd8(aa));
            sa <= W'({sa, x});
            sv <= V'({sv, issue && rst_n});
        end
        assign a_w[i][0] = sa[8*i +: 8];
        assign av_w[i][0] = sv[i];
    end
    for (genvar j = 0; j < CMAX; j++) begin : g_skew_b
        localparam int W = 8 * (j + 1);
        logic [W-1:0] sb;
        always_ff @(posedge clk) begin
            logic [63:0] ba;
            logic [7:0]  x;
            if (cfg_btrans) ba = {32'd0, cfg_b} + (64'(r_j0) + 64'(j)) * 64'(cfg_ldb) + 64'(r_step);
            else ba = {32'd0, cfg_b} + 64'(r_step) * 64'(cfg_ldb) + 64'(r_j0) + 64'(j);
            x = 8'd0;
            if (issue && cfg_data && 16'(j) < r_c) x = 8'(mxu_sram_rd8(ba));
            sb <= W'({sb, x});
        end
        assign b_w[0][j] = sb[8*j +: 8];
    end
    // PE (i, j): A from the left, B from above; each passes its inputs on one cycle later.
    for (genvar i = 0; i < RMAX; i++) begin : g_row
        for (genvar j = 0; j < CMAX; j++) begin : g_pe
            logic signed [31:0] acc, nxt, ob;
            /* verilator lint_off UNUSEDSIGNAL */
            logic [7:0] ar, br;   // (unused past the last column / row)
            logic       avr;
            /* verilator lint_on UNUSEDSIGNAL */
            assign nxt = av_w[i][j] ? acc + 32'($signed(a_w[i][j])) * 32'($signed(b_w[i][j])) : acc;
            always_ff @(posedge clk) begin
                ar <= a_w[i][j];
                br <= b_w[i][j];
                avr <= av_w[i][j] && rst_n;
                if (!rst_n) acc <= 32'sd0;
                else if (swap) begin
                    ob <= nxt;
                    acc <= 32'sd0;
                end else acc <= nxt;
            end
            assign obuf[i][j] = ob;
            if (j + 1 < CMAX) begin : g_right
                assign a_w[i][j+1] = ar;
                assign av_w[i][j+1] = avr;
            end
            if (i + 1 < RMAX) begin : g_down
                assign b_w[i+1][j] = br;
            end
        end
    end

    // ---------------------------------------------------------------- control
    logic [31:0] setup_left;
    logic        running;
    // the block streaming (run)
    logic        r_active;               // a block is streaming or waiting to move its results
    logic [31:0] r_i0, r_j0;
    logic [15:0] r_r, r_c;
    logic [31:0] r_step;                 // steps issued
    logic [31:0] r_credit;
    logic [31:0] r_tail;                 // cycles to the last MAC after the last step (0: not counting)
    logic        r_done;                 // the last MAC is done (results wait in the accumulators)
    logic        r_last_blk;
    // the block draining
    logic        d_active;
    logic [31:0] d_i0, d_j0;
    logic [15:0] d_r, d_c;
    logic [15:0] d_row;
    logic [31:0] d_credit;

    logic [31:0] need_f, need_d, f_eff, d_eff;
    logic        run_fin, drain_fin, d_beat;
    always_comb begin
        need_f = ({16'd0, r_r} + {16'd0, r_c}) * {24'd0, cfg_ib};
        need_d = {16'd0, d_c} * {24'd0, cfg_ob} * (cfg_acc ? 32'd2 : 32'd1);
        f_eff = r_credit + cfg_bpc;
        d_eff = d_credit + cfg_bpc;
        issue = running && r_active && r_step < cfg_k && f_eff >= need_f;
        d_beat = running && d_active && d_eff >= need_d;
        // This cycle ends the block's run (its last MAC) / the drain (its last row).
        run_fin = r_active && (r_done || r_tail == 32'd1);
        drain_fin = !d_active || (d_beat && d_row + 16'd1 == d_r);
        swap = running && r_active && run_fin && drain_fin;
    end

    function automatic logic [15:0] clip(input logic [31:0] left, input logic [15:0] lim);
        return (left < {16'd0, lim}) ? left[15:0] : lim;
    endfunction

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            busy <= 1'b0;
            done <= 1'b0;
            cycles <= 64'd0;
            running <= 1'b0;
            r_active <= 1'b0;
            d_active <= 1'b0;
        end else if (start && !busy) begin
            busy <= 1'b1;
            done <= 1'b0;
            cycles <= 64'd0;
            setup_left <= cfg_setup;
            running <= cfg_setup == 32'd0;
            r_active <= 1'b1;
            r_i0 <= 32'd0;
            r_j0 <= 32'd0;
            r_r <= clip(cfg_m, cfg_rows);
            r_c <= clip(cfg_n, cfg_cols);
            r_last_blk <= cfg_m <= {16'd0, cfg_rows} && cfg_n <= {16'd0, cfg_cols};
            r_step <= 32'd0;
            r_credit <= 32'd0;
            r_tail <= 32'd0;
            r_done <= 1'b0;
            d_active <= 1'b0;
        end else if (busy) begin
            cycles <= cycles + 64'd1;
            if (!running) begin
                setup_left <= setup_left - 32'd1;
                if (setup_left == 32'd1) running <= 1'b1;
            end else begin
                // ---- feeder (port 1)
                if (r_active && r_step < cfg_k) begin
                    r_credit <= f_eff;
                    if (issue) begin
                        r_credit <= f_eff - need_f;
                        r_step <= r_step + 32'd1;
                        if (r_step + 32'd1 == cfg_k) r_tail <= {16'd0, r_r} + {16'd0, r_c} - 32'd1;
                    end
                end
                if (r_tail != 32'd0) begin
                    r_tail <= r_tail - 32'd1;
                    if (r_tail == 32'd1) r_done <= 1'b1;
                end
                // ---- drainer (port 0)
                if (d_active) begin
                    d_credit <= d_eff;
                    if (d_beat) begin
                        d_credit <= d_eff - need_d;
                        d_row <= d_row + 16'd1;
                        if (cfg_data)
                            for (int j = 0; j < CMAX; j++)
                                if (16'(j) < d_c) begin
                                    logic [63:0] ca;
                                    logic signed [31:0] base;
                                    ca = {32'd0, cfg_c} + ((64'(d_i0) + 64'(d_row)) * 64'(cfg_ldc) + 64'(d_j0) + 64'(j)) * 64'd4;
                                    base = 32'sd0;
                                    if (cfg_acc) base = mxu_sram_rd32(ca);
                                    mxu_sram_wr32(ca, base + obuf[d_row[$clog2(RMAX)-1:0]][j]);
                                end
                        if (d_row + 16'd1 == d_r) begin
                            d_active <= 1'b0;
                            if (!r_active) begin  // the last block's drain: the packet ends
                                busy <= 1'b0;
                                done <= 1'b1;
                                running <= 1'b0;
                            end
                        end
                    end
                end
                // ---- the block's results move to the output buffer; the next block starts
                if (swap) begin
                    d_active <= 1'b1;
                    d_i0 <= r_i0;
                    d_j0 <= r_j0;
                    d_r <= r_r;
                    d_c <= r_c;
                    d_row <= 16'd0;
                    d_credit <= 32'd0;
                    r_step <= 32'd0;
                    r_credit <= 32'd0;
                    r_tail <= 32'd0;
                    r_done <= 1'b0;
                    if (r_last_blk) r_active <= 1'b0;
                    else begin
                        logic [31:0] ni, nj;
                        if (r_j0 + {16'd0, cfg_cols} < cfg_n) begin
                            ni = r_i0;
                            nj = r_j0 + {16'd0, cfg_cols};
                        end else begin
                            ni = r_i0 + {16'd0, cfg_rows};
                            nj = 32'd0;
                        end
                        r_i0 <= ni;
                        r_j0 <= nj;
                        r_r <= clip(cfg_m - ni, cfg_rows);
                        r_c <= clip(cfg_n - nj, cfg_cols);
                        r_last_blk <= (cfg_m - ni <= {16'd0, cfg_rows}) && (cfg_n - nj <= {16'd0, cfg_cols});
                    end
                end
            end
        end
    end

endmodule
