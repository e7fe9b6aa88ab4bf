// Weight-stationary systolic array of R x C INT8 processing elements (INT8 x INT8 -> INT32).
//
// PE(i, j) holds two weights: the active one it multiplies with, and a shadow one that the
// weight stream loads (one array row per beat) while the active weights are in use; w_swap
// copies every shadow weight to the active register at one clock edge (double buffering).
//
// A enters as one row of R int8 values per beat (a_valid); the array skews it internally (row i
// is delayed i cycles), values move right one PE per cycle, partial sums move down one PE per
// cycle. The partial sum of column j leaves from row `tap` - 1 (an R:1 mux per column), so a
// block of r < R rows of k does not pay the R - r unused rows on its way out (docs/calibration.md).
// c_valid[j] marks column j's output; column j's result for A row t appears j cycles after
// column 0's. All streams stall together when c_ready is low (valid/ready on A, weights and C).
module mxu_pe_array #(
    parameter int R = 32,
    parameter int C = 32,
    parameter int TAGW = 8
) (
    input  logic                 clk,
    // weight stream into the shadow registers
    input  logic                 w_valid,
    output logic                 w_ready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic [15:0]          w_row,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [C*8-1:0]       w_data,
    input  logic                 w_swap,
    // A stream, one unskewed row per beat
    input  logic                 a_valid,
    input  logic [TAGW-1:0]      a_tag,    // block tag of the row, returned with its results
    output logic                 a_ready,
    input  logic [R*8-1:0]       a_data,
    // partial-sum exit row (1..R)
    input  logic [15:0]          tap,
    // C stream, one value per column
    output logic [C-1:0]         c_valid,
    output logic [C*TAGW-1:0]    c_tag,
    input  logic                 c_ready,
    output logic [C*32-1:0]      c_data
);
    wire en = c_ready;
    assign w_ready = en;
    assign a_ready = en;

    // A entering each row after the skew, and every PE's outputs.
    logic signed [7:0]  row_a [R];
    logic               row_v [R];
    logic [TAGW-1:0]    row_g [R];
    logic signed [7:0]  a_q [R][C];   // A value leaving PE(i, j) to the right
    logic               v_q [R][C];
    logic [TAGW-1:0]    g_q [R][C];
    logic [TAGW-1:0]    g_n [R][C];
    logic signed [31:0] p_q [R][C];   // partial sum leaving PE(i, j) downwards
    logic               v_n [R][C];   // PE(i, j)'s result this cycle, before its register
    logic signed [31:0] p_n [R][C];

    for (genvar i = 0; i < R; i++) begin : g_row
        // Skew: row i sees A row t i cycles after row 0.
        if (i == 0) begin : g_direct
            assign row_a[0] = a_data[7:0];
            assign row_v[0] = a_valid;
            assign row_g[0] = a_tag;
        end else begin : g_delay
            // i stages, newest in the low byte / bit
            logic [i*8-1:0] sk_a;
            logic [i-1:0]   sk_v;
            logic [i*TAGW-1:0] sk_g;
            if (i == 1) begin : g_one
                always_ff @(posedge clk) begin
                    if (en) begin
                        sk_a <= a_data[15:8];
                        sk_v <= a_valid;
                        sk_g <= a_tag;
                    end
                end
            end else begin : g_many
                always_ff @(posedge clk) begin
                    if (en) begin
                        sk_a <= {sk_a[(i-1)*8-1:0], a_data[i*8 +: 8]};
                        sk_v <= {sk_v[i-2:0], a_valid};
                        sk_g <= {sk_g[(i-1)*TAGW-1:0], a_tag};
                    end
                end
            end
            assign row_a[i] = sk_a[i*8-1 -: 8];
            assign row_v[i] = sk_v[i-1];
            assign row_g[i] = sk_g[i*TAGW-1 -: TAGW];
        end
        for (genvar j = 0; j < C; j++) begin : g_col
            mxu_pe #(.TAGW(TAGW)) pe (
                .clk, .en,
                .a_in(j == 0 ? row_a[i] : a_q[i][(j == 0) ? 0 : j-1]),
                .v_in(j == 0 ? row_v[i] : v_q[i][(j == 0) ? 0 : j-1]),
                .g_in(j == 0 ? row_g[i] : g_q[i][(j == 0) ? 0 : j-1]),
                .p_in(i == 0 ? 32'sd0 : p_q[(i == 0) ? 0 : i-1][j]),
                .w_load(w_valid && w_row == 16'(i)), .w_data(w_data[j*8 +: 8]), .w_swap,
                .a_out(a_q[i][j]), .v_out(v_q[i][j]), .g_out(g_q[i][j]), .p_out(p_q[i][j]),
                .v_next(v_n[i][j]), .g_next(g_n[i][j]), .p_next(p_n[i][j]));
        end
    end

    /* verilator lint_off UNUSEDSIGNAL */
    logic [15:0] t;   // only the low $clog2(R) bits select a row
    /* verilator lint_on UNUSEDSIGNAL */
    assign t = tap - 16'd1;
    always_comb begin
        for (int j = 0; j < C; j++) begin
            c_valid[j] = v_n[t[$clog2(R)-1:0]][j];
            c_tag[j*TAGW +: TAGW] = g_n[t[$clog2(R)-1:0]][j];
            c_data[j*32 +: 32] = p_n[t[$clog2(R)-1:0]][j];
        end
    end
endmodule
