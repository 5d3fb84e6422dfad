"""PyTorch contender: runs a described convkit graph (bench/lib/graph.js) with the same weights.

Speaks line-delimited JSON on stdin/stdout (bench/contenders/torch.js is the other end). Requests:
  {"cmd": "build", "graph": ..., "threads": n}            -> {"ok": true, "torch": version, "threads": n}
  {"cmd": "data", "trainX": b64 NHWC float32, "trainShape": [...], "labels": [...],
   "inferX": b64, "inferShape": [...]}                     -> {"ok": true} (the batches to time)
  {"cmd": "predict", "x": b64, "shape": [...]}            -> {"y": b64 float32 logits}
  {"cmd": "loss"}                                          -> {"loss": mean cross-entropy of the data batch, training mode}
  {"cmd": "train"} / {"cmd": "infer"}                      -> {"seconds": one step, timed here}
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


def main():
    net = opt = None
    train_x = train_y = infer_x = None
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "build":
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
