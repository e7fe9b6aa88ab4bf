// The RTL vector lane cluster: LMAX FP32 lanes (vpu_lane) behind one issue sequencer, a
// row-reduction tree (vpu_reduce) and a collector, executing one AAX VEC packet's fields:
// op (ADD, MUL, MAX, RELU, ROW_SUM, ROW_MAX), rows, cols, the byte addresses and element
// strides of a, b and y, the b operand mode (full, B_SCALAR, B_ROW, B_COL). INT8, BF16 or
// FP32 sources, widened to fp32 when fetched; fp32 arithmetic bit-exact with the TLM engine's
// (vpu_fp.sv); INT8 (saturated), INT32, FP32 or BF16 results, rounded as the TLM engine's
// num::from_f32. ROW_SUM adds in a tree (lanes, then log2 lanes levels), not in column order:
// exact, and so identical to the TLM engine's sequential sum, for INT8 sources up to 2^17
// columns; the engine takes float ROW_SUM values from the reference (README.md).
//
// Timing (cluster cycles, counted in `cycles` from the cycle after `start`):
//  - cfg_setup cycles of packet setup;
//  - then the sequencer issues one group of up to cfg_lanes elements of one row per cycle,
//    row by row; a group's operands are fetched in its issue cycle, go through cfg_depth
//    pipeline stages and its results are written cfg_depth cycles after the issue;
//  - row reductions: each lane folds its elements of the row as they leave the pipeline; with
//    the row's last group the lanes' values enter the tree (ceil(log2 cfg_lanes) levels) and
//    the row's result is written when it leaves the tree. The accumulators and the tree hold
//    one row: the next row issues in the cycle after the result is written;
//  - the SRAM port moves cfg_bpc bytes per cycle. Source reads are prefetched at the port's
//    rate: a group issues when the port has delivered all reads up to and including its own
//    (cfg_bpc * (t + 1) bytes by post-setup cycle t). Results go to a write buffer; the packet
//    ends when the last result is written and the port has moved every byte of the packet
//    (reads and writes). B_ROW is read once (an operand row buffer) and B_COL once per row;
//    B_SCALAR reads nothing. cfg_ib / cfg_ob are the element sizes the port charges (those of
//    cfg_in / cfg_out for the data path; other sizes give the timing of other types, data off).
//
// The SRAM is the simulator's, through DPI-C (vpu_sram_*). cfg_data = 0: nothing is read or
// written (timing).
module vpu_cluster #(
    parameter int LMAX = 64,
    parameter int DMAX = 16
) (
    input  logic        clk,
    input  logic        rst_n,
    input  logic        start,
    input  logic [3:0]  cfg_op,
    input  logic [1:0]  cfg_bmode,    // 0 full b (ADD/MUL/MAX), 1 B_SCALAR, 2 B_ROW, 3 B_COL
    input  logic [31:0] cfg_rows,
    input  logic [31:0] cfg_cols,
    input  logic [31:0] cfg_a,
    input  logic [31:0] cfg_b,
    input  logic [31:0] cfg_y,
    input  logic [31:0] cfg_lda,      // row strides in elements
    input  logic [31:0] cfg_ldb,
    input  logic [31:0] cfg_ldy,
    input  logic [31:0] cfg_scalar,   // B_SCALAR, fp32
    input  logic [1:0]  cfg_in,       // sources: 0 INT8, 1 BF16, 2 FP32
    input  logic [1:0]  cfg_out,      // results: 0 INT8 (saturating), 1 INT32 (saturating), 2 FP32, 3 BF16
    input  logic        cfg_data,
    input  logic [15:0] cfg_lanes,    // 1..LMAX
    input  logic [7:0]  cfg_depth,    // 1..DMAX
    input  logic [7:0]  cfg_ib,
    input  logic [7:0]  cfg_ob,
    input  logic [31:0] cfg_bpc,
    input  logic [31:0] cfg_setup,
    output logic        busy,
    output logic        done,
    output logic [63:0] cycles
);
    import "DPI-C" function int vpu_sram_rd8(input longint addr);
    import "DPI-C" function void vpu_sram_wr(input longint addr, input int nbytes, input int data);
    import vpu_fp::*;

    localparam int LW = $clog2(LMAX + 1);

    // ------------------------------------------------------------------ packet state
    logic        is_red, takes_b;
    logic [7:0]  levels;              // ceil(log2 cfg_lanes)
    logic [31:0] setup_left;
    logic        running;             // past setup
    logic        issuing;             // groups left to issue
    logic [31:0] row, col;            // the next group
    logic [63:0] t;                   // post-setup cycle
    logic [63:0] rd_bytes;            // reads issued so far
    logic [63:0] all_bytes;           // reads and writes so far
    logic        red_wait;            // a row is in the accumulators / tree

    // ------------------------------------------------------------------ the group in issue
    logic [31:0] left;
    logic [LW-1:0] n_on;              // elements in the group
    logic        g_last;              // last group of its row
    logic [63:0] g_rd;                // bytes this group reads
    logic        issue;
    always_comb begin
        left = cfg_cols - col;
        n_on = (left < {16'd0, cfg_lanes}) ? LW'(left) : LW'(cfg_lanes);
        g_last = left <= {16'd0, cfg_lanes};
        g_rd = 64'(n_on) * 64'(cfg_ib);
        if (takes_b) begin
            case (cfg_bmode)
                2'd0: g_rd = g_rd + 64'(n_on) * 64'(cfg_ib);
                2'd2: if (row == 32'd0) g_rd = g_rd + 64'(n_on) * 64'(cfg_ib);
                2'd3: if (col == 32'd0) g_rd = g_rd + 64'(cfg_ib);
                default: ;
            endcase
        end
        issue = running && issuing && !red_wait && (64'(cfg_bpc) * (t + 64'd1) >= rd_bytes + g_rd);
    end

    // ------------------------------------------------------------------ lanes
    // Stage 0 (fetch registers) and the group's tag through the pipeline: valid, row, col, first, last.
    logic [31:0]        fa [LMAX];    // fp32
    logic [31:0]        fb [LMAX];
    logic [LMAX-1:0]    f_on;
    typedef struct packed {
        logic        valid;
        logic        first;
        logic        last;
        logic [31:0] row;
        logic [31:0] col;
        logic [LW-1:0] n;
    } tag_t;
    tag_t tags [DMAX];                // tags[i]: the group in stage i
    tag_t out;                        // the group leaving the pipeline in this cycle
    assign out = tags[cfg_depth-1];

    logic [31:0]        ly [LMAX];
    red_t               red_in [LMAX];
    for (genvar l = 0; l < LMAX; l++) begin : g_lane
        vpu_lane #(.DMAX(DMAX)) lane (
            .clk, .cfg_op, .cfg_depth, .in_valid(tags[0].valid && f_on[l]), .a(fa[l]), .b(fb[l]),
            .out_valid(out.valid), .out_first(out.first), .out_lane_on(out.valid && LW'(l) < out.n),
            .out_col(out.col + 32'(l)), .y(ly[l]), .red_next(red_in[l]));
    end

    logic               t_valid;
    /* verilator lint_off UNUSEDSIGNAL */
    red_t               t_data;        // (its column is the tree's business)
    /* verilator lint_on UNUSEDSIGNAL */
    vpu_reduce #(.LMAX(LMAX)) tree (
        .clk, .clr(start && !busy), .is_max(cfg_op == 4'd10), .cfg_levels(levels), .in_valid(is_red && out.valid && out.last),
        .in_data(red_in), .out_valid(t_valid), .out_data(t_data));

    // ------------------------------------------------------------------ formats
    function automatic logic [31:0] fmt(input logic [31:0] v);
        case (cfg_out)
            2'd0: return to_int8(v);
            2'd1: return to_int32(v);
            2'd2: return v;
            default: return {16'd0, to_bf16(v)};
        endcase
    endfunction
    // An element of a source at byte address addr, widened to fp32.
    function automatic logic [31:0] fetch(input logic [63:0] addr);
        logic [31:0] x;
        case (cfg_in)
            2'd0: return from_int(32'(signed'(8'(vpu_sram_rd8(addr)))));
            2'd1: return from_bf16({8'(vpu_sram_rd8(addr + 64'd1)), 8'(vpu_sram_rd8(addr))});
            default: begin
                for (int i = 0; i < 4; i++) x[8*i +: 8] = 8'(vpu_sram_rd8(addr + 64'(i)));
                return x;
            end
        endcase
    endfunction
    logic [31:0] ob_bytes;
    assign ob_bytes = {24'd0, cfg_ob};

    function automatic logic [31:0] clog2_16(input logic [15:0] n);
        logic [31:0] k;
        k = 0;
        while ((32'd1 << k) < {16'd0, n}) k = k + 1;
        return k;
    endfunction

    // ------------------------------------------------------------------ operand fetch
    // Each lane's operands of the group issuing in this cycle, widened to fp32, into stage 0.
    for (genvar l = 0; l < LMAX; l++) begin : g_fetch
        always_ff @(posedge clk)
            if (rst_n && busy && issue) begin
                logic [63:0] c, aa, ba;
                logic [31:0] av, bv;
                c = 64'(col) + 64'(l);
                aa = 64'(cfg_a) + (64'(row) * 64'(cfg_lda) + c) * 64'(cfg_ib);
                case (cfg_bmode)
                    2'd2: ba = 64'(cfg_b) + c * 64'(cfg_ib);
                    2'd3: ba = 64'(cfg_b) + 64'(row) * 64'(cfg_ldb) * 64'(cfg_ib);
                    default: ba = 64'(cfg_b) + (64'(row) * 64'(cfg_ldb) + c) * 64'(cfg_ib);
                endcase
                av = 32'd0;
                bv = 32'd0;
                if (cfg_data && LW'(l) < n_on) begin
                    av = fetch(aa);
                    // (if, not ?: -- Verilator evaluates both arms, and with B_SCALAR src1 is
                    // no address)
                    if (takes_b && cfg_bmode == 2'd1) bv = cfg_scalar;
                    else if (takes_b) bv = fetch(ba);
                end
                fa[l] <= av;
                fb[l] <= bv;
                f_on[l] <= LW'(l) < n_on;
            end
    end

    // ------------------------------------------------------------------ sequential
    logic [63:0] wr_now;   // bytes written in this cycle
    logic        pipe_empty, fin;
    always_comb begin
        wr_now = 64'd0;
        if (out.valid && !is_red) wr_now = 64'(out.n) * 64'(cfg_ob);
        if (t_valid) wr_now = wr_now + 64'(cfg_ob);
        pipe_empty = 1'b1;
        for (int i = 0; i < DMAX; i++) if (8'(i) < cfg_depth && tags[i].valid) pipe_empty = 1'b0;
        // Every result written (in an earlier cycle) and every byte through the port: the
        // packet's last busy cycle was t - 1.
        fin = !issuing && pipe_empty && !red_wait && !t_valid && 64'(cfg_bpc) * t >= all_bytes;
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            busy <= 1'b0;
            done <= 1'b0;
            cycles <= 64'd0;
            running <= 1'b0;
            issuing <= 1'b0;
            red_wait <= 1'b0;
            for (int i = 0; i < DMAX; i++) tags[i] <= '0;
        end else begin
            // The pipeline's tags shift every cycle.
            tags[0] <= '0;
            for (int i = 1; i < DMAX; i++) tags[i] <= tags[i-1];
            if (start && !busy) begin
                busy <= 1'b1;
                done <= 1'b0;
                cycles <= 64'd0;
                is_red <= cfg_op == 4'd9 || cfg_op == 4'd10;
                takes_b <= cfg_op == 4'd0 || cfg_op == 4'd1 || cfg_op == 4'd3;
                levels <= 8'(clog2_16(cfg_lanes));
                setup_left <= cfg_setup;
                running <= cfg_setup == 32'd0;
                issuing <= 1'b1;
                row <= 32'd0;
                col <= 32'd0;
                t <= 64'd0;
                rd_bytes <= 64'd0;
                all_bytes <= 64'd0;
                red_wait <= 1'b0;
                for (int i = 1; i < DMAX; i++) tags[i] <= '0;  // groups of a deeper earlier packet
            end else if (busy) begin
                cycles <= cycles + 64'd1;
                if (!running) begin
                    setup_left <= setup_left - 32'd1;
                    if (setup_left == 32'd1) running <= 1'b1;
                end else begin
                    t <= t + 64'd1;
                    all_bytes <= all_bytes + (issue ? g_rd : 64'd0) + wr_now;
                    // ---- issue: fetch the group's operands into stage 0
                    if (issue) begin
                        rd_bytes <= rd_bytes + g_rd;
                        tags[0] <= '{valid: 1'b1, first: col == 32'd0, last: g_last, row: row, col: col, n: n_on};
                        if (g_last) begin
                            col <= 32'd0;
                            row <= row + 32'd1;
                            if (row + 32'd1 == cfg_rows) issuing <= 1'b0;
                            if (is_red) red_wait <= 1'b1;
                        end else col <= col + {16'd0, cfg_lanes};
                    end
                    // ---- collector: elementwise results leave the pipeline
                    if (out.valid && !is_red && cfg_data)
                        for (int l = 0; l < LMAX; l++)
                            if (LW'(l) < out.n)
                                vpu_sram_wr(64'(cfg_y) + (64'(out.row) * 64'(cfg_ldy) + 64'(out.col) + 64'(l)) * 64'(ob_bytes),
                                            int'(cfg_ob), fmt(ly[l]));
                    // ---- a row's reduction leaves the tree (one row in the tree at a time: its row
                    // is the last one issued)
                    if (t_valid && is_red) begin
                        if (cfg_data) vpu_sram_wr(64'(cfg_y) + (64'(row) - 64'd1) * 64'(cfg_ldy) * 64'(ob_bytes),
                                                  int'(cfg_ob), fmt(cfg_op == 4'd10 && t_data.nan ? CANON_NAN : t_data.val));
                        red_wait <= 1'b0;
                    end
                    if (fin) begin
                        busy <= 1'b0;
                        done <= 1'b1;
                        cycles <= 64'(cfg_setup) + t;
                    end
                end
            end
        end
    end
endmodule
