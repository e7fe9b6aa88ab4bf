// One lane of the vector lane cluster: the FP32 ALU (vpu_fp) and the lane's pipeline.
//
// The operands a, b are fp32 (the cluster widens INT8 and BF16 sources when it fetches them)
// and come from the cluster's fetch registers (pipeline stage 0, loaded in the issue cycle). The
// ALU result enters stage 1; the lane has DMAX - 1 stages after the fetch and the result is
// taken at stage cfg_depth - 1 (cfg_depth = 1: straight from the ALU), so a value issued in
// cycle t leaves the lane in cycle t + cfg_depth, as in the TLM engine's cfg_depth-stage
// pipeline (compute.vector_depth).
//
// Row reductions: the lane's accumulator folds the values of one row as they leave the pipeline,
// in column order (ROW_SUM: fp32 add, acc + value; ROW_MAX: the larger, the earlier column on
// ties, NaNs noted); red_next is the accumulator including the value leaving in this cycle,
// which the reduction tree takes with the row's last group.
module vpu_lane #(
    parameter int DMAX = 16
) (
    input  logic               clk,
    input  logic [3:0]         cfg_op,     // AAX_VEC_* code: 0 ADD, 1 MUL, 3 MAX, 4 RELU, 9 ROW_SUM, 10 ROW_MAX
    input  logic [7:0]         cfg_depth,  // 1..DMAX
    input  logic               in_valid,   // stage 0 holds an element of this lane
    input  logic [31:0]        a,          // fp32
    input  logic [31:0]        b,
    input  logic               out_valid,  // the group leaving the pipeline in this cycle
    input  logic               out_first,  // ... is the first of its row (reductions)
    input  logic               out_lane_on,  // ... has an element in this lane
    input  logic [31:0]        out_col,    // ... its column in this lane
    output logic [31:0]        y,          // the result leaving the pipeline (fp32)
    output vpu_fp::red_t       red_next    // the row's reduction so far, this cycle's value included
);
    import vpu_fp::*;

    function automatic logic [31:0] alu(input logic [3:0] op, input logic [31:0] x, input logic [31:0] z);
        case (op)
            4'd0: return fadd(x, z);
            4'd1: return fmul(x, z);
            4'd3: return fmax(x, z);
            4'd4: return frelu(x);
            default: return x;  // row reductions: the element itself
        endcase
    endfunction

    logic [31:0] r0;
    logic [31:0] pipe [1:DMAX-1];
    red_t        acc, base;

    assign r0 = alu(cfg_op, a, b);
    always_ff @(posedge clk) begin
        // Stage 1 takes the ALU result when stage 0 is valid (the others shift every cycle).
        pipe[1] <= in_valid ? r0 : 32'd0;
        for (int i = 2; i < DMAX; i++) pipe[i] <= pipe[i-1];
    end
    assign y = (cfg_depth <= 8'd1) ? r0 : pipe[cfg_depth-1];

    // Reduction accumulator (lanes without an element keep it).
    always_comb begin
        base = out_first ? (cfg_op == 4'd10 ? MAX_ID : SUM_ID) : acc;
        red_next = base;
        if (out_lane_on) begin
            if (cfg_op == 4'd10) begin
                if (is_nan(y)) red_next.nan = 1'b1;
                else if (fgt(y, base.val)) begin
                    red_next.val = y;
                    red_next.idx = out_col;
                end
            end else red_next.val = fadd(base.val, y);
        end
    end
    always_ff @(posedge clk)
        if (out_valid) acc <= red_next;
endmodule
