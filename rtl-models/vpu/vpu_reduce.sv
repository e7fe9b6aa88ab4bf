// Row-reduction tree of the vector lane cluster: LMAX lane partials folded pairwise (fp32 sum,
// or max with the earlier column on ties and a NaN flag: vpu_fp::red_max) in $clog2(LMAX) levels.
// The first cfg_levels levels are registered, the levels above them (only identities left when
// the cluster runs fewer lanes than it has) pass through, so a row's value enters in cycle t and
// its result is out in cycle t + cfg_levels, cfg_levels = ceil(log2 lanes): the log2(lanes)
// adder/max tree of the TLM vector engine.
module vpu_reduce #(
    parameter int LMAX = 64
) (
    input  logic         clk,
    input  logic         clr,        // drop the values in flight (a packet starts)
    input  logic         is_max,
    input  logic [7:0]   cfg_levels,
    input  logic         in_valid,
    input  vpu_fp::red_t in_data [LMAX],
    output logic         out_valid,
    output vpu_fp::red_t out_data
);
    import vpu_fp::*;
    localparam int LOG = $clog2(LMAX);

    /* verilator lint_off UNUSEDSIGNAL */
    red_t lin [LOG+1][LMAX];   // input of level i (entries above LMAX >> i unused)
    red_t lc  [LOG][LMAX];     // level i's pairwise results
    red_t lr  [LOG][LMAX];     // ... registered
    /* verilator lint_on UNUSEDSIGNAL */
    logic vin [LOG+1];
    logic vr [LOG];

    always_comb begin
        for (int j = 0; j < LMAX; j++) lin[0][j] = in_data[j];
        vin[0] = in_valid;
        for (int i = 0; i < LOG; i++) begin
            for (int j = 0; j < LMAX; j++) begin
                if (j < (LMAX >> (i + 1))) begin
                    if (is_max) lc[i][j] = red_max(lin[i][2*j], lin[i][2*j+1]);
                    else lc[i][j] = '{nan: 1'b0, idx: 32'd0, val: fadd(lin[i][2*j].val, lin[i][2*j+1].val)};
                end else lc[i][j] = SUM_ID;
            end
            if (8'(i) < cfg_levels) begin
                lin[i+1] = lr[i];
                vin[i+1] = vr[i];
            end else begin
                lin[i+1] = lc[i];
                vin[i+1] = vin[i];
            end
        end
    end

    always_ff @(posedge clk)
        for (int i = 0; i < LOG; i++) begin
            lr[i] <= lc[i];
            vr[i] <= vin[i] && !clr;
        end

    assign out_valid = vin[LOG];
    assign out_data = lin[LOG][0];
endmodule
