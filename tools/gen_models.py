#!/usr/bin/env python3
"""ONNX model fixtures for the model workloads (docs/models.md), built with the onnx helper API
(Debian's python3-onnx; run it with /usr/bin/python3 if another python3 comes first on PATH).

  gen_models.py resnet50|bert|gpt2|unsupported [--reduced] [--batch N] [--seq N] -o out.onnx

Weights are graph inputs with shapes only (no data: the simulator seeds them), so the files
stay a few kB. --reduced gives the small variants the functional tests verify layer by layer.
Written at test time into the build tree; nothing is downloaded or committed.

  resnet50  ResNet-50 v1.5 shape: 7x7/2 stem, 3x3/2 max pool, bottleneck stages [3, 4, 6, 3]
            (widths 64..512, expansion 4, stride 2 in the 3x3 of each stage's first block, 1x1
            projection shortcuts), global average pool, 1000-way Gemm. Batch norm is folded into
            the convolutions (as an inference export does); convolutions carry no bias.
            --reduced: 32x32 input, widths / 8, one block per stage, 10 classes.
  bert      BERT-base encoder: 12 layers, hidden 768, 12 heads, FFN 3072, sequence --seq (128):
            Q/K/V MatMul+bias, Reshape/Transpose per head, Q.K^T, /sqrt(d), Softmax, P.V, output
            projection, residual Add, LayerNormalization, FFN with the erf GELU pattern. The input
            is the embedding output [batch, seq, 768] (the token lookup is not lowered).
            --reduced: 2 layers, hidden 64, 4 heads, FFN 128, sequence 16.
  gpt2      GPT-2-small-shaped decoder (prefill): 12 pre-LN layers, hidden 768, 12 heads, FFN 3072,
            final LayerNormalization and the 50257-way LM head. No causal mask (the mask add does
            not change the timing of the lowering; docs/models.md).
            --reduced: 2 layers, hidden 64, 4 heads, vocabulary 256, sequence 16.
  unsupported  a one-node model with an operator the importer rejects (LSTM).
"""
import argparse
import math
import sys

try:
    import onnx
    import onnx.numpy_helper
    from onnx import TensorProto, helper
except ImportError:  # pragma: no cover
    sys.exit("gen_models.py: needs python3-onnx (apt-get install python3-onnx; run with /usr/bin/python3)")


class Builder:
    def __init__(self):
        self.nodes, self.inputs, self.inits, self.n = [], [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def weight(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        return name

    def const(self, value, dtype=TensorProto.FLOAT):
        n = self.name("const")
        vals = value if isinstance(value, list) else [value]
        dims = [len(vals)] if isinstance(value, list) else []
        self.inits.append(helper.make_tensor(n, dtype, dims, vals))
        return n

    def node(self, op, inputs, name=None, **attrs):
        name = name or self.name(op.lower())
        out = name + ":out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def model(self, name, x_name, x_shape, out):
        x = helper.make_tensor_value_info(x_name, TensorProto.FLOAT, list(x_shape))
        y = helper.make_empty_tensor_value_info(out)
        g = helper.make_graph(self.nodes, name, [x] + self.inputs, [y], initializer=self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="accelvp gen_models.py")
        # The output's type and shape from ONNX's shape inference.
        inferred = onnx.shape_inference.infer_shapes(m)
        for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
            if vi.name == out and vi.type.tensor_type.HasField("shape"):
                m.graph.output[0].CopyFrom(vi)
        return m


def resnet50(reduced, batch):
    b = Builder()
    res, width, blocks, classes = (32, 8, [1, 1, 1, 1], 10) if reduced else (224, 64, [3, 4, 6, 3], 1000)

    def conv(x, cin, cout, k, stride, pad, name):
        w = b.weight(name + ".w", [cout, cin, k, k])
        return b.node("Conv", [x, w], name, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)

    x = conv("input", 3, width, 7, 2, 3, "conv1")
    x = b.node("Relu", [x], "relu1")
    x = b.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    cin = width
    for s, nb in enumerate(blocks):
        mid = width * 2 ** s
        for i in range(nb):
            stride = 2 if (i == 0 and s > 0) else 1
            p = f"layer{s + 1}.{i}"
            y = b.node("Relu", [conv(x, cin, mid, 1, 1, 0, p + ".conv1")], p + ".relu1")
            y = b.node("Relu", [conv(y, mid, mid, 3, stride, 1, p + ".conv2")], p + ".relu2")
            y = conv(y, mid, mid * 4, 1, 1, 0, p + ".conv3")
            sc = conv(x, cin, mid * 4, 1, stride, 0, p + ".downsample") if i == 0 else x
            x = b.node("Relu", [b.node("Add", [y, sc], p + ".add")], p + ".relu3")
            cin = mid * 4
    x = b.node("GlobalAveragePool", [x], "avgpool")
    x = b.node("Flatten", [x], "flatten", axis=1)
    x = b.node("Gemm", [x, b.weight("fc.w", [classes, cin]), b.weight("fc.b", [classes])], "fc", transB=1)
    return b.model("resnet50" + ("-reduced" if reduced else ""), "input", [batch, 3, res, res], x)


def encoder_layer(b, x, p, batch, seq, hid, heads, ffn, pre_ln):
    d = hid // heads

    def linear(x, cin, cout, name):
        y = b.node("MatMul", [x, b.weight(name + ".w", [cin, cout])], name)
        return b.node("Add", [y, b.weight(name + ".b", [cout])], name + ".bias")

    def ln(x, name):
        return b.node("LayerNormalization", [x, b.weight(name + ".g", [hid]), b.weight(name + ".b", [hid])], name,
                      axis=-1, epsilon=1e-12 if not pre_ln else 1e-5)

    def heads_view(t, name, perm):
        r = b.node("Reshape", [t, b.const([batch, seq, heads, d], TensorProto.INT64)], name + ".reshape")
        return b.node("Transpose", [r], name + ".transpose", perm=perm)

    h = ln(x, p + ".ln1") if pre_ln else x
    q = heads_view(linear(h, hid, hid, p + ".q"), p + ".q", [0, 2, 1, 3])
    k = heads_view(linear(h, hid, hid, p + ".k"), p + ".k", [0, 2, 3, 1])
    v = heads_view(linear(h, hid, hid, p + ".v"), p + ".v", [0, 2, 1, 3])
    s = b.node("MatMul", [q, k], p + ".scores")
    s = b.node("Div", [s, b.const(math.sqrt(d))], p + ".scale")
    s = b.node("Softmax", [s], p + ".softmax", axis=-1)
    c = b.node("MatMul", [s, v], p + ".context")
    c = b.node("Transpose", [c], p + ".context.transpose", perm=[0, 2, 1, 3])
    c = b.node("Reshape", [c, b.const([batch, seq, hid], TensorProto.INT64)], p + ".context.reshape")
    a = b.node("Add", [linear(c, hid, hid, p + ".out"), x], p + ".residual1")
    if not pre_ln:
        a = ln(a, p + ".ln1")
    h = ln(a, p + ".ln2") if pre_ln else a
    u = linear(h, hid, ffn, p + ".ffn.up")
    # GELU, erf form as exported from PyTorch: x * 0.5 * (1 + erf(x / sqrt(2))).
    e = b.node("Erf", [b.node("Div", [u, b.const(math.sqrt(2.0))], p + ".gelu.div")], p + ".gelu.erf")
    e = b.node("Add", [e, b.const(1.0)], p + ".gelu.add")
    g = b.node("Mul", [b.node("Mul", [u, e], p + ".gelu.mul"), b.const(0.5)], p + ".gelu")
    o = b.node("Add", [linear(g, ffn, hid, p + ".ffn.down"), a], p + ".residual2")
    return o if pre_ln else ln(o, p + ".ln2")


def bert(reduced, batch, seq):
    b = Builder()
    layers, hid, heads, ffn = (2, 64, 4, 128) if reduced else (12, 768, 12, 3072)
    seq = 16 if reduced else seq
    x = "embeddings"
    for i in range(layers):
        x = encoder_layer(b, x, f"layer{i}", batch, seq, hid, heads, ffn, pre_ln=False)
    return b.model("bert-base" + ("-reduced" if reduced else ""), "embeddings", [batch, seq, hid], x)


def gpt2(reduced, batch, seq):
    b = Builder()
    layers, hid, heads, ffn, vocab = (2, 64, 4, 256, 256) if reduced else (12, 768, 12, 3072, 50257)
    seq = 16 if reduced else seq
    x = "embeddings"
    for i in range(layers):
        x = encoder_layer(b, x, f"h{i}", batch, seq, hid, heads, ffn, pre_ln=True)
    x = b.node("LayerNormalization", [x, b.weight("ln_f.g", [hid]), b.weight("ln_f.b", [hid])], "ln_f", axis=-1,
               epsilon=1e-5)
    x = b.node("MatMul", [x, b.weight("lm_head.w", [hid, vocab])], "lm_head")
    return b.model("gpt2-small" + ("-reduced" if reduced else ""), "embeddings", [batch, seq, hid], x)


def unsupported():
    b = Builder()
    y = b.node("LSTM", ["input", b.weight("W", [1, 32, 8]), b.weight("R", [1, 32, 8])], "lstm1", hidden_size=8)
    return b.model("unsupported", "input", [4, 1, 8], y)


def to_layers(m):
    """The same network as a layer-list YAML (docs/models.md, "Layer-list format")."""
    g = onnx.shape_inference.infer_shapes(m).graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in
              list(g.input) + list(g.value_info) + list(g.output)}
    consts = {t.name: list(onnx.numpy_helper.to_array(t).flatten()) for t in g.initializer}
    x0 = g.input[0].name
    weights = {i.name for i in g.input[1:]}
    src = {x0: x0}
    out = [f"name: {g.name}", "inputs:", f"  - {{name: {x0}, shape: {shapes[x0]}}}", "layers:"]
    layers = []  # dicts, in order
    nodes = list(g.node)
    attrs = lambda n: {a.name: helper.get_attribute_value(a) for a in n.attribute}  # noqa: E731
    i = 0
    while i < len(nodes):
        n, a = nodes[i], attrs(nodes[i])
        ins = list(n.input)
        L = {"name": n.name}
        if n.op_type == "Conv":
            k = shapes[ins[1]]
            L.update(op="conv", input=src[ins[0]], filters=k[0], kernel=k[2], stride=a.get("strides", [1])[0],
                     pad=a.get("pads", [0])[0])
        elif n.op_type in ("Relu", "Softmax", "GlobalAveragePool"):
            L.update(op={"Relu": "relu", "Softmax": "softmax", "GlobalAveragePool": "global_avgpool"}[n.op_type],
                     input=src[ins[0]])
        elif n.op_type in ("MaxPool", "AveragePool"):
            L.update(op="maxpool" if n.op_type == "MaxPool" else "avgpool", input=src[ins[0]],
                     kernel=a["kernel_shape"][0], stride=a.get("strides", [1])[0], pad=a.get("pads", [0])[0])
        elif n.op_type in ("Flatten", "Reshape"):
            L.update(op="reshape", input=src[ins[0]], shape=shapes[n.output[0]])
        elif n.op_type == "Transpose":
            L.update(op="transpose", input=src[ins[0]], perm=list(a["perm"]))
        elif n.op_type == "Gemm":
            L.update(op="matmul", input=src[ins[0]], n=shapes[ins[1]][0], trans_b=bool(a.get("transB", 0)))
            if len(ins) > 2:
                L["bias"] = True
        elif n.op_type == "MatMul":
            if ins[1] in weights:
                L.update(op="matmul", input=src[ins[0]], n=shapes[ins[1]][1])
            else:
                L.update(op="matmul", inputs=[src[ins[0]], src[ins[1]]])
        elif n.op_type == "Add" and ins[1] in weights and layers and layers[-1]["name"] == src[ins[0]] \
                and layers[-1]["op"] == "matmul":
            layers[-1]["bias"] = True
            src[n.output[0]] = layers[-1]["name"]
            i += 1
            continue
        elif n.op_type == "Add":
            L.update(op="add", inputs=[src[ins[0]], src[ins[1]]])
        elif n.op_type == "Div" and i + 4 < len(nodes) and nodes[i + 1].op_type == "Erf":
            L.update(op="gelu", input=src[ins[0]], name=nodes[i + 4].name)  # x*0.5*(1+erf(x/sqrt(2)))
            src[nodes[i + 4].output[0]] = L["name"]
            layers.append(L)
            i += 5
            continue
        elif n.op_type == "Div" and ins[1] in consts:
            L.update(op="scale", input=src[ins[0]], scalar=float(1.0 / consts[ins[1]][0]))
        elif n.op_type == "LayerNormalization":
            L.update(op="layernorm", input=src[ins[0]], eps=float(a.get("epsilon", 1e-5)), affine=True)
        else:
            raise SystemExit(f"gen_models.py: no layer-list form of {n.op_type}")
        src[n.output[0]] = L["name"]
        layers.append(L)
        i += 1

    def val(v):
        return "true" if v is True else "false" if v is False else \
            "[" + ", ".join(str(x) for x in v) + "]" if isinstance(v, list) else str(v)
    for L in layers:
        out.append("  - {" + ", ".join(f"{k}: {val(v)}" for k, v in L.items()) + "}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["resnet50", "bert", "gpt2", "unsupported"])
    ap.add_argument("--reduced", action="store_true", help="the small variant (functional tests)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=128, help="sequence length (bert, gpt2)")
    ap.add_argument("--layers", action="store_true", help="write the layer-list YAML form instead of ONNX")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    m = {"resnet50": lambda: resnet50(a.reduced, a.batch), "bert": lambda: bert(a.reduced, a.batch, a.seq),
         "gpt2": lambda: gpt2(a.reduced, a.batch, a.seq), "unsupported": unsupported}[a.model]()
    onnx.checker.check_model(m)
    if a.layers:
        with open(a.output, "w") as f:
            f.write(f"# {a.model}{' --reduced' if a.reduced else ''}: written by tools/gen_models.py --layers\n")
            f.write(to_layers(m))
    else:
        onnx.save(m, a.output)


if __name__ == "__main__":
    main()
