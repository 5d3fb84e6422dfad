"""PyTorch contender: runs a described convkit graph (bench/lib/graph.js) with the same weights.

Speaks line-delimited JSON on stdin/stdout (bench/contenders/torch.js is the other end). Requests:
  {"cmd": "ping"}                                          -> {"ok": true, "torch": version}
  {"cmd": "build", "graph": ..., "threads": n}            -> {"ok": true, "torch": version, "threads": n}
  {"cmd": "data", "trainX": b64 NHWC float32, "trainShape": [...], "labels": [...],
   "inferX": b64, "inferShape": [...]}                     -> {"ok": true} (the batches to time)
  {"cmd": "predict", "x": b64, "shape": [...]}            -> {"y": b64 float32 logits}
  {"cmd": "loss"}                                          -> {"loss": mean cross-entropy of the data batch, training mode}
  {"cmd": "train"} / {"cmd": "infer"}                      -> {"seconds": one step, timed here}
  {"cmd": "op", "op": kind, "opts": {...}, "x": ..., "w": [...], "dy": ...}
                                                           -> {"y", "dx", "dw": b64 in convkit's layouts}
     (one layer's op and both its backward passes, bench/variants.js; arrays {"data": b64, "shape": [...]})
  {"cmd": "op_time", "pass": "fwd" | "bwd-input" | "bwd-filter"} -> {"seconds": one call, timed here}
Tensors are NCHW inside PyTorch (its default); inputs arrive NHWC and are converted once, outside the timing.
"""
import base64
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def array(b64, shape):
    return np.frombuffer(base64.b64decode(b64), dtype=np.float32).reshape(shape)


def same_pads(size, k, stride, dilation):
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pair(v):
    return list(v) if isinstance(v, list) else [v, v]


class Graph(nn.Module):
    """Runs the layers in the order given, each reading the outputs of its named inputs."""

    def __init__(self, graph):
        super().__init__()
        self.steps = []
        self.mods = nn.ModuleDict()
        self.output = graph["output"]
        layers = {l["name"]: l for l in graph["layers"]}
        for l in graph["layers"]:
            c, kind, name = l["config"], l["className"], l["name"]
            w = {k: torch.from_numpy(array(v["data"], v["shape"]).copy()) for k, v in l["weights"].items()}
            fn = None
            if kind == "InputLayer":
                self.input = name
                continue
            if kind == "Conv2D":
                kh, kw, ci, co = l["weights"]["kernel"]["shape"]
                stride, dilation = pair(c["strides"]), pair(c["dilationRate"])
                h, wd = l["inputShapes"][0][:2]
                if c["padding"] == "same":
                    (t, b), (le, r) = same_pads(h, kh, stride[0], dilation[0]), same_pads(wd, kw, stride[1], dilation[1])
                else:
                    t = b = le = r = 0
                symmetric = t == b and le == r
                conv = nn.Conv2d(ci * c["groups"], co, (kh, kw), stride=stride, dilation=dilation, groups=c["groups"],
                                 padding=(t, le) if symmetric else 0, bias=c["useBias"])
                with torch.no_grad():
                    conv.weight.copy_(w["kernel"].permute(3, 2, 0, 1))
                    if c["useBias"]:
                        conv.bias.copy_(w["bias"])
                self.mods[name] = conv
                pad = None if symmetric else (le, r, t, b)
                act = c.get("activation", "linear")
                fn = self.conv_step(conv, pad, act)
            elif kind == "BatchNormalization":
                ch = l["outputShape"][-1]
                bn = nn.BatchNorm2d(ch, eps=c["epsilon"], momentum=1 - c["momentum"], affine=True)
                with torch.no_grad():
                    bn.weight.copy_(w.get("gamma", torch.ones(ch)))
                    bn.bias.copy_(w.get("beta", torch.zeros(ch)))
                    bn.running_mean.copy_(w["moving_mean"])
                    bn.running_var.copy_(w["moving_variance"])
                if not c["scale"]:
                    bn.weight.requires_grad_(False)
                if not c["center"]:
                    bn.bias.requires_grad_(False)
                self.mods[name] = bn
                fn = lambda xs, bn=bn: bn(xs[0])
            elif kind == "Activation":
                if c["activation"] != "relu":
                    raise ValueError(f"{name}: activation {c['activation']} is not built here")
                fn = lambda xs: F.relu(xs[0])
            elif kind == "Add":
                fn = lambda xs: sum(xs[1:], xs[0])
            elif kind == "MaxPooling2D":
                size = pair(c["poolSize"])
                stride = pair(c["strides"] if c.get("strides") is not None else c["poolSize"])
                if c["padding"] != "valid":
                    raise ValueError(f"{name}: padding {c['padding']} is not built here")
                fn = lambda xs, size=size, stride=stride: F.max_pool2d(xs[0], size, stride)
            elif kind == "GlobalAveragePooling2D":
                fn = lambda xs: xs[0].mean(dim=(2, 3))
            elif kind == "Dropout":
                fn = lambda xs, p=c["rate"], net=self: F.dropout(xs[0], p, net.training)
            elif kind == "Flatten":
                fn = lambda xs: torch.flatten(xs[0], 1)
            elif kind == "Dense":
                k = w["kernel"]
                before = layers[l["inputs"][0]]
                if before["className"] == "Flatten" and len(before["inputShapes"][0]) == 3:
                    # the kernel reads an NHWC flattening; this network flattens NCHW
                    hh, ww, cc = before["inputShapes"][0]
                    k = k.reshape(hh, ww, cc, -1).permute(2, 0, 1, 3).reshape(hh * ww * cc, -1)
                lin = nn.Linear(k.shape[0], k.shape[1], bias=c["useBias"])
                with torch.no_grad():
                    lin.weight.copy_(k.t())
                    if c["useBias"]:
                        lin.bias.copy_(w["bias"])
                self.mods[name] = lin
                act = c.get("activation", "linear")
                fn = lambda xs, lin=lin, act=act: F.relu(lin(xs[0])) if act == "relu" else lin(xs[0])
            else:
                raise ValueError(f"layer {name} ({kind}) is not built here")
            self.steps.append((name, l["inputs"], fn))

    @staticmethod
    def conv_step(conv, pad, act):
        if act not in ("relu", "linear"):
            raise ValueError(f"activation {act} is not built here")

        def run(xs):
            x = xs[0] if pad is None else F.pad(xs[0], pad)
            y = conv(x)
            return F.relu(y) if act == "relu" else y

        return run

    def forward(self, x):
        values = {self.input: x}
        for name, inputs, fn in self.steps:
            values[name] = fn([values[i] for i in inputs])
        return values[self.output]


def nchw(x):
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def channels_first(a):
    """A channels-last array ([N, ..., C]) as a contiguous channels-first tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 1)))


def channels_last(t):
    return np.ascontiguousarray(np.moveaxis(t.detach().numpy(), 1, -1))


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32).tobytes()).decode()


def conv_grads(dy, x, w, stride, padding, dilation, groups, transposed=False, output_padding=None):
    """The two backward passes of one convolution as separate calls (aten.convolution_backward)."""
    output_padding = output_padding or [0] * len(stride)

    def grad(mask):
        return torch.ops.aten.convolution_backward(dy, x, w, None, stride, padding, dilation, transposed, output_padding, groups, mask)

    return (lambda: grad([True, False, False])[0]), (lambda: grad([False, True, False])[1])


def op_passes(req):
    """fwd, bwd-input, bwd-filter of one layer's op, and how to turn their results into convkit's layouts."""
    kind, o = req["op"], req["opts"]
    x = channels_first(array(req["x"]["data"], req["x"]["shape"]))
    ws = [torch.from_numpy(array(w["data"], w["shape"]).copy()) for w in req["w"]]
    dy = channels_first(array(req["dy"]["data"], req["dy"]["shape"]))
    if kind in ("conv1d", "conv2d", "conv3d"):
        # convkit's kernel [k..., C, OC] -> torch's [OC, C, k...]
        rank = ws[0].dim()
        w = ws[0].permute(rank - 1, rank - 2, *range(rank - 2)).contiguous()
        (before, after) = o["pads"][0], o["pads"][1]
        symmetric = all(b == a for b, a in zip(before, after))
        # torch pads symmetrically; an asymmetric (causal) padding is applied to x once, outside the timing
        sizes = list(x.shape[2:])
        if not symmetric:
            x = F.pad(x, [p for b, a in reversed(list(zip(before, after))) for p in (b, a)])
        pad = list(before) if symmetric else [0] * len(before)
        conv = {"conv1d": F.conv1d, "conv2d": F.conv2d, "conv3d": F.conv3d}[kind]
        stride, dil, groups = o["strides"], o["dilations"], o.get("groups", 1)
        fwd = lambda: conv(x, w, None, stride, pad, dil, groups)
        bwd_in, bwd_w = conv_grads(dy, x, w, stride, pad, dil, groups)
        back_w = lambda t: t.permute(*range(2, rank), 1, 0)
        inside = (slice(None), slice(None)) + tuple(slice(b, b + n) for b, n in zip(before, sizes))
        return fwd, bwd_in, bwd_w, back_w, (None if symmetric else (lambda t: t[inside]))
    if kind == "conv2dTranspose":
        # convkit's [kh, kw, OC, Cin] -> torch's [Cin, OC, kh, kw]; TF's 'same' crops the full output at the end
        w = ws[0].permute(3, 2, 0, 1).contiguous()
        (top, left), size = o["crop"], o["outSize"]
        dy_full = F.pad(dy, [left, o["fullSize"][1] - size[1] - left, top, o["fullSize"][0] - size[0] - top])
        stride = o["strides"]
        fwd = lambda: F.conv_transpose2d(x, w, None, stride)[:, :, top:top + size[0], left:left + size[1]]
        bwd_in, bwd_w = conv_grads(dy_full, x, w, stride, [0, 0], [1, 1], 1, transposed=True)
        return fwd, bwd_in, bwd_w, (lambda t: t.permute(2, 3, 1, 0)), None
    if kind == "separableConv2d":
        dw = ws[0].permute(3, 2, 0, 1).contiguous()
        pw = ws[1].permute(3, 2, 0, 1).contiguous()
        c, pad = x.shape[1], o["pad"]
        d = F.conv2d(x, dw, None, 1, pad, 1, c)
        dd = torch.ops.aten.convolution_backward(dy, d, pw, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [True, False, False])[0]
        fwd = lambda: F.conv2d(F.conv2d(x, dw, None, 1, pad, 1, c), pw)
        pw_in, pw_w = conv_grads(dy, d, pw, [1, 1], [0, 0], [1, 1], 1)
        dw_in, dw_w = conv_grads(dd, x, dw, [1, 1], pad, [1, 1], c)

        def bwd_in():
            pw_in()
            return dw_in()

        bwd_w = lambda: (pw_w(), dw_w())
        back_w = lambda ts: np.concatenate([channels_first_w(ts[0]), channels_first_w(ts[1])])
        return fwd, bwd_in, bwd_w, back_w, None
    raise ValueError(f"op {kind} is not built here")


def channels_first_w(t):
    """A torch conv2d weight [OC, C, kh, kw] in convkit's hwio layout, flattened."""
    return t.permute(2, 3, 1, 0).detach().numpy().ravel()


def main():
    net = opt = None
    train_x = train_y = infer_x = None
    passes = {}
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "ping":
            reply = {"ok": True, "torch": torch.__version__}
        elif cmd == "build":
            torch.set_num_threads(req["threads"])
            net = Graph(req["graph"])
            opt = torch.optim.SGD(net.parameters(), lr=0.01)
            reply = {"ok": True, "torch": torch.__version__, "threads": torch.get_num_threads()}
        elif cmd == "data":
            train_x = nchw(array(req["trainX"], req["trainShape"]))
            train_y = torch.tensor(req["labels"], dtype=torch.long)
            infer_x = nchw(array(req["inferX"], req["inferShape"]))
            reply = {"ok": True}
        elif cmd == "predict":
            net.eval()
            with torch.no_grad():
                y = net(nchw(array(req["x"], req["shape"])))
            reply = {"y": base64.b64encode(y.numpy().astype(np.float32).tobytes()).decode()}
        elif cmd == "loss":
            net.train()
            with torch.no_grad():
                saved = {k: v.clone() for k, v in net.state_dict().items()}
                loss = F.cross_entropy(net(train_x), train_y).item()
                net.load_state_dict(saved)  # the batch-norm running statistics this pass moved
            reply = {"loss": loss}
        elif cmd == "train":
            net.train()
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(train_x), train_y).backward()
            opt.step()
            reply = {"seconds": time.perf_counter() - t0}
        elif cmd == "infer":
            net.eval()
            t0 = time.perf_counter()
            with torch.no_grad():
                net(infer_x)
            reply = {"seconds": time.perf_counter() - t0}
        elif cmd == "op":
            torch.set_num_threads(req["threads"])
            fwd, bwd_in, bwd_w, back_w, crop_dx = op_passes(req)
            passes = {"fwd": fwd, "bwd-input": bwd_in, "bwd-filter": bwd_w}
            with torch.no_grad():
                dx = bwd_in()
                dx = crop_dx(dx) if crop_dx else dx
                dw = back_w(bwd_w())
                reply = {"torch": torch.__version__, "y": b64(channels_last(fwd())), "dx": b64(channels_last(dx)),
                         "dw": b64(dw if isinstance(dw, np.ndarray) else dw.detach().numpy())}
        elif cmd == "op_time":
            fn = passes[req["pass"]]
            times = []
            with torch.no_grad():
                for _ in range(req.get("runs", 1)):
                    t0 = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t0)
            reply = {"seconds": sorted(times)[len(times) // 2]}
        else:
            reply = {"error": f"unknown command {cmd}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the bench prints this and carries on without PyTorch
        sys.stdout.write(json.dumps({"error": f"{type(e).__name__}: {e}"}) + "\n")
        sys.stdout.flush()
