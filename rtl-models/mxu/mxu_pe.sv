// One processing element: an active and a shadow INT8 weight, INT8 x INT8 -> INT32 MAC.
module mxu_pe #(
    parameter int TAGW = 8
) (
    input  logic               clk,
    input  logic               en,
    input  logic signed [7:0]  a_in,
    input  logic               v_in,
    input  logic [TAGW-1:0]    g_in,   // block tag: travels with A, tells the blocks apart
    input  logic signed [31:0] p_in,
    input  logic               w_load,
    input  logic signed [7:0]  w_data,
    input  logic               w_swap,
    output logic signed [7:0]  a_out,
    output logic               v_out,
    output logic [TAGW-1:0]    g_out,
    output logic signed [31:0] p_out,
    // this cycle's result before the output register (the array's exit tap)
    output logic               v_next,
    output logic [TAGW-1:0]    g_next,
    output logic signed [31:0] p_next
);
    logic signed [7:0] w_act, w_sh;
    logic signed [31:0] prod;
    assign prod = a_in * w_act;   // both signed: sign-extended to 32 bits
    assign v_next = v_in;
    assign g_next = g_in;
    assign p_next = v_in ? p_in + prod : p_in;
    always_ff @(posedge clk) begin
        if (en) begin
            a_out <= a_in;
            v_out <= v_in;
            g_out <= g_in;
            p_out <= p_next;
            // A load into the shadow at the swap edge goes straight through (the block's
            // last weight row arrives at the edge its block starts).
            if (w_swap) w_act <= w_load ? w_data : w_sh;
            if (w_load) w_sh <= w_data;
        end
    end
endmodule
