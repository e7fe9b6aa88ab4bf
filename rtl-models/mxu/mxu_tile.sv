// The RTL matrix tile: the weight-stationary PE array (mxu_pe_array) with the logic that
// executes one AAX GEMM packet's fields on a small SRAM model: m, n, k, the byte addresses and
// leading dimensions of A, B and C, ACCUMULATE and B_TRANS. INT8 x INT8 -> INT32.
//
// Blocks of r <= rows (of k) x c <= cols (of n) weights, n-outer, k-inner, as the TLM engine.
//  - loader (SRAM port 0): loads the next block's weights into the shadow registers, one array
//    row (c weights) per cycle, while the current block streams (double buffering);
//  - feeder (SRAM port 1): issues the m rows of A (r values each) for the current block; the
//    array skews them;
//  - collector: takes each column's partial sums as they leave the array, adds them to the
//    accumulator buffer (k-blocks after the first) or to C read from SRAM (ACCUMULATE, first
//    k-block) and writes C to SRAM after the last k-block of a column group.
// A block starts (weights swapped, first A row fetched) when its weights are loaded and the
// previous block's last result has left the array (the cycle after it is collected). Each SRAM port moves cfg_bpc bytes per cycle:
// a port keeps a byte credit (+cfg_bpc per cycle, reset at each block) and a beat waits until
// the credit covers it. The feeder's beat also carries the row's C traffic (written after the
// last k-block, read with ACCUMULATE in the first). cfg_ib / cfg_ob are the element sizes the
// port charges (1 / 4 for INT8; other sizes give the timing of other types, data off).
//
// The SRAM itself is the simulator's: reads and writes go through DPI-C (mxu_sram_*), so the
// packet addresses are the cluster SRAM's. With cfg_data = 0 nothing is read or written (timing).
module mxu_tile #(
    parameter int RMAX = 32,
    parameter int CMAX = 32,
    parameter int ACC_ROWS = 4096
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
    input  logic        cfg_exit_tap,
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

    // ---------------------------------------------------------------- array
    logic              w_valid, w_swap, a_valid;
    logic [15:0]       w_row;
    logic [CMAX*8-1:0] w_data;
    logic [RMAX*8-1:0] a_data;
    localparam int TAGW = 8;
    logic [CMAX-1:0]   c_valid, c_ok;
    logic [CMAX*TAGW-1:0] c_tag;
    logic [TAGW-1:0]   a_tag, st_tag;   // block counter: the tag of the current block
    logic [CMAX*32-1:0] c_data;
    logic              w_ready, a_ready;
    logic [15:0]       tap;

    mxu_pe_array #(.R(RMAX), .C(CMAX), .TAGW(TAGW)) array (
        .clk, .w_valid, .w_ready, .w_row, .w_data, .w_swap, .a_valid, .a_tag, .a_ready, .a_data,
        .tap, .c_valid, .c_tag, .c_ready(1'b1), .c_data);
    // A column's result belongs to the current block when its tag matches.
    always_comb for (int j = 0; j < CMAX; j++) c_ok[j] = c_valid[j] && c_tag[j*TAGW +: TAGW] == st_tag;

    // ---------------------------------------------------------------- block bookkeeping
    typedef struct packed {
        logic [31:0] k0;
        logic [31:0] n0;
        logic [15:0] r;
        logic [15:0] c;
        logic        first;   // first k-block of its column group
        logic        last;    // last k-block of its column group
        logic        final_;  // last block of the packet
    } blk_t;

    function automatic blk_t make_blk(input logic [31:0] k0, input logic [31:0] n0);
        blk_t b;
        logic [31:0] kr, nr;
        kr = cfg_k - k0;
        nr = cfg_n - n0;
        b.k0 = k0;
        b.n0 = n0;
        b.r = (kr < {16'd0, cfg_rows}) ? kr[15:0] : cfg_rows;
        b.c = (nr < {16'd0, cfg_cols}) ? nr[15:0] : cfg_cols;
        b.first = (k0 == 32'd0);
        b.last = (kr <= {16'd0, cfg_rows});
        b.final_ = b.last && (nr <= {16'd0, cfg_cols});
        return b;
    endfunction

    logic [31:0] setup_left;
    logic        running;          // past setup

    // loader
    logic        ld_pending;       // a block is left to load
    logic        ld_active;        // loading ld_blk's rows
    blk_t        ld_blk;
    logic [15:0] ld_row;
    logic [31:0] ld_credit;
    // shadow registers
    logic        sh_full;
    blk_t        sh_blk;
    // feeder / collector
    logic        st_active;
    blk_t        st_blk;
    logic [31:0] st_row;
    logic [31:0] st_credit;
    logic [31:0] cnt [CMAX];       // results collected per column

    // ---------------------------------------------------------------- combinational control
    logic  last_now, go, ld_start, ld_run, w_issue, a_issue;
    /* verilator lint_off UNUSEDSIGNAL */
    blk_t  eff_blk;
    logic [31:0] eff_row, eff_credit, ld_eff_credit, need_a, need_w;
    logic [15:0] ld_eff_row, lastc;
    /* verilator lint_on UNUSEDSIGNAL */

    always_comb begin
        lastc = st_blk.c - 16'd1;
        last_now = st_active && c_ok[lastc[$clog2(CMAX)-1:0]] && (cnt[lastc[$clog2(CMAX)-1:0]] == cfg_m - 32'd1);
        go = running && sh_full && !st_active;
        ld_start = running && !ld_active && ld_pending && (!sh_full || go);
        ld_run = ld_active || ld_start;
        ld_eff_row = ld_start ? 16'd0 : ld_row;
        ld_eff_credit = (ld_start ? 32'd0 : ld_credit) + cfg_bpc;
        need_w = {16'd0, ld_blk.c} * {24'd0, cfg_ib};
        w_issue = ld_run && w_ready && ld_eff_credit >= need_w;

        eff_blk = go ? sh_blk : st_blk;
        eff_row = go ? 32'd0 : st_row;
        eff_credit = (go ? 32'd0 : st_credit) + cfg_bpc;
        need_a = {16'd0, eff_blk.r} * {24'd0, cfg_ib};
        if (eff_blk.last) need_a = need_a + {16'd0, eff_blk.c} * {24'd0, cfg_ob};
        if (eff_blk.first && cfg_acc) need_a = need_a + {16'd0, eff_blk.c} * {24'd0, cfg_ob};
        a_issue = (go || st_active) && a_ready && eff_row < cfg_m && eff_credit >= need_a;
    end

    // The partial sums leave from the current block's last row (or, with cfg_exit_tap = 0,
    // from the array's last row, as an array without the exit mux).
    assign tap = cfg_exit_tap ? st_blk.r : cfg_rows;
    // The weights switch at the edge that ends the block's first cycle (the A row fetched in
    // that cycle meets them in the next).
    assign w_swap = go;

    // ---------------------------------------------------------------- sequential
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            busy <= 1'b0;
            done <= 1'b0;
            cycles <= 64'd0;
            running <= 1'b0;
            ld_pending <= 1'b0;
            ld_active <= 1'b0;
            sh_full <= 1'b0;
            st_active <= 1'b0;
            st_tag <= '0;
            w_valid <= 1'b0;
            a_valid <= 1'b0;
        end else begin
            w_valid <= 1'b0;
            a_valid <= 1'b0;
            if (start && !busy) begin
                busy <= 1'b1;
                done <= 1'b0;
                cycles <= 64'd0;
                setup_left <= cfg_setup;
                running <= (cfg_setup == 32'd0);
                ld_pending <= 1'b1;
                ld_active <= 1'b0;
                ld_blk <= make_blk(32'd0, 32'd0);
                sh_full <= 1'b0;
                st_active <= 1'b0;
            end else if (busy) begin
                cycles <= cycles + 64'd1;
                if (!running) begin
                    setup_left <= setup_left - 32'd1;
                    if (setup_left == 32'd1) running <= 1'b1;
                end

                // ---- block start: swap weights, latch the block
                if (go) begin
                    sh_full <= 1'b0;
                    st_active <= 1'b1;
                    st_blk <= sh_blk;
                    st_tag <= st_tag + 1'b1;
                end
                if (last_now) st_active <= 1'b0;
                if (last_now && st_blk.final_) begin
                    busy <= 1'b0;
                    done <= 1'b1;
                    running <= 1'b0;
                end

                // ---- loader (port 0)
                if (ld_run) begin
                    ld_active <= 1'b1;
                    ld_credit <= ld_eff_credit;
                    ld_row <= ld_eff_row;
                    if (w_issue) begin
                        ld_credit <= ld_eff_credit - need_w;
                        ld_row <= ld_eff_row + 16'd1;
                        w_valid <= 1'b1;
                        w_row <= ld_eff_row;
                        for (int j = 0; j < CMAX; j++) begin
                            logic [63:0] addr;
                            logic [63:0] kk, nn;
                            kk = {32'd0, ld_blk.k0} + {48'd0, ld_eff_row};
                            nn = {32'd0, ld_blk.n0} + 64'(j);
                            if (cfg_btrans) addr = {32'd0, cfg_b} + nn * {32'd0, cfg_ldb} + kk;
                            else addr = {32'd0, cfg_b} + kk * {32'd0, cfg_ldb} + nn;
                            if (cfg_data && j < int'(ld_blk.c)) w_data[j*8 +: 8] <= 8'(mxu_sram_rd8(addr));
                            else w_data[j*8 +: 8] <= 8'd0;
                        end
                        if (ld_eff_row + 16'd1 == ld_blk.r) begin
                            ld_active <= 1'b0;
                            sh_full <= 1'b1;
                            sh_blk <= ld_blk;
                            if (ld_blk.final_) ld_pending <= 1'b0;
                            else if (ld_blk.last) ld_blk <= make_blk(32'd0, ld_blk.n0 + {16'd0, cfg_cols});
                            else ld_blk <= make_blk(ld_blk.k0 + {16'd0, cfg_rows}, ld_blk.n0);
                        end
                    end
                end

                // ---- feeder (port 1)
                if (go || st_active) begin
                    st_row <= eff_row;
                    st_credit <= (eff_row < cfg_m) ? eff_credit : 32'd0;
                    if (a_issue) begin
                        st_row <= eff_row + 32'd1;
                        st_credit <= eff_credit - need_a;
                        a_valid <= 1'b1;
                        a_tag <= go ? st_tag + 1'b1 : st_tag;
                        for (int i = 0; i < RMAX; i++) begin
                            logic [63:0] addr;
                            addr = {32'd0, cfg_a} + {32'd0, eff_row} * {32'd0, cfg_lda} + {32'd0, eff_blk.k0} + 64'(i);
                            if (cfg_data && i < int'(eff_blk.r)) a_data[i*8 +: 8] <= 8'(mxu_sram_rd8(addr));
                            else a_data[i*8 +: 8] <= 8'd0;
                        end
                    end
                end

            end
        end
    end

    // ---------------------------------------------------------------- collector, per column
    for (genvar j = 0; j < CMAX; j++) begin : g_coll
        logic signed [31:0] acc_buf [ACC_ROWS];   // partial sums between k-blocks
        always_ff @(posedge clk) begin
            if (!rst_n) begin
                cnt[j] <= 32'd0;
            end else if (busy && st_active && c_ok[j] && 16'(j) < st_blk.c) begin
                logic signed [31:0] base, sum;
                logic [63:0] caddr;
                logic [31:0] row;
                row = cnt[j];
                caddr = {32'd0, cfg_c} + ({32'd0, row} * {32'd0, cfg_ldc} + {32'd0, st_blk.n0} + 64'(j)) * 64'd4;
                if (st_blk.first) begin
                    if (cfg_acc && cfg_data) base = mxu_sram_rd32(caddr);
                    else base = 32'sd0;
                end
                else base = acc_buf[row[$clog2(ACC_ROWS)-1:0]];
                sum = base + $signed(c_data[j*32 +: 32]);
                if (st_blk.last) begin
                    if (cfg_data) mxu_sram_wr32(caddr, sum);
                end else begin
                    acc_buf[row[$clog2(ACC_ROWS)-1:0]] <= sum;
                end
                cnt[j] <= go ? 32'd0 : row + 32'd1;
            end else if (go) begin
                cnt[j] <= 32'd0;
            end
        end
    end
endmodule
