#!/usr/bin/python3
"""Generate PyTorch reference fixtures for the pertnas/nn engine tests.

Run from the repository root with Debian's python3-torch:
    /usr/bin/python3 scripts/torch_fixtures_nn.py
It writes nn/testdata/torch_ops.bin, read by nn/torch_parity_test.go.

File format (little-endian): the 8 bytes b"PNNFIX1\\n", then records until
end of file, each: u16 name length, name (UTF-8), u8 rank, rank x u32 dims,
prod(dims) x float32 values. Integers (labels, configs) are stored as float32
(exact below 2^24). Names are "<case>/<tensor>".
"""
import struct
import sys

import torch
import torch.nn as tnn
import torch.nn.functional as F

torch.manual_seed(20261127)
torch.set_num_threads(1)
records = []


def put(name, t):
    t = torch.as_tensor(t).detach().to(torch.float32).contiguous()
    records.append((name, list(t.shape), t.flatten().tolist()))


def rnd(*shape):
    return torch.randn(*shape, dtype=torch.float32)


# Convolutions: cfg = (N, Cin, H, W, Cout, K, stride, pad, dilation, groups)
convs = {
    "stem3x3": (2, 3, 8, 8, 6, 3, 1, 1, 1, 1),
    "fr1x1s2": (2, 4, 8, 8, 3, 1, 2, 0, 1, 1),
    "pw1x1": (2, 8, 5, 5, 6, 1, 1, 0, 1, 1),
    "dw3x3": (2, 4, 7, 7, 4, 3, 1, 1, 1, 4),
    "dw3x3s2": (2, 4, 8, 8, 4, 3, 2, 1, 1, 4),
    "dw5x5s2": (2, 4, 9, 9, 4, 5, 2, 2, 1, 4),
    "dil3x3": (2, 4, 8, 8, 4, 3, 1, 2, 2, 4),
    "dil5x5s2": (2, 4, 9, 9, 4, 5, 2, 4, 2, 4),
    "groups2": (2, 4, 6, 6, 6, 3, 1, 1, 1, 2),
    "aux2x2": (2, 5, 2, 2, 7, 2, 1, 0, 1, 1),
}
for name, cfg in convs.items():
    n, cin, h, w, cout, k, s, p, d, g = cfg
    x = rnd(n, cin, h, w).requires_grad_()
    wt = (rnd(cout, cin // g, k, k) * 0.3).requires_grad_()
    y = F.conv2d(x, wt, None, s, p, d, g)
    dy = rnd(*y.shape)
    y.backward(dy)
    c = "conv_" + name
    put(c + "/cfg", cfg)
    for k_, v in [("x", x), ("w", wt), ("y", y), ("dy", dy), ("dx", x.grad), ("dw", wt.grad)]:
        put(c + "/" + k_, v)

# Batch norm: two training steps then an eval step; affine and not.
for affine in (True, False):
    c = "bn_affine" if affine else "bn_plain"
    bn = tnn.BatchNorm2d(5, affine=affine)
    if affine:
        with torch.no_grad():
            bn.weight.copy_(1 + 0.3 * rnd(5))
            bn.bias.copy_(0.3 * rnd(5))
        put(c + "/gamma", bn.weight)
        put(c + "/beta", bn.bias)
    bn.train()
    for step in range(2):
        x = (rnd(3, 5, 4, 4) * 2 + 0.5).requires_grad_()
        y = bn(x)
        dy = rnd(*y.shape)
        if affine:
            bn.weight.grad = None
            bn.bias.grad = None
        y.backward(dy)
        p = "%s/train%d_" % (c, step)
        put(p + "x", x); put(p + "y", y); put(p + "dy", dy); put(p + "dx", x.grad)
        if affine:
            put(p + "dgamma", bn.weight.grad); put(p + "dbeta", bn.bias.grad)
        put(p + "running_mean", bn.running_mean); put(p + "running_var", bn.running_var)
    bn.eval()
    x = rnd(3, 5, 4, 4).requires_grad_()
    y = bn(x)
    dy = rnd(*y.shape)
    if affine:
        bn.weight.grad = None
        bn.bias.grad = None
    y.backward(dy)
    p = c + "/eval_"
    put(p + "x", x); put(p + "y", y); put(p + "dy", dy); put(p + "dx", x.grad)
    if affine:
        put(p + "dgamma", bn.weight.grad); put(p + "dbeta", bn.bias.grad)

# BatchNorm1d on [N, F] (training), affine.
bn = tnn.BatchNorm1d(6)
x = rnd(4, 6).requires_grad_()
y = bn(x)
dy = rnd(*y.shape)
y.backward(dy)
for k_, v in [("x", x), ("y", y), ("dy", dy), ("dx", x.grad), ("dgamma", bn.weight.grad), ("dbeta", bn.bias.grad), ("running_var", bn.running_var)]:
    put("bn1d/" + k_, v)

# Pools: cfg = (N, C, H, W, K, stride, pad, kind) kind 0 max, 1 avg no pad count, 2 avg with pad count.
pools = {
    "max3s1": (2, 3, 6, 6, 3, 1, 1, 0),
    "max3s2": (2, 3, 7, 7, 3, 2, 1, 0),
    "avg3s1": (2, 3, 6, 6, 3, 1, 1, 1),
    "avg3s2": (2, 3, 7, 7, 3, 2, 1, 1),
    "avg3s1cnt": (2, 3, 5, 5, 3, 1, 1, 2),
    "avg5s3": (2, 3, 8, 8, 5, 3, 0, 1),
    "avg5s2": (2, 3, 9, 9, 5, 2, 0, 1),
}
for name, cfg in pools.items():
    n, ch, h, w, k, s, p, kind = cfg
    x = rnd(n, ch, h, w).requires_grad_()
    if kind == 0:
        y = F.max_pool2d(x, k, s, p)
    else:
        y = F.avg_pool2d(x, k, s, p, count_include_pad=(kind == 2))
    dy = rnd(*y.shape)
    y.backward(dy)
    c = "pool_" + name
    put(c + "/cfg", cfg)
    for k_, v in [("x", x), ("y", y), ("dy", dy), ("dx", x.grad)]:
        put(c + "/" + k_, v)

# ReLU, global average pool, linear.
x = rnd(2, 3, 4, 4).requires_grad_()
y = F.relu(x); dy = rnd(*y.shape); y.backward(dy)
for k_, v in [("x", x), ("y", y), ("dy", dy), ("dx", x.grad)]:
    put("relu/" + k_, v)
x = rnd(2, 3, 4, 5).requires_grad_()
y = F.adaptive_avg_pool2d(x, 1).flatten(1); dy = rnd(*y.shape); y.backward(dy)
for k_, v in [("x", x), ("y", y), ("dy", dy), ("dx", x.grad)]:
    put("gap/" + k_, v)
lin = tnn.Linear(7, 4)
x = rnd(3, 7).requires_grad_()
y = lin(x); dy = rnd(*y.shape); y.backward(dy)
for k_, v in [("x", x), ("w", lin.weight), ("b", lin.bias), ("y", y), ("dy", dy), ("dx", x.grad), ("dw", lin.weight.grad), ("db", lin.bias.grad)]:
    put("linear/" + k_, v)

# Cross-entropy with and without label smoothing.
for sm in (0.0, 0.1):
    c = "ce_%g" % sm
    logits = (rnd(5, 10) * 3).requires_grad_()
    labels = torch.randint(0, 10, (5,))
    loss = F.cross_entropy(logits, labels, label_smoothing=sm)
    loss.backward()
    put(c + "/logits", logits); put(c + "/labels", labels); put(c + "/smoothing", [sm])
    put(c + "/loss", loss); put(c + "/dlogits", logits.grad)

# FactorizedReduce (relu, two strided 1x1 convs, shift, concat, BN without affine).
x = rnd(2, 4, 6, 6).requires_grad_()
w1 = (rnd(3, 4, 1, 1) * 0.5).requires_grad_()
w2 = (rnd(3, 4, 1, 1) * 0.5).requires_grad_()
bn = tnn.BatchNorm2d(6, affine=False)
r = F.relu(x)
y = bn(torch.cat([F.conv2d(r, w1, stride=2), F.conv2d(r[:, :, 1:, 1:], w2, stride=2)], dim=1))
dy = rnd(*y.shape)
y.backward(dy)
for k_, v in [("x", x), ("w1", w1), ("w2", w2), ("y", y), ("dy", dy), ("dx", x.grad), ("dw1", w1.grad), ("dw2", w2.grad)]:
    put("facred/" + k_, v)

# Tensor plumbing: concat, channel slice, scale, add, masked sum, shift, flatten.
a = rnd(2, 3, 4, 4).requires_grad_()
b = rnd(2, 2, 4, 4).requires_grad_()
c = torch.cat([a, b], dim=1)[:, 1:4]
t = c * -0.7 + a
m = 1.0 * t + 0.5 * a  # MaskedSum([t, b', a], [1, 0, 0.5]) with the 0 term skipped
y = torch.flatten(m[:, :, 1:, 1:], 1)
dy = rnd(*y.shape)
y.backward(dy)
for k_, v in [("a", a), ("b", b), ("y", y), ("dy", dy), ("da", a.grad), ("db", b.grad)]:
    put("misc/" + k_, v)

# SGD momentum 0.9, weight decay 3e-4, four steps with changing lr; then clip.
w = tnn.Parameter(rnd(6, 5))
b = tnn.Parameter(rnd(5))
opt = torch.optim.SGD([w, b], lr=0.1, momentum=0.9, weight_decay=3e-4)
put("sgd/w0", w); put("sgd/b0", b)
for step, lr in enumerate([0.1, 0.05, 0.025, 0.01]):
    for group in opt.param_groups:
        group["lr"] = lr
    w.grad = rnd(6, 5)
    b.grad = rnd(5)
    put("sgd/gw%d" % step, w.grad); put("sgd/gb%d" % step, b.grad); put("sgd/lr%d" % step, [lr])
    opt.step()
    put("sgd/w%d" % (step + 1), w); put("sgd/b%d" % (step + 1), b)
    put("sgd/mw%d" % (step + 1), opt.state[w]["momentum_buffer"])

for name, mx in (("clip_hit", 0.5), ("clip_miss", 100.0)):
    g1, g2 = rnd(4, 3), rnd(7)
    p1, p2 = tnn.Parameter(torch.zeros(4, 3)), tnn.Parameter(torch.zeros(7))
    p1.grad, p2.grad = g1.clone(), g2.clone()
    total = torch.nn.utils.clip_grad_norm_([p1, p2], mx)
    put(name + "/g1", g1); put(name + "/g2", g2); put(name + "/max", [mx])
    put(name + "/norm", [float(total)]); put(name + "/c1", p1.grad); put(name + "/c2", p2.grad)

# CosineAnnealingLR over 10 epochs, eta_min 0.001.
p = tnn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([p], lr=0.025)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10, eta_min=0.001)
lrs = []
for epoch in range(10):
    lrs.append(opt.param_groups[0]["lr"])
    opt.step()
    sched.step()
put("cosine/lrs", lrs)

out = sys.argv[1] if len(sys.argv) > 1 else "nn/testdata/torch_ops.bin"
with open(out, "wb") as f:
    f.write(b"PNNFIX1\n")
    for name, shape, vals in records:
        nb = name.encode()
        f.write(struct.pack("<H", len(nb)) + nb + struct.pack("<B", len(shape)))
        f.write(struct.pack("<%dI" % len(shape), *shape))
        f.write(struct.pack("<%df" % len(vals), *vals))
print("wrote", out, len(records), "tensors")
