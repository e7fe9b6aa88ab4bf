// One lane of the vector lane cluster: the integer ALU and the lane's pipeline.
//
// The operands a, b come from the cluster's fetch registers (pipeline stage 0, loaded in the
// issue cycle). The ALU result enters stage 1; the lane has DMAX - 1 stages after the fetch
// and the result is taken at stage cfg_depth - 1 (cfg_depth = 1: straight from the ALU), so a
// value issued in cycle t leaves the lane in cycle t + cfg_depth, as in the TLM engine's
// cfg_depth-stage pipeline (compute.vector_depth).
//
// y_negz marks a zero result the TLM engine's fp32 arithmetic gives as -0: a product of 0 and a
// negative value (fp32 keeps the sign of a zero product); it matters for FP32 results only.
//
// Row reductions: the lane's accumulator folds the values of one row as they leave the
// pipeline (sum: two's-complement add; max: signed max); red_next is the accumulator
// including the value leaving in this cycle, which the reduction tree takes with the row's
// last group.
module vpu_lane #(
    parameter int DMAX = 16
) (
    input  logic               clk,
    input  logic [3:0]         cfg_op,     // AAX_VEC_* code: 0 ADD, 1 MUL, 3 MAX, 4 RELU, 9 ROW_SUM, 10 ROW_MAX
    input  logic [7:0]         cfg_depth,  // 1..DMAX
    input  logic               in_valid,   // stage 0 holds an element of this lane
    input  logic signed [31:0] a,
    input  logic signed [31:0] b,
    input  logic               out_valid,  // the group leaving the pipeline in this cycle
    input  logic               out_first,  // ... is the first of its row (reductions)
    input  logic               out_lane_on,  // ... has an element in this lane
    output logic signed [31:0] y,          // the result leaving the pipeline
    output logic               y_negz,     // ... is a -0 (fp32 results)
    output logic signed [31:0] red_next    // the row's reduction so far, this cycle's value included
);
    localparam logic signed [31:0] MIN32 = 32'sh8000_0000;

    function automatic logic signed [31:0] alu(input logic [3:0] op, input logic signed [31:0] x,
                                               input logic signed [31:0] z);
        case (op)
            4'd0: return x + z;
            4'd1: return x * z;
            4'd3: return x > z ? x : z;
            4'd4: return x < 0 ? 32'sd0 : x;
            default: return x;  // row reductions: the element itself
        endcase
    endfunction

    logic signed [31:0] r0;
    logic               z0;
    logic signed [31:0] pipe [1:DMAX-1];
    logic               pz [1:DMAX-1];
    logic signed [31:0] acc;
    logic signed [31:0] v, base;

    assign r0 = alu(cfg_op, a, b);
    assign z0 = cfg_op == 4'd1 && r0 == 32'sd0 && (a[31] ^ b[31]);
    always_ff @(posedge clk) begin
        // Stage 1 takes the ALU result when stage 0 is valid (the others shift every cycle).
        pipe[1] <= in_valid ? r0 : 32'sd0;
        pz[1] <= in_valid && z0;
        for (int i = 2; i < DMAX; i++) begin
            pipe[i] <= pipe[i-1];
            pz[i] <= pz[i-1];
        end
    end
    assign y = (cfg_depth <= 8'd1) ? r0 : pipe[cfg_depth-1];
    assign y_negz = (cfg_depth <= 8'd1) ? z0 : pz[cfg_depth-1];

    // Reduction accumulator: the identity for lanes without an element.
    always_comb begin
        v = out_lane_on ? y : (cfg_op == 4'd10 ? MIN32 : 32'sd0);
        base = out_first ? (cfg_op == 4'd10 ? MIN32 : 32'sd0) : acc;
        if (cfg_op == 4'd10) red_next = v > base ? v : base;
        else red_next = base + v;
    end
    always_ff @(posedge clk)
        if (out_valid) acc <= red_next;
endmodule
